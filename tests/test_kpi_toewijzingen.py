"""kpi_toewijzingen on small hand-made lettings; every expected number is worked out by hand below.

Income limits 2022 (reference/inkomensgrenzen.csv): DAEB 40,765 (one person) / 45,014 (more
persons); primary target group under AOW age 24,075 / 32,675, from AOW age 23,975 / 32,550.
The reference table has income limits for 2019, 2022 and 2024 (DAEB only) and none for 2023.
"""

import math

import dagster as dg
import pandas as pd
import pytest

from assets.common import finish
from assets.kpi.toewijzingen import (
    TABLE,
    compute_toewijzingen,
    income_at_or_below,
    kpi_toewijzingen,
    missing_income_limits,
    reference_check_result,
    referentiegrenzen_compleet,
)
from assets.settings import KpiSettings
from pipelines.io import ParquetIOManager
from sources.reference import load_inkomensgrenzen
from tests.kpi_fixtures import one
from tests.pipeline_helpers import ALLE_GEMEENTEN

NAMES = {"GM0392": "Haarlem", "GM0397": "Heemstede"}
LETTING_DEFAULTS = {
    "toewijzingsdatum": "2022-06-15",
    "gemeente_code": "GM0397",
    "kern": None,
    "wijk_code": None,
    "buurt_code": None,
    "corporatie": "Elan Wonen",
    "vhe_id": None,
    "bag_vbo_id": None,
    "postcode": None,
    "huisnummer": None,
    "huisletter": None,
    "huisnummertoevoeging": None,
    "netto_kale_huur": 600.0,
    "woningtype": "MGW",
    "kamers": 3,
    "publicatiemodel": "AAN",
    "voorrang": None,
    "voorrang_detail": None,
    "aantal_reacties": 100,
    "inschrijf_jaren": 4,  # test shorthand: inschrijfdatum = toewijzingsdatum - jaren x 365.25 days
    "zoekduur_maanden": 12.0,
    "huishoudinkomen": 30000.0,
    "huishoudgrootte": 2,
    "leeftijd_hoofdaanvrager": 40,
    "woongemeente_code": "GM0397",
    "passendheid": "PAS",
    "doorstromer": False,
    "woningzoekende_id": None,
    "_source_file": "woonservice/test.csv",
    "_source_snapshot": "woonservice/test.csv@000000000000",
}


def lettings(rows: list[dict]) -> pd.DataFrame:
    """Staged lettings (the stg_toewijzingen columns); rows override LETTING_DEFAULTS.

    `inschrijf_jaren` must be a multiple of 4 (whole days); None leaves inschrijfdatum empty.
    """
    records = [{**LETTING_DEFAULTS, "toewijzing_id": f"T{i}", **row} for i, row in enumerate(rows, start=1)]
    frame = pd.DataFrame(records)
    frame["toewijzingsdatum"] = pd.to_datetime(frame["toewijzingsdatum"])
    years = frame.pop("inschrijf_jaren").astype("float64")
    frame["inschrijfdatum"] = frame["toewijzingsdatum"] - pd.to_timedelta(years * 365.25, unit="D")
    for column in ("huisnummer", "kamers", "aantal_reacties", "huishoudgrootte", "leeftijd_hoofdaanvrager"):
        frame[column] = frame[column].astype("Float64").astype("Int64")
    for column in ("netto_kale_huur", "zoekduur_maanden", "huishoudinkomen"):
        frame[column] = frame[column].astype("float64")
    frame["doorstromer"] = frame["doorstromer"].astype("boolean")
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("str")
    frame["_source_row"] = pd.array(range(2, len(frame) + 2), dtype="Int64")
    frame["gemeente_naam"] = frame["gemeente_code"].map(NAMES)
    frame["jaar"] = frame["toewijzingsdatum"].dt.year.astype("Int64")
    frame["kwartaal"] = frame["toewijzingsdatum"].dt.quarter.astype("Int64")
    return frame


