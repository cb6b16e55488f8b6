"""KPI voorraadontwikkeling: how each corporation's dwelling stock changed per year and segment.

Definition `voorraadontwikkeling` v1 (DESIGN.md §5). Year Y runs from peildatum P0 (end of Y-1) to
P1 (end of Y). Begin stock = dwellings in exploitation at P0, end stock = at P1. Every unit in
either gets exactly one transition (stg_voorraadmutaties), so begin + flows = end holds by
construction and is checked again as an asset check. Flows are signed: + into the segment, - out.
Segments: totaal, daeb (DAEB / niet-DAEB) and huurklasse by the rent thresholds of the peildatum's
year. A unit moving DAEB -> niet-DAEB while staying in the stock is liberalisatie; other moves
between segments are overig (herindeling). Units that disappear without a reason, or appear
without an origin, are overig and flagged afgeleid.
"""


import dagster as dg
import pandas as pd

from assets.common import (
    Column,
    KpiTable,
    add_alle_corporaties,
    column_lineage,
    dwellings_in_exploitatie,
    finish,
    kpi_asset_args,
    names_by_code,
    snapshot_by_gemeente,
    summary_markdown,
    table_metadata,
)
from assets.kpi.inputs import VOORRAAD_STOCK
from assets.partitions import gemeente_in, gemeenten_of
from assets.settings import KpiSettings

DEFINITION_ID = "voorraadontwikkeling"
DEFINITION_VERSION = 1
FLOWS = ("nieuwbouw", "aankoop", "splitsing_transformatie", "verkoop", "sloop", "liberalisatie", "overig")
SEGMENT_TYPES = ("totaal", "daeb", "huurklasse")

TABLE = KpiTable(
    name="kpi_voorraadontwikkeling",
    description=(
        "Voorraadontwikkeling per corporatie x gemeente x jaar x segment. Indicatoren: begin_voorraad, "
        "de mutaties nieuwbouw, aankoop, splitsing_transformatie, verkoop, sloop, liberalisatie, overig "
        "(met teken: + erbij, - eraf), eind_voorraad, netto_groei, netto_groei_cumulatief (vanaf het "
        "eerste jaar met twee peildata) en waarvan_afgeleid (mutaties zonder opgegeven reden). "
        "begin_voorraad + mutaties = eind_voorraad."
    ),
    dimensions=[
        Column("jaar", "integer", "Verslagjaar: van peildatum_begin (exclusief) tot peildatum_eind"),
        Column("peildatum_begin", "date", "Peildatum van de beginvoorraad"),
        Column("peildatum_eind", "date", "Peildatum van de eindvoorraad"),
        Column("segment_type", "text", "totaal, daeb of huurklasse"),
        Column("segment", "text", "Segment binnen het segmenttype (alle; DAEB/niet-DAEB; huurklasse)"),
    ],
)

def _segment(frame: pd.DataFrame, segment_type: str, suffix: str = "") -> pd.Series:
    if segment_type == "totaal":
        return pd.Series("alle", index=frame.index, dtype="str")
    if segment_type == "daeb":
        daeb = frame[f"daeb{suffix}"]
        return daeb.map({True: "DAEB", False: "niet-DAEB"}).fillna("onbekend").astype("str")
    return frame[f"huurklasse{suffix}"].fillna("onbekend").astype("str")


def compute_voorraad(stock: pd.DataFrame, transitions: pd.DataFrame, gemeente_namen: dict[str, str]) -> pd.DataFrame:
    dwellings = dwellings_in_exploitatie(stock, ["corporatie", "gemeente_code", "peildatum", "daeb", "huurklasse"])
    keys = ["corporatie", "gemeente_code", "jaar", "peildatum_begin", "peildatum_eind", "segment_type", "segment"]
    years = transitions[["corporatie", "jaar", "peildatum_begin", "peildatum_eind"]].drop_duplicates()
    parts: list[pd.DataFrame] = []
    for segment_type in SEGMENT_TYPES:
        stock_seg = dwellings.assign(segment_type=segment_type, segment=_segment(dwellings, segment_type))
        counts = stock_seg.groupby(["corporatie", "gemeente_code", "peildatum", "segment_type", "segment"]).size()
        counts = counts.rename("aantal").reset_index()
        begin = years.merge(counts.rename(columns={"peildatum": "peildatum_begin"}), on=["corporatie", "peildatum_begin"])
        begin["indicator"] = "begin_voorraad"
        end = years.merge(counts.rename(columns={"peildatum": "peildatum_eind"}), on=["corporatie", "peildatum_eind"])
        end["indicator"] = "eind_voorraad"
        seg_b = _segment(transitions, segment_type, "_begin")
        seg_e = _segment(transitions, segment_type, "_eind")
        moved = (seg_b != seg_e) | (transitions["gemeente_code_begin"].astype("str") != transitions["gemeente_code_eind"].astype("str"))
        outs = transitions[(transitions["soort"] == "uitstroom") | ((transitions["soort"] == "herindeling") & moved)]
        ins = transitions[(transitions["soort"] == "instroom") | ((transitions["soort"] == "herindeling") & moved)]
        flow_parts = []
        for frame, seg, sign, gemeente in ((outs, seg_b, -1, "gemeente_code_begin"), (ins, seg_e, 1, "gemeente_code_eind")):
            f = frame.assign(segment_type=segment_type, segment=seg.loc[frame.index], gemeente_code=frame[gemeente])
            g = f.groupby([*keys, "mutatie"]).size().rename("aantal").reset_index()
            g["aantal"] *= sign
            g = g.rename(columns={"mutatie": "indicator"})
            flow_parts.append(g)
            derived = f[f["afgeleid"]].groupby(keys).size().rename("aantal").reset_index()
            derived["indicator"] = "waarvan_afgeleid"
            flow_parts.append(derived)
        flows = pd.concat(flow_parts, ignore_index=True).groupby([*keys, "indicator"])["aantal"].sum().reset_index()
        parts += [begin, end, flows]
    long = pd.concat(parts, ignore_index=True)
    wide = long.pivot_table(index=keys, columns="indicator", values="aantal", aggfunc="sum", fill_value=0).reset_index()
    for column in ("begin_voorraad", "eind_voorraad", "waarvan_afgeleid", *FLOWS):
        if column not in wide.columns:
            wide[column] = 0
    wide["netto_groei"] = wide["eind_voorraad"] - wide["begin_voorraad"]
    wide = wide.sort_values(keys)
    wide["netto_groei_cumulatief"] = wide.groupby(
        ["corporatie", "gemeente_code", "segment_type", "segment"]
    )["netto_groei"].cumsum()
    indicators = ["begin_voorraad", *FLOWS, "eind_voorraad", "netto_groei", "netto_groei_cumulatief", "waarvan_afgeleid"]
    out = wide.melt(id_vars=keys, value_vars=indicators, var_name="indicator", value_name="numerator")
    out["numerator"] = out["numerator"].astype("float64")
    out["denominator"] = float("nan")
    out["unit"] = "woningen"
    out["gemeente_naam"] = out["gemeente_code"].map(gemeente_namen)
    out = add_alle_corporaties(out, ["gemeente_code", "corporatie", "jaar", "peildatum_begin", "peildatum_eind", "segment_type", "segment", "indicator"])
    out["value"] = out["numerator"]
    out["definition_id"] = DEFINITION_ID
    out["definition_version"] = DEFINITION_VERSION
    out["partial_period"] = False
    return out


