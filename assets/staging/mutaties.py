"""stg_voorraadmutaties: the yearly transitions of every dwelling between consecutive stock lists.

Every unit in the begin or end stock of a year gets exactly one record (entered, left, or moved
between segments), so the voorraadontwikkeling balance holds by construction.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from assets.common import column_schema
from assets.quality import check_spec, validated
from assets.raw import KOLOMMEN
from assets.resources import DataQuality, WarehouseResource

ORIGIN_TO_FLOW = {
    "nieuwbouw": "nieuwbouw",
    "aankoop": "aankoop",
    "splitsing": "splitsing_transformatie",
    "transformatie": "splitsing_transformatie",
}

REASON_TO_FLOW = {
    "verkoop": "verkoop",
    "sloop": "sloop",
    "liberalisatie": "liberalisatie",
    "samenvoeging": "overig",
    "overig": "overig",
}

TRANSITION_COLUMNS = [
    "corporatie", "jaar", "peildatum_begin", "peildatum_eind", "vhe_id", "soort", "mutatie", "afgeleid",
    "gemeente_code_begin", "gemeente_code_eind", "daeb_begin", "daeb_eind", "huurklasse_begin", "huurklasse_eind",
]


#: What stock_transitions reads of stg_bezit (the IO manager loads only these columns).
TRANSITION_STOCK_COLUMNS = [
    "corporatie", "peildatum", "vhe_id", "is_woning", "in_exploitatie", "gemeente_code", "daeb", "huurklasse",
    "uit_exploitatie_datum", "uit_exploitatie_reden", "herkomst",
]


def _pairs(peildata: list[pd.Timestamp]) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    ordered = sorted(peildata)
    return list(zip(ordered[:-1], ordered[1:], strict=True))


def stock_transitions(stock: pd.DataFrame) -> pd.DataFrame:
    """One record per dwelling per year that entered, left or changed segment. Pure function.

    `stock` is stg_bezit: all lists of all corporations, with in_exploitatie, is_woning, daeb,
    huurklasse, uit_exploitatie_datum/-reden and herkomst.
    """
    dwellings = stock[stock["is_woning"]]
    records: list[pd.DataFrame] = []
    for corporatie, lists in dwellings.groupby("corporatie", sort=True):
        for p0, p1 in _pairs(list(lists["peildatum"].unique())):
            begin = lists[(lists["peildatum"] == p0) & lists["in_exploitatie"]]
            end_list = lists[lists["peildatum"] == p1]
            end = end_list[end_list["in_exploitatie"]]
            cols = ["vhe_id", "gemeente_code", "daeb", "huurklasse"]
            both = begin[cols].merge(end[cols], on="vhe_id", how="outer", suffixes=("_begin", "_eind"), indicator=True)
            left = end_list.set_index("vhe_id")
            year = (pd.Timestamp(p1) - pd.Timedelta(days=1)).year
            out = both
            out["corporatie"] = corporatie
            out["jaar"] = year
            out["peildatum_begin"] = p0
            out["peildatum_eind"] = p1
            out["soort"] = out["_merge"].map({"left_only": "uitstroom", "right_only": "instroom", "both": "herindeling"})
            out["mutatie"] = "overig"
            out["afgeleid"] = False
            leaving = out["soort"] == "uitstroom"
            reason = out.loc[leaving, "vhe_id"].map(
                left["uit_exploitatie_reden"][~left.index.duplicated()] if not left.empty else pd.Series(dtype="str")
            )
            left_at = out.loc[leaving, "vhe_id"].map(
                left["uit_exploitatie_datum"][~left.index.duplicated()] if not left.empty else pd.Series(dtype="object")
            )
            known = reason.notna() & left_at.notna() & (left_at > p0) & (left_at <= p1)
            out.loc[leaving, "mutatie"] = reason.map(REASON_TO_FLOW).where(known, "overig").fillna("overig")
            out.loc[leaving, "afgeleid"] = ~known
            entering = out["soort"] == "instroom"
            origin = out.loc[entering, "vhe_id"].map(end.set_index("vhe_id")["herkomst"])
            flow = origin.map(ORIGIN_TO_FLOW)
            out.loc[entering, "mutatie"] = flow.fillna("overig")
            out.loc[entering, "afgeleid"] = flow.isna()
            moved = out["soort"] == "herindeling"
            liberalised = moved & out["daeb_begin"].fillna(False).astype(bool) & ~out["daeb_eind"].fillna(True).astype(bool)
            out.loc[liberalised, "mutatie"] = "liberalisatie"
            changed = (
                (out["daeb_begin"].astype("str") != out["daeb_eind"].astype("str"))
                | (out["huurklasse_begin"].astype("str") != out["huurklasse_eind"].astype("str"))
                | (out["gemeente_code_begin"].astype("str") != out["gemeente_code_eind"].astype("str"))
            )
            records.append(out[~moved | changed])
    if not records:
        return pd.DataFrame(columns=TRANSITION_COLUMNS)
    result = pd.concat(records, ignore_index=True)
    result["afgeleid"] = result["afgeleid"].astype("bool")
    return result[TRANSITION_COLUMNS]


@dg.asset(
    description=(
        "Mutaties in de woningvoorraad per corporatie en jaar, afgeleid uit opeenvolgende bezitslijsten: "
        "instroom (herkomst), uitstroom (reden uit exploitatie) en herindeling (DAEB/huurklasse). "
        "Zonder opgegeven reden of herkomst: 'overig' met afgeleid=True."
    ),
    group_name="staging",
    kinds={"pandas", "python"},
    owners=["team:woningmarkt"],
    check_specs=[check_spec("stg_voorraadmutaties")],
    ins={"stg_bezit": dg.AssetIn(metadata={KOLOMMEN: TRANSITION_STOCK_COLUMNS})},
)
def stg_voorraadmutaties(
    context: dg.AssetExecutionContext,
    stg_bezit: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    frame = stock_transitions(stg_bezit)
    # Transitions are derived, not delivered: they point at the stock list they came from.
    frame["_source_file"] = "stg_bezit"
    frame["_source_row"] = pd.array(range(1, len(frame) + 1), dtype="Int64")
    metadata: dict[str, Any] = {
        "dagster/column_schema": column_schema(frame),
        "afgeleide_mutaties": int(frame["afgeleid"].sum()),
    }
    yield from validated(
        context, frame, "stg_voorraadmutaties", warehouse=warehouse, data_quality=data_quality, metadata=metadata
    )
