"""Tiny versions of the nightly benchmarks (bench/bench_nightly.py), so they cannot rot.

The real figures are in bench/README.md. Here a two-gemeente set at a two-hundredth of the national
size is generated into tmp_path and the cold, nothing-new and incremental phases run on it in one
child process (the real benchmark gives every phase its own) with the in-process executor (a step
process per step cost ~3 minutes of CI for nothing the assertions look at; the benchmark's own runs
use the multiprocess executor, as production does); the scaling table is built from those results. The region benchmark is `make run` on the sample, which tests/test_pipeline_sample.py runs;
here only its isolation from the project's own instance and warehouse is checked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import bench_nightly
from bench.generate_national import generate

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent


def _bench(args: list[str], bench_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCH_DIR": str(bench_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bench.bench_nightly", *args],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def test_cold_nothing_new_and_incremental_on_a_tiny_set(tmp_path):
    data = tmp_path / "klein"
    generate(data, scale=0.005, gemeenten=2, workers=1)
    bench_dir = tmp_path / "bench"
    done = _bench(["national", "--data", str(data), "--phases", "cold,nothing-new,incremental", "--one-process",
                   "--executor", "in_process"], bench_dir)
    assert done.returncode == 0, done.stderr[-4000:] + done.stdout[-3000:]
    for title in ("Benchmark 2", "Benchmark 3", "Benchmark 4"):
        assert title in done.stdout
    results = json.loads((bench_dir / "nightly" / "klein" / "results.json").read_text())

    cold = results["cold"]
    assert cold["success"] and cold["gemeenten"] == 2  # the deployment's gemeenten, not the generator's 342
    steps = {s["step"] for run in cold["runs"] for s in run["steps"]}
    assert {"raw_bezit", "raw_ep_online", "stg_energielabels", "kpi_energielabels", "monitor_stoplight",
            "warehouse_publicatie"} <= steps
    assert all(s["seconds"] >= 0 and s["peak_rss_mb"] > 0 for run in cold["runs"] for s in run["steps"])
    assert cold["warehouse_rows"]["kpi.kpi_energielabels"] > 0
    assert cold["warehouse_rows"]["kpi.kpi_toewijzingen"] > 0

    nothing = results["nothing-new"]
    assert nothing["success"] and nothing["requested"] == {
        "schedule nightly_0200": 0, "sensor landing_folder_sensor": 0, "sensor ep_online_mutatie_sensor": 0}
    assert "niets nieuw" in nothing["skip_message"]

    incremental = results["incremental"]
    assert incremental["success"]
    mutation, month = sorted(incremental["arrived"])
    assert mutation == "ep_online/d20251102_v4.zip" and re.fullmatch(r"woonservice/toewijzingen_2025-\d\d\.csv", month)
    recomputed = incremental["recomputed"]
    assert recomputed["ep_online_mutaties"] == ["2025-11-02"]
    assert {"raw_toewijzingen", "stg_toewijzingen", "stg_energielabels"} <= set(recomputed["nightly"])
    assert not {"raw_bezit", "stg_bezit", "raw_leefbaarometer"} & set(recomputed["nightly"])
    assert "kpi_toewijzingen" in recomputed["kpi_per_gemeente"] and "kpi_leefbaarheid" not in recomputed["kpi_per_gemeente"]
    # the new month reached the warehouse
    assert incremental["warehouse_rows"]["kpi.kpi_toewijzingen"] >= cold["warehouse_rows"]["kpi.kpi_toewijzingen"]

    scaling = _bench(["scaling", "--sets", str(data)], bench_dir)  # reuses the cold run: no new run
    assert scaling.returncode == 0, scaling.stderr[-3000:]
    assert "Schaal" in scaling.stdout and "MISLUKT" not in scaling.stdout
    certificates = json.loads((data / "manifest.json").read_text())["rows"]["ep_online/v"]
    # the EP-online column once read 0 (a manifest key mismatch)
    assert certificates > 0 and any(f"{certificates:,}" in line.split() for line in scaling.stdout.splitlines())


def test_the_last_month_of_lettings_is_split_off_as_the_new_file(tmp_path):
    source = tmp_path / "toewijzingen_2025.csv"
    header = "toewijzing_id;toewijzingsdatum;gemeente_code\n"
    source.write_text(header + "a;03-01-2025;GM1\nb;30-09-2025;GM1\nc;15-08-2025;GM2\nd;01-09-2025;GM2\n", encoding="utf-8")
    new = bench_nightly._split_last_month(source, tmp_path / "kept" / source.name, tmp_path / "new")
    assert new is not None and new.name == "toewijzingen_2025-09.csv"
    assert new.read_text(encoding="utf-8") == header + "b;30-09-2025;GM1\nd;01-09-2025;GM2\n"
    assert (tmp_path / "kept" / source.name).read_text(encoding="utf-8") == header + "a;03-01-2025;GM1\nc;15-08-2025;GM2\n"


def test_the_region_run_writes_only_inside_its_work_folder(tmp_path):
    env = bench_nightly.region_env(tmp_path)
    assert env["DAGSTER_HOME"].startswith(str(tmp_path))
    for name in ("WAREHOUSE_URL", "STORAGE_DIR", "REPORT_DIR", "RAPPORT_DIR"):
        assert str(tmp_path) in env[f"PRESTATIEMONITOR_{name}"], name
    assert "PRESTATIEMONITOR_LANDING_DIR" not in env and "PRESTATIEMONITOR_REFERENCE_DIR" not in env


def test_the_profile_summary_ranks_project_code_by_inclusive_samples(tmp_path):
    profile = tmp_path / "profile.txt"
    profile.write_text(  # py-spy's raw format: frames relative to their sys.path entry, then a count
        "main (run.py:1);execute (dagster/_core/plan.py:9);load (sources/bezit.py:10);"
        "read_csv (pandas/io/parsers.py:5) 30\n"
        "main (run.py:1);execute (dagster/_core/plan.py:9);stage (assets/staging/bezit.py:50);"
        "validate (great_expectations/expectations/core.py:3) 10\n"
        "main (run.py:1);execute (dagster/_core/plan.py:9) 60\n",
        encoding="utf-8",
    )
    ranked = bench_nightly.profile_summary(profile)
    assert [(name.split(" (")[0], count) for name, count, _ in ranked] == [("load", 30), ("stage", 10)]
    assert ranked[0][2] == pytest.approx(30.0)
