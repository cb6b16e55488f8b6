"""KPI toewijzingen: lettings by publication model and priority, the shares the agreements bind to,
and inschrijfduur, zoekduur and responses at letting.

Definition `toewijzingen` v1 (DESIGN.md §3.3, §3.5, §5), per gemeente of the dwelling x corporation
(and 'alle', computed from the pooled lettings, so one corporation in a gemeente gives 'alle' equal to
it) x year, and the same per quarter (kwartaal 'Q1'..'Q4'; 'alle' on year rows):
- `aantal`: lettings, in total, by publicatiemodel (voorrang 'alle') and by voorrang
  (publicatiemodel 'alle'; no voorrang = 'geen').
- Shares in % of all lettings: `aandeel_regulier` (no voorrang), `aandeel_loting` (publicatiemodel
  LOT), `aandeel_directe_bemiddeling` (DIR), `aandeel_statushouders` (voorrang_detail STA),
  `aandeel_urgenten` (voorrang URG).
- `aandeel_passend`: PAS / (PAS + NIE); NVT (passend toewijzen does not apply) and empty are left
  out of numerator and denominator.
- `aandeel_doorstromers`: doorstromer = ja / lettings where doorstromer is known.
- Income (household income, €/year, against the limits of the letting's year in
  reference/inkomensgrenzen.csv; one person = huishoudgrootte 1, more persons = 2 or more):
  `aandeel_daeb_inkomen` income <= the DAEB limit; `aandeel_boven_daeb_grens` income above it (the
  design's "middle incomes": it gives no upper bound, so none is applied); `aandeel_primaire_doelgroep`
  income <= the huurtoeslag (primary target group) limit for household size and AOW age, where AOW age
  is leeftijd_hoofdaanvrager >= 67. Denominator: lettings with a known income that can be classified.
  Lettings without income are excluded and counted in `zonder_inkomen`. When household size or age is
  unknown, a letting still counts when the income is on the same side of every candidate limit;
  otherwise it is left out of that share's denominator.
  A year lacking any limit an income indicator needs gets no rows for that indicator (never a
  neighbouring year's limit); the missing (threshold, year) pairs are in the asset metadata and the
  WARN check `referentiegrenzen_compleet` fails naming them.
- `inschrijfduur_*` in years (days between inschrijfdatum and toewijzingsdatum / 365.25; a
  registration after the letting is a data error and left out): `_gemiddeld` numerator = sum,
  denominator = count; `_mediaan` and `_p90` (pandas quantile, linear interpolation) value = the
  statistic, denominator = count, numerator empty. `zoekduur_gemiddeld` / `zoekduur_mediaan` in months
  likewise. `reacties_gemiddeld`: mean aantal_reacties over lettings with an advert (publicatiemodel
  not DIR) and a known count.
- partial_period: True when the last letting date in the data for that gemeente (all corporations)
  lies before the last day of the year or quarter. A gemeente whose export really ends on, say,
  29 December is therefore flagged partial for that year: the export period is not carried into
  staging, so the letting dates are the only evidence of completeness.
"""


from collections.abc import Iterable, Sequence

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
from sources.reference import MissingReferenceError, ReferenceTable, load_inkomensgrenzen

DEFINITION_ID = "toewijzingen"
DEFINITION_VERSION = 1
AOW_LEEFTIJD = 67
DAGEN_PER_JAAR = 365.25
GEEN_VOORRANG = "geen"
DAEB_GRENZEN = ("daeb_eenpersoons", "daeb_meerpersoons")
PRIMAIR_GRENZEN = (
    "primair_eenpersoons_onder_aow",
    "primair_meerpersoons_onder_aow",
    "primair_eenpersoons_vanaf_aow",
    "primair_meerpersoons_vanaf_aow",
)
#: The income limits each income indicator needs; a year missing one of them gets no rows for it.
INKOMENSGRENZEN_PER_INDICATOR: dict[str, tuple[str, ...]] = {
    "aandeel_daeb_inkomen": DAEB_GRENZEN,
    "aandeel_boven_daeb_grens": DAEB_GRENZEN,
    "aandeel_primaire_doelgroep": PRIMAIR_GRENZEN,
}

