"""KPI nieuwbouwprogramma: the municipal new-build plan lists by segment, against the 40/40/20 rule.

Definition `nieuwbouwprogramma` v1 (DESIGN.md §5). Input: every plan list (raw_planlijst), one per
gemeente x peildatum; every list gives its own rows (trend), `laatste_planlijst` marks the newest
list of each gemeente (the current state). corporatie is always 'alle'. A plan list holds every
project in it, whatever its phase (delivered projects too, as long as the list keeps them).

Segments: sociaal = sociale_huur; midden = middenhuur + middeldure_koop; overig = vrije_sector_huur +
vrije_sector_koop; alle = all five.

- `woningen` (woningen) per segment (the three groups, the five delivered segments and alle) and
  `projecten` (count), for the whole gemeente (wijk_code 'alle') and per wijk (a project without a
  wijk: 'onbekend').
- `aandeel_woningen` (%): homes of segment sociaal / midden / overig of all homes, for the gemeente
  and per wijk (Haarlem's 30 % social floor, Harderwijk's 30 % social), and per project of 30 or more
  homes (project_id set, wijk_code the project's wijk).
- `projecten_30plus_voldoet_40_40_20` (%): projects of 30+ homes with sociaal >= 40 % and overig
  <= 20 % of their homes, of all projects of 30+ homes. Middle may be below 40 % when social makes
  up for it (a cheaper segment may replace a dearer one, never the reverse).
  `projecten_30plus_voldoet_30_sociaal` (%): projects of 30+ homes with sociaal >= 30 %. Both are
  compared exactly on whole homes (sociaal x 100 >= 40 x totaal), no rounding.
- `aandeel_middenhuur_in_midden` (%): middenhuur / (middenhuur + middeldure_koop) (norm: >= 50 %).
- `aandeel_sociaal_onder_aftoppingsgrens` (%): sum of aantal_sociaal_onder_aftoppingsgrens / sum of
  sociale_huur over the projects that give the count (norm: >= 70 %); `sociaal_zonder_aftoppingsgegeven`
  (woningen): the social homes of projects that do not give it (not in the share, never guessed from
  a mean rent).
- `huur_sociaal_gemiddeld` (EUR/maand): mean social rent weighted by social homes, over projects that
  give huur_sociaal_gemiddeld.
- Planned versus delivered per opleverjaar (segments alle, sociaal, midden, overig):
  `woningen_gepland`: homes whose opleverjaar_verwacht is that year according to this list;
  `woningen_opgeleverd`: homes delivered (fase opgeleverd) in that year, over every project known up
  to this list (each project's newest row at or before the peildatum, so projects a later list drops
  after delivery still count); `opgeleverd_vs_gepland` (%): woningen_opgeleverd of that year / the
  homes planned for that year by the list of the start of the year (the newest list with peildatum on
  or before 1 January of the year), for years up to the peildatum's year that have such a list. Rows
  for the peildatum's own year are partial_period.

Ratios with a denominator below the suppression threshold are suppressed (assets.common.finish).
"""


import dagster as dg
import pandas as pd

from assets.common import (
    ALLE,
    Column,
    KpiTable,
    column_lineage,
    finish,
    kpi_asset_args,
    recompute_value,
    snapshot_by_gemeente,
    summary_markdown,
    table_metadata,
)
from assets.partitions import gemeente_in, gemeenten_of
from assets.settings import KpiSettings
from sources.planlijst import SEGMENTEN
from sources.reference import load_gemeenten

DEFINITION_ID = "nieuwbouwprogramma"
DEFINITION_VERSION = 1
GROOT_PROJECT = 30  # homes; the 40/40/20 rule applies per project of this size or more
ONBEKEND = "onbekend"
OPGELEVERD = "opgeleverd"
GROUPS: dict[str, tuple[str, ...]] = {
    "sociaal": ("sociale_huur",),
    "midden": ("middenhuur", "middeldure_koop"),
    "overig": ("vrije_sector_huur", "vrije_sector_koop"),
    ALLE: SEGMENTEN,
}
SHARE_GROUPS = ("sociaal", "midden", "overig")
COUNT_SEGMENTS = ("sociaal", "midden", "middenhuur", "middeldure_koop", "overig", "vrije_sector_huur",
                  "vrije_sector_koop", ALLE)
