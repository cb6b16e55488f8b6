"""Benchmark 1 of issue 8: ingesting the national EP-online total file, side by side.

Variants, each in a fresh process (time of the work, peak RSS of the process):

  floor      DuckDB `count(*)` over the same CSV, with the reader's read_csv options (all 42 columns
             as text): what the machine needs to parse the file at all.
  ours       Prestatiemonitor: `sources.ep_online.read_bulk` on the CSV (scan in DuckDB, filtered to
             the stock's BAG ids and address keys, kept rows typed), then `match_certificates`
             (assets/staging/bezit.py) and `label_at_peildatum` (assets/kpi/energielabels.py): the
             label at the peildatum of every dwelling in exploitation.
  ours-zip   the same from the delivered zip (extraction and line count included), as the pipeline runs.
  pandas     what a user would write: `pandas.read_csv` of the whole file, a merge with the stock on
             the BAG id, and a groupby for the latest valid label per VHE.
  pandas-pyarrow  the same with `engine="pyarrow"` (the fastest pandas reader).

Run (after `python -m bench.generate_national --out DIR`; `make bench` does both):

    .venv/bin/python -m bench.bench_ep_ingestion --data /tmp/prestatiemonitor-bench/national
    .venv/bin/python -m bench.bench_ep_ingestion --smoke      # tiny generated set, for CI

The stock (the stock lists at the last peildatum, read with the project's reader and staged with
`stage_bezit`) and the extracted CSV are prepared once and cached under DATA/cache/; that
preparation is not timed. Every variant gets the staged stock as a parquet file, loaded before its
clock starts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

from bench._measure import Measurement, machine, report, rss_now_mb, run_child, stopwatch, table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(os.environ.get("BENCH_DIR", "/tmp/prestatiemonitor-bench")) / "national"
VARIANTS = ("floor", "ours", "ours-zip", "pandas", "pandas-pyarrow")
LABELS = {
    "floor": "floor: DuckDB count(*)",
    "ours-before": "Prestatiemonitor (CSV), reader before",
    "ours": "Prestatiemonitor (CSV)",
    "ours-zip": "Prestatiemonitor (zip, as delivered)",
    "pandas": "pandas read_csv + merge + groupby",
    "pandas-pyarrow": "pandas (engine=pyarrow) + merge + groupby",
}
STOCK_COLUMNS = [
    "corporatie", "vhe_id", "peildatum", "bag_vbo_id", "postcode", "huisnummer", "huisletter",
    "huisnummertoevoeging", "gemeente_code", "wijk_code", "is_woning", "in_exploitatie", "adres_sleutel",
    "energielabel", "monument", "vve", "sloop_renovatie_gepland", "gemeente_naam",
]


# --------------------------------------------------------------------------------------------------
# preparation (parent, not timed)
# --------------------------------------------------------------------------------------------------

def prepare(data: Path) -> dict[str, str]:
    """Extract the CSV and stage the stock once; returns the paths the variants use."""
    manifest_path = data / "manifest.json"
    if not manifest_path.exists():
        raise SystemExit(f"{manifest_path} ontbreekt: genereer eerst de set "
                         f"(python -m bench.generate_national --out {data}, of make bench)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    key = hashlib.sha256(manifest_path.read_bytes()).hexdigest()[:16]
    cache = data / "cache" / "ep_ingestion"
    stamp = cache / "key.txt"
    zip_path = data / manifest["ep_online_total"]
    csv_path = cache / (zip_path.stem + ".csv")
    stock_path = cache / f"stock_{manifest['stock_peildatum']}.parquet"
    if not (stamp.exists() and stamp.read_text() == key and csv_path.exists() and stock_path.exists()):
        if cache.exists():
            shutil.rmtree(cache)
        cache.mkdir(parents=True)
        print(f"voorbereiden (eenmalig): {zip_path.name} uitpakken, bezitslijsten {manifest['stock_peildatum']} "
              "inlezen en stagen ...", file=sys.stderr, flush=True)
        with zipfile.ZipFile(zip_path) as archive, archive.open(archive.infolist()[0]) as source, \
                csv_path.open("wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        stage_stock(data, manifest["stock_peildatum"]).to_parquet(stock_path, index=False)
        stamp.write_text(key)
    return {"csv": str(csv_path), "zip": str(zip_path), "stock": str(stock_path),
            "peildatum": manifest["stock_peildatum"], "certificates": str(manifest["rows"]["ep_online/v"])}


def stage_stock(data: Path, peildatum: str):  # -> pd.DataFrame
    """The stock lists at `peildatum`, read with the project's reader and staged like stg_bezit."""
    import pandas as pd

    from assets.staging.bezit import stage_bezit
    from sources.bezit import discover_bezitslijsten, read_bezitslijst
    from sources.reference import load_gemeenten, load_huurgrenzen

    frames = [
        read_bezitslijst(path, mapping).frame
        for path, mapping in discover_bezitslijsten(data / "landing", data / "mappings" / "bezit")
        if path.stem.endswith(peildatum)
    ]
    raw = pd.concat(frames, ignore_index=True)
    staged = stage_bezit(raw, load_huurgrenzen(), load_gemeenten(data / "reference"))
    return staged[STOCK_COLUMNS]


