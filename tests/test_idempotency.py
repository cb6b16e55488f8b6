"""Idempotency (issue 9): the same nightly with the same inputs gives byte-identical KPI and monitor
tables, run twice into one warehouse, into two separate warehouses, and as per-gemeente runs over a
warehouse a range run published.

"Byte-identical": per table a sha256 over the column names and all rows (every column, values by repr,
rows sorted; tests/fault_runner.table_checksums). kpi.publicatie is a log and grows by design: it must
hold each run's own run id for every gemeente and table, with the same row counts.
"""

from __future__ import annotations

import pytest

from assets.partitions import GEMEENTE_PARTITIES
from tests.fault_runner import (
    PUBLICATIE,
    log_summary,
    publication_run,
    published_log,
    table_checksums,
)
from tests.pipeline_helpers import failed_steps

pytestmark = pytest.mark.slow

HAARLEM, HEEMSTEDE, ALPHEN = "GM0392", "GM0397", "GM0484"


def _published(url: str) -> dict[str, dict]:
    return table_checksums(url, ("kpi", "monitor"))


def _without_log(tables: dict[str, dict]) -> dict[str, dict]:
    return {name: digest for name, digest in tables.items() if name != PUBLICATIE}


def test_the_same_nightly_twice_gives_byte_identical_tables_in_one_warehouse_and_in_two(tmp_path, sample_baseline):
    # the first night: the session's undisturbed run (a warehouse of its own), its values published
    # here too, and its instance: as in production the second night sees the first one's history
    # (e.g. the previous row counts the GX suites compare with)
    with sample_baseline.instance(tmp_path) as instance:
        workspace = sample_baseline.published(tmp_path / "tweemaal", instance=instance)
        after_first = _published(workspace.url)
        first_log = published_log(workspace.url)
        [first_run] = set(first_log["run_id"])
        second = workspace.run(instance=instance)
    assert second.success, failed_steps(second)
    after_second = _published(workspace.url)

    # in one warehouse: the second night changed no byte of what the first one published
    assert _without_log(after_second) == _without_log(after_first)
    assert all(digest["rows"] > 0 for digest in after_first.values())
    # in two: the second night here equals the first night in the baseline's own warehouse
    assert _without_log(after_second) == _without_log(sample_baseline.tables)
    # the log grew by exactly the second run's rows, with the same counts per gemeente and table
    log = published_log(workspace.url)
    assert set(log["run_id"]) == {first_run, second.run_id}
    assert log_summary(log, second.run_id) == log_summary(log, first_run) == sample_baseline.log
    assert set(log.loc[log["run_id"] == second.run_id, "gemeente_code"]) == set(GEMEENTE_PARTITIES.get_partition_keys())
    assert after_second[PUBLICATIE]["rows"] == 2 * after_first[PUBLICATIE]["rows"]


def test_per_gemeente_runs_over_a_range_published_warehouse_change_no_byte(tmp_path, sample_baseline):
    reference = sample_baseline
    workspace = reference.workspace(tmp_path / "per_gemeente")
    together = publication_run(workspace)  # the range run's values, stored by the baseline's nightly
    assert together.success, failed_steps(together)
    assert _without_log(_published(workspace.url)) == _without_log(reference.tables)

    # Heemstede shares a region with Haarlem (regional KPIs), Alphen has the oldest stock lists.
    runs = {gemeente: workspace.run_per_gemeente(gemeente) for gemeente in (HEEMSTEDE, ALPHEN)}
    for gemeente, result in runs.items():
        assert result.success, (gemeente, failed_steps(result))
    after = _published(workspace.url)
    assert _without_log(after) == _without_log(reference.tables)
    assert all(digest["keys"] == digest["rows"] for digest in after.values())
    log = published_log(workspace.url)
    for gemeente, result in runs.items():
        ours = log[log["run_id"] == result.run_id]
        assert set(ours["gemeente_code"]) == {gemeente}
        assert log_summary(log, result.run_id) == [row for row in reference.log if row[0] == gemeente]