PLAN_SEGMENTS = (ALLE, "sociaal", "midden", "overig")
LIST_KEYS = ["gemeente_code", "gemeente_naam", "peildatum"]

TABLE = KpiTable(
    name="kpi_nieuwbouwprogramma",
    description=(
        "Nieuwbouwprogramma uit de gemeentelijke planlijsten, per gemeente x peildatum van de planlijst "
        "(laatste_planlijst = de actuele stand; alle lijsten voor de trend); corporatie 'alle'. Segmenten: "
        "sociaal (sociale huur), midden (middenhuur + middeldure koop), overig (vrije sector huur + koop), "
        "alle. Indicatoren: woningen en projecten (gemeente en per wijk); aandeel_woningen (% per segment; "
        "gemeente, per wijk en per project van 30+ woningen); projecten_30plus_voldoet_40_40_20 (% van de "
        "projecten van 30+ woningen met >= 40 % sociaal en <= 20 % overig); "
        "projecten_30plus_voldoet_30_sociaal (% met >= 30 % sociaal); aandeel_middenhuur_in_midden (%); "
        "aandeel_sociaal_onder_aftoppingsgrens (% van de sociale huurwoningen van projecten die het aantal "
        "opgeven) en sociaal_zonder_aftoppingsgegeven (woningen); huur_sociaal_gemiddeld (EUR/maand); "
        "per opleverjaar woningen_gepland (volgens deze lijst), woningen_opgeleverd (alle projecten bekend "
        "tot deze peildatum) en opgeleverd_vs_gepland (% van wat de lijst van begin dat jaar plande). "
        "Normvergelijking (40/40/20, 30 % sociaal, 70 % onder aftoppingsgrens, >= 50 % middenhuur) in de monitor."
    ),
    dimensions=[
        Column("jaar", "integer", "Jaar van de peildatum van de planlijst"),
        Column("peildatum", "date", "Peildatum van de planlijst (uit de bestandsnaam)"),
        Column("laatste_planlijst", "boolean", "True voor de nieuwste planlijst van de gemeente (de actuele stand)"),
        Column("wijk_code", "text", "Wijk (WK######); 'alle' = de hele gemeente; 'onbekend' = projecten zonder wijk"),
        Column("project_id", "text", "Project uit de planlijst bij de rijen per project van 30+ woningen (woningen, aandeel_woningen); anders 'alle'"),
        Column("segment", "text", "sociaal, midden, overig, alle, of een segment uit de planlijst (middenhuur, middeldure_koop, vrije_sector_huur, vrije_sector_koop)"),
        Column("opleverjaar", "integer", "Jaar van oplevering bij woningen_gepland, woningen_opgeleverd en opgeleverd_vs_gepland; anders leeg"),
    ],
)


def stage_planlijst(raw: pd.DataFrame, gemeenten: pd.DataFrame) -> pd.DataFrame:
    """raw_planlijst plus gemeente_naam, a wijk for every project and the segment groups; pure."""
    names = dict(zip(gemeenten["gemeente_code"], gemeenten["gemeente_naam"], strict=True))
    unknown = sorted(set(raw["gemeente_code"].dropna()) - set(names))
    if unknown:
        raise ValueError(f"planlijst: gemeente(n) {unknown} staan niet in reference/gemeenten.csv")
    twice = raw.drop_duplicates(["gemeente_code", "peildatum", "_source_file"]).duplicated(
        ["gemeente_code", "peildatum"], keep=False
    )
    if twice.any():
        raise ValueError("planlijst: meer dan één planlijst voor dezelfde gemeente en peildatum")
    plans = raw.copy()
    plans["peildatum"] = pd.to_datetime(plans["peildatum"])
    plans["gemeente_naam"] = plans["gemeente_code"].map(names).astype("str")
    plans["wijk_code"] = plans["wijk_code"].fillna(ONBEKEND).astype("str")
    for segment in SEGMENTEN:
        plans[segment] = plans[segment].astype("float64")
    for group, members in GROUPS.items():
        plans[group] = plans[list(members)].sum(axis=1).astype("float64")
    return plans


