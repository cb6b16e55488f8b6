"""The stock KPIs read stg_bezit's text keys as categoricals (assets.kpi.inputs.STOCK_CATEGORIES):
the store hands them over so, every stock KPI gives the table it gives from text, and the numbers
are those worked out by hand."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from assets.common import finish
from assets.kpi import energielabels, huurklassen, voorraad, zon
from assets.kpi.inputs import STOCK_CATEGORIES, stock_in
from assets.staging.mutaties import stock_transitions
from pipelines.io import ParquetIOManager
from sources.reference import load_huurgrenzen
from tests.kpi_fixtures import one, stock
from tests.pipeline_helpers import ALLE_GEMEENTEN
from tests.test_kpi_energielabels import certs
from tests.test_kpi_toewijzingen import lettings

P0, P1 = "2023-12-31", "2024-12-31"
HAARLEM, HEEMSTEDE = "GM0392", "GM0397"


def two_gemeenten() -> pd.DataFrame:
    """Two corporations in two gemeenten, over two peildata; one unit without a wijk."""
    rows = []
    for peildatum in (P0, P1):
        rows += [
            {"vhe_id": "V1", "peildatum": peildatum, "wijk_code": "WK039201"},
            {"vhe_id": "V2", "peildatum": peildatum, "wijk_code": "WK039201", "netto_kale_huur": 900.0},
            {"vhe_id": "V3", "peildatum": peildatum, "wijk_code": "WK039201", "zonnepanelen_kwp": 1.5},
            {"vhe_id": "A1", "peildatum": peildatum, "corporatie": "Andere", "wijk_code": None},
            {"vhe_id": "H1", "peildatum": peildatum, "gemeente_code": HEEMSTEDE, "wijk_code": "WK039701"},
        ]
    # a unit bought in the second year, and a parking place (no dwelling)
    rows += [
        {"vhe_id": "V4", "peildatum": P1, "wijk_code": "WK039201", "herkomst": "aankoop", "in_exploitatie_datum": "2024-03-01"},
        {"vhe_id": "P1", "peildatum": P1, "eenheidsoort": "PP", "corporatie": "Andere"},
    ]
    return stock(rows)


def certificates() -> pd.DataFrame:
    frame = certs(
        [
            {"vhe_id": "V1", "registratiedatum": "2015-03-01", "geldig_tot": "2035-03-01", "opnamedatum": "2015-02-01", "energieklasse": "G"},
            {"vhe_id": "A1", "registratiedatum": "2016-03-01", "geldig_tot": "2036-03-01", "opnamedatum": "2016-02-01", "energieklasse": "F"},
        ]
    )
    frame.loc[frame["vhe_id"] == "A1", "corporatie"] = "Andere"
    return frame


def as_categoricals(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({column: "category" for column in STOCK_CATEGORIES})


def published(table, frame: pd.DataFrame, snapshot: str) -> pd.DataFrame:
    out = finish(table, frame, snapshot=snapshot, suppression_threshold=1)
    return out.assign(source_snapshot=out["source_snapshot"].astype("str"))


def compute_all(units: pd.DataFrame) -> dict[str, pd.DataFrame]:
    text = two_gemeenten()  # transitions and lettings come from the text stock in both cases
    return {
        "zon": published(zon.TABLE, zon.compute_zon(units, yield_kwh_per_kwp=875.0), "s"),
        "energielabels": published(
            energielabels.TABLE, energielabels.compute_energielabels(units, certificates(), exemptions=["monument"]), "s"
        ),
        "huurklassen": published(
            huurklassen.TABLE,
            huurklassen.compute_huurklassen(units, lettings([{"toewijzingsdatum": "2024-05-01"}]), load_huurgrenzen()),
            "s",
        ),
        "voorraad": published(
            voorraad.TABLE,
            voorraad.compute_voorraad(units, stock_transitions(text), {HAARLEM: "Haarlem", HEEMSTEDE: "Heemstede"}),
            "s",
        ),
    }


@pytest.fixture(scope="module")
def from_text() -> dict[str, pd.DataFrame]:
    return compute_all(two_gemeenten())


@pytest.fixture(scope="module")
def from_categories() -> dict[str, pd.DataFrame]:
    return compute_all(as_categoricals(two_gemeenten()))


@pytest.mark.parametrize("kpi", ["zon", "energielabels", "huurklassen", "voorraad"])
def test_a_stock_kpi_gives_the_same_table_from_categorical_keys(kpi, from_text, from_categories):
    pd.testing.assert_frame_equal(from_categories[kpi], from_text[kpi])
    text_columns = [c for c in from_categories[kpi].columns if c in STOCK_CATEGORIES]
    assert text_columns and all(from_categories[kpi][c].dtype == "str" for c in text_columns)


def test_energielabels_from_categorical_keys_keep_the_gemeente_total_and_the_unit_without_a_wijk(from_categories):
    out = from_categories["energielabels"]
    row = lambda **where: one(out, jaar=2024, **where)  # noqa: E731
    # Haarlem at P1: V1 (G) and A1 (F) are EFG, V2, V3, V4 have no label
    assert row(gemeente_code=HAARLEM, corporatie="alle", wijk_code="alle", indicator="efg_aantal")["value"] == 2
    assert row(gemeente_code=HAARLEM, corporatie="alle", wijk_code="alle", indicator="zonder_geldig_label")["value"] == 3
    # A1 has no wijk: counted under 'onbekend', and in the gemeente total
    assert row(gemeente_code=HAARLEM, corporatie="Andere", wijk_code="onbekend", indicator="efg_aantal")["value"] == 1
    assert row(gemeente_code=HEEMSTEDE, corporatie="alle", wijk_code="alle", indicator="zonder_geldig_label")["value"] == 1
    assert out["wijk_code"].notna().all()


def test_zon_and_voorraad_from_categorical_keys_by_hand(from_categories):
    kwp = one(from_categories["zon"], gemeente_code=HAARLEM, corporatie="alle", indicator="kwp", jaar=2024)
    assert kwp["value"] == pytest.approx(1.5)
    grown = one(
        from_categories["voorraad"], gemeente_code=HAARLEM, corporatie="Testcorporatie", jaar=2024,
        segment_type="totaal", segment="alle", indicator="eind_voorraad",
    )
    assert grown["value"] == 4  # V1-V3 and the bought V4


def test_the_store_hands_the_stock_kpis_their_text_keys_as_categoricals(tmp_path):
    seen: dict[str, pd.DataFrame] = {}

    @dg.asset(name="stg_bezit")
    def stored_stock() -> pd.DataFrame:
        return two_gemeenten()

    @dg.asset(ins={"stg_bezit": stock_in("huurklasse")})
    def reader(stg_bezit: pd.DataFrame) -> None:
        seen["stock"] = stg_bezit

    result = dg.materialize(
        [stored_stock, reader], resources={"io_manager": ParquetIOManager(base_path=str(tmp_path))}, tags=ALLE_GEMEENTEN
    )
    assert result.success
    loaded = seen["stock"]
    for column in STOCK_CATEGORIES:
        assert isinstance(loaded[column].dtype, pd.CategoricalDtype), column
    assert loaded["vhe_id"].dtype == "str" and loaded["huurklasse"].dtype == "str"
    expected = two_gemeenten()[loaded.columns]
    pd.testing.assert_frame_equal(loaded.astype({c: "str" for c in STOCK_CATEGORIES}), expected.astype({c: "str" for c in STOCK_CATEGORIES}))
    assert loaded.loc[loaded["vhe_id"] == "A1", "wijk_code"].isna().all()
