"""KPI slaagkans: the success rate of house seekers, in the three documented definitions.

Per woongemeente of the seeker x reporting period (DESIGN.md §5). Active = at least one response in
the period.
- `maaskoepel` v1: housed seekers / (active seekers + seekers housed without responding, i.e.
  directly placed, counted once).
- `lokaal` v1 (Alphen): seekers living in the gemeente who responded at least once to supply in that
  gemeente (`aantal_reacties_woongemeente` >= 1); numerator = those of them housed in that gemeente
  (`gehuisvest_gemeente_code` = woongemeente). When any seeker of a gemeente-period lacks
  `aantal_reacties_woongemeente`, `lokaal` is left out for that gemeente-period (not guessed).
- `eenvoudig` v1: lettings in the period to active seekers of the gemeente / active seekers.

Breakdowns (`uitsplitsing`), each computed for all three definitions:
- `totaal`: the whole gemeente.
- `inkomensklasse`, `leeftijdsklasse`: as delivered (missing -> 'onbekend').
- `kern`: the seeker's woonkern (missing -> 'onbekend'). For `lokaal` per kern the population is the
  seekers *living in that kern* who responded to supply in their own *gemeente*, and the numerator
  those of them housed in their own gemeente. "Local" stays the gemeente: the seekers export counts
  responses per woongemeente, not per kern, and says in which gemeente (not kern) a seeker was
  housed. So the kern figure answers "how do seekers from kern X fare on the gemeente's own supply";
  it is not "housed in kern X". This is the reading under which Alphen's published 2016 per-kern
  row is reproduced (tests/test_kpi_slaagkans_alphen.py); Alphen's own counting is not verified.
- `doelgroep`: derived from inkomensklasse, because the seekers contract has no doelgroep column:
  primair and secundair -> 'DAEB-doelgroep' (income up to the DAEB limit, the group of Alphen's
  >= 20 % norm for incomes up to EUR 38,035 in 2019), midden and hoog -> 'boven DAEB-grens', missing
  -> 'onbekend'. A delivered doelgroep (e.g. starters / doorstromers) needs a contract column first.
- `huishoudgrootte`: '1', '2', '3', '4', '5+' (missing -> 'onbekend').
- `inkomensband`: configurable income bands per year from `reference/inkomensklassen.csv` (year, band,
  lower, upper, source, confidence), applied to `huishoudinkomen`: a band holds incomes with
  lower < income <= upper (the first band has no lower, the last no upper bound). Seekers without
  an income in a year that has bands -> 'onbekend'. Bands are applied to the period's `jaar` only
  (they are in that year's prices); for a year without bands the breakdown is omitted, never guessed
  from another year, and the asset metadata lists those years (`inkomensband_ontbreekt_jaren`).

Table layout: named dimension columns, one per breakdown (inkomensklasse, leeftijdsklasse, kern,
doelgroep, huishoudgrootte, inkomensband), plus the discriminator `uitsplitsing` naming the breakdown
a row belongs to; on a row every breakdown column except its own reads 'alle'. Chosen over a generic
(dimensie, dimensie_waarde) pair because a dashboard binds one slicer/axis per column with its own
type and value list (a 'kern' filter never offers age classes), the monitor's KPI bindings filter on
named columns (`inkomensklasse: alle`), and the table stays ready for crossed breakdowns (e.g. kern x
inkomensklasse) without re-encoding. `uitsplitsing` gives the one-filter convenience of the generic
layout: `uitsplitsing = 'kern'` yields exactly the per-kern rows.

Periods: each distinct (periode_begin, periode_einde) of the seekers file is its own period; jaar is
the year of periode_begin. A period that is not a whole calendar year (a quarter, or a year to date
such as 01-01..30-09) is computed as its own period with partial_period True. Partial periods are
never added up into a year and must not be summed by a dashboard: a seeker active in two quarters
is counted in both.

No seekers in a year -> no rows for that year (an absent period is not a 0 %). A denominator of 0
gives an empty value; a denominator below the suppression threshold is suppressed (§6) by
`assets.common.finish`: numerator and value empty, `suppressed` True, never shown as 0.
"""

