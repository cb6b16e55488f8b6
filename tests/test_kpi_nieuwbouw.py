"""kpi_nieuwbouwprogramma on small hand-made plan lists; expected numbers worked out by hand.

The fixture tests/fixtures/planlijst/planlijst_GM0392_2025-07-01.csv (Haarlem, list of 1 July 2025):

| project | wijk     | sociaal | middenhuur | midd. koop | vrije huur | vrije koop | totaal | onder aftopping | huur   |
|---------|----------|---------|------------|------------|------------|------------|--------|-----------------|--------|
| A       | WK039204 | 40      | 25         | 15         | 10         | 10         | 100    | 30              | 700,00 |
| B       | WK039204 | 15      | 10         | 10         | 0          | 15         | 50     | 9               | 650,00 |
| C       | WK039203 | 18      | 0          | 9          | 0          | 3          | 30     | (leeg)          | (leeg) |
| D       | WK039201 | 0       | 0          | 0          | 0          | 20         | 20     | (leeg)          | (leeg) |

Per project (30+ homes: A, B, C; D has 20 and is left out of the per-project rule):
A 40 % sociaal, 40 % midden, 20 % overig: meets 40/40/20 exactly on the boundaries;
B 30 % sociaal, 40 % midden, 30 % overig: fails (social below 40 %, other above 20 %), meets 30 % social;
C 60 % sociaal, 30 % midden, 10 % overig: meets (social makes up for the lower middle share).
"""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.common import finish
from assets.kpi.nieuwbouw import TABLE, compute_nieuwbouwprogramma, kpi_nieuwbouwprogramma
from assets.raw_planlijst import raw_planlijst
from assets.resources import LandingFolder
from assets.settings import KpiSettings
from pipelines.io import ParquetIOManager
from sources.planlijst import read_planlijst
from sources.reference import load_gemeenten
from tests.kpi_fixtures import one
from tests.pipeline_helpers import ALLE_GEMEENTEN

FIXTURE = Path(__file__).parent / "fixtures" / "planlijst" / "planlijst_GM0392_2025-07-01.csv"
SAMPLE_LANDING = Path(__file__).parent.parent / "data" / "sample" / "landing"
PEIL = pd.Timestamp("2025-07-01")


@pytest.fixture(scope="module")
def out() -> pd.DataFrame:
    return compute_nieuwbouwprogramma(read_planlijst(FIXTURE).frame, load_gemeenten())


def city(out, indicator, segment, **where):
    return one(out, indicator=indicator, segment=segment, wijk_code="alle", project_id="alle", **where)


def test_rows_carry_the_common_columns(out):
    assert set(out["gemeente_naam"]) == {"Haarlem"} and set(out["corporatie"]) == {"alle"}
    assert set(out["definition_id"]) == {"nieuwbouwprogramma"} and set(out["definition_version"]) == {1}
    assert (out["peildatum"] == PEIL).all() and (out["jaar"] == 2025).all()
    assert out["laatste_planlijst"].all()  # the only list is the latest


def test_overall_segment_shares_include_the_small_project(out):
    # all four projects: 200 homes; sociaal 40+15+18+0 = 73; midden 40+20+9+0 = 69; overig 20+15+3+20 = 58
    assert city(out, "woningen", "alle")["value"] == 200
    assert city(out, "projecten", "alle")["value"] == 4
    for segment, count, share in (("sociaal", 73, 36.5), ("midden", 69, 34.5), ("overig", 58, 29.0)):
        row = city(out, "aandeel_woningen", segment)
        assert (row["numerator"], row["denominator"]) == (count, 200)
        assert row["value"] == pytest.approx(share) and row["unit"] == "%"
    # the delivered segments: middenhuur 25+10 = 35, middeldure koop 15+10+9 = 34, vrije huur 10,
    # vrije koop 10+15+3+20 = 48 (vrije huur + vrije koop = 58 = overig)
    counts = {s: city(out, "woningen", s)["value"] for s in
              ("middenhuur", "middeldure_koop", "vrije_sector_huur", "vrije_sector_koop")}
    assert counts == {"middenhuur": 35, "middeldure_koop": 34, "vrije_sector_huur": 10, "vrije_sector_koop": 48}