# --------------------------------------------------------------------------------------------------
# the variants (child processes)
# --------------------------------------------------------------------------------------------------

def _load_stock(path: str):  # -> pd.DataFrame
    import pandas as pd

    return pd.read_parquet(path)


def read_csv_sql(csv_path: str, columns: int, skip: int) -> str:
    """The read_csv call of sources/ep_online.py (all columns as text)."""
    literal = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(columns)) + "}"
    path = csv_path.replace("'", "''")
    return (f"read_csv('{path}', skip={skip}, header=false, delim=';', quote='\"', escape='\"', "
            f"auto_detect=false, columns={literal}, strict_mode=true, null_padding=false, ignore_errors=false, "
            "encoding='utf-8')")


def variant_floor(args: argparse.Namespace) -> None:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    sql = f"SELECT count(*) FROM {read_csv_sql(args.csv, 42, 3)}"
    with stopwatch() as timing:
        (rows,) = con.execute(sql).fetchone() or (0,)
    report(seconds=timing["seconds"], cpu=timing["cpu"], rows_kept=rows, rss_after_imports_mb=args.rss_after_imports)


def variant_ours(args: argparse.Namespace, source: str) -> None:
    from assets.kpi.energielabels import GEEN_LABEL, label_at_peildatum
    from assets.staging.bezit import match_certificates
    from sources.ep_online import read_bulk

    if args.reader:  # an earlier copy of sources/ep_online.py, for a before/after table
        import importlib.util

        spec = importlib.util.spec_from_file_location("ep_online_before", args.reader)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        read_bulk = module.read_bulk

    stock = _load_stock(args.stock)
    rss_after_imports = rss_now_mb()
    with stopwatch() as timing:
        bag_ids = stock["bag_vbo_id"].dropna().unique()  # as raw_ep_online passes them
        address_keys = stock["adres_sleutel"].dropna().unique()
        result = read_bulk(source, bag_ids=bag_ids, address_keys=address_keys)
        matched, counts = match_certificates(result.frame, stock)
        dwellings = stock[stock["is_woning"] & stock["in_exploitatie"]]
        labelled = label_at_peildatum(dwellings, matched)
    with_label = labelled["label_op_peildatum"] != GEEN_LABEL
    if args.labels_out:
        labelled.loc[with_label, ["corporatie", "vhe_id", "label_op_peildatum"]].to_parquet(args.labels_out)
    report(seconds=timing["seconds"], cpu=timing["cpu"], rows_kept=len(result.frame), dwellings=len(labelled),
           labelled=int(with_label.sum()), matched_by_bag=counts["gekoppeld_op_bag"],
           matched_by_address=counts["gekoppeld_op_adres"], rss_after_imports_mb=rss_after_imports)