from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from assets import relational
from assets.common import (
    Column,
    KpiTable,
    column_lineage,
    finish,
    kpi_asset_args,
    names_by_code,
    ratio,
    snapshot_by_gemeente,
    summary_markdown,
    table_metadata,
)
from assets.partitions import gemeente_in, gemeenten_of
from assets.settings import KpiSettings
from sources.reference import CONFIDENCE_LEVELS

DEFINITION_VERSION = 1
DEFINITIONS = ("maaskoepel", "lokaal", "eenvoudig")
ALLE = "alle"
ONBEKEND = "onbekend"
TOTAAL = "totaal"
BREAKDOWNS = ("inkomensklasse", "leeftijdsklasse", "kern", "doelgroep", "huishoudgrootte", "inkomensband")
UITSPLITSINGEN = (TOTAAL, *BREAKDOWNS)

DOELGROEP_UIT_INKOMENSKLASSE = {
    "primair": "DAEB-doelgroep",
    "secundair": "DAEB-doelgroep",
    "midden": "boven DAEB-grens",
    "hoog": "boven DAEB-grens",
}

INKOMENSBANDEN_PATH = Path(__file__).resolve().parents[2] / "reference" / "inkomensklassen.csv"
INKOMENSBANDEN_COLUMNS = ("year", "band", "lower", "upper", "source", "confidence")

TABLE = KpiTable(
    name="kpi_slaagkans",
    description=(
        "Slaagkans van woningzoekenden per woongemeente x periode in drie definities (definition_id "
        "maaskoepel, lokaal, eenvoudig; zie DESIGN.md §5): totaal en uitgesplitst naar inkomensklasse, "
        "leeftijdsklasse, kern (woonkern), doelgroep, huishoudgrootte en inkomensband. Kolom uitsplitsing "
        "zegt welke uitsplitsing een rij is; de andere uitsplitsingskolommen staan dan op 'alle'. "
        "value = numerator / denominator x 100. Een periode korter dan een jaar is een eigen periode "
        "(partial_period True) en wordt niet bij het jaar opgeteld. Cellen met een noemer onder de "
        "drempel zijn onderdrukt (value leeg, suppressed True)."
    ),
    dimensions=[
        Column("jaar", "integer", "Jaar van de verslagperiode (jaar van periode_begin)"),
        Column("periode_begin", "date", "Eerste dag van de verslagperiode"),
        Column("periode_einde", "date", "Laatste dag van de verslagperiode"),
        Column(
            "uitsplitsing",
            "text",
            "Welke uitsplitsing deze rij is: totaal, inkomensklasse, leeftijdsklasse, kern, doelgroep, "
            "huishoudgrootte of inkomensband",
        ),
        Column("inkomensklasse", "text", "Inkomensklasse van de woningzoekende, of 'alle'"),
        Column("leeftijdsklasse", "text", "Leeftijdsklasse van de woningzoekende, of 'alle'"),
        Column(
            "kern",
            "text",
            "Woonkern van de woningzoekende, of 'alle'. Bij lokaal: woningzoekenden uit deze kern die "
            "reageerden op aanbod in de eigen gemeente",
        ),
        Column(
            "doelgroep",
            "text",
            "DAEB-doelgroep (inkomensklasse primair of secundair) of boven DAEB-grens (midden, hoog), of 'alle'",
        ),
        Column("huishoudgrootte", "text", "Huishoudgrootte 1, 2, 3, 4 of 5+, of 'alle'"),
        Column(
            "inkomensband",
            "text",
            "Inkomensband van het huishoudinkomen volgens reference/inkomensklassen.csv voor dat jaar "
            "(ondergrens < inkomen <= bovengrens), of 'alle'; ontbreekt voor jaren zonder banden",
        ),
    ],
)

PERIOD_KEYS = ["gemeente_code", "jaar", "periode_begin", "periode_einde"]


# --------------------------------------------------------------------------------------------
# income bands
# --------------------------------------------------------------------------------------------


