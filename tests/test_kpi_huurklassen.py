"""kpi_huurklassen on small hand-made stock and lettings; expected numbers worked out by hand.

Rent thresholds 2024 (reference/huurgrenzen.csv): kwaliteitskortingsgrens 454.47, aftoppingsgrens
laag 650.43, hoog 697.07, liberalisatiegrens 879.66. A rent on a threshold belongs below it. The
table holds rent thresholds for 2019..2026; 2018 has none.
"""

import math

import dagster as dg
import pandas as pd
import pytest

from assets.common import finish
from assets.kpi.huurklassen import (
    TABLE,
    compute_huurklassen,
    huurgrenzen_compleet,
    kpi_huurklassen,
    supply_years,
)
from assets.settings import KpiSettings
from pipelines.io import ParquetIOManager
from sources.reference import load_huurgrenzen
from tests.kpi_fixtures import one, stock
from tests.pipeline_helpers import ALLE_GEMEENTEN
from tests.test_kpi_toewijzingen import lettings

PEIL = "2024-12-31"
CLASSES = ("goedkoop", "betaalbaar_laag", "betaalbaar_hoog", "duur", "boven_liberalisatiegrens")


def no_stock():
    return stock([{"vhe_id": "X", "peildatum": PEIL}]).iloc[0:0]


@pytest.fixture
def units():
    return stock(
        [
            {"vhe_id": "V1", "peildatum": PEIL, "netto_kale_huur": 454.47},  # on the threshold: goedkoop
            {"vhe_id": "V2", "peildatum": PEIL, "netto_kale_huur": 454.48},  # betaalbaar_laag
            {"vhe_id": "V3", "peildatum": PEIL, "netto_kale_huur": 650.43},  # betaalbaar_laag (on aftopping laag)
            {"vhe_id": "V4", "peildatum": PEIL, "netto_kale_huur": 697.07},  # betaalbaar_hoog (on aftopping hoog)
            {"vhe_id": "V5", "peildatum": PEIL, "netto_kale_huur": 879.66},  # duur (on liberalisatiegrens)
            {"vhe_id": "V6", "peildatum": PEIL, "netto_kale_huur": 879.67},  # boven_liberalisatiegrens
            {"vhe_id": "V7", "peildatum": PEIL, "netto_kale_huur": None},  # no rent: onbekend
            # sold before the peildatum and a parking place: not in the stock of dwellings
            {"vhe_id": "V8", "peildatum": PEIL, "netto_kale_huur": 500.0, "uit_exploitatie_datum": "2024-05-01",
             "uit_exploitatie_reden": "verkoop"},
            {"vhe_id": "P1", "peildatum": PEIL, "eenheidsoort": "PP", "netto_kale_huur": 80.0},
            # a second corporation in Haarlem with one betaalbaar_laag dwelling
            {"vhe_id": "A1", "peildatum": PEIL, "corporatie": "Andere", "netto_kale_huur": 500.0},
        ]
    )


SUPPLY_2024 = [
    {"netto_kale_huur": 454.47, "huishoudgrootte": 1},  # goedkoop; <= laag 650.43: below aftopping
    {"netto_kale_huur": 650.43, "huishoudgrootte": 1},  # betaalbaar_laag; on laag: below
    {"netto_kale_huur": 650.44, "huishoudgrootte": 1},  # betaalbaar_hoog; one person above laag: not below
    {"netto_kale_huur": 697.07, "huishoudgrootte": 2},  # betaalbaar_hoog; on hoog: below
    {"netto_kale_huur": 697.08, "huishoudgrootte": 3},  # duur; above hoog
    {"netto_kale_huur": 690.00, "huishoudgrootte": None},  # betaalbaar_hoog; size unknown -> hoog: below
    {"netto_kale_huur": 879.66, "huishoudgrootte": 2},  # duur
    {"netto_kale_huur": 1000.0, "huishoudgrootte": 1, "publicatiemodel": "VRI", "toewijzingsdatum": "2024-12-31"},
]


@pytest.fixture
def supply():
    return lettings([{"toewijzingsdatum": "2024-06-01", **r} for r in SUPPLY_2024])