def _rows(frame: pd.DataFrame, keys: list[str], indicator: str, numerator: pd.Series,
          denominator: pd.Series | None, unit: str, **dims: object) -> pd.DataFrame:
    part = frame[keys].copy()
    part["indicator"] = indicator
    part["numerator"] = numerator.astype("float64").to_numpy()
    part["denominator"] = denominator.astype("float64").to_numpy() if denominator is not None else float("nan")
    part["unit"] = unit
    for column, value in dims.items():
        part[column] = value
    return part


def programme_rows(plans: pd.DataFrame, by_wijk: bool) -> pd.DataFrame:
    """woningen per segment, projecten and aandeel_woningen per list (and per wijk when by_wijk)."""
    keys = [*LIST_KEYS, "wijk_code"] if by_wijk else LIST_KEYS
    sums = plans.groupby(keys, dropna=False)[list(COUNT_SEGMENTS)].sum().reset_index()
    sums["projecten"] = plans.groupby(keys, dropna=False).size().to_numpy()
    if not by_wijk:
        sums["wijk_code"] = ALLE
    parts = [_rows(sums, [*LIST_KEYS, "wijk_code"], "woningen", sums[s], None, "woningen", segment=s)
             for s in COUNT_SEGMENTS]
    parts.append(_rows(sums, [*LIST_KEYS, "wijk_code"], "projecten", sums["projecten"], None, "projecten", segment=ALLE))
    parts += [_rows(sums, [*LIST_KEYS, "wijk_code"], "aandeel_woningen", sums[s], sums[ALLE], "%", segment=s)
              for s in SHARE_GROUPS]
    return pd.concat(parts, ignore_index=True).assign(project_id=ALLE)


def large_projects(plans: pd.DataFrame) -> pd.DataFrame:
    """Projects of 30+ homes with whether they meet 40/40/20 and 30 % social (exact, on whole homes)."""
    large = plans[plans[ALLE] >= GROOT_PROJECT].copy()
    large["voldoet_40_40_20"] = (large["sociaal"] * 100 >= 40 * large[ALLE]) & (large["overig"] * 100 <= 20 * large[ALLE])
    large["voldoet_30_sociaal"] = large["sociaal"] * 100 >= 30 * large[ALLE]
    return large


def project_rows(plans: pd.DataFrame) -> pd.DataFrame:
    """Per list: aandeel_woningen per project of 30+ homes, and the share of those meeting each rule."""
    large = large_projects(plans)
    keys = [*LIST_KEYS, "wijk_code", "project_id"]
    parts = [_rows(large, keys, "woningen", large[ALLE], None, "woningen", segment=ALLE)]
    parts += [_rows(large, keys, "aandeel_woningen", large[s], large[ALLE], "%", segment=s) for s in SHARE_GROUPS]
    lists = plans[LIST_KEYS].drop_duplicates()
    counts = large.groupby(LIST_KEYS).agg(
        projecten=("project_id", "size"), r404020=("voldoet_40_40_20", "sum"), r30=("voldoet_30_sociaal", "sum")
    ).reset_index()
    # A list without any project of 30+ homes gets 0 of 0 (value empty), never no row.
    counts = lists.merge(counts, on=LIST_KEYS, how="left").fillna({"projecten": 0, "r404020": 0, "r30": 0})
    for indicator, column in (("projecten_30plus_voldoet_40_40_20", "r404020"),
                              ("projecten_30plus_voldoet_30_sociaal", "r30")):
        parts.append(_rows(counts, LIST_KEYS, indicator, counts[column], counts["projecten"], "%",
                           wijk_code=ALLE, project_id=ALLE, segment=ALLE))
    return pd.concat(parts, ignore_index=True)