def load_inkomensbanden(path: str | Path | None = None) -> pd.DataFrame:
    """The income-band table: per year contiguous bands, lower bound exclusive, upper inclusive.

    Per year the first band has no lower bound, the last no upper bound, and each band's upper bound
    is the next band's lower bound. Fails with file, row and the rule broken.
    """
    path = Path(path) if path is not None else INKOMENSBANDEN_PATH
    frame = pd.read_csv(path, dtype={"band": "str", "source": "str", "confidence": "str"})
    missing = [c for c in INKOMENSBANDEN_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: kolom(men) ontbreken: {', '.join(missing)}; verwacht {', '.join(INKOMENSBANDEN_COLUMNS)}")
    frame = frame[list(INKOMENSBANDEN_COLUMNS)].copy()
    frame["row"] = np.arange(len(frame)) + 2  # line number in the file, header = 1
    frame["year"] = frame["year"].astype("int64")
    frame["lower"] = frame["lower"].astype("float64")
    frame["upper"] = frame["upper"].astype("float64")
    frame["band"] = frame["band"].str.strip()
    for _, row in frame[~frame["confidence"].isin(CONFIDENCE_LEVELS)].iterrows():
        raise ValueError(f"{path.name}, rij {row['row']}: confidence moet official of unverified zijn, niet {row['confidence']!r}")
    for year, bands in frame.groupby("year", sort=True):
        bands = bands.sort_values("lower", na_position="first")
        if bands["band"].duplicated().any():
            raise ValueError(f"{path.name}: band komt twee keer voor in {year}")
        lowers, uppers, rows = bands["lower"].tolist(), bands["upper"].tolist(), bands["row"].tolist()
        if not pd.isna(lowers[0]) or any(pd.isna(v) for v in lowers[1:]):
            raise ValueError(f"{path.name}, {year}: precies één band (de eerste) heeft geen ondergrens")
        if not pd.isna(uppers[-1]) or any(pd.isna(v) for v in uppers[:-1]):
            raise ValueError(f"{path.name}, {year}: precies één band (de laatste) heeft geen bovengrens")
        for i, row in enumerate(rows):
            if not pd.isna(lowers[i]) and not pd.isna(uppers[i]) and not lowers[i] < uppers[i]:
                raise ValueError(f"{path.name}, rij {row}: ondergrens {lowers[i]} moet kleiner zijn dan bovengrens {uppers[i]}")
            if i + 1 < len(rows) and uppers[i] != lowers[i + 1]:
                raise ValueError(
                    f"{path.name}, rij {row}: bovengrens {uppers[i]} sluit niet aan op de ondergrens "
                    f"{lowers[i + 1]} van de volgende band (rij {rows[i + 1]})"
                )
    return frame.drop(columns=["row"]).reset_index(drop=True)


def inkomensband(income: pd.Series, year: pd.Series, bands: pd.DataFrame) -> pd.Series:
    """The band of each income in its year's bands; 'onbekend' without income; empty for a year
    without bands (that year gets no band breakdown)."""
    out = pd.Series(np.nan, index=income.index, dtype="object")
    amount = income.astype("float64")
    for band_year, year_bands in bands.groupby("year"):
        in_year = (year == band_year).to_numpy()
        out[in_year] = ONBEKEND
        for row in year_bands.itertuples():
            fits = amount.notna()
            if not pd.isna(row.lower):
                fits &= amount > row.lower
            if not pd.isna(row.upper):
                fits &= amount <= row.upper
            out[in_year & fits.to_numpy()] = row.band
    return out


def jaren_zonder_inkomensbanden(seekers: pd.DataFrame, bands: pd.DataFrame) -> list[int]:
    """Years of the seekers' periods for which the band table holds no bands (breakdown omitted)."""
    years = pd.to_datetime(seekers["periode_begin"]).dt.year.dropna().astype(int).unique().tolist()
    known = set(bands["year"].astype(int).tolist())
    return sorted(y for y in years if y not in known)


# --------------------------------------------------------------------------------------------
# per seeker, then aggregated
# --------------------------------------------------------------------------------------------


def huishoudgrootte_klasse(size: pd.Series) -> pd.Series:
    number = pd.to_numeric(size, errors="coerce").astype("Float64")
    label = number.astype("Int64").astype("str").astype("object")
    label[number >= 5] = "5+"
    label[number.isna()] = ONBEKEND
    return label


def _text_or_onbekend(values: pd.Series) -> pd.Series:
    text = values.astype("str").str.strip().fillna("")
    return text.where(text != "", ONBEKEND).astype("object")


def lettings_in_period(periods: pd.DataFrame, lettings: pd.DataFrame) -> np.ndarray:
    """Per seeker-period row: the lettings to that seeker (woningzoekende_id) dated within the period,
    ends included. Counted in DuckDB (assets/relational.py): pandas' merge of ~5 million national
    seeker periods with the lettings copied both frames first."""
    counted = relational.positions(
        """
        SELECT p._pos AS period, count(*) AS lettings
        FROM periods p
        JOIN lettings l ON p.woningzoekende_id = l.woningzoekende_id
        WHERE l.toewijzingsdatum >= p.periode_begin AND l.toewijzingsdatum <= p.periode_einde
        GROUP BY p._pos
        """,
        {
            "periods": (periods, ["woningzoekende_id", "periode_begin", "periode_einde"]),
            "lettings": (lettings, ["woningzoekende_id", "toewijzingsdatum"]),
        },
    )
    per_row = np.zeros(len(periods), dtype="int64")
    per_row[counted["period"]] = counted["lettings"]
    return per_row


def seeker_outcomes(seekers: pd.DataFrame, lettings: pd.DataFrame) -> pd.DataFrame:
    """Per seeker-period: membership of each definition's population and numerator. Pure function."""
    s = seekers.copy()
    s["gemeente_code"] = s["woongemeente_code"]
    s["jaar"] = pd.to_datetime(s["periode_begin"]).dt.year.astype("int64")
    s["actief"] = s["aantal_reacties"].fillna(0) >= 1
    housed = s["gehuisvest"].fillna(False).astype(bool)
    s["maaskoepel_noemer"] = s["actief"] | housed
    s["maaskoepel_teller"] = housed
    local_responses = s["aantal_reacties_woongemeente"].astype("Float64")
    s["lokaal_noemer"] = (local_responses.fillna(0) >= 1).astype(bool)
    s["lokaal_teller"] = s["lokaal_noemer"] & housed & (s["gehuisvest_gemeente_code"] == s["woongemeente_code"]).fillna(False).astype(bool)
    s["lokaal_bekend"] = local_responses.notna()
    s["toewijzingen_in_periode"] = lettings_in_period(s, lettings)
    s["eenvoudig_noemer"] = s["actief"]
    s["eenvoudig_teller"] = s["toewijzingen_in_periode"].where(s["actief"], 0)
    return s


def add_breakdown_columns(outcomes: pd.DataFrame, bands: pd.DataFrame) -> pd.DataFrame:
    """The breakdown value of each seeker-period (inkomensband empty in a year without bands)."""
    s = outcomes.copy()
    for column in ("inkomensklasse", "leeftijdsklasse"):
        s[column] = _text_or_onbekend(s[column])
    s["kern"] = _text_or_onbekend(s["woonkern"])
    s["doelgroep"] = s["inkomensklasse"].map(DOELGROEP_UIT_INKOMENSKLASSE).fillna(ONBEKEND)
    s["huishoudgrootte"] = huishoudgrootte_klasse(s["huishoudgrootte"])
    s["inkomensband"] = inkomensband(s["huishoudinkomen"], s["jaar"], bands)
    return s


def _aggregate(outcomes: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Numerator and denominator of every definition per period and `by`, from ONE grouping: working
    out the groups of ~5 million national seeker periods is the cost, not the sums, and a grouping per
    definition worked them out three times (compute_slaagkans 32.5 -> 21.8 s nationally).

    The local definition counts a period only when every seeker in it has a known local response
    count. Every row falls in exactly one group (dropna=False) and a group in one period, so a period
    is known when all its groups are."""
    keys = PERIOD_KEYS + by
    measures = {f"{definition}_{part}": (f"{definition}_{part}", "sum")
                for definition in DEFINITIONS for part in ("teller", "noemer")}
    g = outcomes.groupby(keys, dropna=False, observed=True).agg(**measures, _bekend=("lokaal_bekend", "all"))
    g = g.reset_index()
    period_known = g.groupby(PERIOD_KEYS, dropna=False, observed=True)["_bekend"].transform("all")
    rows = []
    for definition in DEFINITIONS:
        part = g[period_known] if definition == "lokaal" else g
        part = part[keys].assign(
            numerator=part[f"{definition}_teller"], denominator=part[f"{definition}_noemer"], definition_id=definition
        )
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def compute_slaagkans(
    seekers: pd.DataFrame,
    lettings: pd.DataFrame,
    gemeente_namen: dict[str, str],
    bands: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Tidy KPI rows (before suppression). `bands` = the income-band table; None reads
    reference/inkomensklassen.csv."""
    bands = load_inkomensbanden() if bands is None else bands
    outcomes = add_breakdown_columns(seeker_outcomes(seekers, lettings), bands)
    # Only what the aggregation reads, its text keys as categories: 21 groupbys over the same keys
    # of ~5 million national seeker periods then group integer codes, on a narrow frame.
    measures = [f"{definition}_{part}" for definition in DEFINITIONS for part in ("teller", "noemer")]
    outcomes = outcomes[[*PERIOD_KEYS, *BREAKDOWNS, "lokaal_bekend", *measures]]
    text_keys = ["gemeente_code", *BREAKDOWNS]
    dtypes = {column: outcomes[column].dtype for column in text_keys}
    outcomes = outcomes.astype({column: "category" for column in text_keys})
    parts = []
    total = _aggregate(outcomes, [])
    total["uitsplitsing"] = TOTAAL
    parts.append(total)
    for breakdown in BREAKDOWNS:
        population = outcomes[outcomes[breakdown].notna()]  # inkomensband: only years with bands
        if population.empty:
            continue
        part = _aggregate(population, [breakdown])
        part["uitsplitsing"] = breakdown
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.astype({column: dtypes[column] for column in text_keys if column in out.columns})
    for breakdown in BREAKDOWNS:
        if breakdown not in out.columns:  # inkomensband in a file without any year that has bands
            out[breakdown] = ALLE
        out[breakdown] = out[breakdown].where(out["uitsplitsing"] == breakdown, ALLE).astype("str")
    out["numerator"] = out["numerator"].astype("float64")
    out["denominator"] = out["denominator"].astype("float64")
    out["value"] = ratio(out["numerator"], out["denominator"])
    out["unit"] = "%"
    out["indicator"] = "slaagkans"
    out["corporatie"] = ALLE
    out["gemeente_naam"] = out["gemeente_code"].map(gemeente_namen)
    out["partial_period"] = ~is_full_year(out["periode_begin"], out["periode_einde"])
    out["definition_version"] = DEFINITION_VERSION
    return out


def is_full_year(begin: pd.Series, einde: pd.Series) -> pd.Series:
    b = pd.to_datetime(begin)
    e = pd.to_datetime(einde)
    return (b.dt.month == 1) & (b.dt.day == 1) & (e.dt.month == 12) & (e.dt.day == 31) & (b.dt.year == e.dt.year)


def _markdown(frame: pd.DataFrame) -> str:
    return summary_markdown(frame)


@dg.asset(
    **kpi_asset_args(
        TABLE,
        "maaskoepel v1, lokaal v1, eenvoudig v1",
        "DESIGN.md §5 slaagkans",
        inkomensbanden="reference/inkomensklassen.csv",
        ins={"stg_woningzoekenden": gemeente_in("stg_woningzoekenden", "woongemeente_code"), "stg_toewijzingen": gemeente_in("stg_toewijzingen", None)},
    )
)
def kpi_slaagkans(
    context: dg.AssetExecutionContext,
    kpi_settings: KpiSettings,
    stg_woningzoekenden: pd.DataFrame,
    stg_toewijzingen: pd.DataFrame,
) -> dg.Output:
    names = names_by_code(stg_woningzoekenden, "woongemeente_code", "woongemeente_naam")
    bands = load_inkomensbanden()
    frame = compute_slaagkans(stg_woningzoekenden, stg_toewijzingen, names, bands)
    frame = finish(
        TABLE,
        frame,
        gemeenten=gemeenten_of(context),
        snapshot=snapshot_by_gemeente(gemeenten_of(context), (stg_woningzoekenden, "woongemeente_code"), (stg_toewijzingen, None)),
        suppression_threshold=kpi_settings.suppressie_drempel,
    )
    wz = "stg_woningzoekenden"
    lineage = column_lineage(
        TABLE,
        {
            "numerator": [(wz, "gehuisvest"), (wz, "gehuisvest_gemeente_code"), ("stg_toewijzingen", "woningzoekende_id"), ("stg_toewijzingen", "toewijzingsdatum")],
            "denominator": [(wz, "aantal_reacties"), (wz, "aantal_reacties_woongemeente"), (wz, "gehuisvest")],
            "gemeente_code": [(wz, "woongemeente_code")],
            "gemeente_naam": [(wz, "woongemeente_naam")],
            "inkomensklasse": [(wz, "inkomensklasse")],
            "leeftijdsklasse": [(wz, "leeftijdsklasse")],
            "kern": [(wz, "woonkern")],
            "doelgroep": [(wz, "inkomensklasse")],
            "huishoudgrootte": [(wz, "huishoudgrootte")],
            "inkomensband": [(wz, "huishoudinkomen"), (wz, "periode_begin")],
            "jaar": [(wz, "periode_begin")],
            "periode_begin": [(wz, "periode_begin")],
            "periode_einde": [(wz, "periode_einde")],
            "partial_period": [(wz, "periode_begin"), (wz, "periode_einde")],
        },
    )
    zonder_banden = jaren_zonder_inkomensbanden(stg_woningzoekenden, bands)
    headline = frame[frame["uitsplitsing"] == TOTAAL]
    partial = headline.loc[headline["partial_period"].astype(bool), ["periode_begin", "periode_einde"]].drop_duplicates()
    extra: dict[str, Any] = {
        "dagster/column_lineage": lineage,
        "slaagkans_totaal": dg.MetadataValue.md(
            _markdown(headline[["gemeente_naam", "jaar", "periode_begin", "periode_einde", "definition_id", "value", "partial_period"]])
        ),
        "uitsplitsingen": list(UITSPLITSINGEN),
        "inkomensband_jaren": sorted(int(y) for y in bands["year"].unique()),
        "inkomensband_ontbreekt_jaren": dg.MetadataValue.json(zonder_banden),
        "inkomensband_toelichting": (
            "Inkomensbanden alleen voor jaren in reference/inkomensklassen.csv; voor "
            + (", ".join(str(y) for y in zonder_banden) or "geen enkel jaar")
            + " is de uitsplitsing weggelaten (niet geschat)."
        ),
        "inkomensband_confidence": ", ".join(sorted(set(bands["confidence"]))) or "geen",
        "doelgroep_bron": "afgeleid uit inkomensklasse: primair/secundair = DAEB-doelgroep, midden/hoog = boven DAEB-grens",
        "lokaal_per_kern": (
            "woningzoekenden uit de kern die reageerden op aanbod in de eigen gemeente; teller = van hen "
            "gehuisvest in de eigen gemeente (niet: in de eigen kern)"
        ),
        "deelperioden": dg.MetadataValue.json(
            [f"{pd.Timestamp(b).date()}..{pd.Timestamp(e).date()}" for b, e in partial.itertuples(index=False)]
        ),
        "suppressie_drempel": kpi_settings.suppressie_drempel,
    }
    return dg.Output(frame, metadata=table_metadata(frame, TABLE, **extra))