def variant_pandas(args: argparse.Namespace, engine: str) -> None:
    import pandas as pd

    stock = _load_stock(args.stock)
    rss_after_imports = rss_now_mb()
    text = {"BAGVerblijfsobjectID": "str", "Postcode": "str", "Huisletter": "str", "Huisnummertoevoeging": "str"}
    with stopwatch() as timing:
        # The C engine infers the other columns; the pyarrow engine fails on a partial dtype map
        # (pandas 3.1: 'cannot convert NA to integer' for the empty SBICode column), so all text there.
        options = {"low_memory": False, "dtype": text} if engine == "c" else {"dtype": "str"}
        ep = pd.read_csv(args.csv, sep=";", skiprows=2, decimal=",", engine=engine, **options)
        ep["Registratiedatum"] = pd.to_datetime(ep["Registratiedatum"].astype("str"), format="%Y%m%d")
        ep["GeldigTot"] = pd.to_datetime(ep["GeldigTot"].astype("str"), format="%Y%m%d")
        dwellings = stock[stock["is_woning"] & stock["in_exploitatie"]]
        # dropna: pandas matches a missing key with a missing key (1% of both sides: a cross join)
        merged = dwellings[["corporatie", "vhe_id", "bag_vbo_id", "peildatum"]].dropna(subset=["bag_vbo_id"]).merge(
            ep, left_on="bag_vbo_id", right_on="BAGVerblijfsobjectID", how="inner")
        valid = merged[(merged["Registratiedatum"] <= merged["peildatum"]) & (merged["GeldigTot"] >= merged["peildatum"])]
        latest = valid.sort_values("Registratiedatum").groupby(["corporatie", "vhe_id"]).tail(1)
        labelled = dwellings.merge(latest[["corporatie", "vhe_id", "Energieklasse"]], on=["corporatie", "vhe_id"],
                                   how="left")
    with_label = labelled["Energieklasse"].notna()
    if args.labels_out:
        labelled.loc[with_label, ["corporatie", "vhe_id", "Energieklasse"]].rename(
            columns={"Energieklasse": "label_op_peildatum"}).to_parquet(args.labels_out)
    report(seconds=timing["seconds"], cpu=timing["cpu"], rows_kept=len(ep), dwellings=len(labelled), labelled=int(with_label.sum()),
           rss_after_imports_mb=rss_after_imports)


def run_variant(args: argparse.Namespace) -> None:
    args.rss_after_imports = rss_now_mb()
    if args.variant == "floor":
        variant_floor(args)
    elif args.variant in ("ours", "ours-before"):
        variant_ours(args, args.csv)
    elif args.variant == "ours-zip":
        variant_ours(args, args.zip)
    elif args.variant == "pandas":
        variant_pandas(args, "c")
    elif args.variant == "pandas-pyarrow":
        variant_pandas(args, "pyarrow")
    else:
        raise SystemExit(f"onbekende variant {args.variant!r}")


# --------------------------------------------------------------------------------------------------
# the parent: run every variant, print the table and the ratios
# --------------------------------------------------------------------------------------------------

def measure(data: Path, variants: list[str], *, check: bool = False, timeout: float | None = None,
            before: Path | None = None) -> tuple[dict[str, Measurement], dict[str, str]]:
    paths = prepare(data)
    results: dict[str, Measurement] = {}
    labels_dir = Path(tempfile.mkdtemp(prefix="bench_ep_labels_")) if check else None
    try:
        for variant in variants:
            command = ["-m", "bench.bench_ep_ingestion", "--variant", variant, "--csv", paths["csv"],
                       "--zip", paths["zip"], "--stock", paths["stock"]]
            if labels_dir is not None:
                command += ["--labels-out", str(labels_dir / f"{variant}.parquet")]
            if variant == "ours-before":
                if before is None:
                    raise SystemExit("variant ours-before heeft --before <kopie van sources/ep_online.py> nodig")
                command += ["--reader", str(before)]
            print(f"  {variant} ...", file=sys.stderr, flush=True)
            results[variant] = run_child(variant, command, timeout=timeout, cwd=PROJECT_ROOT)
        if labels_dir is not None:
            paths["agreement"] = json.dumps(_agreement(labels_dir))
    finally:
        if labels_dir is not None:
            shutil.rmtree(labels_dir, ignore_errors=True)
    return results, paths


def _agreement(labels_dir: Path) -> dict[str, float]:
    """Share of the VHEs labelled by a pandas variant that got the same label from ours."""
    import pandas as pd

    ours_path = labels_dir / "ours.parquet"
    if not ours_path.exists():
        return {}
    ours = pd.read_parquet(ours_path)
    out: dict[str, float] = {}
    for path in sorted(labels_dir.glob("*.parquet")):
        if path.stem == "ours":
            continue
        other = pd.read_parquet(path)
        both = other.merge(ours, on=["corporatie", "vhe_id"], how="left", suffixes=("", "_ours"))
        same = (both["label_op_peildatum"] == both["label_op_peildatum_ours"]).sum()
        out[path.stem] = float(same / len(both)) if len(both) else 1.0
    return out


