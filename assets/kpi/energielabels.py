"""KPI energielabels: label distribution and the EFG count of corporation dwellings.

Definition `energielabels` v1 (DESIGN.md §3.1, §5): over dwellings (WOO) in exploitation at the
peildatum. A dwelling's label at peildatum T is the certificate with GeldigTot >= T and the latest
Registratiedatum <= T (ties on one day: the latest opnamedatum, then the last row of the file).
EFG count = dwellings whose label at T is E, F or G, excluding the configured exemptions
(monument by default; VvE and planned demolition/renovation optional). Dwellings without a valid
label are counted separately and never as EFG. Labels whose validity ends within 12 months after the
peildatum are counted (verloopt_binnen_12_maanden). The EFG homes still to do per year is the EFG
count divided by the years left until the gemeente's target date (setting efg_streefdatum_*).
Every indicator is given per gemeente (wijk_code 'alle') and per wijk. The average energy index is given only over
dwellings whose valid label is a pre-2021 label with an EnergieIndex: never across regimes.
"""


from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from assets import relational
from assets.common import (
    Column,
    KpiTable,
    add_alle_corporaties,
    categories_as_text,
    column_lineage,
    dwellings_in_exploitatie,
    fill_text,
    finish,
    kpi_asset_args,
    recompute_value,
    snapshot_by_gemeente,
    summary_markdown,
    table_metadata,
)
from assets.kpi.inputs import ENERGIELABELS_STOCK
from assets.partitions import gemeente_in, gemeenten_of
from assets.settings import KpiSettings

DEFINITION_ID = "energielabels"
DEFINITION_VERSION = 1
EFG = ("E", "F", "G")
GEEN_LABEL = "geen geldig label"
LABEL_ORDER = ("A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G", GEEN_LABEL)

TABLE = KpiTable(
    name="kpi_energielabels",
    description=(
        "Energielabels van corporatiewoningen per corporatie x gemeente x peildatum. Indicatoren: "
        "label_verdeling (per energieklasse, % van de woningen; 'geen geldig label' apart), efg_aantal "
        "(woningen met label E/F/G op de peildatum, zonder vrijgestelde woningen), efg_vrijgesteld, "
        "zonder_geldig_label, verloopt_binnen_12_maanden, efg_nog_te_doen_per_jaar (EFG-woningen / jaren tot "
        "de streefdatum), gemiddelde_energie_index (alleen pre-2021 labels). Per gemeente (wijk_code 'alle') en per wijk."
    ),
    dimensions=[
        Column("jaar", "integer", "Jaar van de peildatum"),
        Column("peildatum", "date", "Peildatum van de bezitslijst"),
        Column("wijk_code", "text", "CBS-wijkcode, of 'alle' voor de hele gemeente ('onbekend' zonder wijk)"),
        Column("energieklasse", "text", "Energieklasse bij label_verdeling; anders 'alle'"),
    ],
)


def label_at_peildatum(units: pd.DataFrame, certificates: pd.DataFrame) -> pd.DataFrame:
    """Per unit row (corporatie, vhe_id, peildatum, ...) the certificate valid at its peildatum.

    `certificates` carries corporatie and vhe_id (from the BAG/address match), registratiedatum,
    geldig_tot, opnamedatum, energieklasse, energie_index and _source_row. Pure function; the
    choice runs in DuckDB (assets/relational.py), the result keeps the units' rows and order.
    """
    keys = ["corporatie", "vhe_id"]
    # One choice per unit row, answered as (unit, certificate) pairs for the units that have one: no
    # join back to the units and no sort of the ~10 million rows of a national run. Units that repeat
    # a key get the same choice, as the ordering is total (the certificate's position last).
    chosen = relational.positions(
        """
        SELECT u._pos AS unit, c._pos AS cert
        FROM units u
        JOIN certs c ON u.corporatie = c.corporatie AND u.vhe_id = c.vhe_id
        WHERE c.registratiedatum <= u.peildatum AND c.geldig_tot >= u.peildatum
        -- the latest registration; ties: the latest opname, then the last row of the file
        QUALIFY row_number() OVER (
            PARTITION BY u._pos
            ORDER BY c.registratiedatum DESC NULLS LAST, c.opnamedatum DESC NULLS LAST,
                     c._source_row DESC NULLS LAST, c._pos DESC
        ) = 1
        """,
        {
            "units": (units, [*keys, "peildatum"]),
            "certs": (certificates, [*keys, "registratiedatum", "geldig_tot", "opnamedatum", "_source_row"]),
        },
    )
    cert = np.full(len(units), -1, dtype=np.int64)
    cert[chosen["unit"]] = chosen["cert"]
    label = relational.take(
        certificates[["energieklasse", "energie_index", "registratiedatum", "geldig_tot"]], cert
    ).rename(
        columns={
            "energieklasse": "label_op_peildatum",
            "registratiedatum": "label_registratiedatum",
            "geldig_tot": "label_geldig_tot",
        }
    )
    out = pd.concat([units.reset_index(drop=True), label], axis=1)
    out["label_op_peildatum"] = out["label_op_peildatum"].fillna(GEEN_LABEL)
    return out