@pytest.fixture
def out(units, supply):
    return compute_huurklassen(units, supply, load_huurgrenzen())


def stock_row(out, indicator, klasse, corporatie="Testcorporatie"):
    return one(out, corporatie=corporatie, indicator=indicator, huurklasse=klasse, gemeente_code="GM0392")


def supply_row(out, indicator, klasse, corporatie="Elan Wonen", jaar=2024):
    return one(out, corporatie=corporatie, indicator=indicator, huurklasse=klasse, jaar=jaar, gemeente_code="GM0397")


def test_stock_by_huurklasse_with_rents_on_thresholds(out):
    counts = {k: stock_row(out, "voorraad_aantal", k)["value"] for k in (*CLASSES, "onbekend")}
    assert counts == {"goedkoop": 1, "betaalbaar_laag": 2, "betaalbaar_hoog": 1, "duur": 1,
                      "boven_liberalisatiegrens": 1, "onbekend": 1}
    share = stock_row(out, "voorraad_aandeel", "betaalbaar_laag")  # V2, V3 of 7 dwellings in exploitation
    assert (share["numerator"], share["denominator"]) == (2, 7)
    assert share["value"] == pytest.approx(200 / 7)
    assert share["jaar"] == 2024 and share["peildatum"] == pd.Timestamp(PEIL)
    assert stock_row(out, "voorraad_aantal", "goedkoop")["unit"] == "woningen"
    assert not out.loc[out["indicator"].str.startswith("voorraad"), "partial_period"].any()


def test_stock_lists_every_class_and_totals_over_corporations(out):
    andere = stock_row(out, "voorraad_aantal", "duur", corporatie="Andere")
    assert andere["value"] == 0  # listed with 0, not left out
    alle = stock_row(out, "voorraad_aandeel", "betaalbaar_laag", corporatie="alle")
    assert (alle["numerator"], alle["denominator"]) == (3, 8)  # V2, V3, A1 of 8
    assert alle["value"] == pytest.approx(37.5)


def test_supply_by_huurklasse_uses_the_letting_year_thresholds(out):
    counts = {k: supply_row(out, "aanbod_aantal", k)["value"] for k in CLASSES}
    assert counts == {"goedkoop": 1, "betaalbaar_laag": 1, "betaalbaar_hoog": 3, "duur": 2, "boven_liberalisatiegrens": 1}
    share = supply_row(out, "aanbod_aandeel", "betaalbaar_hoog")
    assert (share["numerator"], share["denominator"], share["value"]) == (3, 8, pytest.approx(37.5))
    assert pd.isna(share["peildatum"]) and share["unit"] == "%"
    assert supply_row(out, "aanbod_aantal", "duur")["unit"] == "toewijzingen"
    # no 'onbekend' class: every letting has a rent
    assert out[(out["indicator"] == "aanbod_aantal") & (out["huurklasse"] == "onbekend")].empty


def test_supply_below_aftoppingsgrenzen(out):
    # below: 454.47 (1p), 650.43 (1p, on laag), 697.07 (2p, on hoog), 690.00 (size unknown -> hoog) = 4 of 8
    row = supply_row(out, "aanbod_onder_aftoppingsgrens", "alle")
    assert (row["numerator"], row["denominator"], row["value"]) == (4, 8, pytest.approx(50.0))
    # Elan Wonen is the only corporation letting in Heemstede: 'alle' equals it
    alle = supply_row(out, "aanbod_onder_aftoppingsgrens", "alle", corporatie="alle")
    assert (alle["numerator"], alle["denominator"], alle["value"]) == (4, 8, pytest.approx(50.0))
    assert bool(row["partial_period"]) is False  # last Heemstede letting on 31 December