TABLE = KpiTable(
    name="kpi_toewijzingen",
    description=(
        "Toewijzingen (verhuringen) per gemeente van de woning x corporatie x jaar, en per kwartaal. "
        "Indicatoren: aantal (totaal, per publicatiemodel en per voorrang; geen voorrang = 'geen'); "
        "aandelen in % van de toewijzingen: aandeel_regulier (zonder voorrang), aandeel_loting (LOT), "
        "aandeel_directe_bemiddeling (DIR), aandeel_statushouders (voorrang_detail STA), "
        "aandeel_urgenten (URG), aandeel_passend (PAS / (PAS + NIE), NVT telt niet mee), "
        "aandeel_doorstromers (van de toewijzingen waarvan dit bekend is); inkomen naar de grenzen "
        "van het jaar van toewijzing: aandeel_daeb_inkomen (<= DAEB-inkomensgrens voor de "
        "huishoudgrootte), aandeel_boven_daeb_grens (middeninkomens en hoger: geen bovengrens), "
        "aandeel_primaire_doelgroep (<= huurtoeslaggrens voor huishoudgrootte en AOW-leeftijd, "
        "AOW = hoofdaanvrager 67 jaar of ouder), noemer = toewijzingen met bekend inkomen, "
        "zonder_inkomen (aantal); ontbreekt een grens voor een jaar, dan ontbreken die rijen (zie "
        "check referentiegrenzen_compleet); inschrijfduur_gemiddeld/_mediaan/_p90 (jaar), "
        "zoekduur_gemiddeld/_mediaan (maanden), reacties_gemiddeld (per advertentie, zonder DIR). "
        "Bij een gemiddelde is numerator de som en denominator het aantal; bij mediaan en p90 is "
        "value de uitkomst, denominator het aantal en numerator leeg. partial_period: de laatste "
        "toewijzingsdatum in de gemeente ligt voor het einde van de periode."
    ),
    dimensions=[
        Column("jaar", "integer", "Jaar van toewijzing"),
        Column("kwartaal", "text", "Kwartaal van toewijzing (Q1..Q4), of 'alle' voor het hele jaar"),
        Column("publicatiemodel", "text", "Publicatiemodel (VERA) bij aantal per publicatiemodel; anders 'alle'"),
        Column("voorrang", "text", "Voorrang (VERA; 'geen' = zonder voorrang) bij aantal per voorrang; anders 'alle'"),
    ],
)

KEYS = ["gemeente_code", "gemeente_naam", "corporatie", "jaar", "kwartaal"]


def _value_or_nan(grenzen: ReferenceTable, threshold: str, year: int) -> float:
    try:
        return grenzen.value(threshold, year)
    except MissingReferenceError:
        return float("nan")


def missing_limits(years: Iterable[int], grenzen: ReferenceTable, thresholds: Sequence[str]) -> list[tuple[str, int]]:
    """(threshold, year) pairs the reference table lacks, for the years that have data."""
    missing = []
    for year in sorted({int(y) for y in years}):
        for threshold in thresholds:
            try:
                grenzen.value(threshold, year)
            except MissingReferenceError:
                missing.append((threshold, year))
    return missing


def missing_income_limits(years: Iterable[int], inkomensgrenzen: ReferenceTable) -> list[tuple[str, int]]:
    needed = list(dict.fromkeys(t for ts in INKOMENSGRENZEN_PER_INDICATOR.values() for t in ts))
    return missing_limits(years, inkomensgrenzen, needed)


