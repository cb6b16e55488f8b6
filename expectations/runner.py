"""Run a Great Expectations 1.x suite (expectations/<name>.json) against a DataFrame.

GX is imported lazily (the import costs seconds) in an ephemeral context with analytics and
progress bars off. The outcome lists, per failed expectation, the failing rows with their source
file and row number, so a steward can open the file at the right line.

National frames (11 million stock rows) are validated in batches of CHUNK_ROWS rows holding only the
columns the suite reads: GX's pandas engine copies the frame it validates for every column rule, so a
whole 6.5 GB stock frame ran the machine out of memory. Batching only happens when every rule of the
suite is judged row by row (or, for uniqueness, by key: the batches are cut on a column every
uniqueness rule includes, so equal keys land in the same batch) and table-level rules are the row
count; the merged outcome is the same as one validation of the whole frame (same failing rows, in
frame order, same counts and percentages).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

SUITE_DIR = Path(__file__).resolve().parent
INDEX_COLUMNS = ["_source_file", "_source_row"]
SEVERITY_ERROR = "critical"
SAMPLE_ROWS = 50
CHUNK_ROWS = 1_000_000  # rows per GX batch for large frames
POSITION = "__positie"  # the row's position in the whole frame, to restore frame order after batching
# Rules GX judges row by row: a batch of rows gives the same verdict per row as the whole frame.
ROW_RULES = {
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null", "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set", "expect_column_values_to_be_between", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex", "expect_column_values_to_match_regex_list",
    "expect_column_value_lengths_to_be_between", "expect_column_value_lengths_to_equal",
    "expect_column_values_to_match_strftime_format", "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal", "expect_column_pair_values_to_be_in_set",
    "expect_select_column_values_to_be_unique_within_record", "expect_multicolumn_sum_to_equal",
}
# Uniqueness over rows: batch-safe only when rows with the same key are in the same batch.
UNIQUENESS_RULES = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
TABLE_ROW_COUNT = "expect_table_row_count_to_be_between"


@dataclass
class FailedExpectation:
    expectation: str
    column: str | None
    severity: str  # critical (blocks the KPIs) or warning
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: Any
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rule(self) -> str:
        return self.expectation if self.column is None else f"{self.expectation}({self.column})"


@dataclass
class SuiteOutcome:
    suite: str
    evaluated: int
    failed: list[FailedExpectation]
    row_count: int

    @property
    def blocking_failures(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == SEVERITY_ERROR]

    def failing_rows(self) -> pd.DataFrame:
        """One row per (failing row, rule): source file, row number, column, value and rule.

        A table-level failure (e.g. the row count) gives one row without file and row number.
        """
        records: list[dict[str, Any]] = []
        for f in self.failed:
            severity = "ERROR" if f.severity == SEVERITY_ERROR else "WARN"
            if not f.rows:
                records.append({"bestand": None, "rij": None, "kolom": f.column, "waarde": _shown(f.observed_value),
                                "regel": f.rule, "ernst": severity, "_row": {}})
            for r in f.rows:
                value = None if f.column is None else " / ".join(str(r.get(c)) for c in f.column.split(","))
                records.append({"bestand": r.get("_source_file"), "rij": r.get("_source_row"), "kolom": f.column,
                                "waarde": value, "regel": f.rule, "ernst": severity, "_row": r})
        return pd.DataFrame(records, columns=["bestand", "rij", "kolom", "waarde", "regel", "ernst", "_row"])


def load_suite_definition(name: str, directory: Path = SUITE_DIR) -> dict[str, Any]:
    path = directory / f"{name}.json"
    with path.open(encoding="utf-8") as handle:
        definition: dict[str, Any] = json.load(handle)
    if definition.get("name") != name:
        raise ValueError(f"{path.name}: suite heet {definition.get('name')!r}, verwacht {name!r}")
    return definition


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _no_batch_fingerprint() -> None:
    """GX fingerprints every pandas batch under 1 GB (`HASH_THRESHOLD`): an md5 over pandas' hash of
    every row and column, kept only in the batch markers of the result, which this runner never
    reads. For the national lettings (0.9 M rows) that was a third of stg_toewijzingen's suite
    (15.6 -> 10.8 s), and with batches (`_run_in_batches`) every batch is under the threshold. GX
    has no setting for it, so the threshold goes to 0; tests/test_validation_batches.py fails when
    GX no longer reads it."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