def test_40_40_20_per_project_of_30_or_more_homes(out):
    # A and C meet the rule, B does not; D (20 homes) is not counted: 2 of 3
    rule = city(out, "projecten_30plus_voldoet_40_40_20", "alle")
    assert (rule["numerator"], rule["denominator"]) == (2, 3)
    assert rule["value"] == pytest.approx(200 / 3)
    # >= 30 % social: A (40 %), B (30 %, on the boundary), C (60 %): 3 of 3
    social = city(out, "projecten_30plus_voldoet_30_sociaal", "alle")
    assert (social["numerator"], social["denominator"]) == (3, 3)


def test_per_project_shares_only_for_projects_of_30_or_more(out):
    per_project = out[out["project_id"] != "alle"]
    assert sorted(per_project["project_id"].unique()) == ["A", "B", "C"]  # C has exactly 30: included
    b = {s: one(out, project_id="B", indicator="aandeel_woningen", segment=s) for s in ("sociaal", "midden", "overig")}
    assert [b[s]["value"] for s in ("sociaal", "midden", "overig")] == [
        pytest.approx(30.0), pytest.approx(40.0), pytest.approx(30.0)
    ]
    assert b["sociaal"]["denominator"] == 50 and b["sociaal"]["wijk_code"] == "WK039204"
    assert one(out, project_id="C", indicator="woningen", segment="alle")["value"] == 30


def test_middle_rent_within_the_middle_segment(out):
    # middenhuur 35 of middle 69
    row = city(out, "aandeel_middenhuur_in_midden", "midden")
    assert (row["numerator"], row["denominator"]) == (35, 69)
    assert row["value"] == pytest.approx(3500 / 69)


def test_social_homes_below_the_aftoppingsgrens(out):
    # A 30 of 40, B 9 of 15; C gives no count (its 18 social homes are counted apart): 39 of 55 = 70.9 %
    row = city(out, "aandeel_sociaal_onder_aftoppingsgrens", "sociaal")
    assert (row["numerator"], row["denominator"]) == (39, 55)
    assert row["value"] == pytest.approx(3900 / 55)
    assert city(out, "sociaal_zonder_aftoppingsgegeven", "sociaal")["value"] == 18


def test_mean_social_rent_weighted_by_social_homes(out):
    # (700 x 40 + 650 x 15) / 55 = 37,750 / 55
    row = city(out, "huur_sociaal_gemiddeld", "sociaal")
    assert (row["numerator"], row["denominator"]) == (37750, 55)
    assert row["value"] == pytest.approx(686.3636, abs=1e-4) and row["unit"] == "EUR/maand"


def test_social_share_per_wijk(out):
    # WK039204: A + B = 55 social of 150; WK039203: C 18 of 30; WK039201: D 0 of 20
    shares = {w: one(out, indicator="aandeel_woningen", segment="sociaal", wijk_code=w, project_id="alle")
              for w in ("WK039204", "WK039203", "WK039201")}
    assert [(r["numerator"], r["denominator"]) for r in shares.values()] == [(55, 150), (18, 30), (0, 20)]
    assert shares["WK039204"]["value"] == pytest.approx(5500 / 150)
    assert shares["WK039203"]["value"] == pytest.approx(60.0)
    assert shares["WK039201"]["value"] == 0
    assert one(out, indicator="projecten", segment="alle", wijk_code="WK039204", project_id="alle")["value"] == 2


def test_small_denominators_are_suppressed_by_finish(out):
    published = finish(TABLE, out, snapshot="s", suppression_threshold=10)
    rule = city(published, "projecten_30plus_voldoet_40_40_20", "alle")  # 3 projects < 10
    assert bool(rule["suppressed"]) and pd.isna(rule["value"]) and pd.isna(rule["numerator"])
    assert rule["denominator"] == 3
    assert not bool(city(published, "aandeel_woningen", "sociaal")["suppressed"])  # 200 homes
    assert not bool(city(published, "woningen", "alle")["suppressed"])  # a count is never suppressed


# ---------------------------------------------------------------------------------------------------
# Planned versus delivered over three lists of Haarlem
# ---------------------------------------------------------------------------------------------------

HEADER = ("project_id;projectnaam;gemeente_code;wijk_code;fase;opleverjaar_verwacht;opleverjaar_gerealiseerd;"
          "sociale_huur;middenhuur;middeldure_koop;vrije_sector_huur;vrije_sector_koop")
