"""kpi_leefbaarheid: stand, change between measurement years, wijken below 'voldoende'.

Hand-built stg_leefbaarometer for Alphen aan den Rijn (GM0484); every expected number is worked out
in the comments from the rows below.
"""

import dagster as dg
import pandas as pd
import pytest

from assets.common import finish
from assets.kpi.leefbaarheid import (
    TABLE,
    comparison_pairs,
    compute_leefbaarheid,
    klassen_statement,
    kpi_leefbaarheid,
)
from assets.settings import KpiSettings
from pipelines.io import ParquetIOManager
from sources.leefbaarometer import KLASSE_NAMEN
from tests.pipeline_helpers import ALLE_GEMEENTEN

G, NAAM = "GM0484", "Alphen aan den Rijn"
SCORES = ("lbm", "afw", "won", "fys", "vrz", "soc", "onv")

# (niveau, code, naam, jaar, lbm, afw, won, fys, vrz, soc, onv, klasse, afgeleid)
ROWS = [
    ("gemeente", G, NAAM, 2018, 4.10, 0.00, 0.01, -0.01, 0.00, 0.00, 0.00, 6, False),
    ("gemeente", G, NAAM, 2020, 4.13, 0.03, 0.02, 0.00, 0.01, 0.00, 0.00, 6, False),
    # wijken 2020: classes from the file (kscore)
    ("wijk", "WK048401", "Centrum", 2020, 4.14, 0.04, 0.01, 0.01, 0.01, 0.01, 0.00, 6, False),
    ("wijk", "WK048402", "Kerk en Zanen", 2020, 4.03, -0.07, -0.02, -0.02, -0.01, -0.01, -0.01, 4, False),
    ("wijk", "WK048403", "Ridderveld", 2020, 3.95, -0.15, -0.05, -0.04, -0.02, -0.02, -0.02, 3, False),
    # wijken 2022: classes derived from afw; WK048404 has no score that year (no class)
    ("wijk", "WK048401", "Centrum", 2022, 4.16, 0.06, 0.02, 0.01, 0.01, 0.01, 0.01, 7, True),
    ("wijk", "WK048402", "Kerk en Zanen", 2022, 4.07, -0.03, -0.01, -0.01, 0.00, -0.01, 0.00, 5, True),
    ("wijk", "WK048403", "Ridderveld", 2022, 4.06, -0.04, -0.01, -0.01, -0.01, -0.01, 0.00, 5, True),
    ("wijk", "WK048404", "Boskoop", 2022, None, None, None, None, None, None, None, None, False),
    # buurt 01 in 2018, 2020, 2022; buurt 02 missing in 2020
    ("buurt", "BU04840101", "Oude Rijn", 2018, 4.05, -0.05, -0.02, -0.01, 0.00, -0.01, -0.01, 5, False),
    ("buurt", "BU04840101", "Oude Rijn", 2020, 4.11, 0.01, 0.00, 0.01, 0.00, 0.01, -0.01, 6, False),
    ("buurt", "BU04840101", "Oude Rijn", 2022, 4.18, 0.08, 0.02, 0.02, 0.01, 0.02, 0.01, 7, True),
    ("buurt", "BU04840102", "Kerk en Zanen-Noord", 2018, 3.92, -0.18, -0.06, -0.05, -0.03, -0.02, -0.02, 3, False),
    ("buurt", "BU04840102", "Kerk en Zanen-Noord", 2022, 4.02, -0.08, -0.03, -0.02, -0.01, -0.01, -0.01, 4, True),
    # a PC4 area: not a level of this table
    ("pc4", "2401", None, 2020, 4.00, -0.10, -0.02, -0.02, -0.02, -0.02, -0.02, 3, False),
]


def stg(rows=ROWS) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["niveau", "gebied_code", "gebied_naam", "jaar", *SCORES, "klasse", "klasse_afgeleid"]
    )
    frame["gemeente_code"] = ("GM" + frame["gebied_code"].str.slice(2, 6)).where(frame["niveau"] != "pc4")
    frame["gemeente_naam"] = frame["gemeente_code"].map({G: NAAM})
    frame["jaar"] = frame["jaar"].astype("Int64")
    frame["klasse"] = frame["klasse"].astype("Int64")
    frame["klasse_afgeleid"] = frame["klasse_afgeleid"].astype(bool)
    for s in SCORES:
        frame[s] = frame[s].astype("float64")
    frame["klasse_naam"] = frame["klasse"].map(KLASSE_NAMEN)
    frame["_source_file"] = "leefbaarometer/test.csv"
    frame["_source_snapshot"] = "leefbaarometer/test.csv@000000000000"
    return frame


def one(out, code, indicator, jaar, jaar_van=None):
    rows = out[(out["gebied_code"] == code) & (out["indicator"] == indicator) & (out["jaar"] == jaar)]
    rows = rows[rows["jaar_van"].isna()] if jaar_van is None else rows[rows["jaar_van"] == jaar_van]
    assert len(rows) == 1, (code, indicator, jaar, jaar_van, len(rows))
    return rows.iloc[0]