def test_a_year_later_uses_that_years_thresholds():
    # 2025: aftoppingsgrens laag 682.96; 2024: 650.43. 660 for one person: below in 2025, not in 2024
    frame = lettings(
        [
            {"toewijzingsdatum": "2024-12-31", "netto_kale_huur": 660.0, "huishoudgrootte": 1},
            {"toewijzingsdatum": "2025-06-30", "netto_kale_huur": 660.0, "huishoudgrootte": 1},
        ]
    )
    out = compute_huurklassen(no_stock(), frame, load_huurgrenzen())
    assert supply_row(out, "aanbod_aantal", "betaalbaar_hoog", jaar=2024)["value"] == 1
    assert supply_row(out, "aanbod_aantal", "betaalbaar_laag", jaar=2025)["value"] == 1
    assert supply_row(out, "aanbod_onder_aftoppingsgrens", "alle", jaar=2024)["value"] == 0
    assert supply_row(out, "aanbod_onder_aftoppingsgrens", "alle", jaar=2025)["value"] == pytest.approx(100.0)
    # data up to 30 June 2025: 2025 is partial, 2024 is not
    assert bool(supply_row(out, "aanbod_aantal", "goedkoop", jaar=2025)["partial_period"]) is True
    assert bool(supply_row(out, "aanbod_aantal", "goedkoop", jaar=2024)["partial_period"]) is False


def test_year_without_rent_thresholds_has_no_supply_rows():
    frame = lettings(
        [{"toewijzingsdatum": "2018-05-01", "netto_kale_huur": 500.0}, {"toewijzingsdatum": "2024-05-01"}]
    )
    out = compute_huurklassen(no_stock(), frame, load_huurgrenzen())
    assert sorted(out["jaar"].unique().tolist()) == [2024]
    years, missing = supply_years(frame, load_huurgrenzen())
    assert years == [2024]
    assert ("kwaliteitskortingsgrens", 2018) in missing and ("liberalisatiegrens", 2018) in missing
    assert all(year == 2018 for _, year in missing)


def test_no_lettings_and_no_stock_give_an_empty_table():
    out = compute_huurklassen(no_stock(), lettings([{}]).iloc[0:0], load_huurgrenzen())
    published = finish(TABLE, out, snapshot="s", suppression_threshold=10)
    assert published.empty and list(published.columns) == TABLE.column_names


def test_small_cells_are_suppressed(out):
    published = finish(TABLE, out, snapshot="s", suppression_threshold=10)
    share = stock_row(published, "voorraad_aandeel", "betaalbaar_laag")  # denominator 7 < 10
    assert bool(share["suppressed"]) and math.isnan(share["value"]) and math.isnan(share["numerator"])
    count = stock_row(published, "voorraad_aantal", "betaalbaar_laag")  # a count: published
    assert not bool(count["suppressed"]) and count["value"] == 2
    lower = finish(TABLE, out, snapshot="s", suppression_threshold=8)
    assert supply_row(lower, "aanbod_onder_aftoppingsgrens", "alle")["value"] == pytest.approx(50.0)  # 8 >= 8
    assert list(published.columns) == TABLE.column_names


def test_asset_and_check_in_dagster(units, tmp_path):
    staged_lettings = lettings(
        [{"toewijzingsdatum": "2018-05-01"}, {"toewijzingsdatum": "2024-05-01", "netto_kale_huur": 454.47}]
    )

    @dg.asset(name="stg_bezit")
    def stg_bezit() -> pd.DataFrame:
        return units

    @dg.asset(name="stg_toewijzingen")
    def stg_toewijzingen() -> pd.DataFrame:
        return staged_lettings

    result = dg.materialize(
        [stg_bezit, stg_toewijzingen, kpi_huurklassen, huurgrenzen_compleet],
        resources={"io_manager": ParquetIOManager(base_path=str(tmp_path)), "kpi_settings": KpiSettings()},
        tags=ALLE_GEMEENTEN,
    )
    assert result.success
    frame = result.output_for_node("kpi_huurklassen")
    assert list(frame.columns) == TABLE.column_names
    metadata = result.asset_materializations_for_node("kpi_huurklassen")[0].metadata
    assert {"threshold": "aftoppingsgrens_laag", "year": 2018} in metadata["ontbrekende_huurgrenzen"].value
    assert metadata["dagster/row_count"].value == len(frame)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "huurgrenzen_compleet"
    assert evaluation.passed is False and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "2018" in evaluation.description
