"""Run a Great Expectations 1.x suite (expectations/<name>.json) against a DataFrame.

GX is imported lazily (the import costs seconds) in an ephemeral context with analytics and
progress bars off. The outcome lists, per failed expectation, the failing rows with their source
file and row number, so a steward can open the file at the right line.
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


@cache
def _batch_definition() -> Any:
    _quiet_gx()
    import great_expectations as gx

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
) -> SuiteOutcome:
    """Validate `frame`; `parameters` fill `{"$PARAMETER": name}` values in the suite (e.g. vandaag),
    `extra_expectations` are added for this run only (e.g. row-count bounds from the previous load),
    and `key_columns` are returned with every failing row so it can be named by its business key."""
    _quiet_gx()
    import great_expectations as gx

    definition = load_suite_definition(name, directory)
    definition["expectations"] = [*definition["expectations"], *(extra_expectations or [])]
    suite = gx.ExpectationSuite(**definition)
    wanted = [*INDEX_COLUMNS, *(key_columns or [])]
    index_columns = list(dict.fromkeys(c for c in wanted if c in frame.columns))
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    validation = batch.validate(suite, result_format=result_format, expectation_parameters=parameters or {})
    failed: list[FailedExpectation] = []
    for result in validation.results:
        if result.success:
            continue
        config = result.expectation_config
        details = result.result or {}
        rows = [dict(r) for r in (details.get("unexpected_index_list") or []) if isinstance(r, dict)]
        column = config.kwargs.get("column")
        if column is None and "column_A" in config.kwargs:
            column = f"{config.kwargs['column_A']},{config.kwargs['column_B']}"
        elif column is None and "column_list" in config.kwargs:
            column = ",".join(config.kwargs["column_list"])
        failed.append(
            FailedExpectation(
                expectation=config.type,
                column=column,
                severity=str(getattr(config.severity, "value", config.severity)),
                unexpected_count=details.get("unexpected_count"),
                unexpected_percent=details.get("unexpected_percent"),
                observed_value=details.get("observed_value"),
                rows=[{k: _plain(v) for k, v in r.items()} for r in rows],
            )
        )
    return SuiteOutcome(suite=name, evaluated=len(validation.results), failed=failed, row_count=len(frame))


def _shown(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
