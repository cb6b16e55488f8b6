"""Tiny versions of the national generator and the EP-online ingestion benchmark, so they cannot rot.

The real figures are in bench/README.md; here a few thousandths of the national set are generated
into tmp_path and read back with the project's own readers.
"""

import csv
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import sources.ep_online as ep_online
from bench.generate_national import EP_COLUMNS, GEMEENTEN, build_geography, generate
from sources import bezit, leefbaarometer, planlijst, woonservice
from sources.errors import SourceError
from sources.leefbaarometer import MEETJAREN

pytestmark = pytest.mark.slow

SCALE = 0.004
N_GEMEENTEN = 6


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("national") / "set"
    return out, generate(out, scale=SCALE, gemeenten=N_GEMEENTEN, workers=1)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _ep_text(zip_path: Path) -> str:
    with zipfile.ZipFile(zip_path) as archive:
        (member,) = archive.namelist()
        return archive.read(member).decode("utf-8")


def test_generation_is_deterministic_and_independent_of_the_worker_count(national, tmp_path):
    out, _ = national
    again = tmp_path / "again"
    generate(again, scale=SCALE, gemeenten=N_GEMEENTEN, workers=2)
    first, second = _files(out), _files(again)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_fewer_gemeenten_give_the_same_data_for_those_gemeenten(national, tmp_path):
    out, manifest = national
    small = tmp_path / "two"
    generate(small, scale=SCALE, gemeenten=2, workers=1)
    total = _ep_text(out / manifest["ep_online_total"])
    part = _ep_text(small / manifest["ep_online_total"])
    assert len(part) < len(total) and total.startswith(part)  # written gemeente by gemeente
    lbm = "landing/leefbaarometer/Leefbaarometer-scores buurten 2002-2024.csv"
    assert (out / lbm).read_text().startswith((small / lbm).read_text())


def test_ep_online_total_file_has_the_v4_layout(national):
    out, manifest = national
    raw = zipfile.ZipFile(out / manifest["ep_online_total"]).read("v20251101_v4_csv.csv")
    assert raw.startswith(b"\xef\xbb\xbfPublicatieDatum;01-11-2025\nLaatstVerwerkteMutatievolgnummer;19345219\n")
    lines = raw.decode("utf-8-sig").split("\n")
    header = lines[2].split(";")
    assert len(header) == 42 == len(EP_COLUMNS) and header == list(EP_COLUMNS)
    rows = list(csv.reader(io.StringIO("\n".join(lines[3:])), delimiter=";"))
    rows = [r for r in rows if r]
    assert all(len(r) == 42 for r in rows)
    cells = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    assert any("," in v for v in cells["EnergieIndex"]) and not any("." in v for v in cells["EnergieIndex"])
    assert all(re.fullmatch(r"20\d{6}", v) for v in cells["Registratiedatum"])
    assert any(v == "" for v in cells["BAGVerblijfsobjectID"])  # a few certificates without BAG id
    per_object = pd.Series([v for v in cells["BAGVerblijfsobjectID"] if v]).value_counts()
    assert per_object.max() >= 2  # label histories: several certificates per object
    assert min(cells["GeldigTot"]) < "20251101"  # expired certificates


