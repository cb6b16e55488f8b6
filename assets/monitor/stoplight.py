"""The stoplight: one row per agreement with target, realisation, status and explanation (DESIGN.md §6).

`stoplight_rows(sets, tables, as_of)` is a pure function of the agreements (agreements/*.yaml), the
KPI tables (name -> DataFrame, as published) and the reporting date. Statuses:

- **groen**: done, or on schedule; **geel**: needs action (on the wrong side, but within the
  tolerance); **rood**: behind schedule or not started;
- no colour, **"nog niet te beoordelen"**: nothing is due yet, the data do not cover the period,
  the realisation is suppressed (small cells: shown as "onderdrukt", never as 0), or a steward has
  not judged a manual agreement yet.

Rules for KPI-bound agreements (the row states which one, with its parameters):

- `linear_trajectory`: the straight line from the baseline (value at the end of the baseline year)
  to the target (end of the target year). The realisation at the data's latest date is compared with
  the line at that date; in the target year itself with the target.
- `pro_rata`: a quota for a period, due in proportion to the elapsed part of it. Without
  `cumulative_from` a quota per calendar year (e.g. >= 1,000 lettings a year: by 30 September 75 %
  of it); with `cumulative_from` the sum of the yearly values from that year, against the quota for
  the whole period up to the target year.
- `threshold`: a norm per year (a share >= or <= the target), judged on the latest year in the
  agreement's window; a partial year is judged provisionally and flagged.
- `growth_ratio`: the observed growth per year since the baseline against the growth per year the
  target requires (tolerance: a percentage of the required pace).

Tolerance: an amount in the KPI's unit, or "n%" of the task (|target - baseline|; |target| for a
norm). Points dated after `as_of` are ignored, so a past reporting moment can be recomputed. The
data date of every row is the end of the latest period the judgement rests on (a stock peildatum, the
end of a reporting year, or the end of the last complete quarter of a year still running).

History: `append_history(previous, rows)` adds a run's rows to the history table
(monitor_stoplight_historie), replacing rows of the same run, so a dashboard can show how an
agreement's colour changed between reporting moments (`status_verloop`).
"""


import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from assets.common import ALLE, OWNERS, Column, column_schema
from assets.kpi import KPI_TABLES
from assets.partitions import GEMEENTE_PARTITIES, gemeenten_of
from assets.resources import WarehouseResource
from sources.agreements import Agreement, AgreementSet, KpiBinding, load_agreements
from warehouse import TableSpec

GROEN, GEEL, ROOD = "groen", "geel", "rood"
GEEN_OORDEEL = "nog niet te beoordelen"
STATUSES = (GROEN, GEEL, ROOD, GEEN_OORDEEL)
HANDMATIG = "handmatig"
MONITOR_SCHEMA = "monitor"
PROJECT_DIR = Path(__file__).resolve().parents[2]
KPI_BY_NAME = {table.name: table for table in KPI_TABLES}

RULE_LABELS = {
    "linear_trajectory": "lineair traject",
    "pro_rata": "naar rato",
    "threshold": "norm per jaar",
    "growth_ratio": "groeitempo",
    HANDMATIG: "oordeel datasteward",
}
COMPARISON_WORDS = {">=": "minstens", "<=": "hoogstens", "==": "precies"}


# --------------------------------------------------------------------------------------------------
# The published tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorTable:
    """A published monitor table (schema monitor): name, description, ordered typed columns."""

    name: str
    description: str
    columns: Sequence[Column]
    schema: str = MONITOR_SCHEMA

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def table_spec(self) -> TableSpec:
        return TableSpec(
            self.name, [(c.name, c.type) for c in self.columns], schema=self.schema, slice_columns=("gemeente_code",)
        )

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The contract's columns in order, each in the pandas dtype of its logical type."""
        missing = [c for c in self.column_names if c not in frame.columns]
        surplus = [c for c in frame.columns if c not in self.column_names]
        if missing or surplus:
            raise ValueError(f"{self.name}: kolommen wijken af van het contract; ontbreekt {missing}, extra {surplus}")
        out = pd.DataFrame(index=frame.index)
        for column in self.columns:
            values = frame[column.name]
            if column.type == "text":
                out[column.name] = values.astype("object").where(values.notna(), None).astype("str")
            elif column.type == "integer":
                out[column.name] = pd.to_numeric(values).astype("Int64")
            elif column.type == "double":
                out[column.name] = pd.to_numeric(values).astype("float64")
            elif column.type == "boolean":
                out[column.name] = values.astype("boolean").fillna(False).astype("bool")
            else:
                out[column.name] = pd.to_datetime(values).astype("datetime64[us]")
        return out.reset_index(drop=True)