@pytest.fixture(scope="module")
def out():
    return finish(TABLE, compute_leefbaarheid(stg()), snapshot="s", suppression_threshold=10)


def test_stand_scores_and_class_from_the_file(out):
    row = one(out, "BU04840101", "lbm", 2020)
    assert row["value"] == pytest.approx(4.11) and row["unit"] == "score"
    assert (row["niveau"], row["gebied_naam"], row["gemeente_code"], row["corporatie"]) == ("buurt", "Oude Rijn", G, "alle")
    assert one(out, "BU04840101", "soc", 2020)["value"] == pytest.approx(0.01)
    klasse = one(out, "BU04840101", "klasse", 2020)
    assert klasse["value"] == 6 and klasse["klasse_naam"] == "Ruim voldoende" and klasse["unit"] == "klasse"
    assert bool(klasse["klasse_afgeleid"]) is False and bool(klasse["berekend"]) is False
    assert bool(row["berekend"]) is False and row["klasse_naam"] == "Ruim voldoende"
    assert not out["suppressed"].any()


def test_a_derived_class_is_flagged_and_marked_computed(out):
    klasse = one(out, "BU04840101", "klasse", 2022)
    assert klasse["value"] == 7 and klasse["klasse_naam"] == "Goed"
    assert bool(klasse["klasse_afgeleid"]) is True and bool(klasse["berekend"]) is True
    # the score itself is still the file's value
    assert bool(one(out, "BU04840101", "afw", 2022)["berekend"]) is False


def test_change_between_consecutive_measurement_years(out):
    # Oude Rijn 2018 -> 2020: lbm 4.05 -> 4.11 = +0.06, afw -0.05 -> 0.01 = +0.06, won -0.02 -> 0.00 = +0.02,
    # klasse 5 -> 6 = +1 (both from the file)
    assert one(out, "BU04840101", "verandering_lbm", 2020, 2018)["value"] == pytest.approx(0.06)
    assert one(out, "BU04840101", "verandering_afw", 2020, 2018)["value"] == pytest.approx(0.06)
    assert one(out, "BU04840101", "verandering_won", 2020, 2018)["value"] == pytest.approx(0.02)
    change = one(out, "BU04840101", "verandering_klasse", 2020, 2018)
    assert change["value"] == 1 and change["unit"] == "klassen" and change["klasse_naam"] == "Ruim voldoende"
    assert bool(change["berekend"]) is True and bool(change["klasse_afgeleid"]) is False
    # 2020 -> 2022: lbm 4.11 -> 4.18 = +0.07; klasse 6 -> 7, the 2022 class derived
    assert one(out, "BU04840101", "verandering_lbm", 2022, 2020)["value"] == pytest.approx(0.07)
    assert bool(one(out, "BU04840101", "verandering_klasse", 2022, 2020)["klasse_afgeleid"]) is True
    # wijk Kerk en Zanen 2020 -> 2022: klasse 4 -> 5 = +1, afw -0.07 -> -0.03 = +0.04
    assert one(out, "WK048402", "verandering_klasse", 2022, 2020)["value"] == 1
    assert one(out, "WK048402", "verandering_afw", 2022, 2020)["value"] == pytest.approx(0.04)


def test_a_buurt_missing_in_one_measurement_year_has_no_change_row(out):
    changes = out[(out["gebied_code"] == "BU04840102") & out["indicator"].str.startswith("verandering_")]
    assert changes.empty  # present 2018 and 2022, missing 2020: no 2018-2020, 2020-2022, not bridged
    # WK048404 has no score in 2022 and no other year: no change, no stand rows either (never a 0)
    assert out[out["gebied_code"] == "WK048404"].empty


def test_a_configured_pair_compares_across_the_gap():
    out = compute_leefbaarheid(stg(), vergelijkingen=[[2018, 2022]])
    # Kerk en Zanen-Noord 2018 -> 2022: lbm 3.92 -> 4.02 = +0.10, afw -0.18 -> -0.08 = +0.10, onv -0.02 -> -0.01
    # = +0.01, klasse 3 -> 4 = +1 (2022 derived)
    assert one(out, "BU04840102", "verandering_lbm", 2022, 2018)["value"] == pytest.approx(0.10)
    assert one(out, "BU04840102", "verandering_afw", 2022, 2018)["value"] == pytest.approx(0.10)
    assert one(out, "BU04840102", "verandering_onv", 2022, 2018)["value"] == pytest.approx(0.01)
    klasse = one(out, "BU04840102", "verandering_klasse", 2022, 2018)
    assert klasse["value"] == 1 and bool(klasse["klasse_afgeleid"]) is True and klasse["klasse_naam"] == "Zwak"
    # Oude Rijn 2018 -> 2022: 4.05 -> 4.18 = +0.13, next to its consecutive pairs
    assert one(out, "BU04840101", "verandering_lbm", 2022, 2018)["value"] == pytest.approx(0.13)
    assert len(out[(out["gebied_code"] == "BU04840101") & (out["indicator"] == "verandering_lbm")]) == 3