def test_the_readers_load_every_file_with_the_expected_counts(national):
    out, manifest = national
    landing, rows = out / "landing", manifest["rows"]

    total = ep_online.read_bulk(out / manifest["ep_online_total"])
    assert len(total.frame) == rows["ep_online/v"] > 200
    assert total.drift.unknown == [] and total.drift.missing_optional == []
    assert total.metadata["publicatiedatum"] == "2025-11-01" and total.metadata["generation"] == "v4"
    mutations = ep_online.read_mutations(out / manifest["ep_online_mutation"])
    assert len(mutations.frame) == rows["ep_online/d"] > 0

    lists = bezit.discover_bezitslijsten(landing, out / "mappings" / "bezit")
    assert {p.parent.name for p, _ in lists} == set(
        pd.read_csv(out / "reference" / "corporaties.csv", dtype="str")["slug"])
    stock = []
    for path, mapping in lists:
        frame = bezit.read_bezitslijst(path, mapping).frame
        assert len(frame) == rows[f"bezit/{path.parent.name}/{path.name}"]
        stock.append(frame)
    stock_frame = pd.concat(stock, ignore_index=True)
    assert set(stock_frame["peildatum"].dt.year) == {2021, 2022, 2023, 2024, 2025}
    at_end = stock_frame[(stock_frame["peildatum"] == "2025-12-31") & stock_frame["uit_exploitatie_datum"].isna()]
    assert len(at_end) == rows["vhe_in_exploitatie_2025"]

    for year in range(2021, 2026):
        lettings = woonservice.read_toewijzingen(landing / "woonservice" / f"toewijzingen_{year}.csv").frame
        seekers = woonservice.read_woningzoekenden(landing / "woonservice" / f"woningzoekenden_{year}.csv").frame
        assert len(lettings) == rows[f"woonservice/toewijzingen_{year}.csv"] > 0
        assert len(seekers) == rows[f"woonservice/woningzoekenden_{year}.csv"] > len(lettings)
        housed = set(seekers.loc[seekers["gehuisvest"].fillna(False).astype(bool), "woningzoekende_id"])
        assert set(lettings["woningzoekende_id"]) <= housed
        listed = stock_frame[stock_frame["peildatum"].dt.year == year]
        assert set(zip(lettings["corporatie"], lettings["vhe_id"], strict=True)) <= set(
            zip(listed["corporatie"], listed["vhe_id"], strict=True))

    geography = build_geography()
    assert len(geography.gemeenten) == GEMEENTEN == len(pd.read_csv(out / "reference" / "gemeenten.csv"))
    buurten = sum(g.buurten for g in geography.gemeenten[:N_GEMEENTEN])
    for level in ("buurten", "wijken", "gemeenten"):
        path = landing / "leefbaarometer" / f"Leefbaarometer-scores {level} 2002-2024.csv"
        scores = leefbaarometer.read_scores(path).frame
        assert len(scores) == rows[f"leefbaarometer/{path.name}"]
        assert set(scores["jaar"]) == set(MEETJAREN)
    assert rows["leefbaarometer/Leefbaarometer-scores buurten 2002-2024.csv"] == buurten * len(MEETJAREN)
    plans = sorted((landing / "planlijst").glob("*.csv"))
    assert len(plans) == N_GEMEENTEN
    for path in plans:
        assert len(planlijst.read_planlijst(path).frame) == rows[f"planlijst/{path.name}"]


def test_typing_each_distinct_value_once_changes_nothing(national, monkeypatch):
    """sources/ep_online.py types each distinct value once (the benchmark's fix): same frame, same errors."""
    out, manifest = national
    fast = ep_online.read_bulk(out / manifest["ep_online_total"])
    monkeypatch.setattr(ep_online, "_per_value", lambda raw, column, parse: parse(raw))
    slow = ep_online.read_bulk(out / manifest["ep_online_total"])
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert fast.warnings == slow.warnings
    monkeypatch.undo()

    # A bad class twice: the error names the first of the two rows, as on the whole column.
    lines = _ep_text(out / manifest["ep_online_total"]).split("\n")
    column = EP_COLUMNS.index("Energieklasse")
    for line_number in (40, 25):
        cells = lines[line_number - 1].split(";")
        cells[column] = "Q"
        lines[line_number - 1] = ";".join(cells)
    broken = out.parent / "broken.csv"
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as error:
        ep_online.read_bulk(broken)
    assert error.value.row == 25 and error.value.column == "Energieklasse" and error.value.value == "Q"


def test_ep_ingestion_benchmark_runs_on_a_tiny_set():
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_ep_ingestion", "--smoke"],
        capture_output=True, text=True, timeout=300, check=False, cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for variant in ("floor: DuckDB count(*)", "Prestatiemonitor (CSV)", "Prestatiemonitor (zip", "pandas read_csv"):
        assert variant in result.stdout
    assert "ours / floor" in result.stdout and "pandas / ours" in result.stdout
    agreement = re.search(r"same label as ours:.*\bpandas (\d+\.\d+)%", result.stdout)
    assert agreement and float(agreement.group(1)) >= 99.0, result.stdout