STOPLIGHT_COLUMNS = [
    Column("gemeente_code", "text", "CBS-code van de gemeente (GM####)"),
    Column("gemeente_naam", "text", "Naam van de gemeente"),
    Column("periode", "text", "Looptijd van de afsprakenset (bijv. 2022-2025, of 2024 voor een jaarschijf)"),
    Column("agreement_id", "text", "Nummer van de afspraak zoals in het document (J 1.9, 6.3, M2)"),
    Column("jaar", "integer", "Jaar (jaarschijf) van de afspraak; leeg = de hele looptijd"),
    Column("thema", "text", "Thema van de afspraak"),
    Column("titel", "text", "Korte omschrijving van de afspraak"),
    Column("trekker", "text", "Partij die de afspraak trekt"),
    Column("prioriteit", "text", "Prioriteit (T1/T2/T3/doorlopend of vrije tekst)"),
    Column("kpi", "text", "KPI-tabel en indicator waaraan de afspraak is gekoppeld (tabel.indicator); leeg bij een handmatig oordeel"),
    Column("kpi_filters", "text", "De gekozen rij van de KPI-tabel: kolom=waarde; ..."),
    Column("eenheid", "text", "Eenheid van doelwaarde, realisatie en trajectwaarde"),
    Column("vergelijking", "text", ">=, <= of ==: hoe de realisatie met het doel wordt vergeleken"),
    Column("doelwaarde", "double", "Het doel van de afspraak"),
    Column("doeljaar", "integer", "Jaar waarin het doel gehaald moet zijn; leeg bij een norm per jaar"),
    Column("realisatie", "double", "Gerealiseerde waarde op peildatum_data; leeg als onderdrukt of onbekend (nooit 0 in plaats van onbekend)"),
    Column("onderdrukt", "boolean", "True als de realisatie uit een onderdrukte KPI-cel komt (te weinig waarnemingen); realisatie is dan leeg"),
    Column("trajectwaarde", "double", "Wat volgens de regel op peildatum_data bereikt had moeten zijn (bij een norm: de norm)"),
    Column("status", "text", "groen (gehaald of op schema), geel (actie nodig, binnen de tolerantie), rood (achter of niet gestart) of 'nog niet te beoordelen'"),
    Column("regel", "text", "Toetsregel: linear_trajectory, pro_rata, threshold, growth_ratio of handmatig"),
    Column("tolerantie", "text", "Tolerantie van de regel: in de eenheid van de KPI, of 'n %' van de opgave"),
    Column("berekend", "boolean", "True als de status uit de KPI-data is berekend; False bij een oordeel van de datasteward"),
    Column("toelichting", "text", "Uitleg van de status in gewone taal"),
    Column("peildatum_data", "date", "Einde van de laatste periode in de data waarop het oordeel rust (bij een handmatig oordeel: de datum van het oordeel)"),
    Column("gedeeltelijke_periode", "boolean", "True als die periode nog niet volledig is (voorlopig oordeel)"),
    Column("beoordelaar", "text", "Handmatig oordeel: wie"),
    Column("beoordeeld_op", "date", "Handmatig oordeel: datum"),
    Column("bewijs", "text", "Handmatig oordeel: waarop het rust (document, overleg)"),
    Column("zekerheid", "text", "Handmatig oordeel: hoog, middel of laag"),
    Column("as_of", "date", "Peildatum van de monitor: de stand per deze datum (data van later tellen niet mee)"),
]

STOPLIGHT = MonitorTable(
    name="monitor_stoplight",
    description=(
        "Stoplicht van de prestatieafspraken: per afspraak (agreements/*.yaml) het doel, de realisatie uit "
        "de KPI-tabellen of het oordeel van de datasteward, de trajectwaarde, de status (groen = gehaald of "
        "op schema, geel = actie nodig, rood = achter of niet gestart, 'nog niet te beoordelen' = niets "
        "verschuldigd of geen data), de toetsregel en een toelichting. Onderdrukte KPI-cellen blijven leeg "
        "(onderdrukt True), nooit 0."
    ),
    columns=STOPLIGHT_COLUMNS,
)
HISTORIE = MonitorTable(
    name="monitor_stoplight_historie",
    description=(
        "Alle stoplichtrijen van eerdere rapportagemomenten (sleutel gemeente_code + as_of), zodat een dashboard "
        "laat zien hoe de kleur van een afspraak veranderde. Een herhaalde run voor dezelfde peildatum vervangt "
        "de rijen van die peildatum. Welke run publiceerde staat in kpi.publicatie."
    ),
    columns=STOPLIGHT_COLUMNS,
)
AGREEMENT_KEY = ["gemeente_code", "periode", "agreement_id", "jaar"]


# --------------------------------------------------------------------------------------------------
# Agreements with the KPI registry
# --------------------------------------------------------------------------------------------------


def load_monitor_agreements(directory: str | Path) -> list[AgreementSet]:
    """agreements/*.yaml, with KPI tables and filter columns checked against the KPI registry."""
    return load_agreements(directory, kpi_columns={t.name: t.column_names for t in KPI_TABLES})


# --------------------------------------------------------------------------------------------------
# Numbers and dates in Dutch
# --------------------------------------------------------------------------------------------------


def fmt(value: float | None, unit: str | None = None) -> str:
    """4179 -> '4.179', 2507.4 -> '2.507,4', 76.3158 with unit % -> '76,3'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "onbekend"
    if abs(value - round(value)) <= 1e-9 and unit != "index":
        decimals = 0
    elif unit == "index" or abs(value) < 1:
        decimals = 2
    else:
        decimals = 1
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_unit(value: float | None, unit: str | None) -> str:
    text = fmt(value, unit)
    if text == "onbekend" or not unit:
        return text
    return f"{text} %" if unit == "%" else f"{text} {unit}"


def fmt_gap(value: float, unit: str | None) -> str:
    """A difference: percentage points for a share, with two decimals so it never reads as the tolerance."""
    if unit == "%":
        return f"{fmt(round(value, 2) + 0.0, 'index')} procentpunt"
    return fmt_unit(value, unit)


def fmt_date(day: Any) -> str:
    return pd.Timestamp(day).strftime("%d-%m-%Y")


def year_position(day: Any) -> float:
    """Time in years on a scale where the end of year Y is Y: 31-12-2023 -> 2023.0, 30-09-2025 -> 2024.75."""
    ts = pd.Timestamp(day)
    return ts.year - 1 + ts.day_of_year / (366 if ts.is_leap_year else 365)


def _reference_year(day: pd.Timestamp) -> int:
    """A stock list on 1 January describes the end of the previous year."""
    return day.year - 1 if day.month == 1 and day.day <= 7 else day.year


# --------------------------------------------------------------------------------------------------
# The KPI series an agreement is bound to
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """The bound KPI value for one period: its year, data date and flags."""

    jaar: int
    peildatum: pd.Timestamp
    value: float  # NaN when suppressed or missing
    suppressed: bool
    partial: bool
    unit: str | None
    value_to_date: float  # for counts in a year still running: the sum of its complete quarters
    exact_date: bool = True  # False: a partial period whose end date the data do not give

    @property
    def position(self) -> float:
        return year_position(self.peildatum)

    def period_label(self) -> str:
        if self.partial:
            return f"{self.jaar} t/m {fmt_date(self.peildatum)}" if self.exact_date else f"{self.jaar} (deel van het jaar)"
        return str(self.jaar)


@dataclass
class Series:
    points: list[Point]
    filters: dict[str, str]
    problem: str | None = None
    missing_years: list[int] = field(default_factory=list)

    @property
    def unit(self) -> str | None:
        return next((p.unit for p in self.points if p.unit), None)


class KpiTables(Mapping[str, pd.DataFrame]):
    """The KPI tables (name -> frame, as published) the stoplight and the reports read, with what
    every agreement asks of a table worked out once per table instead of once per agreement: its
    indicators, its dimensions with an 'alle' row, and each gemeente's rows. A run over many gemeente
    partitions hands the monitor all their rows at once (nationally 2.3 M Leefbaarometer rows), and a
    selection per agreement over the whole table copied every column of it each time."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self._tables = dict(tables)
        self._indicators: dict[str, frozenset[str]] = {}
        self._alle: dict[tuple[str, str], bool] = {}
        self._by_gemeente: dict[str, dict[str, pd.DataFrame]] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def indicators(self, name: str) -> frozenset[str]:
        """The indicators the whole table holds (any gemeente)."""
        if name not in self._indicators:
            self._indicators[name] = frozenset(self._tables[name]["indicator"].astype("str").unique())
        return self._indicators[name]

    def has_alle(self, name: str, column: str) -> bool:
        """Whether the whole table has the column and an 'alle' row in it."""
        key = (name, column)
        if key not in self._alle:
            frame = self._tables[name]
            self._alle[key] = column in frame.columns and bool((frame[column].astype("str") == ALLE).any())
        return self._alle[key]

    def rows_of(self, name: str, gemeente_code: str) -> pd.DataFrame:
        """The gemeente's rows of the table, in their order and with their index."""
        if name not in self._by_gemeente:
            frame = self._tables[name]
            # one grouping, whose parts are slices of the frame sorted once by gemeente
            codes = frame["gemeente_code"].astype("str")
            self._by_gemeente[name] = {str(code): part for code, part in frame.groupby(codes, sort=False)}
        part = self._by_gemeente[name].get(gemeente_code)
        return part if part is not None else self._tables[name].iloc[0:0]