INDICATOR_COUNTS = ["efg_aantal", "efg_vrijgesteld", "zonder_geldig_label", "verloopt_binnen_12_maanden"]


@dataclass(frozen=True)
class _Tallies:
    """Per group of `keys`: dwellings, dwellings per label, the indicator counts, and the sum and
    number of energy indices. All are sums, so a coarser level is the sum of a finer one's."""

    totals: pd.Series
    per_class: pd.Series
    counts: pd.DataFrame
    index_sum_size: pd.DataFrame

    @property
    def keys(self) -> list[str]:
        return [str(name) for name in self.totals.index.names]

    def coarser(self, keys: list[str]) -> "_Tallies":
        def total(part: pd.Series | pd.DataFrame, extra: list[str]) -> Any:
            return part.groupby(level=[*keys, *extra], dropna=False, observed=True, sort=True).sum()

        return _Tallies(
            total(self.totals, []), total(self.per_class, ["label_op_peildatum"]),
            total(self.counts, []), total(self.index_sum_size, []),
        )


def _tally(labelled: pd.DataFrame, keys: list[str]) -> _Tallies:
    totals = labelled.groupby(keys, dropna=False, observed=True).size()
    per_class = labelled.groupby([*keys, "label_op_peildatum"], dropna=False, observed=True).size()
    flags = labelled[keys].assign(
        efg_aantal=labelled["is_efg"] & ~labelled["vrijgesteld"],
        efg_vrijgesteld=labelled["is_efg"] & labelled["vrijgesteld"],
        zonder_geldig_label=labelled["label_op_peildatum"] == GEEN_LABEL,
        verloopt_binnen_12_maanden=labelled["label_geldig_tot"].notna()
        & (labelled["label_geldig_tot"] <= labelled["peildatum"] + pd.DateOffset(months=12)),
    )
    counts = flags.groupby(keys, dropna=False, observed=True)[INDICATOR_COUNTS].sum()
    with_index = labelled.loc[labelled["energie_index"].notna(), [*keys, "energie_index"]]
    index_sum_size = with_index.groupby(keys, dropna=False, observed=True).agg(
        numerator=("energie_index", "sum"), denominator=("energie_index", "size")
    )
    return _Tallies(totals, per_class, counts, index_sum_size)


def _rows(tallies: _Tallies) -> pd.DataFrame:
    """The indicator rows of one level: the label distribution (%), the counts, the mean index."""
    keys = tallies.keys
    distribution = tallies.per_class.rename("aantal").reset_index().merge(
        tallies.totals.rename("woningen").reset_index(), on=keys
    )
    distribution = distribution.rename(columns={"label_op_peildatum": "energieklasse"})
    distribution["indicator"] = "label_verdeling"
    distribution["numerator"] = distribution["aantal"].astype("float64")
    distribution["denominator"] = distribution["woningen"].astype("float64")
    distribution["unit"] = "%"

    count_rows = tallies.counts.reset_index().melt(id_vars=keys, var_name="indicator", value_name="numerator")
    count_rows["numerator"] = count_rows["numerator"].astype("float64")
    count_rows["denominator"] = float("nan")
    count_rows["unit"] = "woningen"
    count_rows["energieklasse"] = "alle"

    index_rows = tallies.index_sum_size.reset_index()
    index_rows["indicator"] = "gemiddelde_energie_index"
    index_rows["unit"] = "index"
    index_rows["energieklasse"] = "alle"
    index_rows["denominator"] = index_rows["denominator"].astype("float64")
    columns = [*keys, "energieklasse", "indicator", "numerator", "denominator", "unit"]
    return pd.concat([distribution[columns], count_rows[columns], index_rows[columns]], ignore_index=True)


def efg_still_to_do_per_year(out: pd.DataFrame, target_date: Callable[[str], pd.Timestamp]) -> pd.DataFrame:
    """EFG homes left divided by the years until the target date; nothing once the date has passed."""
    efg = out[out["indicator"] == "efg_aantal"].copy()
    # to_datetime: a gemeente without dwellings has no rows, and the map of nothing keeps the codes' text dtype
    targets = pd.to_datetime(efg["gemeente_code"].map(target_date))
    years_left = (targets - pd.to_datetime(efg["peildatum"])).dt.days / 365.25
    efg = efg[years_left > 0]
    efg["value"] = efg["numerator"] / years_left[years_left > 0]
    efg["indicator"] = "efg_nog_te_doen_per_jaar"
    efg["unit"] = "woningen per jaar"
    return efg


