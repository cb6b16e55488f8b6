"""What the KPI assets read of the staged stock (stg_bezit, 11.6 million rows nationally): only the
columns they use are loaded (pipelines/io.py, assets.raw.KOLOMMEN), for the gemeenten of the run. A
national range run loaded the whole 6.5 GB frame in every stock KPI step, two steps at a time."""

from __future__ import annotations

import dagster as dg

from assets.partitions import GEMEENTE_KOLOM
from assets.raw import ALS_CATEGORIE, KOLOMMEN
from assets.settings import EFG_VRIJSTELLINGEN

#: Every stock KPI: the unit, where it is, whether it counts, and the files its gemeente's rows rest
#: on (`_source_snapshot`). Not the file name and row of each unit: no KPI reads them, and at national
#: size they were the widest columns every stock KPI step loaded and copied.
STOCK_BASE = [
    "corporatie", "peildatum", "vhe_id", "gemeente_code", "gemeente_naam", "wijk_code", "in_exploitatie",
    "is_woning", "_source_snapshot",
]


#: The text keys every stock KPI groups by, loaded as categoricals. Nationally each has at most a
#: few thousand values over ~11 million rows: as text, selecting the dwellings copied every string
#: (~14 s per stock KPI step), and each groupby and the per-gemeente file list factorised them again.
#: As categoricals those are integer codes. The KPI tables still publish text (assets.common.finish).
STOCK_CATEGORIES = ["corporatie", "gemeente_code", "gemeente_naam", "wijk_code", "_source_snapshot"]


def stock_in(*columns: str) -> dg.AssetIn:
    """stg_bezit for a KPI asset: the run's gemeenten, the base columns and `columns`."""
    return dg.AssetIn(
        "stg_bezit",
        metadata={
            GEMEENTE_KOLOM: "gemeente_code",
            KOLOMMEN: list(dict.fromkeys([*STOCK_BASE, *columns])),
            ALS_CATEGORIE: STOCK_CATEGORIES,
        },
    )


ENERGIELABELS_STOCK = stock_in(*EFG_VRIJSTELLINGEN)
HUURKLASSEN_STOCK = stock_in("netto_kale_huur", "huurklasse", "daeb")
VOORRAAD_STOCK = stock_in("daeb", "huurklasse")
ZON_STOCK = stock_in("zonnepanelen_aantal", "zonnepanelen_wp", "zonnepanelen_kwp")
