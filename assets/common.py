"""What every KPI table shares: the common columns, small-cell suppression, and Dagster metadata.

Every KPI row carries gemeente, corporation (or 'alle'), its dimension columns, the period, numerator,
denominator, value, unit, definition id and version, the partial-period and suppressed flags, the
source snapshot (DESIGN.md §5). Which run published a gemeente's rows is in kpi.publicatie, not in
the rows: the same inputs give byte-identical KPI tables.

KPI assets are partitioned by gemeente (assets/partitions.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from assets.partitions import GEMEENTE_PARTITIES, alleen
from warehouse import TableSpec

ALLE = "alle"
PUBLISHED_DECIMALS = 9
OWNERS = ["team:woningmarkt"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # warehouse logical type: text, integer, double, boolean, date, timestamp
    description: str


COMMON_HEAD = [
    Column("gemeente_code", "text", "CBS-code van de gemeente (GM####)"),
    Column("gemeente_naam", "text", "Naam van de gemeente"),
    Column("corporatie", "text", "Woningcorporatie, of 'alle' voor het totaal van de gemeente"),
]
COMMON_TAIL = [
    Column("indicator", "text", "Welke grootheid deze rij meet (zie de tabelbeschrijving)"),
    Column("numerator", "double", "Teller; bij een aantal het aantal zelf"),
    Column("denominator", "double", "Noemer bij een verhouding; leeg bij een aantal"),
    Column("value", "double", "Uitkomst: teller/noemer x 100 bij een percentage, anders het aantal of bedrag"),
    Column("unit", "text", "Eenheid van value (%, woningen, kWp, TJ, ...)"),
    Column("definition_id", "text", "Id van de definitie in DESIGN.md §5"),
    Column("definition_version", "integer", "Versie van de definitie"),
    Column("partial_period", "boolean", "True als de periode nog niet volledig is (bijv. tot 30-09)"),
    Column("suppressed", "boolean", "True als de cel is onderdrukt (noemer onder de drempel); value is dan leeg"),
    Column("source_snapshot", "text", "Bronbestanden met hun sha256-prefix waarop de rij rust"),
]


@dataclass(frozen=True)
class KpiTable:
    """A published KPI table: name, description, the definition it implements, and its columns."""

    name: str
    description: str
    dimensions: Sequence[Column]

    @property
    def columns(self) -> list[Column]:
        return [*COMMON_HEAD, *self.dimensions, *COMMON_TAIL]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def table_spec(self) -> TableSpec:
        return TableSpec(
            self.name, [(c.name, c.type) for c in self.columns], schema="kpi", slice_columns=("gemeente_code",)
        )

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Order the columns per the contract and fail loudly on a missing or surplus column."""
        missing = [c for c in self.column_names if c not in frame.columns]
        surplus = [c for c in frame.columns if c not in self.column_names]
        if missing or surplus:
            raise ValueError(f"{self.name}: kolommen wijken af van het contract; ontbreekt {missing}, extra {surplus}")
        out = frame[self.column_names].copy()
        sort_keys = [c.name for c in [*COMMON_HEAD, *self.dimensions]] + ["indicator", "definition_id"]
        return out.sort_values(sort_keys, kind="stable").reset_index(drop=True)


def kpi_asset_args(
    table: KpiTable, definition: str, design: str, *, ins: Mapping[str, dg.AssetIn], **metadata: str
) -> dict[str, Any]:
    """The decorator arguments every KPI asset shares: the gemeente partitions, its inputs (see
    assets.partitions.gemeente_in), group, kinds, owner, the table's description and which definition
    (and DESIGN.md section) it implements."""
    return {
        "ins": dict(ins),
        "partitions_def": GEMEENTE_PARTITIES,
        "group_name": "kpi",
        "kinds": {"pandas", "python"},
        "owners": OWNERS,
        "description": table.description,
        "metadata": {"definition": definition, "design": design, **metadata},
    }


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Percentage, empty where the denominator is zero (never a silent 0 %)."""
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    return (num / den.where(den != 0) * 100).astype("float64")


def recompute_value(frame: pd.DataFrame) -> pd.Series:
    """value from numerator and denominator: a percentage for '%', a mean where a denominator is
    given for another unit, the count itself otherwise."""
    percentage = ratio(frame["numerator"], frame["denominator"])
    den = frame["denominator"].astype("float64")
    mean = frame["numerator"].astype("float64") / den.where(den != 0)
    value = frame["numerator"].astype("float64").copy()
    has_den = frame["denominator"].notna()
    value[has_den] = mean[has_den]
    is_pct = frame["unit"] == "%"
    value[is_pct] = percentage[is_pct]
    return value


def suppress_small_cells(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Ratios whose denominator is below the threshold: numerator and value emptied, flag set."""
    frame = frame.copy()
    small = frame["denominator"].notna() & (frame["denominator"] < threshold)
    frame["suppressed"] = small.astype("bool")
    frame.loc[small, ["numerator", "value"]] = float("nan")
    return frame