@cache
def _batch_definition() -> Any:
    _quiet_gx()
    import great_expectations as gx

    _no_batch_fingerprint()
    context = gx.get_context(mode="ephemeral")
    with contextlib.suppress(Exception):  # progress bars are cosmetic; GX versions spell this differently
        context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)  # type: ignore[attr-defined]
    source = context.data_sources.add_pandas("prestatiemonitor")
    return source.add_dataframe_asset("dataframe").add_batch_definition_whole_dataframe("whole")


def run_suite(
    frame: pd.DataFrame,
    name: str,
    directory: Path = SUITE_DIR,
    *,
    parameters: dict[str, Any] | None = None,
    extra_expectations: list[dict[str, Any]] | None = None,
    key_columns: list[str] | None = None,
    chunk_rows: int | None = CHUNK_ROWS,
) -> SuiteOutcome:
    """Validate `frame`; `parameters` fill `{"$PARAMETER": name}` values in the suite (e.g. vandaag),
    `extra_expectations` are added for this run only (e.g. row-count bounds from the previous load),
    and `key_columns` are returned with every failing row so it can be named by its business key.
    A frame longer than `chunk_rows` is validated in batches when the suite allows it (module doc);
    None: always in one go."""
    definition = load_suite_definition(name, directory)
    definition["expectations"] = [*definition["expectations"], *(extra_expectations or [])]
    wanted = [*INDEX_COLUMNS, *(key_columns or [])]
    index_columns = list(dict.fromkeys(c for c in wanted if c in frame.columns))
    plan = _batch_plan(definition["expectations"], frame)
    if plan is None or chunk_rows is None or len(frame) <= chunk_rows:
        results = _validate(frame.reset_index(drop=True), definition, index_columns, parameters)
        failed = [_failed(config, success, details) for config, success, details in results if not success]
        return SuiteOutcome(suite=name, evaluated=len(results), failed=failed, row_count=len(frame))
    columns, chunk_column = plan
    return _run_in_batches(frame, definition, name, index_columns, parameters, columns, chunk_column, chunk_rows)


def _validate(
    frame: pd.DataFrame, definition: dict[str, Any], index_columns: list[str], parameters: dict[str, Any] | None
) -> list[tuple[Any, bool, dict[str, Any]]]:
    """One GX validation: per expectation (config, success, result details), in GX's order."""
    _quiet_gx()
    import great_expectations as gx

    suite = gx.ExpectationSuite(**definition)
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(suite, result_format=result_format, expectation_parameters=parameters or {})
    return [(r.expectation_config, bool(r.success), dict(r.result or {})) for r in validation.results]


def _failed(config: Any, success: bool, details: dict[str, Any]) -> FailedExpectation:
    rows = [dict(r) for r in (details.get("unexpected_index_list") or []) if isinstance(r, dict)]
    column = config.kwargs.get("column")
    if column is None and "column_A" in config.kwargs:
        column = f"{config.kwargs['column_A']},{config.kwargs['column_B']}"
    elif column is None and "column_list" in config.kwargs:
        column = ",".join(config.kwargs["column_list"])
    return FailedExpectation(
        expectation=config.type,
        column=column,
        severity=str(getattr(config.severity, "value", config.severity)),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=details.get("unexpected_percent"),
        observed_value=details.get("observed_value"),
        rows=[{k: _plain(v) for k, v in r.items()} for r in rows],
    )


def _columns_of(expectation: dict[str, Any]) -> list[str]:
    kwargs = expectation.get("kwargs", {})
    named = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
    return [c for c in [*named, *kwargs.get("column_list", [])] if isinstance(c, str)]


