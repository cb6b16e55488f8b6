"""Large frames are validated in batches (expectations/runner.py): the outcome must be exactly that of
one validation of the whole frame: the same failing rules, rows in frame order, counts and percentages."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from expectations.runner import _batch_plan, run_suite

SUITE = {
    "name": "batches",
    "meta": {"policy": "reject"},
    "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 150}, "severity": "critical"},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "vhe_id"}, "severity": "critical"},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["corporatie", "vhe_id"]}, "severity": "critical"},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "huur", "min_value": 0, "max_value": 1000}, "severity": "critical"},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["A", "B", "C"]}, "severity": "warning"},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "code", "regex": "^GM[0-9]{4}$"}, "severity": "warning"},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "daeb", "mostly": 0.9}, "severity": "warning"},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "kamers", "mostly": 0.9}, "severity": "warning"},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",
         "kwargs": {"column_A": "eind", "column_B": "begin", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
         "severity": "warning"},
    ],
}


def _frame(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({
        "corporatie": rng.choice(["Elan", "Ymere", "Pre"], rows),
        "vhe_id": pd.array([f"V{i:05d}" for i in range(rows)], dtype="str"),
        "huur": rng.uniform(300, 900, rows),
        "label": rng.choice(["A", "B", "C"], rows),
        "code": rng.choice(["GM0392", "GM0397"], rows),
        "daeb": pd.array(rng.choice([True, False], rows), dtype="boolean"),
        "kamers": rng.integers(1, 6, rows).astype("float64"),
        "begin": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, rows), unit="D"),
        "_source_file": "bezit/x.csv",
        "_source_row": np.arange(2, rows + 2),
    })
    frame["eind"] = frame["begin"] + pd.to_timedelta(rng.integers(0, 50, rows), unit="D")
    frame.loc[[5, 77, 300], "vhe_id"] = None
    frame.loc[[9, 210, 399], "huur"] = [-1.0, 5000.0, 1001.0]
    frame.loc[[15, 16], "label"] = "Z"
    frame.loc[[120], "code"] = "0392"
    frame.loc[frame.index[::8], "daeb"] = None  # 12.5 % missing: fails mostly 0.9
    frame.loc[frame.index[::20], "kamers"] = None  # 5 % missing: passes mostly 0.9
    frame.loc[[33, 250], "eind"] = pd.Timestamp("2019-01-01")
    duplicates = frame.iloc[[40, 41, 333]].copy()
    duplicates["_source_row"] = [900, 901, 902]
    return pd.concat([frame, duplicates], ignore_index=True)


@pytest.fixture
def suite_dir(tmp_path):
    (tmp_path / "batches.json").write_text(json.dumps(SUITE), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("chunk_rows", [7, 64, 130])
def test_batched_validation_gives_the_outcome_of_one_validation(suite_dir, chunk_rows):
    frame = _frame()
    whole = run_suite(frame, "batches", suite_dir, key_columns=["corporatie", "vhe_id"], chunk_rows=None)
    batched = run_suite(frame, "batches", suite_dir, key_columns=["corporatie", "vhe_id"], chunk_rows=chunk_rows)
    failing = {f.rule for f in whole.failed}
    assert failing == {
        "expect_table_row_count_to_be_between", "expect_column_values_to_not_be_null(vhe_id)",
        "expect_compound_columns_to_be_unique(corporatie,vhe_id)", "expect_column_values_to_be_between(huur)",
        "expect_column_values_to_be_in_set(label)", "expect_column_values_to_match_regex(code)",
        "expect_column_values_to_not_be_null(daeb)", "expect_column_pair_values_a_to_be_greater_than_b(eind,begin)",
    }
    assert batched == whole


def test_only_suites_judged_row_by_row_are_batched(suite_dir):
    frame = _frame()
    columns, chunk_column = _batch_plan(SUITE["expectations"], frame)
    assert chunk_column in ("corporatie", "vhe_id") and "huur" in columns and "_source_row" not in columns
    aggregate = [*SUITE["expectations"], {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "huur", "min_value": 0}}]
    assert _batch_plan(aggregate, frame) is None
    two_keys = [*SUITE["expectations"], {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "code"}}]
    assert _batch_plan(two_keys, frame) is None  # no column shared by both uniqueness rules


def test_gx_does_not_fingerprint_the_frames_it_validates():
    """GX hashes every row of a batch under 1 GB only for its batch markers; the runner turns that off
    (expectations/runner.py, `_no_batch_fingerprint`). Fails when a GX upgrade renames the setting."""
    from great_expectations.execution_engine import pandas_execution_engine

    from expectations.runner import _batch_definition

    batch = _batch_definition().get_batch(batch_parameters={"dataframe": _frame()})
    assert "pandas_data_fingerprint" not in batch.batch_markers
    assert pandas_execution_engine.HASH_THRESHOLD == 0
    assert batch.batch_markers  # GX still writes its markers (the time of the batch), just no fingerprint