NAN = float("nan")
# Ten lettings by Elan Wonen in Heemstede in 2022, the only corporation there; the last one on
# 31 December, so neither the year nor Q4 is partial.
TEN = [
    # L1: primary (20,000 <= 24,075), DAEB
    {"toewijzingsdatum": "2022-01-10", "huishoudinkomen": 20000, "huishoudgrootte": 1, "leeftijd_hoofdaanvrager": 30,
     "inschrijf_jaren": 4, "zoekduur_maanden": 10, "aantal_reacties": 100},
    # L2: income exactly on the primary one-person limit -> primary
    {"toewijzingsdatum": "2022-02-01", "huishoudinkomen": 24075, "huishoudgrootte": 1, "leeftijd_hoofdaanvrager": 40,
     "inschrijf_jaren": 8, "zoekduur_maanden": 20, "aantal_reacties": 200},
    # L3: lottery; 70 years old: AOW limit 23,975 < 24,000 -> not primary (under AOW it would be)
    {"toewijzingsdatum": "2022-04-05", "publicatiemodel": "LOT", "huishoudinkomen": 24000, "huishoudgrootte": 1,
     "leeftijd_hoofdaanvrager": 70, "inschrijf_jaren": 4, "zoekduur_maanden": 5, "aantal_reacties": 50},
    # L4: directe bemiddeling of an urgent statushouder; three persons, 32,000 <= 32,675 -> primary;
    # reacties 0 but no advert (DIR): not in reacties_gemiddeld; registered on the day of letting
    {"toewijzingsdatum": "2022-05-20", "publicatiemodel": "DIR", "voorrang": "URG", "voorrang_detail": "STA",
     "huishoudinkomen": 32000, "huishoudgrootte": 3, "inschrijf_jaren": 0, "zoekduur_maanden": 0, "aantal_reacties": 0},
    # L5: urgent (medical); income exactly on the DAEB one-person limit -> DAEB; not passend
    {"toewijzingsdatum": "2022-07-01", "voorrang": "URG", "voorrang_detail": "MED", "huishoudinkomen": 40765,
     "huishoudgrootte": 1, "passendheid": "NIE", "inschrijf_jaren": 12, "zoekduur_maanden": 30, "aantal_reacties": 80},
    # L6: binding; one person at 45,000 > 40,765 -> above DAEB; passend n/a
    {"toewijzingsdatum": "2022-08-15", "voorrang": "BIN", "huishoudinkomen": 45000, "huishoudgrootte": 1,
     "passendheid": "NVT", "inschrijf_jaren": 8, "zoekduur_maanden": 12, "aantal_reacties": 120},
    # L7: option; two persons at 45,000 <= 45,014 -> DAEB; doorstromer; passend n/a
    {"toewijzingsdatum": "2022-10-03", "publicatiemodel": "OPT", "huishoudinkomen": 45000, "huishoudgrootte": 2,
     "passendheid": "NVT", "doorstromer": True, "inschrijf_jaren": 16, "zoekduur_maanden": 24, "aantal_reacties": 10},
    # L8: no income; doorstromer
    {"toewijzingsdatum": "2022-11-11", "huishoudinkomen": None, "doorstromer": True, "inschrijf_jaren": 4,
     "zoekduur_maanden": 6, "aantal_reacties": 60},
    # L9: lottery; four persons at 60,000 -> above DAEB; doorstromer unknown
    {"toewijzingsdatum": "2022-12-01", "publicatiemodel": "LOT", "huishoudinkomen": 60000, "huishoudgrootte": 4,
     "doorstromer": None, "inschrijf_jaren": 20, "zoekduur_maanden": 40, "aantal_reacties": 300},
    # L10: household size unknown, 32,600: below both DAEB limits -> DAEB; between the primary limits
    # 24,075 and 32,675 -> primary undetermined; registered after the letting (data error)
    {"toewijzingsdatum": "2022-12-31", "huishoudinkomen": 32600, "huishoudgrootte": None, "leeftijd_hoofdaanvrager": 50,
     "inschrijf_jaren": -4, "zoekduur_maanden": 3, "aantal_reacties": 30},
]


@pytest.fixture
def ten():
    return compute_toewijzingen(lettings(TEN), load_inkomensgrenzen())


def row(out, indicator, corporatie="Elan Wonen", jaar=2022, kwartaal="alle", publicatiemodel="alle", voorrang="alle"):
    return one(out, corporatie=corporatie, jaar=jaar, kwartaal=kwartaal, indicator=indicator,
               publicatiemodel=publicatiemodel, voorrang=voorrang)


def nums(r):
    return (r["numerator"], r["denominator"], r["value"])


def test_counts_by_publicatiemodel_and_voorrang(ten):
    assert row(ten, "aantal")["value"] == 10
    assert math.isnan(row(ten, "aantal")["denominator"])
    by_model = {m: row(ten, "aantal", publicatiemodel=m)["value"] for m in ("AAN", "LOT", "DIR", "OPT")}
    assert by_model == {"AAN": 6, "LOT": 2, "DIR": 1, "OPT": 1}  # AAN: L1 L2 L5 L6 L8 L10
    by_priority = {v: row(ten, "aantal", voorrang=v)["value"] for v in ("geen", "URG", "BIN")}
    assert by_priority == {"geen": 7, "URG": 2, "BIN": 1}
    assert row(ten, "aantal")["unit"] == "toewijzingen"


