"""Cross-source checks (DESIGN.md §4): what no single file can show. They inform the steward (WARN)
and do not block; the stock balance, which does make KPIs wrong, is a blocking check on
kpi_voorraadontwikkeling."""

import dagster as dg
import numpy as np
import pandas as pd

from assets import relational
from assets.common import is_dwelling_in_exploitatie
from assets.kpi.energielabels import GEEN_LABEL, label_at_peildatum
from assets.raw import KOLOMMEN
from sources.formats import address_key

#: What the cross-source checks read of stg_bezit (the IO manager loads only these columns).
CHECK_STOCK = dg.AssetIn("stg_bezit", metadata={KOLOMMEN: [
    "corporatie", "peildatum", "vhe_id", "is_woning", "in_exploitatie", "energielabel", "bag_vbo_id", "postcode",
    "huisnummer", "huisletter", "huisnummertoevoeging", "adres_sleutel", "_source_file", "_source_row",
]})
MAX_LABEL_MISMATCH_PCT = 10.0
MAX_LETTINGS_OUTSIDE_STOCK_PCT = 2.0
MAX_WITHOUT_VALID_LABEL_PCT = 25.0


def _latest_dwellings(stock: pd.DataFrame) -> pd.DataFrame:
    """The dwellings in exploitation at their corporation's latest peildatum. Chosen on the key
    columns and taken once: selecting the 10.9 million national dwellings first copied all their
    columns (the file name of each among them) only to keep a fifth (~13 s in each check)."""
    dwelling = is_dwelling_in_exploitatie(stock)
    latest = stock["peildatum"].where(dwelling).groupby(stock["corporatie"]).transform("max")
    return stock[dwelling & (stock["peildatum"] == latest)]


def label_mismatch(stock: pd.DataFrame, certificates: pd.DataFrame) -> pd.DataFrame:
    """Dwellings at each corporation's latest peildatum whose stock-list label differs from EP-online's."""
    labelled = label_at_peildatum(_latest_dwellings(stock), certificates)
    both = labelled[labelled["energielabel"].notna() & (labelled["label_op_peildatum"] != GEEN_LABEL)]
    return both.assign(verschilt=both["energielabel"] != both["label_op_peildatum"])


def lettings_outside_stock(lettings: pd.DataFrame, stock: pd.DataFrame) -> pd.Series:
    """True for each letting whose unit is in no stock list: by corporation + VHE id, BAG id or address.

    Semi-joins in DuckDB: the national stock has 11.6 million rows, and sets of Python tuples of it
    took ~40 s and several GB in every process that ran this check. A missing key matches nothing.
    """
    with_key = lettings[["corporatie", "vhe_id", "bag_vbo_id"]].assign(
        adres_sleutel=address_key(lettings["postcode"], lettings["huisnummer"], lettings["huisletter"], lettings["huisnummertoevoeging"])
    )
    outside = relational.positions(
        """
        SELECT l._pos FROM lettings l
        WHERE NOT EXISTS (SELECT 1 FROM stock s WHERE s.corporatie = l.corporatie AND s.vhe_id = l.vhe_id)
          AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.bag_vbo_id = l.bag_vbo_id)
          AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.adres_sleutel = l.adres_sleutel)
        """,
        {
            "lettings": (with_key, ["corporatie", "vhe_id", "bag_vbo_id", "adres_sleutel"]),
            "stock": (stock, ["corporatie", "vhe_id", "bag_vbo_id", "adres_sleutel"]),
        },
    )["_pos"]
    flags = np.zeros(len(lettings), dtype=bool)
    flags[outside] = True
    return pd.Series(flags, index=lettings.index)


def _share_check(name: str, bad: int, total: int, limit: float, sample: pd.DataFrame) -> dg.AssetCheckResult:
    share = 100 * bad / total if total else 0.0
    return dg.AssetCheckResult(
        passed=share <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{name}: {bad} van {total} ({share:.1f} %), grens {limit:g} %",
        metadata={
            "aantal": bad,
            "totaal": total,
            "percentage": dg.MetadataValue.float(round(share, 2)),
            "grens_pct": dg.MetadataValue.float(limit),
            "voorbeeld": dg.MetadataValue.md(sample.head(25).astype("str").to_markdown(index=False) if len(sample) else "geen"),
        },
    )


@dg.asset_check(
    asset="stg_energielabels",
    additional_ins={"stg_bezit": CHECK_STOCK},
    description=f"Label in de bezitslijst wijkt af van het EP-online label op de laatste peildatum (WARN boven {MAX_LABEL_MISMATCH_PCT:g} %)",
)
def bezitslabel_vs_ep_online(stg_energielabels: pd.DataFrame, stg_bezit: pd.DataFrame) -> dg.AssetCheckResult:
    compared = label_mismatch(stg_bezit, stg_energielabels)
    bad = compared[compared["verschilt"]]
    sample = bad[["corporatie", "vhe_id", "peildatum", "energielabel", "label_op_peildatum", "_source_file", "_source_row"]]
    return _share_check("labels die afwijken van EP-online", len(bad), len(compared), MAX_LABEL_MISMATCH_PCT, sample)


@dg.asset_check(
    asset="stg_energielabels",
    additional_ins={"stg_bezit": CHECK_STOCK},
    description=f"Woningen zonder geldig EP-online label op de laatste peildatum (WARN boven {MAX_WITHOUT_VALID_LABEL_PCT:g} %)",
)
def woningen_zonder_geldig_label(stg_energielabels: pd.DataFrame, stg_bezit: pd.DataFrame) -> dg.AssetCheckResult:
    labelled = label_at_peildatum(_latest_dwellings(stg_bezit), stg_energielabels)
    missing = labelled[labelled["label_op_peildatum"] == GEEN_LABEL]
    sample = missing[["corporatie", "vhe_id", "bag_vbo_id", "postcode", "huisnummer", "_source_file", "_source_row"]]
    return _share_check("woningen zonder geldig label", len(missing), len(labelled), MAX_WITHOUT_VALID_LABEL_PCT, sample)


@dg.asset_check(
    asset="stg_toewijzingen",
    additional_ins={"stg_bezit": CHECK_STOCK},
    description=f"Toewijzingen van een adres dat in geen enkele bezitslijst staat (WARN boven {MAX_LETTINGS_OUTSIDE_STOCK_PCT:g} %)",
)
def toewijzingen_buiten_bezit(stg_toewijzingen: pd.DataFrame, stg_bezit: pd.DataFrame) -> dg.AssetCheckResult:
    outside = lettings_outside_stock(stg_toewijzingen, stg_bezit)
    sample = stg_toewijzingen[outside][["toewijzing_id", "corporatie", "vhe_id", "postcode", "huisnummer", "_source_file", "_source_row"]]
    return _share_check("toewijzingen buiten het bezit", int(outside.sum()), len(stg_toewijzingen), MAX_LETTINGS_OUTSIDE_STOCK_PCT, sample)