def income_at_or_below(lettings: pd.DataFrame, grenzen: ReferenceTable, prefix: str, *, by_aow: bool) -> pd.Series:
    """Per letting: True when the household income is <= the limit `<prefix>_<een|meer>persoons[_<onder|vanaf>_aow]`
    of the letting's year, False when above, NA when income is missing, the year has no limit, or
    unknown household size / age leaves the income between the candidate limits. Pure function."""
    income = lettings["huishoudinkomen"].astype("float64")
    size = lettings["huishoudgrootte"].astype("float64")
    age = lettings["leeftijd_hoofdaanvrager"].astype("float64")
    years = lettings["toewijzingsdatum"].dt.year
    size_options = {"eenpersoons": size.isna() | (size == 1), "meerpersoons": size.isna() | (size >= 2)}
    everyone = pd.Series(True, index=lettings.index)
    aow_options = (
        {"_onder_aow": age.isna() | (age < AOW_LEEFTIJD), "_vanaf_aow": age.isna() | (age >= AOW_LEEFTIJD)}
        if by_aow
        else {"": everyone}
    )
    candidates = []
    for size_class, size_ok in size_options.items():
        for aow_class, aow_ok in aow_options.items():
            threshold = f"{prefix}_{size_class}{aow_class}"
            per_year = {int(y): _value_or_nan(grenzen, threshold, int(y)) for y in years.dropna().unique()}
            limit = years.map(per_year).astype("float64")
            candidates.append(limit.where(size_ok & aow_ok))
    stacked = pd.concat(candidates, axis=1)
    low, high = stacked.min(axis=1), stacked.max(axis=1)
    out = pd.Series(pd.NA, index=lettings.index, dtype="boolean")
    out[income.notna() & (income <= low)] = True
    out[income.notna() & (income > high)] = False
    return out


def period_rows(lettings: pd.DataFrame, *, quarters: bool = True) -> pd.DataFrame:
    """Each letting once per period it falls in (its year, kwartaal 'alle'; and its quarter), with
    jaar, kwartaal and periode_einde, and partial_period by the last letting date of its gemeente."""
    frame = lettings.copy()
    day = frame["toewijzingsdatum"].dt.normalize()
    frame["jaar"] = day.dt.year.astype("Int64")
    year_rows = frame.assign(kwartaal=ALLE, periode_einde=day.dt.to_period("Y").dt.end_time.dt.normalize())
    parts = [year_rows]
    if quarters:
        quarter = "Q" + day.dt.quarter.astype("str")
        parts.append(frame.assign(kwartaal=quarter, periode_einde=day.dt.to_period("Q").dt.end_time.dt.normalize()))
    out = pd.concat(parts, ignore_index=True)
    last = day.groupby(frame["gemeente_code"]).max()
    out["partial_period"] = (out["gemeente_code"].map(last) < out["periode_einde"]).astype("bool")
    return out