def test_shares_of_all_lettings(ten):
    assert nums(row(ten, "aandeel_regulier")) == (7, 10, pytest.approx(70.0))
    assert nums(row(ten, "aandeel_loting")) == (2, 10, pytest.approx(20.0))
    assert nums(row(ten, "aandeel_directe_bemiddeling")) == (1, 10, pytest.approx(10.0))
    assert nums(row(ten, "aandeel_statushouders")) == (1, 10, pytest.approx(10.0))
    assert nums(row(ten, "aandeel_urgenten")) == (2, 10, pytest.approx(20.0))
    assert row(ten, "aandeel_urgenten")["unit"] == "%"


def test_passend_leaves_nvt_out_and_doorstromers_the_unknown(ten):
    # PAS: L1 L2 L3 L4 L8 L9 L10 = 7; NIE: L5; NVT (L6, L7) not counted -> 7 / 8
    assert nums(row(ten, "aandeel_passend")) == (7, 8, pytest.approx(87.5))
    # doorstromer: L7, L8 of the 9 where it is known (L9 unknown)
    assert nums(row(ten, "aandeel_doorstromers")) == (2, 9, pytest.approx(200 / 9))


def test_income_shares_exclude_missing_income_and_count_it(ten):
    # below DAEB: L1 L2 L3 L4 L5 (on the limit) L7 L10 = 7; above: L6 L9; L8 has no income
    assert nums(row(ten, "aandeel_daeb_inkomen")) == (7, 9, pytest.approx(700 / 9))
    assert nums(row(ten, "aandeel_boven_daeb_grens")) == (2, 9, pytest.approx(200 / 9))
    # primary: L1, L2 (on the limit), L4; not: L3 (AOW), L5, L6, L7, L9; L8 no income, L10 undetermined
    assert nums(row(ten, "aandeel_primaire_doelgroep")) == (3, 8, pytest.approx(37.5))
    zonder = row(ten, "zonder_inkomen")
    assert zonder["value"] == 1 and math.isnan(zonder["denominator"])


def test_inschrijfduur_zoekduur_and_reacties(ten):
    # inschrijfduur (years): 4 8 4 0 12 8 16 4 20; L10 registered after the letting is left out
    mean = row(ten, "inschrijfduur_gemiddeld")
    assert nums(mean) == (pytest.approx(76.0), 9, pytest.approx(76 / 9))
    assert mean["unit"] == "jaar"
    median = row(ten, "inschrijfduur_mediaan")  # sorted 0 4 4 4 [8] 8 12 16 20
    assert math.isnan(median["numerator"]) and median["denominator"] == 9 and median["value"] == pytest.approx(8.0)
    # p90: position 0.9 x (9 - 1) = 7.2 -> 16 + 0.2 x (20 - 16) = 16.8
    assert row(ten, "inschrijfduur_p90")["value"] == pytest.approx(16.8)
    # zoekduur (months): 10 20 5 0 30 12 24 6 40 3 -> sum 150; sorted middle pair 10, 12
    assert nums(row(ten, "zoekduur_gemiddeld")) == (150, 10, pytest.approx(15.0))
    assert row(ten, "zoekduur_mediaan")["value"] == pytest.approx(11.0)
    assert row(ten, "zoekduur_mediaan")["unit"] == "maanden"
    # reacties: all but L4 (DIR): 100+200+50+80+120+10+60+300+30 = 950 over 9
    assert nums(row(ten, "reacties_gemiddeld")) == (950, 9, pytest.approx(950 / 9))


def test_quarters(ten):
    # Q1: L1 L2; Q2: L3 L4; Q3: L5 L6; Q4: L7 L8 L9 L10
    assert [row(ten, "aantal", kwartaal=q)["value"] for q in ("Q1", "Q2", "Q3", "Q4")] == [2, 2, 2, 4]
    assert nums(row(ten, "aandeel_regulier", kwartaal="Q4")) == (4, 4, pytest.approx(100.0))
    assert nums(row(ten, "aandeel_loting", kwartaal="Q2")) == (1, 2, pytest.approx(50.0))
    assert row(ten, "inschrijfduur_mediaan", kwartaal="Q1")["value"] == pytest.approx(6.0)  # 4 and 8
    # the data run to 31 December: nothing is partial
    assert not ten["partial_period"].any()