def balance_errors(kpi: pd.DataFrame) -> pd.DataFrame:
    """Rows where begin + flows != end; empty when the table balances."""
    keys = ["gemeente_code", "corporatie", "jaar", "segment_type", "segment"]
    if kpi.empty:  # a gemeente without corporation dwellings: nothing to balance
        return pd.DataFrame(columns=[*keys, "verschil"])
    wide = kpi.pivot_table(index=keys, columns="indicator", values="numerator", aggfunc="sum", fill_value=0)
    flows = wide[[f for f in FLOWS if f in wide.columns]].sum(axis=1)
    diff = wide["begin_voorraad"] + flows - wide["eind_voorraad"]
    bad = wide[diff.abs() > 1e-9].assign(verschil=diff[diff.abs() > 1e-9])
    return bad.reset_index()


@dg.asset(**kpi_asset_args(TABLE, f"{DEFINITION_ID} v{DEFINITION_VERSION}", "DESIGN.md §5 voorraadontwikkeling", ins={"stg_bezit": VOORRAAD_STOCK, "stg_voorraadmutaties": gemeente_in("stg_voorraadmutaties", None)}))
def kpi_voorraadontwikkeling(
    context: dg.AssetExecutionContext,
    kpi_settings: KpiSettings,
    stg_bezit: pd.DataFrame,
    stg_voorraadmutaties: pd.DataFrame,
) -> dg.Output:
    names = names_by_code(stg_bezit, "gemeente_code", "gemeente_naam")
    frame = compute_voorraad(stg_bezit, stg_voorraadmutaties, names)
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (stg_bezit, "gemeente_code")),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    lineage = column_lineage(
        TABLE,
        {
            "numerator": [("stg_bezit", "vhe_id"), ("stg_voorraadmutaties", "mutatie"), ("stg_voorraadmutaties", "soort")],
            "segment": [("stg_bezit", "daeb"), ("stg_bezit", "huurklasse")],
            "gemeente_code": [("stg_bezit", "gemeente_code")],
            "corporatie": [("stg_bezit", "corporatie")],
            "jaar": [("stg_voorraadmutaties", "jaar")],
        },
    )
    growth = frame[
        (frame["indicator"] == "netto_groei") & (frame["corporatie"] == "alle") & (frame["segment"] == "DAEB")
    ]
    return dg.Output(
        frame,
        metadata=table_metadata(
            frame,
            TABLE,
            **{
                "dagster/column_lineage": lineage,
                "netto_groei_daeb_alle": dg.MetadataValue.md(
                    summary_markdown(growth[["gemeente_naam", "jaar", "value"]])
                ),
            },
        ),
    )


@dg.asset_check(
    asset=kpi_voorraadontwikkeling,
    name="voorraad_balans",
    blocking=True,
    description="begin_voorraad + mutaties = eind_voorraad voor elke corporatie x gemeente x jaar x segment",
)
def voorraad_balans(kpi_voorraadontwikkeling: pd.DataFrame) -> dg.AssetCheckResult:
    bad = balance_errors(kpi_voorraadontwikkeling)
    return dg.AssetCheckResult(
        passed=bad.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "onbalans_rijen": len(bad),
            "voorbeeld": dg.MetadataValue.md(bad.head(20).astype("str").to_markdown(index=False) if len(bad) else "geen"),
        },
    )
