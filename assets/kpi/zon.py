"""KPI zon: solar panels on corporation dwellings, and the energy they yield in TJ per year.

Definition `zon` v1 (DESIGN.md §3.6, §5): per corporation x gemeente x peildatum, over dwellings
(eenheidsoort WOO) in exploitation at the peildatum. kWp per VHE is the delivered kWp, otherwise
panels x Wp / 1000. Yield = kWp x yield factor (875 kWh/kWp/yr, CBS protocol, configurable);
TJ = kWh x 3.6e-6.
"""


import dagster as dg
import pandas as pd

from assets.common import (
    ALLE,
    Column,
    KpiTable,
    add_alle_corporaties,
    column_lineage,
    dwellings_in_exploitatie,
    finish,
    kpi_asset_args,
    recompute_value,
    snapshot_by_gemeente,
    summary_markdown,
    table_metadata,
)
from assets.kpi.inputs import ZON_STOCK
from assets.partitions import gemeenten_of
from assets.settings import KpiSettings

DEFINITION_ID = "zon"
DEFINITION_VERSION = 1
KWH_TO_TJ = 3.6e-6

TABLE = KpiTable(
    name="kpi_zon",
    description=(
        "Zonnepanelen op corporatiewoningen per corporatie x gemeente x peildatum: indicatoren "
        "panelen (aantal), kwp, woningen_met_panelen (% van de woningen), kwh_per_jaar, tj_per_jaar. "
        "Opbrengst = kWp x opbrengstfactor (kWh/kWp/jaar, zie metadata); TJ = kWh x 3,6e-6."
    ),
    dimensions=[
        Column("jaar", "integer", "Jaar van de peildatum"),
        Column("peildatum", "date", "Peildatum van de bezitslijst"),
    ],
)


def kwp_per_vhe(stock: pd.DataFrame) -> pd.Series:
    """Delivered kWp where the corporation gives it, otherwise panels x Wp per panel / 1000."""
    from_panels = stock["zonnepanelen_aantal"].astype("float64") * stock["zonnepanelen_wp"].astype("float64") / 1000
    return stock["zonnepanelen_kwp"].astype("float64").fillna(from_panels).fillna(0.0)


def compute_zon(stock: pd.DataFrame, *, yield_kwh_per_kwp: float) -> pd.DataFrame:
    """Tidy KPI rows from the staged stock (stg_bezit); pure function."""
    keys = ["gemeente_code", "gemeente_naam", "corporatie", "peildatum"]
    dwellings = dwellings_in_exploitatie(
        stock, [*keys, "vhe_id", "zonnepanelen_aantal", "zonnepanelen_wp", "zonnepanelen_kwp"]
    )
    dwellings["kwp"] = kwp_per_vhe(dwellings)
    dwellings["panelen"] = dwellings["zonnepanelen_aantal"].astype("float64").fillna(0.0)
    dwellings["heeft_panelen"] = (dwellings["kwp"] > 0) | (dwellings["panelen"] > 0)
    grouped = (
        dwellings.groupby(keys, dropna=False)
        .agg(
            woningen=("vhe_id", "size"),
            met_panelen=("heeft_panelen", "sum"),
            panelen=("panelen", "sum"),
            kwp=("kwp", "sum"),
        )
        .reset_index()
    )
    grouped["kwh"] = grouped["kwp"] * yield_kwh_per_kwp
    grouped["tj"] = grouped["kwh"] * KWH_TO_TJ
    rows = []
    for indicator, numerator, denominator, unit in (
        ("panelen", "panelen", None, "panelen"),
        ("kwp", "kwp", None, "kWp"),
        ("woningen_met_panelen", "met_panelen", "woningen", "%"),
        ("kwh_per_jaar", "kwh", None, "kWh"),
        ("tj_per_jaar", "tj", None, "TJ"),
    ):
        part = grouped[keys].copy()
        part["indicator"] = indicator
        part["numerator"] = grouped[numerator].astype("float64")
        part["denominator"] = grouped[denominator].astype("float64") if denominator else float("nan")
        part["unit"] = unit
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    out = add_alle_corporaties(out, [*keys, "indicator"])
    out["value"] = recompute_value(out)
    out["jaar"] = pd.to_datetime(out["peildatum"]).dt.year.astype("Int64")
    out["definition_id"] = DEFINITION_ID
    out["definition_version"] = DEFINITION_VERSION
    out["partial_period"] = False
    return out


@dg.asset(**kpi_asset_args(TABLE, f"{DEFINITION_ID} v{DEFINITION_VERSION}", "DESIGN.md §3.6, §5 zon", ins={"stg_bezit": ZON_STOCK}))
def kpi_zon(context: dg.AssetExecutionContext, kpi_settings: KpiSettings, stg_bezit: pd.DataFrame) -> dg.Output:
    frame = compute_zon(stg_bezit, yield_kwh_per_kwp=kpi_settings.zon_opbrengst_kwh_per_kwp)
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (stg_bezit, "gemeente_code")),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    stock_cols = [("stg_bezit", c) for c in ("zonnepanelen_aantal", "zonnepanelen_wp", "zonnepanelen_kwp")]
    lineage = column_lineage(
        TABLE,
        {
            "numerator": [*stock_cols, ("stg_bezit", "vhe_id")],
            "denominator": [("stg_bezit", "vhe_id"), ("stg_bezit", "in_exploitatie")],
            "value": stock_cols,
            "gemeente_code": [("stg_bezit", "gemeente_code")],
            "corporatie": [("stg_bezit", "corporatie")],
            "peildatum": [("stg_bezit", "peildatum")],
        },
    )
    return dg.Output(
        frame,
        metadata=table_metadata(
            frame,
            TABLE,
            **{
                "dagster/column_lineage": lineage,
                "opbrengstfactor_kwh_per_kwp": kpi_settings.zon_opbrengst_kwh_per_kwp,
                "tj_per_jaar_alle": dg.MetadataValue.md(
                    summary_markdown(
                        frame[(frame["indicator"] == "tj_per_jaar") & (frame["corporatie"] == ALLE)][
                            ["gemeente_naam", "jaar", "value"]
                        ]
                    )
                ),
            },
        ),
    )