def test_one_corporation_in_a_gemeente_gives_alle_equal_to_it(ten):
    key = ["jaar", "kwartaal", "publicatiemodel", "voorrang", "indicator"]
    elan = ten[ten["corporatie"] == "Elan Wonen"].set_index(key).sort_index()
    alle = ten[ten["corporatie"] == "alle"].set_index(key).sort_index()
    assert len(alle) == len(elan) > 0
    for column in ("numerator", "denominator", "value"):
        pd.testing.assert_series_equal(alle[column], elan[column])


def test_alle_pools_the_lettings_of_several_corporations():
    frame = lettings(
        [
            {"gemeente_code": "GM0392", "corporatie": "Ymere", "inschrijf_jaren": 4, "publicatiemodel": "LOT"},
            {"gemeente_code": "GM0392", "corporatie": "Ymere", "inschrijf_jaren": 8},
            {"gemeente_code": "GM0392", "corporatie": "Pré Wonen", "inschrijf_jaren": 12, "toewijzingsdatum": "2022-12-31"},
        ]
    )
    out = compute_toewijzingen(frame, load_inkomensgrenzen())
    assert row(out, "aantal", corporatie="alle")["value"] == 3
    assert nums(row(out, "aandeel_loting", corporatie="alle")) == (1, 3, pytest.approx(100 / 3))
    # the pooled median of 4, 8, 12 is 8, not the mean of the medians 6 and 12
    assert row(out, "inschrijfduur_mediaan", corporatie="Ymere")["value"] == pytest.approx(6.0)
    assert row(out, "inschrijfduur_mediaan", corporatie="alle")["value"] == pytest.approx(8.0)
    assert row(out, "inschrijfduur_mediaan", corporatie="alle")["denominator"] == 3


def test_partial_year_and_quarter_follow_the_last_letting_date_of_the_gemeente():
    frame = lettings(
        [
            {"gemeente_code": "GM0392", "toewijzingsdatum": "2023-02-01"},
            {"gemeente_code": "GM0392", "corporatie": "Ymere", "toewijzingsdatum": "2023-05-20"},  # Haarlem's last
            {"gemeente_code": "GM0397", "toewijzingsdatum": "2023-12-31"},  # Heemstede's data run to year end
        ]
    )
    out = compute_toewijzingen(frame, load_inkomensgrenzen())

    def partial(gemeente, kwartaal, corporatie="alle"):
        return bool(one(out, gemeente_code=gemeente, corporatie=corporatie, jaar=2023, kwartaal=kwartaal,
                        indicator="aantal", publicatiemodel="alle", voorrang="alle")["partial_period"])

    assert partial("GM0392", "alle") is True  # 20 May < 31 December
    assert partial("GM0392", "Q1") is False  # 20 May >= 31 March
    assert partial("GM0392", "Q2") is True  # 20 May < 30 June
    # per gemeente, not per corporation: Elan Wonen's last Haarlem letting is 1 Feb, Q1 still complete
    assert partial("GM0392", "Q1", corporatie="Elan Wonen") is False
    assert partial("GM0397", "alle") is False and partial("GM0397", "Q4") is False
    published = finish(TABLE, out, snapshot="s", suppression_threshold=10)
    assert published["partial_period"].dtype == bool


def test_year_without_lettings_has_no_rows_and_empty_input_no_crash():
    frame = lettings([{"toewijzingsdatum": "2022-03-01"}, {"toewijzingsdatum": "2024-03-01"}])
    out = compute_toewijzingen(frame, load_inkomensgrenzen())
    assert sorted(out["jaar"].unique().tolist()) == [2022, 2024]
    empty = compute_toewijzingen(lettings(TEN).iloc[0:0], load_inkomensgrenzen())
    assert empty.empty
    published = finish(TABLE, empty, snapshot="s", suppression_threshold=10)
    assert published.empty and list(published.columns) == TABLE.column_names


def test_year_without_income_limit_has_no_income_rows():
    frame = lettings(
        [
            {"toewijzingsdatum": "2023-03-01", "huishoudinkomen": 20000},  # 2023: no limits at all
            {"toewijzingsdatum": "2024-03-01", "huishoudinkomen": 20000, "huishoudgrootte": 1},  # 2024: DAEB only
        ]
    )
    out = compute_toewijzingen(frame, load_inkomensgrenzen())
    income = ("aandeel_daeb_inkomen", "aandeel_boven_daeb_grens", "aandeel_primaire_doelgroep")
    assert out[(out["jaar"] == 2023) & out["indicator"].isin(income)].empty
    assert row(out, "aantal", corporatie="alle", jaar=2023)["value"] == 1
    assert row(out, "zonder_inkomen", jaar=2023)["value"] == 0
    # 2024: 20,000 <= 47,699 -> DAEB; no huurtoeslag limit for 2024 in the table -> no primary rows
    assert nums(row(out, "aandeel_daeb_inkomen", jaar=2024)) == (1, 1, pytest.approx(100.0))
    assert out[(out["jaar"] == 2024) & (out["indicator"] == "aandeel_primaire_doelgroep")].empty