def render(results: dict[str, Measurement], paths: dict[str, str]) -> str:
    csv_mb = Path(paths["csv"]).stat().st_size / 1024**2
    lines = [
        f"EP-online ingestion: {int(paths['certificates']):,} certificates ({csv_mb:,.0f} MB CSV), "
        f"peildatum {paths['peildatum']}; {date.today().isoformat()}, {machine()}",
        "",
    ]
    ours = results.get("ours")
    rows = []
    for variant, m in results.items():
        versus = f"{m.seconds / ours.seconds:.2f}x" if ours and ours.seconds else ""
        rows.append([LABELS[variant], f"{m.seconds:.1f}", f"{m.cpu_seconds:.1f}", f"{m.peak_rss_mb:,.0f}",
                     f"{m.wall_seconds:.1f}",
                     f"{m.result.get('rows_kept', 0):,}", f"{m.result.get('labelled', 0):,}" if "labelled" in m.result else "",
                     versus])
    lines.append(table(["variant", "seconds", "CPU s", "peak RSS MB", "process s", "rows read/kept",
                        "VHEs labelled", "vs ours"], rows))
    lines.append("")
    if ours:
        floor, pandas = results.get("floor"), results.get("pandas")
        if floor:
            ratio = ours.seconds / floor.seconds
            lines.append(f"ours / floor        = {ratio:5.2f}   (goal <= 2)    {'ok' if ratio <= 2 else 'MISSED'}")
        if pandas:
            ratio = pandas.seconds / ours.seconds
            lines.append(f"pandas / ours       = {ratio:5.2f}   (goal >= 5)    {'ok' if ratio >= 5 else 'MISSED'}")
        if "pandas-pyarrow" in results:
            ratio = results["pandas-pyarrow"].seconds / ours.seconds
            lines.append(f"pandas-pyarrow/ours = {ratio:5.2f}")
        ok = ours.peak_rss_mb < 1500
        lines.append(f"ours peak RSS       = {ours.peak_rss_mb:,.0f} MB (goal < 1,500 MB) {'ok' if ok else 'MISSED'}")
        lines.append(f"ours: {ours.result.get('dwellings', 0):,} dwellings, {ours.result.get('matched_by_bag', 0):,} "
                     f"matched on BAG id, {ours.result.get('matched_by_address', 0):,} on the address")
    if "agreement" in paths:
        agreement = json.loads(paths["agreement"])
        lines.append("same label as ours: " + ", ".join(f"{k} {v:.2%}" for k, v in agreement.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="map van bench.generate_national")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"komma-gescheiden uit {', '.join(VARIANTS)}")
    parser.add_argument("--smoke", action="store_true", help="een kleine gegenereerde set (CI): bewijst dat het draait")
    parser.add_argument("--check", action="store_true", help="vergelijk de labels van de varianten met ours")
    parser.add_argument("--timeout", type=float, default=None, help="seconden per variant")
    parser.add_argument("--before", type=Path, help="een eerdere kopie van sources/ep_online.py: voegt ours-before toe")
    # child mode
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--zip", help=argparse.SUPPRESS)
    parser.add_argument("--stock", help=argparse.SUPPRESS)
    parser.add_argument("--labels-out", help=argparse.SUPPRESS)
    parser.add_argument("--reader", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:
        run_variant(args)
        return
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if args.before is not None and "ours-before" not in variants:
        variants.insert(variants.index("ours") if "ours" in variants else len(variants), "ours-before")
    unknown = [v for v in variants if v not in (*VARIANTS, "ours-before")]
    if unknown:
        raise SystemExit(f"onbekende variant(en): {', '.join(unknown)}")
    if args.smoke:
        from bench.generate_national import generate

        with tempfile.TemporaryDirectory(prefix="bench_ep_smoke_") as tmp:
            data = Path(tmp) / "national"
            generate(data, scale=0.002, gemeenten=12, workers=1)
            results, paths = measure(data, variants, check=True, timeout=args.timeout or 120)
            print(render(results, paths))
        return
    results, paths = measure(args.data, variants, check=args.check, timeout=args.timeout, before=args.before)
    print(render(results, paths))


if __name__ == "__main__":
    main()