def dwellings_in_exploitatie(stock: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The stock rows that are dwellings in exploitation, with only `columns`: a national stock has
    ~10 million such rows, and selecting them copies every column the frame carries (8.9 s for the
    full KPI input, most of it text columns the KPI never reads)."""
    return stock.loc[is_dwelling_in_exploitatie(stock), list(dict.fromkeys(columns))]


def is_dwelling_in_exploitatie(stock: pd.DataFrame) -> pd.Series:
    """Per stock row: a dwelling in exploitation, the units the stock KPIs and checks count."""
    return stock["is_woning"] & stock["in_exploitatie"]


def add_alle_corporaties(frame: pd.DataFrame, group_columns: Sequence[str]) -> pd.DataFrame:
    """Add the gemeente total over corporations (corporatie='alle') for additive indicators.

    Sums numerator and denominator, so a share is recomputed from the sums, never averaged.
    """
    if frame.empty:
        return frame
    keys = [c for c in group_columns if c != "corporatie"]
    sums = frame.groupby(keys, dropna=False, sort=False)[["numerator", "denominator"]].sum(min_count=1).reset_index()
    firsts = frame.groupby(keys, dropna=False, sort=False).first().reset_index()
    totals = firsts.drop(columns=["numerator", "denominator"]).merge(sums, on=keys, how="left")
    totals["corporatie"] = ALLE
    totals["value"] = recompute_value(totals)
    return pd.concat([frame, totals[frame.columns]], ignore_index=True)


def snapshot_by_gemeente(gemeenten: Sequence[str], *inputs: tuple[pd.DataFrame, str | None]) -> dict[str, str]:
    """Per gemeente, the source files its rows rest on: of each input the files of that gemeente's rows
    (by the given column), or all its files when it is not selected by gemeente. So a gemeente's rows
    carry the same snapshot whether it ran alone or in a range with others."""
    out: dict[str, str] = {}
    shared: set[str] = set()
    files_of: dict[str, set[str]] = {}
    for frame, column in inputs:
        if "_source_snapshot" not in frame.columns:
            continue
        if column is None:
            shared.update(frame["_source_snapshot"].dropna().astype("str").unique().tolist())
            continue
        # The distinct (gemeente, file) pairs first: a few thousand, where grouping the ~11 million
        # rows of a national stock took 8 s.
        # Not as text first: the stock KPIs' columns are categoricals, and their distinct pairs are
        # found on the codes.
        pairs = pd.DataFrame({"gemeente": frame[column], "file": frame["_source_snapshot"]})
        for gemeente, file in pairs.dropna().drop_duplicates().itertuples(index=False):
            files_of.setdefault(str(gemeente), set()).add(str(file))
    for gemeente in gemeenten:
        out[gemeente] = ";".join(sorted(shared | files_of.get(gemeente, set())))
    return out


def names_by_code(frame: pd.DataFrame, code: str, name: str) -> dict[str, str]:
    """code -> name over the rows of `frame`, the last name a code has (as dict(zip(codes, names))),
    from the distinct codes: zipping the ~11 million rows of a national stock in Python took 19 s."""
    last = frame[[code, name]].drop_duplicates(subset=code, keep="last")
    return dict(zip(last[code], last[name], strict=True))


def snapshot_column(frame: pd.DataFrame, snapshot: str | Mapping[str, str]) -> pd.Series:
    """The source_snapshot of every row, as a categorical: one value per gemeente, often over a
    kilobyte of file names, repeated on each of its rows. As text, a national kpi_energielabels
    carried 1 GB of copies (of its 1.2 GB) into every step that writes or reads it; as codes into
    the gemeenten' distinct values, a few MB. The values are the same text."""
    if isinstance(snapshot, str):
        return pd.Series(pd.Categorical.from_codes(np.zeros(len(frame), dtype="int8"), categories=pd.Index([snapshot], dtype="str")), index=frame.index)
    # per distinct code, not per row (a dict map of 2.3 M national rows ran element by element)
    codes, distinct = pd.factorize(frame["gemeente_code"].astype("str"))
    per_code = np.array([snapshot.get(str(code), "") for code in distinct] + [""], dtype=object)
    # Gemeenten resting on the same files share one category.
    value_of_code, values = pd.factorize(per_code)
    return pd.Series(
        pd.Categorical.from_codes(value_of_code[codes], categories=pd.Index(values, dtype="str")), index=frame.index
    )


def categories_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its categorical columns as the text they stand for. The stock KPIs group by text
    keys read as categoricals (assets.kpi.inputs); a published table has text, sorted as text (a
    categorical sorts in the order of its categories, here the order of the stock file)."""
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        return frame
    return frame.astype({c: frame[c].cat.categories.dtype for c in categorical})


def fill_text(values: pd.Series, value: str) -> pd.Series:
    """`values` with missing ones set to `value`; a categorical gets `value` as a category first
    (fillna on a categorical refuses a value that is not one of its categories)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and value not in values.cat.categories:
        values = values.cat.add_categories([value])
    return values.fillna(value)


def finish(
    table: KpiTable,
    frame: pd.DataFrame,
    *,
    snapshot: str | Mapping[str, str],
    suppression_threshold: int,
    gemeenten: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The published form: common columns, small cells suppressed, only the rows of `gemeenten` (the
    run's partitions; None = all), columns and order per the contract. `snapshot`: one for all rows,
    or per gemeente (snapshot_by_gemeente)."""
    frame = frame.copy() if gemeenten is None else alleen(frame, gemeenten)
    frame = categories_as_text(frame)
    frame["source_snapshot"] = snapshot_column(frame, snapshot)
    if "partial_period" not in frame.columns:
        frame["partial_period"] = False
    frame = suppress_small_cells(frame, suppression_threshold)
    # Floating-point sums differ in the last bits with the order of summation (one gemeente alone or
    # in a range with others); published figures carry at most PUBLISHED_DECIMALS decimals, so the
    # same inputs give the same table.
    for column in ("numerator", "denominator", "value"):
        frame[column] = frame[column].astype("float64").round(PUBLISHED_DECIMALS)
    return table.conform(frame)


#: Rows of a summary table in a materialization's metadata. A range run gives each of its gemeente
#: partitions the same metadata: 342 copies of a national table of every gemeente (kpi_leefbaarheid's
#: wijken list) cost ~17 s of event-log writes, and no one reads thousands of rows in the UI.
MARKDOWN_ROWS = 40


def summary_markdown(frame: pd.DataFrame, limit: int = MARKDOWN_ROWS) -> str:
    """The first `limit` rows as a markdown table (as text), with a line saying how many were left out."""
    text = str(frame.head(limit).astype("str").to_markdown(index=False))
    if len(frame) > limit:
        text += f"\n\n... en nog {len(frame) - limit} rijen (alle rijen staan in de warehouse-tabel)"
    return text


def column_schema(frame: pd.DataFrame, descriptions: dict[str, str] | None = None) -> dg.TableSchema:
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=str(c), type=str(frame[c].dtype), description=descriptions.get(str(c)))
            for c in frame.columns
        ]
    )


def table_metadata(frame: pd.DataFrame, table: KpiTable | None = None, **extra: Any) -> dict[str, Any]:
    descriptions = {c.name: c.description for c in table.columns} if table else None
    metadata: dict[str, Any] = {
        "dagster/row_count": len(frame),
        "dagster/column_schema": column_schema(frame, descriptions),
    }
    if table is not None:
        metadata["warehouse_table"] = f"kpi.{table.name}"
    metadata.update(extra)
    return metadata


def column_lineage(
    table: KpiTable, sources: dict[str, Iterable[tuple[str, str]]]
) -> dg.TableColumnLineage:
    """Column lineage from each KPI column to the staged columns it is computed from."""
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for column, upstream in sources.items():
        deps[column] = [dg.TableColumnDep(asset_key=dg.AssetKey(asset), column_name=col) for asset, col in upstream]
    return dg.TableColumnLineage(deps_by_column=deps)