def _batch_plan(expectations: list[dict[str, Any]], frame: pd.DataFrame) -> tuple[list[str], str | None] | None:
    """(columns the suite reads, column to cut batches on) when batching gives the same outcome; else None."""
    columns: list[str] = []
    unique_sets: list[list[str]] = []
    for expectation in expectations:
        kind = expectation.get("type")
        if kind == TABLE_ROW_COUNT:
            continue
        if kind in UNIQUENESS_RULES:
            unique_sets.append(_columns_of(expectation))
        elif kind not in ROW_RULES or "condition_parser" in expectation.get("kwargs", {}):
            return None
        columns += _columns_of(expectation)
    chunk_column = None
    if unique_sets:
        shared = [c for c in unique_sets[0] if all(c in s for s in unique_sets) and c in frame.columns]
        if not shared:
            return None
        # the most varied one, so the batches come out about equally large
        chunk_column = max(shared, key=lambda c: (frame[c].nunique(dropna=False), -shared.index(c)))
    return [c for c in dict.fromkeys(columns) if c in frame.columns], chunk_column


def _run_in_batches(
    frame: pd.DataFrame,
    definition: dict[str, Any],
    name: str,
    index_columns: list[str],
    parameters: dict[str, Any] | None,
    columns: list[str],
    chunk_column: str | None,
    chunk_rows: int,
) -> SuiteOutcome:
    import numpy as np

    n_chunks = -(-len(frame) // chunk_rows)
    if chunk_column is None:
        chunk_of = np.arange(len(frame)) // chunk_rows
    else:  # the same key always in the same batch
        hashes = pd.util.hash_pandas_object(frame[chunk_column], index=False).to_numpy()
        chunk_of = (hashes % np.uint64(n_chunks)).astype("int64")
    selected = frame[list(dict.fromkeys([*columns, *index_columns]))]
    per_key: dict[str, list[tuple[Any, bool, dict[str, Any]]]] = {}
    order: list[str] = []
    for chunk in range(n_chunks):
        positions = np.flatnonzero(chunk_of == chunk)
        if len(positions) == 0:
            continue
        part = selected.take(positions).reset_index(drop=True)
        part[POSITION] = positions
        # The whole suite, so the batches report in GX's own order; table rules are redone below.
        for config, success, details in _validate(part, definition, [*index_columns, POSITION], parameters):
            key = _identity(config)
            if key not in per_key:
                order.append(key)
            per_key.setdefault(key, []).append((config, success, details))
        del part
    merged = {key: _merge(parts) for key, parts in per_key.items()}
    # Table-level rules (the row count) on a frame of the whole length without columns.
    table_rules = [e for e in definition["expectations"] if e.get("type") == TABLE_ROW_COUNT]
    if table_rules:
        counted = _validate(
            pd.DataFrame(index=pd.RangeIndex(len(frame))), {**definition, "expectations": table_rules}, [], parameters
        )
        for config, success, details in counted:
            merged[_identity(config)] = (config, success, details)
    results = [merged[key] for key in dict.fromkeys(order)]
    failed = [_failed(config, success, details) for config, success, details in results if not success]
    return SuiteOutcome(suite=name, evaluated=len(results), failed=failed, row_count=len(frame))


def _identity(config: Any) -> str:
    return json.dumps([config.type, config.kwargs], sort_keys=True, default=str)


def _merge(parts: list[tuple[Any, bool, dict[str, Any]]]) -> tuple[Any, bool, dict[str, Any]]:
    """One expectation's results over the batches, as GX reports them for the whole frame."""
    config = parts[0][0]
    details = [d for _, _, d in parts]
    elements = sum(int(d.get("element_count") or 0) for d in details)
    missing = sum(int(d.get("missing_count") or 0) for d in details)
    unexpected = sum(int(d.get("unexpected_count") or 0) for d in details)
    considered = elements - missing
    rows = [r for d in details for r in (d.get("unexpected_index_list") or []) if isinstance(r, dict)]
    rows.sort(key=lambda r: int(r[POSITION]))
    for row in rows:
        del row[POSITION]
    mostly = config.kwargs.get("mostly")
    if mostly is None:
        success = all(ok for _, ok, _ in parts)
    else:
        success = considered == 0 or (considered - unexpected) / considered >= mostly
    percent = unexpected / considered * 100 if considered else None
    observed = next((d.get("observed_value") for d in details if d.get("observed_value") is not None), None)
    merged: dict[str, Any] = {
        "element_count": elements,
        "unexpected_count": unexpected,
        "unexpected_percent": percent,
        "unexpected_index_list": rows,
        "observed_value": observed,
    }
    return config, success, merged


def _shown(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
