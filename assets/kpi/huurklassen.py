"""KPI huurklassen: the corporation stock by rent class, the supply (lettings) by rent class, and the
share of the supply below the aftoppingsgrenzen.

Definition `huurklassen` v1 (DESIGN.md §3.5, §5). Rent classes by netto kale huur against the rent
thresholds of the year (reference/huurgrenzen.csv, in force on 1 January): goedkoop <=
kwaliteitskortingsgrens < betaalbaar_laag <= aftoppingsgrens_laag < betaalbaar_hoog <=
aftoppingsgrens_hoog < duur <= liberalisatiegrens < boven_liberalisatiegrens; a rent exactly on a
threshold belongs to the class below it (assets.staging.bezit.huurklasse).
- Stock (`voorraad_aantal` in dwellings, `voorraad_aandeel` in % of the dwellings): dwellings (WOO)
  in exploitation at the peildatum, per corporation x gemeente x peildatum, by stg_bezit's huurklasse
  (the thresholds of the peildatum's year); dwellings without a rent are class 'onbekend'. Every
  class is listed, with 0 where a corporation has none.
- Supply (`aanbod_aantal` in lettings, `aanbod_aandeel` in %): all lettings (every publicatiemodel,
  including vrije sector and directe bemiddeling) per gemeente of the dwelling x corporation x year of
  letting, classed by the thresholds of the letting's year.
- `aanbod_onder_aftoppingsgrens` (%): lettings with rent <= aftoppingsgrens_laag for a one-person
  household, <= aftoppingsgrens_hoog for two or more persons and when household size is unknown,
  of all lettings; huurklasse 'alle'.
- Totals over corporations ('alle') sum numerator and denominator. Supply rows carry partial_period
  by the rule of kpi_toewijzingen (the last letting date in the gemeente lies before 31 December);
  stock rows are never partial. Lettings in a year without rent thresholds get no supply rows (never
  a neighbouring year's thresholds); the WARN check `huurgrenzen_compleet` names the missing
  (threshold, year) pairs.
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
from assets.kpi.inputs import HUURKLASSEN_STOCK
from assets.kpi.toewijzingen import missing_limits, period_rows, reference_check_result
from assets.partitions import gemeente_in, gemeenten_of
from assets.settings import KpiSettings
from assets.staging.bezit import HUURKLASSE_GRENZEN, HUURKLASSEN, huurklasse
from sources.reference import ReferenceTable, load_huurgrenzen

DEFINITION_ID = "huurklassen"
DEFINITION_VERSION = 1
ONBEKEND = "onbekend"

TABLE = KpiTable(
    name="kpi_huurklassen",
    description=(
        "Huurklassen van voorraad en aanbod. Klassen naar de huurgrenzen van het jaar (kale huur; een "
        "huur precies op een grens hoort bij de klasse eronder): goedkoop (<= kwaliteitskortingsgrens), "
        "betaalbaar_laag (<= aftoppingsgrens laag), betaalbaar_hoog (<= aftoppingsgrens hoog), duur "
        "(<= liberalisatiegrens), boven_liberalisatiegrens; onbekend = geen huur. Indicatoren: "
        "voorraad_aantal en voorraad_aandeel (% van de woningen in exploitatie) per corporatie x "
        "gemeente x peildatum; aanbod_aantal en aanbod_aandeel (% van de toewijzingen) per gemeente x "
        "corporatie x jaar van toewijzing; aanbod_onder_aftoppingsgrens (% van de toewijzingen met huur "
        "<= aftoppingsgrens laag bij een eenpersoonshuishouden, <= aftoppingsgrens hoog bij meer personen "
        "of onbekende huishoudgrootte). Aanbodrijen hebben geen peildatum. Jaren zonder huurgrenzen "
        "ontbreken (zie check huurgrenzen_compleet)."
    ),
    dimensions=[
        Column("jaar", "integer", "Jaar van de peildatum (voorraad) of van toewijzing (aanbod)"),
        Column("peildatum", "date", "Peildatum van de bezitslijst; leeg bij aanbod"),
        Column("huurklasse", "text", "Huurklasse, of 'alle' bij aanbod_onder_aftoppingsgrens"),
    ],
)


def _classes_present(classes: pd.Series) -> list[str]:
    return [*HUURKLASSEN, *([ONBEKEND] if (classes == ONBEKEND).any() else [])]


def _distribution(frame: pd.DataFrame, keys: list[str], prefix: str, unit: str) -> pd.DataFrame:
    """Count and share per huurklasse for every group in `frame`, 0 for classes the group lacks."""
    counts = frame.groupby([*keys, "huurklasse"], dropna=False).size().unstack("huurklasse", fill_value=0)
    counts = counts.reindex(columns=_classes_present(frame["huurklasse"]), fill_value=0)
    counts.columns.name = "huurklasse"
    long = counts.stack().rename("aantal").reset_index()
    totals = frame.groupby(keys, dropna=False).size().rename("totaal").reset_index()
    long = long.merge(totals, on=keys, how="left")
    count_rows = long[[*keys, "huurklasse"]].assign(
        indicator=f"{prefix}_aantal", numerator=long["aantal"].astype("float64"), denominator=float("nan"), unit=unit
    )
    share_rows = long[[*keys, "huurklasse"]].assign(
        indicator=f"{prefix}_aandeel",
        numerator=long["aantal"].astype("float64"),
        denominator=long["totaal"].astype("float64"),
        unit="%",
    )
    return pd.concat([count_rows, share_rows], ignore_index=True)


def stock_rows(stock: pd.DataFrame) -> pd.DataFrame:
    keys = ["gemeente_code", "gemeente_naam", "corporatie", "peildatum"]
    dwellings = dwellings_in_exploitatie(stock, [*keys, "huurklasse"])
    dwellings["huurklasse"] = dwellings["huurklasse"].fillna(ONBEKEND).astype("str")
    if dwellings.empty:
        return pd.DataFrame(columns=[*keys, "huurklasse", "indicator", "numerator", "denominator", "unit"])
    rows = _distribution(dwellings, keys, "voorraad", "woningen")
    rows["partial_period"] = False
    return rows


def supply_years(lettings: pd.DataFrame, huurgrenzen: ReferenceTable) -> tuple[list[int], list[tuple[str, int]]]:
    """Years of letting that have every rent threshold, and the missing (threshold, year) pairs."""
    years = sorted({int(y) for y in lettings["toewijzingsdatum"].dt.year.dropna().unique()})
    missing = missing_limits(years, huurgrenzen, HUURKLASSE_GRENZEN)
    incomplete = {year for _, year in missing}
    return [y for y in years if y not in incomplete], missing


def below_aftopping(lettings: pd.DataFrame, huurgrenzen: ReferenceTable) -> pd.Series:
    """Rent <= aftoppingsgrens_laag (one person) or _hoog (more persons, or size unknown) of the year."""
    years = lettings["toewijzingsdatum"].dt.year
    laag = years.map({int(y): huurgrenzen.value("aftoppingsgrens_laag", int(y)) for y in years.unique()})
    hoog = years.map({int(y): huurgrenzen.value("aftoppingsgrens_hoog", int(y)) for y in years.unique()})
    one_person = lettings["huishoudgrootte"].astype("float64") == 1
    limit = hoog.astype("float64").where(~one_person, laag.astype("float64"))
    return (lettings["netto_kale_huur"].astype("float64") <= limit).astype("bool")


def supply_rows(lettings: pd.DataFrame, huurgrenzen: ReferenceTable) -> pd.DataFrame:
    keys = ["gemeente_code", "gemeente_naam", "corporatie", "jaar", "partial_period"]
    complete, _ = supply_years(lettings, huurgrenzen)
    usable = lettings[lettings["toewijzingsdatum"].dt.year.isin(complete)]
    if usable.empty:
        return pd.DataFrame(columns=[*keys, "huurklasse", "indicator", "numerator", "denominator", "unit"])
    frame = period_rows(usable, quarters=False)
    frame["huurklasse"] = huurklasse(frame["netto_kale_huur"], frame["jaar"], huurgrenzen)
    frame["onder_aftopping"] = below_aftopping(frame, huurgrenzen)
    rows = _distribution(frame, keys, "aanbod", "toewijzingen")
    aftopping = frame.groupby(keys, dropna=False).agg(
        numerator=("onder_aftopping", "sum"), denominator=("onder_aftopping", "size")
    ).reset_index()
    aftopping = aftopping.assign(
        huurklasse=ALLE,
        indicator="aanbod_onder_aftoppingsgrens",
        numerator=aftopping["numerator"].astype("float64"),
        denominator=aftopping["denominator"].astype("float64"),
        unit="%",
    )
    return pd.concat([rows, aftopping], ignore_index=True)


def compute_huurklassen(stock: pd.DataFrame, lettings: pd.DataFrame, huurgrenzen: ReferenceTable) -> pd.DataFrame:
    """Tidy KPI rows from stg_bezit and stg_toewijzingen; pure function."""
    stock_part = stock_rows(stock)
    if not stock_part.empty:
        stock_part["jaar"] = pd.to_datetime(stock_part["peildatum"]).dt.year.astype("Int64")
        stock_part = add_alle_corporaties(
            stock_part, ["gemeente_code", "corporatie", "peildatum", "huurklasse", "indicator"]
        )
    supply_part = supply_rows(lettings, huurgrenzen)
    if not supply_part.empty:
        supply_part["peildatum"] = pd.NaT
        supply_part = add_alle_corporaties(
            supply_part, ["gemeente_code", "corporatie", "jaar", "huurklasse", "indicator"]
        )
    parts = [p for p in (stock_part, supply_part) if not p.empty]
    columns = ["gemeente_code", "gemeente_naam", "corporatie", "jaar", "peildatum", "huurklasse", "indicator",
               "numerator", "denominator", "unit", "partial_period"]
    out = pd.concat([p[columns] for p in parts], ignore_index=True) if parts else pd.DataFrame(columns=columns)
    out["numerator"] = out["numerator"].astype("float64")
    out["denominator"] = out["denominator"].astype("float64")
    out["peildatum"] = pd.to_datetime(out["peildatum"])
    out["jaar"] = out["jaar"].astype("Int64")
    out["partial_period"] = out["partial_period"].astype("bool")
    out["value"] = recompute_value(out)
    out["definition_id"] = DEFINITION_ID
    out["definition_version"] = DEFINITION_VERSION
    return out


@dg.asset(**kpi_asset_args(TABLE, f"{DEFINITION_ID} v{DEFINITION_VERSION}", "DESIGN.md §3.5, §5 huurklassen", ins={"stg_bezit": HUURKLASSEN_STOCK, "stg_toewijzingen": gemeente_in("stg_toewijzingen")}))
def kpi_huurklassen(
    context: dg.AssetExecutionContext,
    kpi_settings: KpiSettings,
    stg_bezit: pd.DataFrame,
    stg_toewijzingen: pd.DataFrame,
) -> dg.Output:
    huurgrenzen = load_huurgrenzen()
    frame = compute_huurklassen(stg_bezit, stg_toewijzingen, huurgrenzen)
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (stg_bezit, "gemeente_code"), (stg_toewijzingen, "gemeente_code")),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    _, missing = supply_years(stg_toewijzingen, huurgrenzen)
    if missing:
        context.log.warning(f"kpi_huurklassen: huurgrenzen ontbreken voor {missing}; die aanbodrijen ontbreken")
    b, t = "stg_bezit", "stg_toewijzingen"
    lineage = column_lineage(
        TABLE,
        {
            "gemeente_code": [(b, "gemeente_code"), (t, "gemeente_code")],
            "gemeente_naam": [(b, "gemeente_naam"), (t, "gemeente_naam")],
            "corporatie": [(b, "corporatie"), (t, "corporatie")],
            "jaar": [(b, "peildatum"), (t, "jaar")],
            "peildatum": [(b, "peildatum")],
            "huurklasse": [(b, "huurklasse"), (t, "netto_kale_huur"), (t, "toewijzingsdatum")],
            "numerator": [
                (b, "vhe_id"), (b, "huurklasse"), (b, "in_exploitatie"), (b, "is_woning"),
                (t, "toewijzing_id"), (t, "netto_kale_huur"), (t, "huishoudgrootte"), (t, "toewijzingsdatum"),
            ],
            "denominator": [(b, "vhe_id"), (b, "in_exploitatie"), (b, "is_woning"), (t, "toewijzing_id")],
            "partial_period": [(t, "toewijzingsdatum")],
        },
    )
    headline = frame[(frame["indicator"] == "aanbod_onder_aftoppingsgrens") & (frame["corporatie"] == ALLE)]
    return dg.Output(
        frame,
        metadata=table_metadata(
            frame,
            TABLE,
            **{
                "dagster/column_lineage": lineage,
                "ontbrekende_huurgrenzen": dg.MetadataValue.json(
                    [{"threshold": threshold, "year": year} for threshold, year in missing]
                ),
                "aanbod_onder_aftoppingsgrens_alle": dg.MetadataValue.md(
                    summary_markdown(headline[["gemeente_naam", "jaar", "value", "partial_period"]])
                ),
            },
        ),
    )


@dg.asset_check(
    asset=kpi_huurklassen,
    name="huurgrenzen_compleet",
    additional_ins={"stg_toewijzingen": dg.AssetIn("stg_toewijzingen")},
    blocking=False,  # WARN: a missing limit drops only the rows that need it and never stops publication
    description=(
        "Waarschuwt (WARN) wanneer een jaar met toewijzingen geen huurgrenzen heeft in "
        "reference/huurgrenzen.csv; het aanbod van dat jaar ontbreekt dan in kpi_huurklassen."
    ),
)
def huurgrenzen_compleet(stg_toewijzingen: pd.DataFrame) -> dg.AssetCheckResult:
    _, missing = supply_years(stg_toewijzingen, load_huurgrenzen())
    return reference_check_result(missing, "huurgrenzen")