LISTS = {
    # P1 60 homes (24 social) and P2 40 (16 social) planned for 2024, P3 30 (12 social) for 2025
    "2024-01-01": ["P1;Een;GM0392;WK039204;in aanbouw;2024;;24;12;12;6;6",
                   "P2;Twee;GM0392;WK039204;vergunning;2024;;16;8;8;4;4",
                   "P3;Drie;GM0392;WK039203;vergunning;2025;;12;6;6;3;3"],
    # P1 delivered in 2024; P2 slipped to 2025
    "2025-01-01": ["P1;Een;GM0392;WK039204;opgeleverd;2024;2024;24;12;12;6;6",
                   "P2;Twee;GM0392;WK039204;in aanbouw;2025;;16;8;8;4;4",
                   "P3;Drie;GM0392;WK039203;in aanbouw;2025;;12;6;6;3;3"],
    # P1 dropped from the list; P2 delivered in 2025; P3 slipped to 2026; P4 new
    "2025-07-01": ["P2;Twee;GM0392;WK039204;opgeleverd;2025;2025;16;8;8;4;4",
                   "P3;Drie;GM0392;WK039203;in aanbouw;2026;;12;6;6;3;3",
                   "P4;Vier;GM0392;WK039201;initiatief;2028;;0;0;0;0;10"],
}