def with_alle_corporaties(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row under its corporation and once more under corporatie 'alle' (pooled, not averaged)."""
    return pd.concat([frame, frame.assign(corporatie=ALLE)], ignore_index=True)


def letting_flags(lettings: pd.DataFrame, inkomensgrenzen: ReferenceTable) -> pd.DataFrame:
    """Per letting the 0/1 and duration columns the indicators aggregate. Pure function."""
    f = lettings.copy()
    voorrang = f["voorrang"].astype("str").where(f["voorrang"].notna() & (f["voorrang"].astype("str") != ""))
    f["voorrang_code"] = voorrang.fillna(GEEN_VOORRANG)
    f["een"] = 1.0
    f["regulier"] = voorrang.isna().astype("float64")
    f["loting"] = (f["publicatiemodel"] == "LOT").fillna(False).astype("float64")
    f["direct"] = (f["publicatiemodel"] == "DIR").fillna(False).astype("float64")
    f["statushouder"] = (f["voorrang_detail"] == "STA").fillna(False).astype("float64")
    f["urgent"] = (voorrang == "URG").fillna(False).astype("float64")
    f["passend"] = (f["passendheid"] == "PAS").fillna(False).astype("float64")
    f["passend_noemer"] = f["passendheid"].isin(["PAS", "NIE"]).astype("float64")
    doorstromer = f["doorstromer"].astype("boolean")
    f["doorstromer_ja"] = doorstromer.fillna(False).astype("float64")
    f["doorstromer_bekend"] = doorstromer.notna().astype("float64")
    f["zonder_inkomen"] = f["huishoudinkomen"].isna().astype("float64")
    daeb = income_at_or_below(f, inkomensgrenzen, "daeb", by_aow=False)
    f["daeb_onder"] = daeb.fillna(False).astype("float64")
    f["daeb_boven"] = (~daeb).fillna(False).astype("float64")
    f["daeb_bekend"] = daeb.notna().astype("float64")
    primair = income_at_or_below(f, inkomensgrenzen, "primair", by_aow=True)
    f["primair"] = primair.fillna(False).astype("float64")
    f["primair_bekend"] = primair.notna().astype("float64")
    days = (f["toewijzingsdatum"].dt.normalize() - f["inschrijfdatum"].dt.normalize()).dt.days.astype("float64")
    f["inschrijfduur"] = (days / DAGEN_PER_JAAR).where(days >= 0)
    f["zoekduur"] = f["zoekduur_maanden"].astype("float64")
    f["reacties"] = f["aantal_reacties"].astype("float64").where(f["publicatiemodel"] != "DIR")
    return f


#: indicator -> (numerator column, denominator column); shares in %.
SHARES: dict[str, tuple[str, str]] = {
    "aandeel_regulier": ("regulier", "een"),
    "aandeel_loting": ("loting", "een"),
    "aandeel_directe_bemiddeling": ("direct", "een"),
    "aandeel_statushouders": ("statushouder", "een"),
    "aandeel_urgenten": ("urgent", "een"),
    "aandeel_passend": ("passend", "passend_noemer"),
    "aandeel_doorstromers": ("doorstromer_ja", "doorstromer_bekend"),
    "aandeel_daeb_inkomen": ("daeb_onder", "daeb_bekend"),
    "aandeel_boven_daeb_grens": ("daeb_boven", "daeb_bekend"),
    "aandeel_primaire_doelgroep": ("primair", "primair_bekend"),
}
#: indicator -> (per-letting column, statistic, unit).
DURATIONS: dict[str, tuple[str, str, str]] = {
    "inschrijfduur_gemiddeld": ("inschrijfduur", "mean", "jaar"),
    "inschrijfduur_mediaan": ("inschrijfduur", "median", "jaar"),
    "inschrijfduur_p90": ("inschrijfduur", "p90", "jaar"),
    "zoekduur_gemiddeld": ("zoekduur", "mean", "maanden"),
    "zoekduur_mediaan": ("zoekduur", "median", "maanden"),
    "reacties_gemiddeld": ("reacties", "mean", "reacties"),
}


def _long(grouped: pd.DataFrame, keys: list[str], indicator: str, numerator: pd.Series, denominator: pd.Series | None, unit: str) -> pd.DataFrame:
    part = grouped[keys].copy()
    part["indicator"] = indicator
    part["numerator"] = numerator.astype("float64").to_numpy()
    part["denominator"] = denominator.astype("float64").to_numpy() if denominator is not None else float("nan")
    part["unit"] = unit
    return part


def compute_toewijzingen(lettings: pd.DataFrame, inkomensgrenzen: ReferenceTable) -> pd.DataFrame:
    """Tidy KPI rows from the staged lettings (stg_toewijzingen); pure function."""
    columns = [*KEYS, "publicatiemodel", "voorrang", "indicator", "numerator", "denominator", "value", "unit",
               "partial_period", "definition_id", "definition_version"]
    if lettings.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    flags = letting_flags(lettings, inkomensgrenzen)
    expanded = with_alle_corporaties(period_rows(flags))
    keys = [*KEYS, "partial_period"]
    grouped = expanded.groupby(keys, dropna=False, sort=True)
    summed = list(dict.fromkeys(["een", "zonder_inkomen", *(c for pair in SHARES.values() for c in pair)]))
    sums = grouped[summed].sum().reset_index()
    parts = [
        _long(sums, keys, "aantal", sums["een"], None, "toewijzingen"),
        _long(sums, keys, "zonder_inkomen", sums["zonder_inkomen"], None, "toewijzingen"),
    ]
    for indicator, (num, den) in SHARES.items():
        part = _long(sums, keys, indicator, sums[num], sums[den], "%")
        needed = INKOMENSGRENZEN_PER_INDICATOR.get(indicator, ())
        if needed:
            complete = {y for y in part["jaar"].dropna().unique() if not missing_limits([y], inkomensgrenzen, needed)}
            part = part[part["jaar"].isin(complete)]
        parts.append(part)
    stats = {}
    for column in dict.fromkeys(c for c, _, _ in DURATIONS.values()):
        g = grouped[column]
        stats[column] = pd.DataFrame(
            {"count": g.count(), "sum": g.sum(min_count=1).fillna(0.0), "median": g.median(), "p90": g.quantile(0.9)}
        ).reset_index()
    for indicator, (column, statistic, unit) in DURATIONS.items():
        s = stats[column]
        if statistic == "mean":
            parts.append(_long(s, keys, indicator, s["sum"], s["count"], unit))
        else:
            part = _long(s, keys, indicator, pd.Series(float("nan"), index=s.index), s["count"], unit)
            part["value"] = s[statistic].astype("float64").to_numpy()
            parts.append(part)
    for dimension, source in (("publicatiemodel", "publicatiemodel"), ("voorrang", "voorrang_code")):
        counts = expanded.groupby([*keys, source], dropna=False, sort=True).size().rename("n").reset_index()
        part = _long(counts, keys, "aantal", counts["n"], None, "toewijzingen")
        part[dimension] = counts[source].astype("str").to_numpy()
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    for dimension in ("publicatiemodel", "voorrang"):
        out[dimension] = out[dimension].fillna(ALLE).astype("str")
    statistic_value = out["value"].copy()  # only the median and p90 rows carry a value yet
    out["value"] = recompute_value(out)
    is_statistic = out["indicator"].str.endswith(("_mediaan", "_p90"))
    out.loc[is_statistic, "value"] = statistic_value[is_statistic]
    out["jaar"] = out["jaar"].astype("Int64")
    out["partial_period"] = out["partial_period"].astype("bool")
    out["definition_id"] = DEFINITION_ID
    out["definition_version"] = DEFINITION_VERSION
    return out[columns]


def _pairs_text(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{threshold} {year}" for threshold, year in pairs) or "geen"


def reference_check_result(missing: list[tuple[str, int]], table_name: str) -> dg.AssetCheckResult:
    """WARN-severity result: fails when any year with lettings lacks a limit, naming (threshold, year)."""
    years = sorted({year for _, year in missing})
    description = (
        f"Ontbrekende grenzen in reference/{table_name}.csv voor jaar {', '.join(str(y) for y in years)}: "
        f"{_pairs_text(missing)}. Rijen die deze grenzen nodig hebben ontbreken; voeg de waarden uit een "
        "officiële bron toe."
        if missing
        else f"Alle benodigde grenzen uit reference/{table_name}.csv zijn aanwezig."
    )
    return dg.AssetCheckResult(
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "ontbrekende_jaren": dg.MetadataValue.json(years),
            "ontbrekende_grenzen": dg.MetadataValue.json([{"threshold": t, "year": y} for t, y in missing]),
        },
    )


@dg.asset(**kpi_asset_args(TABLE, f"{DEFINITION_ID} v{DEFINITION_VERSION}", "DESIGN.md §3.3, §3.5, §5 toewijzingen", ins={"stg_toewijzingen": gemeente_in("stg_toewijzingen")}))
def kpi_toewijzingen(
    context: dg.AssetExecutionContext, kpi_settings: KpiSettings, stg_toewijzingen: pd.DataFrame
) -> dg.Output:
    inkomensgrenzen = load_inkomensgrenzen()
    frame = compute_toewijzingen(stg_toewijzingen, inkomensgrenzen)
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (stg_toewijzingen, "gemeente_code")),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    missing = missing_income_limits(stg_toewijzingen["toewijzingsdatum"].dt.year.dropna(), inkomensgrenzen)
    if missing:
        context.log.warning(f"kpi_toewijzingen: inkomensgrenzen ontbreken voor {_pairs_text(missing)}; die rijen ontbreken")
    t = "stg_toewijzingen"
    income = [(t, "huishoudinkomen"), (t, "huishoudgrootte"), (t, "leeftijd_hoofdaanvrager"), (t, "toewijzingsdatum")]
    lineage = column_lineage(
        TABLE,
        {
            "gemeente_code": [(t, "gemeente_code")],
            "gemeente_naam": [(t, "gemeente_naam")],
            "corporatie": [(t, "corporatie")],
            "jaar": [(t, "jaar")],
            "kwartaal": [(t, "kwartaal")],
            "publicatiemodel": [(t, "publicatiemodel")],
            "voorrang": [(t, "voorrang")],
            "numerator": [
                (t, "toewijzing_id"), (t, "publicatiemodel"), (t, "voorrang"), (t, "voorrang_detail"),
                (t, "passendheid"), (t, "doorstromer"), *income, (t, "inschrijfdatum"), (t, "zoekduur_maanden"),
                (t, "aantal_reacties"),
            ],
            "denominator": [(t, "toewijzing_id"), (t, "passendheid"), (t, "doorstromer"), *income],
            "value": [(t, "inschrijfdatum"), (t, "toewijzingsdatum"), (t, "zoekduur_maanden")],
            "partial_period": [(t, "toewijzingsdatum")],
        },
    )
    totals = frame[
        (frame["indicator"] == "aantal") & (frame["corporatie"] == ALLE) & (frame["kwartaal"] == ALLE)
        & (frame["publicatiemodel"] == ALLE) & (frame["voorrang"] == ALLE)
    ]
    return dg.Output(
        frame,
        metadata=table_metadata(
            frame,
            TABLE,
            **{
                "dagster/column_lineage": lineage,
                "aow_leeftijd": AOW_LEEFTIJD,
                "ontbrekende_inkomensgrenzen": dg.MetadataValue.json(
                    [{"threshold": threshold, "year": year} for threshold, year in missing]
                ),
                "aantal_toewijzingen_alle": dg.MetadataValue.md(
                    summary_markdown(totals[["gemeente_naam", "jaar", "value", "partial_period"]])
                ),
            },
        ),
    )


@dg.asset_check(
    asset=kpi_toewijzingen,
    name="referentiegrenzen_compleet",
    additional_ins={"stg_toewijzingen": dg.AssetIn("stg_toewijzingen")},
    blocking=False,  # WARN: a missing limit drops only the rows that need it and never stops publication
    description=(
        "Waarschuwt (WARN) wanneer een jaar met toewijzingen geen DAEB- of huurtoeslaginkomensgrens heeft "
        "in reference/inkomensgrenzen.csv; de inkomensindicatoren van dat jaar ontbreken dan."
    ),
)
def referentiegrenzen_compleet(stg_toewijzingen: pd.DataFrame) -> dg.AssetCheckResult:
    years = stg_toewijzingen["toewijzingsdatum"].dt.year.dropna()
    return reference_check_result(missing_income_limits(years, load_inkomensgrenzen()), "inkomensgrenzen")