def test_wijken_below_voldoende_per_gemeente_and_meetjaar(out):
    # 2020: Centrum 6, Kerk en Zanen 4 (Zwak), Ridderveld 3 (Onvoldoende): 2 of 3 below 5
    below = one(out, G, "wijken_onder_voldoende", 2020)
    assert below["value"] == 2 and below["unit"] == "wijken" and below["niveau"] == "gemeente"
    assert below["wijken_onder_voldoende"] == "WK048402 Kerk en Zanen: Zwak; WK048403 Ridderveld: Onvoldoende"
    assert bool(below["berekend"]) is True and bool(below["klasse_afgeleid"]) is False
    assert bool(below["suppressed"]) is False and pd.isna(below["denominator"])  # a count: never suppressed
    assert one(out, G, "wijken_gemeten", 2020)["value"] == 3
    # 2022: 7, 5, 5 -> none below; WK048404 has no class and is not counted; classes derived
    none = one(out, G, "wijken_onder_voldoende", 2022)
    assert none["value"] == 0 and pd.isna(none["wijken_onder_voldoende"])
    assert bool(none["klasse_afgeleid"]) is True
    assert one(out, G, "wijken_gemeten", 2022)["value"] == 3
    # 2018 has no wijk rows: no count (not 0)
    assert out[(out["indicator"] == "wijken_onder_voldoende") & (out["jaar"] == 2018)].empty


def test_only_measurement_years_and_only_gemeente_wijk_buurt(out):
    assert sorted(out["jaar"].unique().tolist()) == [2018, 2020, 2022]  # no 2021: read 2020, then 2022
    assert set(out["niveau"]) == {"gemeente", "wijk", "buurt"}  # the PC4 row is left out
    assert list(out.columns) == TABLE.column_names
    assert set(out["definition_id"]) == {"leefbaarheid"} and not out["partial_period"].any()


def test_statement_whether_classes_were_derived():
    mixed = klassen_statement(stg())
    # derived: WK01..03 2022 (3) + BU01 2022 + BU02 2022 = 5; from the file: gemeente 2, wijken 2020 3,
    # BU01 2018/2020 2, BU02 2018 1 = 8 (the PC4 row does not count)
    assert (mixed["klasse_rijen_afgeleid"], mixed["klasse_rijen_uit_bestand"]) == (5, 8)
    assert mixed["klassen_afgeleid"] is True and mixed["klasse_bron"].startswith("gemengd")
    assert mixed["klassegrenzen_confidence"] == "unverified"
    given = klassen_statement(stg([r for r in ROWS if not r[-1]]))
    assert given["klassen_afgeleid"] is False and given["klasse_bron"] == "klasse uit het bestand (kscore)"
    assert "klassegrenzen" not in given
    derived = klassen_statement(stg([r for r in ROWS if r[-1]]))
    assert derived["klasse_rijen_uit_bestand"] == 0 and derived["klasse_bron"].startswith("afgeleid uit afw")


def test_comparison_pairs_are_measurement_years_in_order():
    assert comparison_pairs()[:2] == [(2002, 2008), (2008, 2012)] and comparison_pairs()[-1] == (2022, 2024)
    assert comparison_pairs([[2020, 2022]]) == comparison_pairs()  # already consecutive: not twice
    with pytest.raises(ValueError, match="2021 is geen meetjaar"):
        comparison_pairs([[2021, 2022]])
    with pytest.raises(ValueError, match="eerste jaar moet voor het tweede"):
        comparison_pairs([[2022, 2018]])


def test_the_asset_takes_its_pairs_from_config_and_states_derived_classes(tmp_path):
    @dg.asset(name="stg_leefbaarometer", group_name="staging")
    def stub() -> pd.DataFrame:
        return stg()

    result = dg.materialize(
        [stub, kpi_leefbaarheid],
        resources={"io_manager": ParquetIOManager(base_path=str(tmp_path)), "kpi_settings": KpiSettings()},
        run_config={"ops": {"kpi_leefbaarheid": {"config": {"vergelijkingen": [[2018, 2022]]}}}},
        tags=ALLE_GEMEENTEN,
    )
    assert result.success
    frame = result.output_for_node("kpi_leefbaarheid")
    assert len(frame[(frame["gebied_code"] == "BU04840102") & (frame["indicator"] == "verandering_lbm")]) == 1
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("kpi_leefbaarheid")]
    metadata = events[0].materialization.metadata
    assert metadata["klassen_afgeleid"].value is True
    assert [2018, 2022] in metadata["vergelijkingen"].value
    assert "dagster/column_lineage" in metadata
    assert frame["source_snapshot"].iloc[0] == "leefbaarometer/test.csv@000000000000"


def test_only_pc4_rows_give_an_empty_table_with_the_contract_columns():
    out = finish(TABLE, compute_leefbaarheid(stg([r for r in ROWS if r[0] == "pc4"])), snapshot="s", suppression_threshold=10)
    assert out.empty and list(out.columns) == TABLE.column_names