def affordability_rows(plans: pd.DataFrame) -> pd.DataFrame:
    """Middle rent within middle, social homes below the aftoppingsgrens, mean social rent; per list."""
    frame = plans.copy()
    has_count = frame["aantal_sociaal_onder_aftoppingsgrens"].notna()
    frame["onder"] = frame["aantal_sociaal_onder_aftoppingsgrens"].astype("float64").fillna(0.0)
    frame["sociaal_met_gegeven"] = frame["sociaal"].where(has_count, 0.0)
    frame["sociaal_zonder_gegeven"] = frame["sociaal"].where(~has_count, 0.0)
    has_rent = frame["huur_sociaal_gemiddeld"].notna() & (frame["sociaal"] > 0)
    frame["huursom"] = (frame["huur_sociaal_gemiddeld"].astype("float64") * frame["sociaal"]).where(has_rent, 0.0)
    frame["sociaal_met_huur"] = frame["sociaal"].where(has_rent, 0.0)
    sums = frame.groupby(LIST_KEYS).agg(
        middenhuur=("middenhuur", "sum"), midden=("midden", "sum"), onder=("onder", "sum"),
        met=("sociaal_met_gegeven", "sum"), zonder=("sociaal_zonder_gegeven", "sum"),
        huursom=("huursom", "sum"), met_huur=("sociaal_met_huur", "sum"),
    ).reset_index()
    dims = {"wijk_code": ALLE, "project_id": ALLE}
    return pd.concat(
        [
            _rows(sums, LIST_KEYS, "aandeel_middenhuur_in_midden", sums["middenhuur"], sums["midden"], "%",
                  segment="midden", **dims),
            _rows(sums, LIST_KEYS, "aandeel_sociaal_onder_aftoppingsgrens", sums["onder"], sums["met"], "%",
                  segment="sociaal", **dims),
            _rows(sums, LIST_KEYS, "sociaal_zonder_aftoppingsgegeven", sums["zonder"], None, "woningen",
                  segment="sociaal", **dims),
            _rows(sums, LIST_KEYS, "huur_sociaal_gemiddeld", sums["huursom"], sums["met_huur"], "EUR/maand",
                  segment="sociaal", **dims),
        ],
        ignore_index=True,
    )


def known_up_to(plans: pd.DataFrame) -> pd.DataFrame:
    """For every list P: each project's newest row at or before P (projects dropped later still count).

    Returns the rows with `lijst_peildatum` = P.
    """
    lists = plans[["gemeente_code", "peildatum"]].drop_duplicates().rename(columns={"peildatum": "lijst_peildatum"})
    pairs = plans.merge(lists, on="gemeente_code")
    pairs = pairs[pairs["peildatum"] <= pairs["lijst_peildatum"]]
    pairs = pairs.sort_values("peildatum", kind="stable")
    return pairs.drop_duplicates(["gemeente_code", "lijst_peildatum", "project_id"], keep="last")


def _per_year(frame: pd.DataFrame, keys: list[str], year: str) -> pd.DataFrame:
    """Homes per segment in PLAN_SEGMENTS summed per keys x year (long: segment, woningen)."""
    sums = frame.dropna(subset=[year]).groupby([*keys, year])[list(PLAN_SEGMENTS)].sum().reset_index()
    sums = sums.rename(columns={year: "opleverjaar"})
    long = sums.melt(id_vars=[*keys, "opleverjaar"], value_vars=list(PLAN_SEGMENTS), var_name="segment",
                     value_name="woningen")
    long["opleverjaar"] = long["opleverjaar"].astype("int64")
    return long


