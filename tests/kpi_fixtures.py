"""Small hand-made staged frames for KPI tests: each test states its expected numbers by hand."""

from __future__ import annotations

import pandas as pd

from assets.staging.bezit import stage_bezit
from sources.reference import load_gemeenten, load_huurgrenzen

STOCK_DEFAULTS = {
    "corporatie": "Testcorporatie",
    "complex_id": None,
    "bag_vbo_id": None,
    "postcode": None,
    "huisnummer": None,
    "huisletter": None,
    "huisnummertoevoeging": None,
    "gemeente_code": "GM0392",
    "wijk_code": None,
    "buurt_code": None,
    "eenheidsoort": "WOO",
    "woningtype": "MGW",
    "bouwjaar": 1970,
    "kamers": 3,
    "oppervlakte_m2": 60.0,
    "wws_punten": 140.0,
    "netto_kale_huur": 600.0,
    "daeb": True,
    "monument": False,
    "vve": False,
    "sloop_renovatie_gepland": False,
    "energielabel": None,
    "zonnepanelen_aantal": None,
    "zonnepanelen_wp": None,
    "zonnepanelen_kwp": None,
    "in_exploitatie_datum": "1970-01-01",
    "uit_exploitatie_datum": None,
    "uit_exploitatie_reden": None,
    "herkomst": "bestaand",
    "_source_file": "bezit/test.csv",
    "_source_snapshot": "bezit/test.csv@000000000000",
}


def stock(rows: list[dict]) -> pd.DataFrame:
    """Rows need at least vhe_id and peildatum; everything else takes STOCK_DEFAULTS."""
    records = [{**STOCK_DEFAULTS, **row} for row in rows]
    frame = pd.DataFrame(records)
    for column in ("peildatum", "in_exploitatie_datum", "uit_exploitatie_datum"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("huisnummer", "bouwjaar", "kamers", "zonnepanelen_aantal"):
        frame[column] = frame[column].astype("Int64")
    for column in ("oppervlakte_m2", "wws_punten", "netto_kale_huur", "zonnepanelen_wp", "zonnepanelen_kwp"):
        frame[column] = frame[column].astype("float64")
    for column in ("daeb", "monument", "vve", "sloop_renovatie_gepland"):
        frame[column] = frame[column].astype("boolean")
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype("str")
    frame["_source_row"] = pd.array(range(2, len(frame) + 2), dtype="Int64")
    return stage_bezit(frame, load_huurgrenzen(), load_gemeenten())


def one(frame: pd.DataFrame, **where: object) -> pd.Series:
    """The single row matching all conditions; fails loudly when there are none or several."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    hits = frame[mask]
    assert len(hits) == 1, f"expected one row for {where}, found {len(hits)}"
    return hits.iloc[0]