def kpi_tables(tables: Mapping[str, pd.DataFrame]) -> KpiTables:
    return tables if isinstance(tables, KpiTables) else KpiTables(tables)


def effective_filters(binding: KpiBinding, tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """The binding's filters plus 'alle' for every text dimension (and corporatie) it leaves open
    where the table has an 'alle' row, so a binding never silently sums over a breakdown."""
    view = kpi_tables(tables)
    filters = dict(binding.filters)
    spec = KPI_BY_NAME.get(binding.table)
    dimensions = ["corporatie", *(c.name for c in spec.dimensions if c.type == "text")] if spec else ["corporatie"]
    for column in dimensions:
        if column not in filters and view.has_alle(binding.table, column):
            filters[column] = ALLE
    return filters


def _select(rows: pd.DataFrame, filters: Mapping[str, str]) -> pd.DataFrame:
    mask = pd.Series(True, index=rows.index)
    for column, value in filters.items():
        mask &= rows[column].astype("str") == value
    return rows[mask]


def data_dates(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(data date, reference year, exact) per row: the end of the row's period; exact is False where
    the table gives only a year and the date is its 31 December (a partial year then ends earlier)."""
    year_end = pd.to_datetime(rows["jaar"].astype("Int64").astype("str") + "-12-31", errors="coerce")
    years = rows["jaar"].astype("int64")
    for column in ("peildatum_eind", "periode_einde"):
        if column in rows.columns:
            return pd.to_datetime(rows[column]), years, pd.Series(True, index=rows.index)
    if "peildatum" in rows.columns:
        peildatum = pd.to_datetime(rows["peildatum"])
        reference = peildatum.map(lambda d: _reference_year(d) if pd.notna(d) else None)
        return peildatum.fillna(year_end), reference.where(peildatum.notna(), years).astype("int64"), peildatum.notna()
    return year_end, years, pd.Series(False, index=rows.index)


QUARTER_END = {"Q1": "03-31", "Q2": "06-30", "Q3": "09-30", "Q4": "12-31"}


def _to_date_of_running_year(quarters: pd.DataFrame, jaar: int) -> tuple[pd.Timestamp, float] | None:
    """End of the last complete quarter of a year still running, and the count up to it."""
    complete = quarters[(quarters["jaar"].astype("int64") == jaar) & ~quarters["partial_period"].astype("bool")]
    complete = complete[complete["kwartaal"].isin(list(QUARTER_END))]
    if complete.empty:
        return None
    last = sorted(complete["kwartaal"])[-1]
    return pd.Timestamp(f"{jaar}-{QUARTER_END[last]}"), float(complete["value"].astype("float64").sum())


def kpi_series(binding: KpiBinding, gemeente_code: str, tables: Mapping[str, pd.DataFrame]) -> Series:
    """One point per year for the bound KPI row of the gemeente; a problem text when the binding
    cannot be read (unknown table or indicator, or filters that leave several rows per period)."""
    view = kpi_tables(tables)
    if binding.table not in view:
        return Series([], dict(binding.filters), problem=f"KPI-tabel {binding.table} is niet aangeleverd aan de monitor")
    indicator = binding.filters["indicator"]
    if indicator not in view.indicators(binding.table):
        return Series([], dict(binding.filters), problem=f"indicator {indicator!r} komt niet voor in {binding.table}")
    filters = effective_filters(binding, view)
    own = view.rows_of(binding.table, gemeente_code)
    rows = _select(own, filters)
    if rows.empty:
        return Series([], filters)
    dates, years, exact_dates = data_dates(rows)
    rows = rows.assign(mon_datum=dates.to_numpy(), mon_jaar=years.to_numpy(), mon_exact=exact_dates.to_numpy())
    period_begin = next((c for c in ("periode_begin", "peildatum_begin") if c in rows.columns), None)
    keys = ["mon_jaar", "mon_datum", *([period_begin] if period_begin else [])]
    duplicated = rows[rows.duplicated(keys, keep=False)]
    if not duplicated.empty:
        varying = [
            c for c in duplicated.columns
            if c not in ("numerator", "denominator", "value", "run_id", "source_snapshot") and not c.startswith("mon_")
            and duplicated[c].astype("str").nunique() > 1
        ]
        return Series([], filters, problem=(
            f"de filters kiezen meer dan een rij per periode in {binding.table}; leg ook "
            f"{', '.join(varying) or 'de periode'} vast in filters"
        ))
    # Several periods in one year (quarters, a year to date): the one reaching furthest, then the longest.
    order = ["mon_jaar", "mon_datum", *([period_begin] if period_begin else [])]
    rows = rows.sort_values(order, ascending=[True, False, *([True] if period_begin else [])], kind="stable")
    rows = rows.drop_duplicates("mon_jaar", keep="first")
    quarters = None
    if "kwartaal" in own.columns and filters.get("kwartaal") == ALLE:
        others = {k: v for k, v in filters.items() if k != "kwartaal"}
        quarters = _select(own, others)
        quarters = quarters[quarters["kwartaal"].astype("str") != ALLE]
    points = []
    for row in rows.itertuples(index=False):
        value = float(row.value) if pd.notna(row.value) else float("nan")
        suppressed = bool(row.suppressed) if pd.notna(row.suppressed) else False
        partial = bool(row.partial_period) if pd.notna(row.partial_period) else False
        peildatum, to_date, exact = pd.Timestamp(row.mon_datum), value, bool(row.mon_exact) or not partial
        found = _to_date_of_running_year(quarters, int(row.mon_jaar)) if partial and quarters is not None else None
        if found is not None:
            peildatum, exact = found[0], True
            to_date = found[1] if pd.isna(row.denominator) else value  # counts: the complete quarters only
        points.append(Point(
            jaar=int(row.mon_jaar), peildatum=peildatum, value=value, suppressed=suppressed, partial=partial,
            unit=str(row.unit) if pd.notna(row.unit) else None, value_to_date=to_date, exact_date=exact,
        ))
    return Series(points, filters)


def cumulative(series: Series, start_year: int) -> Series:
    """Running sums of the yearly values from start_year. A year missing in between ends the run
    (listed in missing_years); after a suppressed or empty year the sums are unknown (and flagged
    suppressed when a suppressed cell is the cause), never a sum that silently skips a year."""
    by_year = {p.jaar: p for p in series.points if p.jaar >= start_year}
    out: list[Point] = []
    missing: list[int] = []
    total = 0.0
    unknown = suppressed = False
    for year in range(start_year, max(by_year, default=start_year - 1) + 1):
        point = by_year.get(year)
        if point is None:
            missing = [y for y in range(year, max(by_year) + 1) if y not in by_year]
            break
        suppressed = suppressed or point.suppressed
        unknown = unknown or suppressed or math.isnan(point.value)
        value = float("nan") if unknown else total + point.value
        to_date = float("nan") if unknown else total + point.value_to_date
        out.append(Point(point.jaar, point.peildatum, value, suppressed, point.partial, point.unit, to_date,
                         point.exact_date))
        if not unknown:
            total += point.value
    return Series(out, series.filters, series.problem, missing)


# --------------------------------------------------------------------------------------------------
# Judging one agreement
# --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    toelichting: str
    realisatie: float = float("nan")
    trajectwaarde: float = float("nan")
    onderdrukt: bool = False
    peildatum: pd.Timestamp | None = None
    gedeeltelijk: bool = False
    eenheid: str | None = None
    filters: dict[str, str] = field(default_factory=dict)


def shortfall(value: float, target: float, comparison: str) -> float:
    """How far the value is on the wrong side of the target (0 when it meets it)."""
    if comparison == ">=":
        return max(0.0, target - value)
    if comparison == "<=":
        return max(0.0, value - target)
    return abs(value - target)


def grade(gap: float, tolerance: float) -> str:
    if gap <= 1e-9:
        return GROEN
    return GEEL if gap <= tolerance + 1e-9 else ROOD


def _side(comparison: str) -> str:
    return {">=": "onder", "<=": "boven"}.get(comparison, "naast")


def _wait(reason: str, **kwargs: Any) -> Outcome:
    return Outcome(GEEN_OORDEEL, f"Nog niet te beoordelen: {reason}", **kwargs)


@dataclass(frozen=True)
class Context:
    agreement_set: AgreementSet
    agreement: Agreement
    binding: KpiBinding
    as_of: pd.Timestamp

    @property
    def gemeente(self) -> str:
        return self.agreement_set.gemeente.naam

    def window(self) -> tuple[int, int]:
        """Years the agreement is judged on."""
        b, a, period = self.binding, self.agreement, self.agreement_set.period
        if b.rule in ("linear_trajectory", "growth_ratio") or (b.rule == "pro_rata" and b.cumulative_from is not None):
            assert b.target_year is not None
            start = b.cumulative_from if b.cumulative_from is not None else (b.baseline.year + 1 if b.baseline else period.start)
            return start, b.target_year
        if b.target_year is not None:
            return b.target_year, b.target_year
        year = a.year
        return (year, year) if year is not None else (period.start, period.end)


def _years(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}-{end}"


def _no_data(ctx: Context, series: Series, start: int, end: int) -> Outcome:
    what = f"{ctx.binding.table} ({ctx.binding.filters['indicator']})"
    latest = max((p for p in series.points if p.peildatum <= ctx.as_of), key=lambda p: p.jaar, default=None)
    if latest is None:
        reason = f"de data dekken {ctx.gemeente} niet: geen rijen in {what} voor deze gemeente"
    else:
        reason = f"de data dekken {_years(start, end)} niet: geen rijen in {what}; laatste jaar met data: {latest.jaar}"
    return _wait(reason + ".", filters=series.filters, eenheid=series.unit)


def _stale_note(ctx: Context, point: Point, end: int) -> str:
    expected = min(end, ctx.as_of.year - 1 if ctx.as_of.month < 2 else ctx.as_of.year)
    if point.jaar < expected:
        return f" Let op: de data voor {_years(point.jaar + 1, expected)} ontbreken; het oordeel rust op {point.jaar}."
    return ""


def _provisional(point: Point) -> str:
    return " Voorlopig: de periode is nog niet volledig." if point.partial else ""


def _suppressed(ctx: Context, point: Point, series: Series) -> Outcome:
    return _wait(
        f"de realisatie {point.period_label()} is onderdrukt (te weinig waarnemingen, kleine-aantallenregel) "
        "en wordt niet als getal getoond.",
        onderdrukt=True, peildatum=point.peildatum, gedeeltelijk=point.partial, eenheid=series.unit,
        filters=series.filters,
    )


def judge_threshold(ctx: Context, series: Series) -> Outcome:
    b = ctx.binding
    start, end = ctx.window()
    unit = series.unit
    known = [p for p in series.points if p.peildatum <= ctx.as_of]
    candidates = [p for p in known if start <= p.jaar <= end]
    note = ""
    if not candidates and b.use_latest_measurement:
        earlier = [p for p in known if p.jaar <= end]
        if earlier:
            candidates = [earlier[-1]]
            note = f" {end} heeft geen meting; de laatste meting ervoor ({earlier[-1].jaar}) telt."
    if not candidates:
        return _no_data(ctx, series, start, end)
    point = candidates[-1]
    common = {"peildatum": point.peildatum, "gedeeltelijk": point.partial, "eenheid": unit,
              "filters": series.filters, "trajectwaarde": b.target}
    if point.suppressed:
        return _suppressed(ctx, point, series)
    if math.isnan(point.value):
        return _wait(f"{b.table} geeft voor {point.period_label()} geen waarde.", **common)
    tolerance = b.tolerance.absolute(b.target)
    gap = shortfall(point.value, b.target, b.comparison)
    status = grade(gap, tolerance)
    norm = f"{COMPARISON_WORDS[b.comparison]} {fmt_unit(b.target, unit)}"
    head = f"Norm: {norm}{' per jaar' if b.target_year is None else f' in {b.target_year}'}. Realisatie {point.period_label()}: {fmt_unit(point.value, unit)}"
    if status == GROEN:
        verdict = "norm gehaald."
    elif status == GEEL:
        verdict = f"{fmt_gap(gap, unit)} {_side(b.comparison)} de norm, binnen de tolerantie van {fmt_gap(tolerance, unit)}: actie nodig."
    else:
        verdict = f"{fmt_gap(gap, unit)} {_side(b.comparison)} de norm (tolerantie {fmt_gap(tolerance, unit)}): niet gehaald."
    text = f"{head}: {verdict}{note}{_provisional(point)}{_stale_note(ctx, point, end)}"
    return Outcome(status, text, realisatie=point.value, **common)


def _baseline(ctx: Context, series: Series) -> tuple[float, int] | str:
    """(value, year) the trajectory starts from, or why it cannot be had."""
    b = ctx.binding
    if b.cumulative_from is not None:
        return 0.0, b.cumulative_from - 1
    assert b.baseline is not None
    if b.baseline.value is not None:
        return b.baseline.value, b.baseline.year
    point = next((p for p in series.points if p.jaar == b.baseline.year and not p.partial), None)
    if point is None or point.suppressed or math.isnan(point.value):
        return f"de basiswaarde ({b.table}, {b.filters['indicator']}, eind {b.baseline.year}) ontbreekt in de data"
    return point.value, b.baseline.year


def judge_trajectory(ctx: Context, series: Series) -> Outcome:
    """linear_trajectory, growth_ratio and the cumulative pro_rata: a line from baseline to target."""
    b = ctx.binding
    assert b.target_year is not None
    start, end = ctx.window()
    unit = series.unit
    if b.cumulative_from is not None:
        series = cumulative(series, b.cumulative_from)
    base = _baseline(ctx, series)
    if isinstance(base, str):
        return _wait(base + ".", filters=series.filters, eenheid=unit)
    b0, by = base
    known = [p for p in series.points if p.peildatum <= ctx.as_of and p.jaar <= b.target_year]
    candidates = [p for p in known if p.jaar > by and p.position > by]
    if not candidates:
        if series.missing_years and b.cumulative_from is not None:
            missing = ", ".join(map(str, series.missing_years))
            return _wait(
                f"de optelling vanaf {b.cumulative_from} mist de jaren {missing} in {b.table}.",
                filters=series.filters, eenheid=unit,
            )
        if known:
            return _wait(f"nog geen data na het basisjaar {by} (laatste data: {known[-1].jaar}).",
                         filters=series.filters, eenheid=unit)
        return _no_data(ctx, series, start, end)
    point = candidates[-1]
    if point.suppressed:
        return _suppressed(ctx, point, series)
    value = point.value_to_date if b.rule == "pro_rata" else point.value
    if math.isnan(value):
        return _wait(f"{b.table} geeft voor {point.period_label()} geen waarde.", filters=series.filters, eenheid=unit)
    position = point.position if point.exact_date else year_position(min(ctx.as_of, pd.Timestamp(f"{point.jaar}-12-31")))
    fraction = min(1.0, max(0.0, (position - by) / (b.target_year - by)))
    expected = b0 + (b.target - b0) * fraction
    tolerance_abs = b.tolerance.absolute(b.target - b0)
    common = {"realisatie": value, "trajectwaarde": expected, "peildatum": point.peildatum,
              "gedeeltelijk": point.partial, "eenheid": unit, "filters": series.filters}
    if b.cumulative_from is not None:
        what = f"opgeteld vanaf {b.cumulative_from}"
        start_text = f"0 eind {by}"
    else:
        what = ""
        start_text = f"{fmt_unit(b0, unit)} eind {by}"
    if b.rule == "pro_rata":
        line = (f"Quotum van {fmt_unit(b.target, unit)} over {_years(by + 1, b.target_year)}, "
                f"naar rato van de verstreken looptijd")
    else:
        line = f"{RULE_LABELS[b.rule].capitalize()} van {start_text} naar {fmt_unit(b.target, unit)} eind {b.target_year}"
    realised = f"Realisatie{' ' + what if what else ''} t/m {fmt_date(point.peildatum)}: {fmt_unit(value, unit)}"
    final = point.jaar == b.target_year and not point.partial
    if final:
        gap = shortfall(value, b.target, b.comparison)
        status = grade(gap, tolerance_abs)
        verdict = {
            GROEN: "doel gehaald.",
            GEEL: f"doel net niet gehaald ({fmt_gap(gap, unit)} {_side(b.comparison)} het doel, binnen de tolerantie van {fmt_gap(tolerance_abs, unit)}).",
            ROOD: f"doel niet gehaald ({fmt_gap(gap, unit)} {_side(b.comparison)} het doel).",
        }[status]
        return Outcome(status, f"{line}. {realised}: {verdict}", **common)
    if shortfall(value, b.target, b.comparison) <= 1e-9 and b.comparison != "==":
        return Outcome(GROEN, f"{line}. {realised}: het doel is al gehaald.{_provisional(point)}", **common)
    expected_text = f"volgens {'de looptijd' if b.rule == 'pro_rata' else 'het traject'} hoort daar {fmt_unit(expected, unit)} te staan"
    if b.rule == "growth_ratio" and abs(expected - b0) > 1e-9:
        years = max(position - by, 1e-9)
        observed_rate = (value - b0) / years
        required_rate = (b.target - b0) / (b.target_year - by)
        ratio = (value - b0) / (expected - b0)
        status = GROEN if ratio >= 1 - 1e-9 else (GEEL if ratio >= 1 - b.tolerance.amount / 100 - 1e-9 else ROOD)
        pace = (f"gemiddeld {fmt_unit(observed_rate, unit)} per jaar sinds eind {by}, nodig {fmt_unit(required_rate, unit)} "
                f"per jaar ({fmt(ratio * 100, '%')} % van het benodigde tempo)")
        verdict = {
            GROEN: "op schema.",
            GEEL: f"binnen de tolerantie ({b.tolerance}) achter op het benodigde tempo: actie nodig.",
            ROOD: f"achter op het benodigde tempo (tolerantie {b.tolerance}): achter op schema.",
        }[status]
        return Outcome(status, f"{line}. {realised}; {pace}: {verdict}{_provisional(point)}", **common)
    gap = shortfall(value, expected, b.comparison)
    status = grade(gap, tolerance_abs)
    verdict = {
        GROEN: "op schema.",
        GEEL: f"{fmt_gap(gap, unit)} achter op het traject, binnen de tolerantie van {fmt_gap(tolerance_abs, unit)}: actie nodig.",
        ROOD: f"{fmt_gap(gap, unit)} achter op het traject (tolerantie {fmt_gap(tolerance_abs, unit)}): achter op schema.",
    }[status]
    return Outcome(status, f"{line}. {realised}; {expected_text}: {verdict}{_provisional(point)}", **common)


def judge_pro_rata_year(ctx: Context, series: Series) -> Outcome:
    """A quota per calendar year, due in proportion to the part of the year the data cover."""
    b = ctx.binding
    start, end = ctx.window()
    unit = series.unit
    candidates = [p for p in series.points if p.peildatum <= ctx.as_of and start <= p.jaar <= end]
    if not candidates:
        return _no_data(ctx, series, start, end)
    point = candidates[-1]
    if point.suppressed:
        return _suppressed(ctx, point, series)
    value = point.value_to_date
    if math.isnan(value):
        return _wait(f"{b.table} geeft voor {point.period_label()} geen waarde.", filters=series.filters, eenheid=unit)
    position = point.position if point.exact_date else year_position(min(ctx.as_of, pd.Timestamp(f"{point.jaar}-12-31")))
    fraction = min(1.0, max(0.0, position - (point.jaar - 1)))
    expected = b.target * fraction
    tolerance_abs = b.tolerance.absolute(b.target)
    gap = shortfall(value, expected, b.comparison)
    status = grade(gap, tolerance_abs * fraction)
    quota = f"Quotum: {COMPARISON_WORDS[b.comparison]} {fmt_unit(b.target, unit)} per jaar"
    if fraction < 1:
        due = (f"; naar rato van {fmt(fraction * 100, '%')} % van het jaar hoort daar {fmt_unit(expected, unit)} te staan"
               + ("" if point.exact_date else f" (einddatum van de deelperiode onbekend; gerekend tot {fmt_date(min(ctx.as_of, pd.Timestamp(f'{point.jaar}-12-31')))})"))
    else:
        due = ""
    verdict = {
        GROEN: "op schema." if fraction < 1 else "quotum gehaald.",
        GEEL: f"{fmt_gap(gap, unit)} {_side(b.comparison)} het quotum, binnen de tolerantie: actie nodig.",
        ROOD: f"{fmt_gap(gap, unit)} {_side(b.comparison)} het quotum: {'achter op schema' if fraction < 1 else 'niet gehaald'}.",
    }[status]
    text = f"{quota}. Realisatie {point.period_label()}: {fmt_unit(value, unit)}{due}: {verdict}{_stale_note(ctx, point, end)}"
    return Outcome(status, text, realisatie=value, trajectwaarde=expected, peildatum=point.peildatum,
                   gedeeltelijk=point.partial, eenheid=unit, filters=series.filters)


def judge_binding(
    agreement_set: AgreementSet, agreement: Agreement, tables: Mapping[str, pd.DataFrame], as_of: date | pd.Timestamp
) -> Outcome:
    """The outcome of one KPI-bound agreement at as_of. Pure function."""
    binding = agreement.kpi
    assert binding is not None
    ctx = Context(agreement_set, agreement, binding, pd.Timestamp(as_of))
    start, _ = ctx.window()
    if ctx.as_of < pd.Timestamp(f"{start}-01-01"):
        return _wait(f"de afspraak loopt vanaf {start}; per {fmt_date(ctx.as_of)} is er nog niets te toetsen.")
    series = kpi_series(binding, agreement_set.gemeente.code, tables)
    if series.problem:
        return _wait(f"configuratie: {series.problem}.", filters=series.filters)
    if binding.rule == "threshold":
        return judge_threshold(ctx, series)
    if binding.rule == "pro_rata" and binding.cumulative_from is None:
        return judge_pro_rata_year(ctx, series)
    return judge_trajectory(ctx, series)


def judge_manual(agreement: Agreement, as_of: date | pd.Timestamp) -> tuple[Outcome, Any]:
    """The steward's latest judgement on or before as_of (and the judgement itself, or None)."""
    manual = agreement.manual
    assert manual is not None
    judgement = manual.latest(pd.Timestamp(as_of).date())
    if judgement is None:
        return _wait(f"nog geen oordeel van de datasteward. Handmatig omdat: {manual.reason}"), None
    text = f"{judgement.explanation} (Handmatig beoordeeld omdat: {manual.reason})"
    return Outcome(judgement.status, text, peildatum=pd.Timestamp(judgement.date)), judgement


@dataclass(frozen=True)
class Trend:
    """What a trend chart of a KPI-bound agreement shows: the realised points up to as_of
    (running sums when the binding adds up years), the target and, for trajectory rules, the line."""

    points: list[Point]
    target: float
    target_year: int | None
    window: tuple[int, int]
    trajectory: tuple[tuple[float, float], tuple[float, float]] | None
    unit: str | None
    comparison: str
    rule: str
    cumulative_from: int | None


def trend(
    agreement_set: AgreementSet, agreement: Agreement, tables: Mapping[str, pd.DataFrame], as_of: date | pd.Timestamp
) -> Trend | None:
    binding = agreement.kpi
    if binding is None:
        return None
    ctx = Context(agreement_set, agreement, binding, pd.Timestamp(as_of))
    series = kpi_series(binding, agreement_set.gemeente.code, tables)
    if binding.cumulative_from is not None:
        series = cumulative(series, binding.cumulative_from)
    trajectory = None
    if binding.target_year is not None and (
        binding.rule in ("linear_trajectory", "growth_ratio") or binding.cumulative_from is not None
    ):
        base = _baseline(ctx, series)
        if not isinstance(base, str):
            trajectory = ((float(base[1]), base[0]), (float(binding.target_year), binding.target))
    return Trend(
        points=[p for p in series.points if p.peildatum <= ctx.as_of],
        target=binding.target,
        target_year=binding.target_year,
        window=ctx.window(),
        trajectory=trajectory,
        unit=series.unit,
        comparison=binding.comparison,
        rule=binding.rule,
        cumulative_from=binding.cumulative_from,
    )


# --------------------------------------------------------------------------------------------------
# The stoplight table
# --------------------------------------------------------------------------------------------------


def stoplight_rows(
    sets: Sequence[AgreementSet], tables: Mapping[str, pd.DataFrame], as_of: date | pd.Timestamp
) -> pd.DataFrame:
    """One row per agreement, in the order of the files. Pure function."""
    records = []
    tables = kpi_tables(tables)
    for agreement_set in sets:
        for agreement in agreement_set.agreements:
            judgement = None
            binding = agreement.kpi
            if binding is not None:
                outcome = judge_binding(agreement_set, agreement, tables, as_of)
            else:
                outcome, judgement = judge_manual(agreement, as_of)
            toelichting = outcome.toelichting
            if binding is not None and binding.note:
                toelichting += f" ({binding.note})"
            records.append({
                "gemeente_code": agreement_set.gemeente.code,
                "gemeente_naam": agreement_set.gemeente.naam,
                "periode": agreement_set.period.label,
                "agreement_id": agreement.id,
                "jaar": agreement.year,
                "thema": agreement.theme,
                "titel": agreement.title,
                "trekker": agreement.trekker,
                "prioriteit": agreement.priority,
                "kpi": f"{binding.table}.{binding.filters['indicator']}" if binding else None,
                "kpi_filters": "; ".join(f"{k}={v}" for k, v in (outcome.filters or (binding.filters if binding else {})).items()
                                         if k != "indicator") or None,
                "eenheid": outcome.eenheid,
                "vergelijking": binding.comparison if binding else None,
                "doelwaarde": binding.target if binding else float("nan"),
                "doeljaar": binding.target_year if binding else None,
                "realisatie": outcome.realisatie,
                "onderdrukt": outcome.onderdrukt,
                "trajectwaarde": outcome.trajectwaarde,
                "status": outcome.status,
                "regel": binding.rule if binding else HANDMATIG,
                "tolerantie": str(binding.tolerance) if binding else None,
                "berekend": binding is not None,
                "toelichting": toelichting,
                "peildatum_data": outcome.peildatum,
                "gedeeltelijke_periode": outcome.gedeeltelijk,
                "beoordelaar": judgement.author if judgement else None,
                "beoordeeld_op": pd.Timestamp(judgement.date) if judgement else None,
                "bewijs": judgement.evidence if judgement else None,
                "zekerheid": judgement.confidence if judgement else None,
                "as_of": pd.Timestamp(as_of),
            })
    frame = pd.DataFrame(records, columns=STOPLIGHT.column_names)
    return STOPLIGHT.conform(frame)


def append_history(previous: pd.DataFrame | None, rows: pd.DataFrame) -> pd.DataFrame:
    """The history with this reporting moment's rows added; earlier rows of the same gemeente and
    as_of (a re-run) are replaced, so the same inputs give the same history. Pure."""
    new = HISTORIE.conform(rows)
    if previous is None or previous.empty:
        return new
    # Rows stored under an older column layout keep the columns they share with today's.
    previous = previous.reindex(columns=HISTORIE.column_names)
    moment = previous["gemeente_code"].astype("str") + "|" + pd.to_datetime(previous["as_of"]).astype("str")
    replaced = set(new["gemeente_code"].astype("str") + "|" + pd.to_datetime(new["as_of"]).astype("str"))
    kept = previous[~moment.isin(replaced)]
    combined = pd.concat([HISTORIE.conform(kept), new], ignore_index=True)
    return combined.sort_values(["gemeente_code", "as_of"], kind="stable").reset_index(drop=True)


def status_verloop(history: pd.DataFrame) -> pd.DataFrame:
    """Per agreement the sequence of colours over reporting moments, e.g. 'geel (31-01-2025) -> groen
    (31-01-2026)': one entry per as_of (its latest run), repeated colours collapsed."""
    columns = [*AGREEMENT_KEY, "verloop", "vorige_status"]
    if history is None or history.empty:
        return pd.DataFrame(columns=columns)
    frame = history.copy()
    frame["_order"] = range(len(frame))
    frame["mon_jaar"] = frame["jaar"].astype("Int64").fillna(-1)
    frame = frame.sort_values(["as_of", "_order"]).drop_duplicates([*AGREEMENT_KEY[:-1], "mon_jaar", "as_of"], keep="last")
    out = []
    for key, group in frame.groupby([*AGREEMENT_KEY[:-1], "mon_jaar"], sort=False):
        steps: list[tuple[str, Any]] = []
        for row in group.itertuples(index=False):
            if not steps or steps[-1][0] != row.status:
                steps.append((row.status, row.as_of))
        text = " -> ".join(f"{status} ({fmt_date(day)})" for status, day in steps)
        previous = steps[-2][0] if len(steps) > 1 else None
        jaar = None if key[3] == -1 else int(key[3])
        out.append({"gemeente_code": key[0], "periode": key[1], "agreement_id": key[2], "jaar": jaar,
                    "verloop": text, "vorige_status": previous})
    result = pd.DataFrame(out, columns=columns)
    result["jaar"] = result["jaar"].astype("Int64")
    return result


# --------------------------------------------------------------------------------------------------
# Dagster
# --------------------------------------------------------------------------------------------------


class MonitorSettings(dg.ConfigurableResource):
    """Where the agreements and the reports are, and the reporting date of the monitor."""

    agreements_dir: str = str(PROJECT_DIR / "agreements")
    report_dir: str = str(PROJECT_DIR / "out" / "rapport")
    as_of: str = ""  # yyyy-mm-dd; empty = today. Tests and re-runs of an old reporting moment set it.

    def as_of_date(self) -> date:
        return date.fromisoformat(self.as_of) if self.as_of else date.today()

    def agreements(self, gemeenten: Sequence[str] | None = None) -> list[AgreementSet]:
        """The agreement sets, or only those of these gemeenten (a gemeente partition's run)."""
        sets = load_monitor_agreements(self.agreements_dir)
        if gemeenten is None:
            return sets
        wanted = set(gemeenten)
        return [s for s in sets if s.gemeente.code in wanted]


KPI_INS = {table.name: dg.AssetIn(table.name) for table in KPI_TABLES}


def monitor_metadata(frame: pd.DataFrame, table: MonitorTable, **extra: Any) -> dict[str, Any]:
    descriptions = {c.name: c.description for c in table.columns}
    return {
        "dagster/row_count": len(frame),
        "dagster/column_schema": column_schema(frame, descriptions),
        "warehouse_table": table.qualified_name,
        **extra,
    }


@dg.asset(
    ins=KPI_INS,
    partitions_def=GEMEENTE_PARTITIES,
    group_name="monitor",
    kinds={"pandas", "python"},
    owners=OWNERS,
    description=STOPLIGHT.description,
    metadata={"design": "DESIGN.md §6", "warehouse_table": STOPLIGHT.qualified_name},
)
def monitor_stoplight(context: dg.AssetExecutionContext, monitor: MonitorSettings, **kpi_tables: pd.DataFrame) -> dg.Output:
    if not monitor.agreements():
        raise ValueError(f"geen afsprakenbestanden (*.yaml) in {monitor.agreements_dir}")
    sets = monitor.agreements(gemeenten_of(context))  # none for a gemeente without agreements: no rows
    as_of = monitor.as_of_date()
    frame = stoplight_rows(sets, kpi_tables, as_of)
    counts = frame.groupby(["gemeente_naam", "status"]).size().unstack(fill_value=0) if len(frame) else pd.DataFrame()
    problems = frame[frame["toelichting"].str.contains("configuratie:", regex=False)]
    for row in problems.itertuples():
        context.log.warning(f"{row.gemeente_naam} {row.agreement_id}: {row.toelichting}")
    return dg.Output(
        frame,
        metadata=monitor_metadata(
            frame,
            STOPLIGHT,
            as_of=as_of.isoformat(),
            afsprakenbestanden=dg.MetadataValue.json(sorted(f"{s.file_stem}.yaml" for s in sets)),
            statussen=dg.MetadataValue.md(counts.reset_index().to_markdown(index=False) if len(counts) else "geen afspraken"),
            configuratieproblemen=len(problems),
        ),
    )


@dg.asset(
    ins={"monitor_stoplight": dg.AssetIn("monitor_stoplight")},
    partitions_def=GEMEENTE_PARTITIES,
    group_name="monitor",
    kinds={"pandas", "python"},
    owners=OWNERS,
    description=HISTORIE.description,
    metadata={"design": "DESIGN.md §6", "warehouse_table": HISTORIE.qualified_name},
)
def monitor_stoplight_historie(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, monitor_stoplight: pd.DataFrame
) -> dg.Output:
    gemeenten = gemeenten_of(context)
    client = warehouse.client()
    try:
        previous = (
            client.read(HISTORIE.schema, HISTORIE.name, where={"gemeente_code": gemeenten})
            if client.table_exists(HISTORIE.schema, HISTORIE.name)
            else None
        )
    finally:
        client.dispose()
    history = append_history(previous, monitor_stoplight)
    return dg.Output(
        history,
        metadata=monitor_metadata(
            history,
            HISTORIE,
            rapportagemomenten=int(history[["gemeente_code", "as_of"]].drop_duplicates().shape[0]),
            vorige_rijen=0 if previous is None else len(previous),
        ),
    )