def delivery_rows(plans: pd.DataFrame) -> pd.DataFrame:
    """woningen_gepland, woningen_opgeleverd and opgeleverd_vs_gepland per list x opleverjaar x segment."""
    planned = _per_year(plans, LIST_KEYS, "opleverjaar_verwacht")
    known = known_up_to(plans)
    delivered_rows = known[known["fase"] == OPGELEVERD]
    delivered = _per_year(delivered_rows.drop(columns="peildatum").rename(columns={"lijst_peildatum": "peildatum"}),
                          LIST_KEYS, "opleverjaar_gerealiseerd")
    dims = {"wijk_code": ALLE, "project_id": ALLE}
    keys = [*LIST_KEYS, "opleverjaar", "segment"]
    parts = [
        _rows(planned, keys, "woningen_gepland", planned["woningen"], None, "woningen", **dims),
        _rows(delivered, keys, "woningen_opgeleverd", delivered["woningen"], None, "woningen", **dims),
    ]
    # Realisation against the planning at the start of each year: the newest list on or before 1 January.
    lists = plans[LIST_KEYS].drop_duplicates()
    years = pd.concat([planned, delivered])[["gemeente_code", "opleverjaar", "segment"]].drop_duplicates()
    grid = lists.merge(years, on="gemeente_code")
    grid = grid[grid["opleverjaar"] <= grid["peildatum"].dt.year]
    grid["begin_jaar"] = pd.to_datetime(grid["opleverjaar"].astype("str") + "-01-01")
    starts = lists[["gemeente_code", "peildatum"]].rename(columns={"peildatum": "planlijst_begin"})
    grid = grid.merge(starts, on="gemeente_code")
    grid = grid[grid["planlijst_begin"] <= grid["begin_jaar"]]
    grid = grid.sort_values("planlijst_begin", kind="stable").drop_duplicates(
        ["gemeente_code", "peildatum", "opleverjaar", "segment"], keep="last"
    )
    base = planned.rename(columns={"peildatum": "planlijst_begin", "woningen": "gepland"})[
        ["gemeente_code", "planlijst_begin", "opleverjaar", "segment", "gepland"]
    ]
    grid = grid.merge(base, on=["gemeente_code", "planlijst_begin", "opleverjaar", "segment"], how="left")
    grid = grid.merge(delivered[["gemeente_code", "peildatum", "opleverjaar", "segment", "woningen"]],
                      on=["gemeente_code", "peildatum", "opleverjaar", "segment"], how="left")
    grid = grid.fillna({"gepland": 0.0, "woningen": 0.0})
    parts.append(_rows(grid, keys, "opgeleverd_vs_gepland", grid["woningen"], grid["gepland"], "%", **dims))
    out = pd.concat(parts, ignore_index=True)
    out["partial_period"] = out["opleverjaar"] == out["peildatum"].dt.year
    return out


