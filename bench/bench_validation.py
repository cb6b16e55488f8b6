"""Benchmark: what validation adds to the nightly run.

Scales the staged sample datasets up by repeating rows (new keys, same value distributions) to
  - the national EP-online subset: certificates of ~2.3 million corporation dwellings (default 3.0 M rows),
  - a region's stock (5 peildata x 60,000 units), lettings (25,000) and seekers (150,000),
and times `validate_dataset` (GX suite + split + quarantine rows) for each.

Run: .venv/bin/python -m bench.bench_validation [--ep-rows N] [--smoke]
Needs the staged sample values from a previous `make run` (DAGSTER_HOME/assets/*.parquet).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date
from pathlib import Path

import pandas as pd

from expectations.quality import validate_dataset

PROJECT = Path(__file__).resolve().parent.parent


def staged(name: str) -> pd.DataFrame:
    home = Path(os.environ.get("DAGSTER_HOME", PROJECT / "dagster_home"))
    storage = Path(os.environ.get("PRESTATIEMONITOR_STORAGE_DIR", home / "assets"))
    path = storage / f"{name}.parquet"
    if not path.exists():
        raise SystemExit(f"{path} ontbreekt: draai eerst `make run`")
    return pd.read_parquet(path)


def scaled(frame: pd.DataFrame, rows: int, key: str) -> pd.DataFrame:
    """Repeat the frame to `rows` rows; the key column gets a copy suffix so keys stay unique."""
    copies = -(-rows // len(frame))
    parts = []
    for i in range(copies):
        part = frame.copy()
        part[key] = part[key].astype("str") + f"-{i}"
        part["_source_row"] = part["_source_row"] + i * len(frame)
        parts.append(part)
    return pd.concat(parts, ignore_index=True).head(rows)


def timed(frame: pd.DataFrame, dataset: str) -> tuple[float, int]:
    started = time.perf_counter()
    validation = validate_dataset(frame, dataset, today=date(2026, 1, 31))
    return time.perf_counter() - started, len(validation.outcome.failed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ep-rows", type=int, default=3_000_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI: proves the benchmark runs")
    args = parser.parse_args()
    factor = 0.001 if args.smoke else 1.0
    plan = [
        ("stg_energielabels", "vhe_id", int(args.ep_rows * factor)),
        ("stg_bezit", "vhe_id", int(300_000 * factor)),
        ("stg_toewijzingen", "toewijzing_id", int(25_000 * factor)),
        ("stg_woningzoekenden", "woningzoekende_id", int(150_000 * factor)),
    ]
    timed(staged("stg_toewijzingen").head(50), "stg_toewijzingen")  # warm-up: GX import and context
    total = 0.0
    print(f"{'dataset':<22}{'rows':>12}{'seconds':>10}{'failed rules':>14}")
    for dataset, key, rows in plan:
        frame = scaled(staged(dataset), max(rows, 10), key)
        seconds, failed = timed(frame, dataset)
        total += seconds
        print(f"{dataset:<22}{len(frame):>12,}{seconds:>10.1f}{failed:>14}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':<22}{'':>12}{total:>10.1f}   peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
