"""The HTML report, its CSV/XLSX exports, and the monitor assets in Dagster (stubbed KPI tables, and
once on the whole sample graph)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.monitor import MONITOR_TABLES, MonitorSettings, load_monitor_agreements
from assets.monitor import report as report_module
from assets.monitor import stoplight as stoplight_module
from assets.monitor.report import (
    CheckState,
    export_frame,
    render_report,
    report_years,
    rows_for_year,
    source_rows,
    svg_chart,
    write_reports,
)
from assets.monitor.stoplight import STOPLIGHT, append_history, stoplight_rows, trend
from assets.resources import WarehouseResource
from pipelines.io import ParquetIOManager
from tests.pipeline_helpers import ALLE_GEMEENTEN
from tests.test_stoplight import agreement_set, kpi_frame
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent
AGREEMENTS = ROOT / "agreements"
AS_OF = date(2026, 1, 31)


def sample_tables() -> dict[str, pd.DataFrame]:
    """A few KPI rows for Haarlem and Heemstede, enough to colour most of their agreements."""
    labels, zon, voorraad, lettings = [], [], [], []
    for code, naam, efg in (("GM0392", "Haarlem", (4100.0, 3400.0, 2500.0, 1700.0, 900.0)),
                            ("GM0397", "Heemstede", (300.0, 280.0, 250.0, 200.0, 140.0))):
        where = {"gemeente_code": code, "gemeente_naam": naam}
        for year, value in zip(range(2021, 2026), efg, strict=True):
            labels.append({**where, "jaar": year, "indicator": "efg_aantal", "value": value})
            zon.append({**where, "jaar": year, "indicator": "tj_per_jaar", "value": 4.0 + 5 * (year - 2021), "unit": "TJ"})
            if year >= 2022:
                for indicator, value in (("netto_groei", 120.0), ("nieuwbouw", 300.0)):
                    voorraad.append({**where, "jaar": year, "segment_type": "daeb", "segment": "DAEB",
                                     "indicator": indicator, "value": value})
                partial = year == 2025
                lettings += [
                    {**where, "jaar": year, "indicator": "aantal", "value": 900.0 if not partial else 700.0,
                     "unit": "toewijzingen", "partial_period": partial},
                    {**where, "jaar": year, "indicator": "aandeel_regulier", "value": 70.0, "denominator": 900.0,
                     "unit": "%", "partial_period": partial},
                    {**where, "jaar": year, "indicator": "aandeel_boven_daeb_grens", "value": 16.0,
                     "denominator": 900.0, "unit": "%", "partial_period": partial},
                    # a small cell: suppressed, value left empty
                    {**where, "jaar": year, "indicator": "aandeel_primaire_doelgroep", "value": float("nan"),
                     "numerator": float("nan"), "denominator": 6.0, "suppressed": True, "unit": "%",
                     "partial_period": partial},
                ]
                if partial:
                    lettings += [{**where, "jaar": 2025, "kwartaal": q, "indicator": "aantal", "value": 230.0,
                                  "unit": "toewijzingen"} for q in ("Q1", "Q2", "Q3")]
    return {
        "kpi_energielabels": kpi_frame("kpi_energielabels", labels),
        "kpi_zon": kpi_frame("kpi_zon", zon),
        "kpi_voorraadontwikkeling": kpi_frame("kpi_voorraadontwikkeling", voorraad),
        "kpi_toewijzingen": kpi_frame("kpi_toewijzingen", lettings),
    }


@pytest.fixture(scope="module")
def sets():
    return load_monitor_agreements(AGREEMENTS)


@pytest.fixture(scope="module")
def written(sets, tmp_path_factory):
    tables = sample_tables()
    rows = stoplight_rows(sets, tables, AS_OF)
    earlier = stoplight_rows(sets, tables, date(2025, 1, 31))
    history = append_history(append_history(None, earlier), rows)
    validation = {"kpi_energielabels": [
        CheckState("stg_bezit", "gx_stg_bezit", "geslaagd", datetime(2026, 1, 31, 2, 5)),
        CheckState("stg_energielabels", "gx_stg_energielabels", "waarschuwing", datetime(2026, 1, 31, 2, 6), "3 rijen <fout>"),
    ]}
    directory = tmp_path_factory.mktemp("rapport")
    files = write_reports(rows, sets, tables, directory, history=history, validation=validation)
    return {"rows": rows, "files": files, "dir": directory, "tables": tables}


def report_of(written, name: str):
    return next(f for f in written["files"] if f.html.name == name)


def test_a_report_per_gemeente_and_year(written):
    names = sorted(f.html.name for f in written["files"])
    assert names == [
        "alphen-aan-den-rijn-2019.html", "haarlem-2025.html", "harderwijk-2024.html",
        "heemstede-2024.html", "heemstede-2025.html", "heemstede-2026.html",
    ]
    for files in written["files"]:
        assert files.html.exists() and files.csv.exists() and files.xlsx.exists()
    index = (written["dir"] / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{f.html.name}"' in index for f in written["files"])


def test_report_years_follow_jaarschijven_and_the_current_year(sets):
    heemstede = next(s for s in sets if s.gemeente.naam == "Heemstede")
    assert report_years(heemstede, 2026) == [2024, 2025, 2026]
    assert report_years(heemstede, 2024) == [2024]
    assert report_years(heemstede, 2030) == [2024, 2025, 2027]
    haarlem = next(s for s in sets if s.gemeente.naam == "Haarlem")
    assert report_years(haarlem, 2026) == [2025]


def test_the_html_holds_every_agreement_and_a_chart_per_kpi_bound_one(written, sets):
    for files in written["files"]:
        page = files.html.read_text(encoding="utf-8")
        shown = rows_for_year(written["rows"], sets, files.gemeente_code, files.jaar)
        row_ids = re.findall(r'<tr class="afspraak" id="[^"]+" data-afspraak="([^"]+)"', page)
        assert sorted(row_ids) == sorted(shown["agreement_id"].tolist()), files.html.name
        bound = shown[shown["berekend"]]
        assert page.count("<svg") == len(bound), files.html.name
        for agreement_id in bound["agreement_id"]:
            assert re.search(rf'<figure id="[^"]+" data-afspraak="{re.escape(agreement_id)}">\s*<figcaption>', page)
        for status in shown["status"]:
            assert f">{status}</td>" in page


def test_the_heemstede_2024_report_shows_the_jaarschijf_and_the_standing_agreements(written):
    page = report_of(written, "heemstede-2024.html").html.read_text(encoding="utf-8")
    assert 'data-afspraak="J 1.9"' in page and "J 1.9 (2024)" in page
    assert "J 1.9 (2025)" not in page
    assert 'data-afspraak="J 4.2"' in page and 'data-afspraak="M2"' in page


def test_status_cells_are_coloured_and_grouped_by_theme(written):
    page = report_of(written, "haarlem-2025.html").html.read_text(encoding="utf-8")
    themes = re.findall(r"<h3>([^<]+)</h3>", page)
    assert themes == ["Beschikbaarheid", "Betaalbaarheid en toewijzing", "Duurzaamheid"]
    assert re.search(r'<td class="status status-groen" style="background:#1b7a3a;color:#ffffff">groen</td>', page)
    assert re.search(r'<td class="status status-nog-niet-te-beoordelen" style="background:#d5d8dc', page)


def test_a_suppressed_realisation_reads_onderdrukt(written):
    rows = written["rows"]
    primary = rows[(rows["gemeente_naam"] == "Haarlem") & (rows["kpi"] == "kpi_toewijzingen.aandeel_primaire_doelgroep")]
    assert bool(primary["onderdrukt"].item()) and math.isnan(primary["realisatie"].item())
    page = report_of(written, "haarlem-2025.html").html.read_text(encoding="utf-8")
    assert '<td class="getal">onderdrukt</td>' in page
    assert "onderdrukt (2025)" in page  # the chart marks the suppressed year instead of drawing a 0


def test_sources_show_data_date_and_validation_state(written):
    page = report_of(written, "haarlem-2025.html").html.read_text(encoding="utf-8")
    section = page[page.index('<section class="bronnen">'):]
    assert "kpi_energielabels</td><td>31-12-2025</td>" in section
    assert "gx_stg_bezit: <strong>geslaagd</strong>" in section
    assert "gx_stg_energielabels: <strong>waarschuwing</strong>" in section
    assert 'title="3 rijen &lt;fout&gt;"' in section
    assert "kpi_zon</td>" in section and "onbekend: geen checkresultaten beschikbaar" in section
    assert "test.csv@000000000000" in section


def test_the_history_trail_is_shown(written):
    page = report_of(written, "haarlem-2025.html").html.read_text(encoding="utf-8")
    assert "<th>Verloop</th>" in page and "(31-01-2025)" in page


def test_csv_and_xlsx_equal_the_table(written, sets):
    for files in written["files"]:
        expected = export_frame(rows_for_year(written["rows"], sets, files.gemeente_code, files.jaar))
        for frame in (
            pd.read_csv(files.csv, sep=";", decimal=",", encoding="utf-8-sig", keep_default_na=True),
            pd.read_excel(files.xlsx, sheet_name="stoplicht"),
        ):
            got = STOPLIGHT.conform(frame)
            pd.testing.assert_frame_equal(got, expected, check_dtype=True, obj=files.csv.name)


def test_all_data_are_escaped_and_nothing_loads_from_outside(tmp_path):
    hostile = "<script>alert('x')</script> & \"citaat\""
    agreement = agreement_set([
        {"title": hostile, "theme": "Thema <b>", "trekker": "<img src=x>", "kpi": {
            "table": "kpi_energielabels", "filters": {"indicator": "efg_aantal"}, "comparison": "<=", "target": 0,
            "target_year": 2026, "baseline": {"value": 4179, "year": 2021}, "rule": "linear_trajectory",
            "note": "</td><td>",
        }},
        {"title": "handmatig", "manual": {"reason": "<i>reden</i>", "judgements": [
            {"status": "groen", "explanation": "<u>klaar</u>", "date": "2025-05-01", "author": "<a href=x>",
             "confidence": "hoog"}]}},
    ])
    tables = {"kpi_energielabels": kpi_frame("kpi_energielabels", [
        {"jaar": 2023, "indicator": "efg_aantal", "value": 2500.0, "source_snapshot": "<bestand>.csv@1"}])}
    rows = stoplight_rows([agreement], tables, AS_OF)
    [files] = write_reports(rows, [agreement], tables, tmp_path)
    page = files.html.read_text(encoding="utf-8")
    for raw in ("<script>", "<img src=x>", "<b>", "<i>reden</i>", "<u>klaar</u>", "<a href=x>", "<bestand>", "</td><td>)"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;citaat&quot;" in page
    assert "&lt;bestand&gt;.csv@1" in page
    external = re.findall(r'(?:src|href)="(?!#|haarlem-)[^"]*"', page)
    assert external == [], external
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_svg_chart_marks_partial_and_suppressed_points(sets):
    tables = sample_tables()
    heemstede = next(s for s in sets if s.gemeente.naam == "Haarlem")
    lettings = next(a for a in heemstede.agreements if a.kpi and a.kpi.filters["indicator"] == "aantal")
    data = trend(heemstede, lettings, tables, AS_OF)
    svg = svg_chart(data, "titel", "g1")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and svg.endswith("</svg>")
    assert svg.count('class="punt"') == 4
    assert 'fill="#ffffff" stroke="#1c1c1c"' in svg  # the running year 2025 is a hollow point
    assert 'class="doel"' in svg and 'class="traject"' not in svg
    efg = next(a for a in heemstede.agreements if a.kpi and a.kpi.filters["indicator"] == "efg_aantal")
    svg = svg_chart(trend(heemstede, efg, tables, AS_OF), "efg", "g2")
    assert 'class="traject"' in svg and "doel 0 woningen eind 2026" in svg


def test_source_rows_without_validation_say_unknown():
    tables = sample_tables()
    [row] = source_rows("GM0392", ["kpi_zon"], tables, None, pd.Timestamp(AS_OF))
    assert row.checks is None and row.latest == "31-12-2025"
    [row] = source_rows("GM0243", ["kpi_zon"], tables, {}, pd.Timestamp(AS_OF))
    assert row.latest == "geen data voor deze gemeente"


def test_render_report_is_a_pure_function_of_its_inputs(sets):
    rows = stoplight_rows(sets, sample_tables(), AS_OF)
    haarlem = [s for s in sets if s.gemeente.naam == "Haarlem"]
    shown = rows_for_year(rows, haarlem, "GM0392", 2025)
    first = render_report("Haarlem", 2025, shown, haarlem, {}, [])
    assert first == render_report("Haarlem", 2025, shown, haarlem, {}, [])
    assert first.startswith("<!DOCTYPE html>") and "Stand per 31-01-2026" in first


# -------------------------------------------------------------------------------------------------
# Dagster
# -------------------------------------------------------------------------------------------------


def stub_assets(tables: dict[str, pd.DataFrame]) -> list[dg.AssetsDefinition]:
    from assets.kpi import KPI_TABLES

    def stub(name: str, frame: pd.DataFrame) -> dg.AssetsDefinition:
        @dg.asset(name=name, group_name="kpi")
        def _table() -> pd.DataFrame:
            return frame

        return _table

    return [stub(t.name, tables.get(t.name, kpi_frame(t.name, []))) for t in KPI_TABLES]


MONITOR_ASSETS = [stoplight_module.monitor_stoplight, stoplight_module.monitor_stoplight_historie, report_module.monitor_rapport]


def test_the_monitor_assets_run_and_the_history_grows_across_published_runs(tmp_path):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    resources = {
        "monitor": MonitorSettings(report_dir=str(tmp_path / "rapport"), as_of="2026-01-31"),
        "warehouse": WarehouseResource(url=url),
        "io_manager": ParquetIOManager(base_path=str(tmp_path / "storage")),
    }
    assets = [*stub_assets(sample_tables()), *MONITOR_ASSETS]
    published = []
    for _ in range(2):
        result = dg.materialize(assets, resources=resources, tags=ALLE_GEMEENTEN)
        assert result.success
        stoplight = result.output_for_node("monitor_stoplight")
        history = result.output_for_node("monitor_stoplight_historie")
        # what the lead's publication does: both tables in one transaction
        warehouse = Warehouse(url)
        warehouse.publish({name: (MONITOR_TABLES[name].table_spec(), frame)
                           for name, frame in (("monitor_stoplight", stoplight), ("monitor_stoplight_historie", history))})
        published.append(warehouse.read("monitor", "monitor_stoplight_historie"))
        warehouse.dispose()
    assert len(stoplight) == 29
    assert len(published[0]) == 29 and len(published[1]) == 29
    # The same reporting date twice: the history keeps one snapshot of it (a re-run replaces its rows).
    assert published[1]["as_of"].nunique() == 1
    materialization = result.asset_materializations_for_node("monitor_rapport")[0]
    files = materialization.metadata["bestanden"].value
    assert any(f.endswith("haarlem-2025.html") for f in files)
    assert all(Path(f).exists() for f in files)
    page = (tmp_path / "rapport" / "haarlem-2025.html").read_text(encoding="utf-8")
    assert "onbekend: geen checkresultaten beschikbaar" in page  # the stubs have no checks


@pytest.mark.slow
def test_the_monitor_on_the_whole_sample_graph(tmp_path, sample_baseline):
    """The monitor assets after the whole graph ran on the sample: the session's baseline run, its
    stored KPI values and its instance (the check evaluations the report shows)."""
    from pipelines.definitions import all_assets, all_checks
    from tests.pipeline_helpers import SAMPLE_TODAY

    workspace = sample_baseline.workspace(tmp_path)
    resources = {**workspace.resources(),
                 "monitor": MonitorSettings(report_dir=str(tmp_path / "rapport"), as_of=SAMPLE_TODAY)}
    with sample_baseline.instance(tmp_path) as instance:
        result = dg.materialize([*all_assets, *all_checks], resources=resources, raise_on_error=False,
                                selection=dg.AssetSelection.assets(*MONITOR_ASSETS), tags=ALLE_GEMEENTEN,
                                instance=instance)
    assert result.success
    stoplight = result.output_for_node("monitor_stoplight")
    assert len(stoplight) == 29
    haarlem = stoplight[stoplight["gemeente_naam"] == "Haarlem"]
    assert set(haarlem["status"]) >= {"groen", "rood"}
    efg = haarlem[haarlem["kpi"] == "kpi_energielabels.efg_aantal"].iloc[0]
    assert efg["peildatum_data"] == pd.Timestamp("2025-12-31")
    page = (tmp_path / "rapport" / "haarlem-2025.html").read_text(encoding="utf-8")
    # the stock suite warns: Alphen's 2015-2018 lists fall in years without rent thresholds
    assert "gx_stg_bezit: <strong>waarschuwing</strong>" in page
    assert "gx_stg_toewijzingen: <strong>" in page
    assert page.count("<svg") == int(haarlem["berekend"].sum())