def compute_nieuwbouwprogramma(raw: pd.DataFrame, gemeenten: pd.DataFrame) -> pd.DataFrame:
    """Tidy KPI rows from raw_planlijst (all lists); pure function."""
    plans = stage_planlijst(raw, gemeenten)
    columns = [*LIST_KEYS, "wijk_code", "project_id", "segment", "opleverjaar", "indicator", "numerator",
               "denominator", "unit", "partial_period"]
    if plans.empty:
        out = pd.DataFrame(columns=columns)
    else:
        parts = [programme_rows(plans, by_wijk=False), programme_rows(plans, by_wijk=True), project_rows(plans),
                 affordability_rows(plans), delivery_rows(plans)]
        for part in parts:
            if "opleverjaar" not in part.columns:
                part["opleverjaar"] = pd.NA
            if "partial_period" not in part.columns:
                part["partial_period"] = False
        out = pd.concat([p[columns] for p in parts], ignore_index=True)
    out["peildatum"] = pd.to_datetime(out["peildatum"]).astype("datetime64[ns]")
    # Every list gives programme rows, so the newest peildatum in the rows is the newest list.
    latest = out.groupby("gemeente_code")["peildatum"].transform("max")
    out["laatste_planlijst"] = (out["peildatum"] == latest).astype("bool")
    out["jaar"] = out["peildatum"].dt.year.astype("Int64")
    out["opleverjaar"] = pd.to_numeric(out["opleverjaar"]).astype("Int64")
    out["numerator"] = out["numerator"].astype("float64")
    out["denominator"] = out["denominator"].astype("float64")
    out["partial_period"] = out["partial_period"].astype("bool")
    for column in ("gemeente_code", "gemeente_naam", "wijk_code", "project_id", "segment", "indicator", "unit"):
        out[column] = out[column].astype("str")
    out["corporatie"] = ALLE
    out["value"] = recompute_value(out)
    out["definition_id"] = DEFINITION_ID
    out["definition_version"] = DEFINITION_VERSION
    return out


@dg.asset(**kpi_asset_args(TABLE, f"{DEFINITION_ID} v{DEFINITION_VERSION}", "DESIGN.md §5 nieuwbouwprogramma", ins={"raw_planlijst": gemeente_in("raw_planlijst")}))
def kpi_nieuwbouwprogramma(
    context: dg.AssetExecutionContext, kpi_settings: KpiSettings, raw_planlijst: pd.DataFrame
) -> dg.Output:
    frame = compute_nieuwbouwprogramma(raw_planlijst, load_gemeenten())
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (raw_planlijst, "gemeente_code")),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    p = "raw_planlijst"
    segments = [(p, s) for s in SEGMENTEN]
    lineage = column_lineage(
        TABLE,
        {
            "gemeente_code": [(p, "gemeente_code")],
            "gemeente_naam": [(p, "gemeente_code")],
            "jaar": [(p, "peildatum")],
            "peildatum": [(p, "peildatum")],
            "laatste_planlijst": [(p, "peildatum")],
            "wijk_code": [(p, "wijk_code")],
            "project_id": [(p, "project_id")],
            "opleverjaar": [(p, "opleverjaar_verwacht"), (p, "opleverjaar_gerealiseerd")],
            "numerator": [
                *segments, (p, "project_id"), (p, "aantal_sociaal_onder_aftoppingsgrens"),
                (p, "huur_sociaal_gemiddeld"), (p, "fase"), (p, "opleverjaar_verwacht"),
                (p, "opleverjaar_gerealiseerd"),
            ],
            "denominator": [*segments, (p, "project_id"), (p, "aantal_sociaal_onder_aftoppingsgrens"),
                            (p, "huur_sociaal_gemiddeld"), (p, "opleverjaar_verwacht")],
            "value": [*segments, (p, "aantal_sociaal_onder_aftoppingsgrens"), (p, "huur_sociaal_gemiddeld")],
            "partial_period": [(p, "peildatum"), (p, "opleverjaar_gerealiseerd")],
        },
    )
    current = frame[
        frame["laatste_planlijst"] & (frame["wijk_code"] == ALLE) & (frame["project_id"] == ALLE)
        & frame["indicator"].isin(["aandeel_woningen", "projecten_30plus_voldoet_40_40_20",
                                   "aandeel_sociaal_onder_aftoppingsgrens", "aandeel_middenhuur_in_midden"])
    ]
    return dg.Output(
        frame,
        metadata=table_metadata(
            frame,
            TABLE,
            **{
                "dagster/column_lineage": lineage,
                "grens_groot_project": GROOT_PROJECT,
                "actuele_stand": dg.MetadataValue.md(
                    summary_markdown(current[["gemeente_naam", "peildatum", "indicator", "segment", "value", "suppressed"]])
                ),
            },
        ),
    )