def compute_energielabels(
    stock: pd.DataFrame,
    certificates: pd.DataFrame,
    *,
    exemptions: Sequence[str],
    target_date: Callable[[str], pd.Timestamp] | None = None,
) -> pd.DataFrame:
    keys = ["gemeente_code", "gemeente_naam", "corporatie", "peildatum"]
    # Only the columns the aggregation reads: every later filter or assign copies each column.
    dwellings = dwellings_in_exploitatie(stock, [*keys, "vhe_id", "wijk_code", *exemptions])
    labelled = label_at_peildatum(dwellings, certificates)
    exempt = pd.Series(False, index=labelled.index)
    for column in exemptions:
        exempt |= labelled[column].fillna(False).astype("bool")
    labelled["vrijgesteld"] = exempt
    labelled["is_efg"] = labelled["label_op_peildatum"].isin(EFG)
    labelled["wijk_code"] = fill_text(labelled["wijk_code"], "onbekend")
    # The text keys as categories (the stock's usually are already): each groupby below then groups
    # integer codes instead of factorising ~10 million strings again (ten groupbys over the same keys).
    text_keys = ["gemeente_code", "gemeente_naam", "corporatie", "wijk_code", "label_op_peildatum"]
    labelled = labelled.astype({column: "category" for column in text_keys})
    # The wijk level from the dwellings, the gemeente level from the wijk level's sums: a second pass
    # over ~10 million dwellings cost a national run ~9 s, and every tally is a sum.
    per_wijk = _tally(labelled, [*keys, "wijk_code"])
    gemeente = categories_as_text(_rows(per_wijk.coarser(keys))).assign(wijk_code="alle")
    wijk = categories_as_text(_rows(per_wijk))
    out = pd.concat([gemeente, wijk[gemeente.columns]], ignore_index=True)
    out = add_alle_corporaties(out, [*keys, "wijk_code", "energieklasse", "indicator"])
    out["value"] = recompute_value(out)
    if target_date is not None:
        out = pd.concat([out, efg_still_to_do_per_year(out, target_date)], ignore_index=True)
    out["jaar"] = pd.to_datetime(out["peildatum"]).dt.year.astype("Int64")
    out["definition_id"] = DEFINITION_ID
    out["definition_version"] = DEFINITION_VERSION
    out["partial_period"] = False
    return out


@dg.asset(**kpi_asset_args(TABLE, f"{DEFINITION_ID} v{DEFINITION_VERSION}", "DESIGN.md §3.1, §5 energielabels", ins={"stg_bezit": ENERGIELABELS_STOCK, "stg_energielabels": gemeente_in("stg_energielabels", None)}))
def kpi_energielabels(
    context: dg.AssetExecutionContext,
    kpi_settings: KpiSettings,
    stg_bezit: pd.DataFrame,
    stg_energielabels: pd.DataFrame,
) -> dg.Output:
    exemptions = kpi_settings.validated_efg_vrijstellingen()
    frame = compute_energielabels(
        stg_bezit, stg_energielabels, exemptions=exemptions, target_date=kpi_settings.efg_streefdatum
    )
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (stg_bezit, "gemeente_code"), (stg_energielabels, None)),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    lineage = column_lineage(
        TABLE,
        {
            "energieklasse": [("stg_energielabels", "energieklasse")],
            "numerator": [
                ("stg_energielabels", "energieklasse"),
                ("stg_energielabels", "registratiedatum"),
                ("stg_energielabels", "geldig_tot"),
                ("stg_energielabels", "energie_index"),
                *[("stg_bezit", c) for c in exemptions],
            ],
            "denominator": [("stg_bezit", "vhe_id"), ("stg_bezit", "in_exploitatie")],
            "gemeente_code": [("stg_bezit", "gemeente_code")],
            "wijk_code": [("stg_bezit", "wijk_code")],
            "corporatie": [("stg_bezit", "corporatie")],
            "peildatum": [("stg_bezit", "peildatum")],
        },
    )
    efg = frame[(frame["indicator"] == "efg_aantal") & (frame["corporatie"] == "alle") & (frame["wijk_code"] == "alle")]
    return dg.Output(
        frame,
        metadata=table_metadata(
            frame,
            TABLE,
            **{
                "dagster/column_lineage": lineage,
                "efg_vrijstellingen": ", ".join(exemptions),
                "efg_streefdatum": dg.MetadataValue.json(
                    {"standaard": kpi_settings.efg_streefdatum_standaard, **kpi_settings.efg_streefdatum_per_gemeente}
                ),
                "efg_aantal_alle": dg.MetadataValue.md(
                    summary_markdown(efg[["gemeente_naam", "peildatum", "value"]])
                ),
            },
        ),
    )