@pytest.fixture(scope="module")
def lists(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("planlijst")
    frames = []
    for peildatum, rows in LISTS.items():
        path = folder / f"planlijst_GM0392_{peildatum}.csv"
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        frames.append(read_planlijst(path).frame)
    return compute_nieuwbouwprogramma(pd.concat(frames, ignore_index=True), load_gemeenten())


def at(frame, indicator, peildatum, opleverjaar, segment="alle"):
    return one(frame, indicator=indicator, peildatum=pd.Timestamp(peildatum), opleverjaar=opleverjaar, segment=segment)


def test_planned_per_year_follows_each_list(lists):
    assert at(lists, "woningen_gepland", "2024-01-01", 2024)["value"] == 100  # P1 + P2
    assert at(lists, "woningen_gepland", "2024-01-01", 2025)["value"] == 30  # P3
    assert at(lists, "woningen_gepland", "2025-01-01", 2024)["value"] == 60  # P1 (delivered, planned 2024)
    assert at(lists, "woningen_gepland", "2025-01-01", 2025)["value"] == 70  # P2 + P3
    planned_latest = lists[(lists["indicator"] == "woningen_gepland") & (lists["peildatum"] == pd.Timestamp("2025-07-01"))
                           & (lists["segment"] == "alle")]
    assert dict(zip(planned_latest["opleverjaar"], planned_latest["value"], strict=True)) == {2025: 40, 2026: 30, 2028: 10}


def test_delivered_per_year_counts_projects_dropped_from_a_later_list(lists):
    assert lists[(lists["indicator"] == "woningen_opgeleverd")
                 & (lists["peildatum"] == pd.Timestamp("2024-01-01"))].empty  # nothing delivered yet
    assert at(lists, "woningen_opgeleverd", "2025-01-01", 2024)["value"] == 60
    # P1 is no longer on the list of 1 July 2025 but was delivered in 2024
    assert at(lists, "woningen_opgeleverd", "2025-07-01", 2024)["value"] == 60
    assert at(lists, "woningen_opgeleverd", "2025-07-01", 2025)["value"] == 40
    assert at(lists, "woningen_opgeleverd", "2025-07-01", 2024, "sociaal")["value"] == 24


def test_delivered_against_the_planning_at_the_start_of_the_year(lists):
    # 2024: 60 delivered of the 100 the list of 1 January 2024 planned; the year is over on 1 July 2025
    row = at(lists, "opgeleverd_vs_gepland", "2025-07-01", 2024)
    assert (row["numerator"], row["denominator"], row["value"]) == (60, 100, pytest.approx(60.0))
    assert not bool(row["partial_period"])
    # 2025: 40 delivered by 1 July of the 70 the list of 1 January 2025 planned; the year is still running
    row = at(lists, "opgeleverd_vs_gepland", "2025-07-01", 2025)
    assert (row["numerator"], row["denominator"]) == (40, 70)
    assert row["value"] == pytest.approx(4000 / 70) and bool(row["partial_period"])
    # social homes: 24 of 24 + 16 planned for 2024
    social = at(lists, "opgeleverd_vs_gepland", "2025-07-01", 2024, "sociaal")
    assert (social["numerator"], social["denominator"], social["value"]) == (24, 40, pytest.approx(60.0))
    # on 1 January 2024 nothing is delivered yet: 0 of 100, partial
    first = at(lists, "opgeleverd_vs_gepland", "2024-01-01", 2024)
    assert (first["numerator"], first["denominator"], bool(first["partial_period"])) == (0, 100, True)
    # no realisation for years after the peildatum's year
    future = lists[(lists["indicator"] == "opgeleverd_vs_gepland") & (lists["opleverjaar"] > lists["jaar"])]
    assert future.empty


def test_only_the_newest_list_is_current(lists):
    latest = lists[lists["laatste_planlijst"]]
    assert set(latest["peildatum"]) == {pd.Timestamp("2025-07-01")}
    assert not lists.loc[lists["peildatum"] < pd.Timestamp("2025-07-01"), "laatste_planlijst"].any()
    # the trend keeps every list
    shares = lists[(lists["indicator"] == "aandeel_woningen") & (lists["segment"] == "sociaal")
                   & (lists["wijk_code"] == "alle") & (lists["project_id"] == "alle")]
    # 52 of 130 on each of the first two lists; on the last 16 + 12 = 28 social of 40 + 30 + 10 = 80 homes
    assert shares.sort_values("peildatum")["value"].round(6).tolist() == [40.0, 40.0, round(2800 / 80, 6)]


def test_an_unknown_gemeente_fails_with_the_code(out):
    raw = read_planlijst(FIXTURE).frame.assign(gemeente_code="GM9999")
    with pytest.raises(ValueError, match="GM9999"):
        compute_nieuwbouwprogramma(raw, load_gemeenten())


def test_the_asset_on_the_sample_has_metadata_and_conforms(tmp_path):
    result = dg.materialize(
        [raw_planlijst, kpi_nieuwbouwprogramma],
        resources={"io_manager": ParquetIOManager(base_path=str(tmp_path)), "landing": LandingFolder(path=str(SAMPLE_LANDING)), "kpi_settings": KpiSettings()},
        tags=ALLE_GEMEENTEN,
    )
    frame = result.output_for_node("kpi_nieuwbouwprogramma")
    assert list(frame.columns) == TABLE.column_names
    assert set(frame["gemeente_naam"]) == {"Haarlem", "Heemstede"}
    metadata = result.asset_materializations_for_node("kpi_nieuwbouwprogramma")[0].metadata
    assert metadata["dagster/row_count"].value == len(frame)
    assert metadata["warehouse_table"].value == "kpi.kpi_nieuwbouwprogramma"
    lineage = metadata["dagster/column_lineage"].value
    assert isinstance(lineage, dg.TableColumnLineage)
    assert {d.asset_key.to_user_string() for d in lineage.deps_by_column["numerator"]} == {"raw_planlijst"}
    # Heemstede has fewer than 10 projects of 30+ homes: the rule's share is suppressed, never 0
    heemstede = frame[(frame["gemeente_code"] == "GM0397") & (frame["indicator"] == "projecten_30plus_voldoet_40_40_20")]
    assert heemstede["suppressed"].all() and heemstede["value"].isna().all()
    haarlem = frame[(frame["gemeente_code"] == "GM0392") & (frame["indicator"] == "projecten_30plus_voldoet_40_40_20")]
    assert not haarlem["suppressed"].any() and haarlem["value"].between(0, 100).all()


def test_a_project_without_wijk_counts_for_the_gemeente_and_under_onbekend(tmp_path):
    # docs/templates/planlijst_voorbeeld.csv: P-005 Singelhof (50 homes, 20 social) has no wijk
    path = tmp_path / "planlijst_GM0392_2025-07-01.csv"
    path.write_bytes((Path(__file__).parent.parent / "docs" / "templates" / "planlijst_voorbeeld.csv").read_bytes())
    frame = compute_nieuwbouwprogramma(read_planlijst(path).frame, load_gemeenten())
    row = one(frame, indicator="aandeel_woningen", segment="sociaal", wijk_code="onbekend", project_id="alle")
    assert (row["numerator"], row["denominator"]) == (20, 50)
    # the gemeente: 48 + 0 + 120 + 0 + 20 = 188 social of 120 + 20 + 300 + 14 + 50 = 504 homes
    total = city(frame, "aandeel_woningen", "sociaal")
    assert (total["numerator"], total["denominator"]) == (188, 504)
    assert one(frame, project_id="P-005", indicator="woningen", segment="alle")["wijk_code"] == "onbekend"