def test_missing_limits_are_named_and_the_check_warns():
    missing = missing_income_limits([2022, 2023, 2024], load_inkomensgrenzen())
    assert ("daeb_eenpersoons", 2023) in missing and ("primair_meerpersoons_vanaf_aow", 2024) in missing
    assert not [pair for pair in missing if pair[1] == 2022]
    assert ("daeb_eenpersoons", 2024) not in missing
    result = reference_check_result(missing, "inkomensgrenzen")
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert "2023" in result.description and "2024" in result.description
    assert reference_check_result(missing_income_limits([2022], load_inkomensgrenzen()), "inkomensgrenzen").passed


def test_income_classification_with_unknown_size_or_age():
    frame = lettings(
        [
            # unknown size: 24,000 is below both one- and more-person primary limits -> primary
            {"huishoudinkomen": 24000, "huishoudgrootte": None},
            # unknown age: 24,000 is between 23,975 (AOW) and 24,075 -> undetermined
            {"huishoudinkomen": 24000, "huishoudgrootte": 1, "leeftijd_hoofdaanvrager": None},
            # unknown age: 23,000 below both -> primary
            {"huishoudinkomen": 23000, "huishoudgrootte": 1, "leeftijd_hoofdaanvrager": None},
            # 67 is AOW age: 32,600 > 32,550 -> not primary (it would be under 67)
            {"huishoudinkomen": 32600, "huishoudgrootte": 2, "leeftijd_hoofdaanvrager": 67},
            {"huishoudinkomen": 32600, "huishoudgrootte": 2, "leeftijd_hoofdaanvrager": 66},
        ]
    )
    primair = income_at_or_below(frame, load_inkomensgrenzen(), "primair", by_aow=True)
    assert primair.tolist() == [True, pd.NA, True, False, True]


def test_small_cells_are_suppressed_in_the_published_table(ten):
    published = finish(TABLE, ten, snapshot="s", suppression_threshold=10)
    passend = row(published, "aandeel_passend")  # denominator 8 < 10
    assert bool(passend["suppressed"]) and math.isnan(passend["value"]) and math.isnan(passend["numerator"])
    assert passend["denominator"] == 8
    regulier = row(published, "aandeel_regulier")  # denominator 10 is not below the threshold
    assert not bool(regulier["suppressed"]) and regulier["value"] == pytest.approx(70.0)
    median = row(published, "inschrijfduur_mediaan")  # 9 values
    assert bool(median["suppressed"]) and math.isnan(median["value"])
    count = row(published, "aantal", publicatiemodel="DIR")  # a count has no denominator
    assert not bool(count["suppressed"]) and count["value"] == 1
    assert list(published.columns) == TABLE.column_names


def test_asset_and_check_in_dagster(tmp_path):
    staged = lettings([{"toewijzingsdatum": "2022-03-01"}, {"toewijzingsdatum": "2023-03-01"}])

    @dg.asset(name="stg_toewijzingen")
    def stg_toewijzingen() -> pd.DataFrame:
        return staged

    result = dg.materialize(
        [stg_toewijzingen, kpi_toewijzingen, referentiegrenzen_compleet],
        resources={"io_manager": ParquetIOManager(base_path=str(tmp_path)), "kpi_settings": KpiSettings()},
        tags=ALLE_GEMEENTEN,
    )
    assert result.success
    frame = result.output_for_node("kpi_toewijzingen")
    assert list(frame.columns) == TABLE.column_names and "run_id" not in frame.columns
    materialization = next(
        m for m in result.asset_materializations_for_node("kpi_toewijzingen")
    )
    metadata = materialization.metadata
    assert metadata["dagster/row_count"].value == len(frame)
    assert {"threshold": "daeb_eenpersoons", "year": 2023} in metadata["ontbrekende_inkomensgrenzen"].value
    assert "dagster/column_lineage" in metadata and "dagster/column_schema" in metadata
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "referentiegrenzen_compleet"
    assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "2023" in evaluation.description
