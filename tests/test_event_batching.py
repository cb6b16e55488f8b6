"""Dagster's event batching (DAGSTER_EVENT_BATCH_SIZE, set by pipelines.definitions and by the project's
event log storages): a range run's materializations reach the event log as one batch, and nothing an
analyst or the fan-out reads changes: every partition materialized with its own event, failed
partitions still marked failed. That the project's storages record what Dagster's own do:
tests/test_event_log_storage.py."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRunStatus

from assets.partitions import range_tags
from pipelines import event_log
from tests.dagster_instances import NullIOManager, deploy_home

PROJECT = Path(__file__).resolve().parents[1]
GEMEENTEN = ["GM0392", "GM0394", "GM0397"]
PARTITIES = dg.StaticPartitionsDefinition(GEMEENTEN)
RANGE = range_tags(GEMEENTEN)


@dg.asset(partitions_def=PARTITIES, backfill_policy=dg.BackfillPolicy.single_run())
def _kpi(context: dg.AssetExecutionContext) -> None:
    if context.run.tags.get("test/kapot"):
        raise RuntimeError("kapot")
    context.add_output_metadata({"gemeenten": len(context.partition_keys)})


JOB = dg.Definitions(assets=[_kpi], resources={"io_manager": NullIOManager()}).resolve_implicit_global_asset_job_def()


def _range_run(instance: dg.DagsterInstance, *, fail: bool = False) -> dg.ExecuteInProcessResult:
    tags = {**RANGE, "test/kapot": "ja"} if fail else RANGE
    return JOB.execute_in_process(instance=instance, tags=tags, raise_on_error=False)


def _materializations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetMaterialization]:
    return [e.asset_materialization for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
            if e.asset_materialization is not None]


def _assert_range_run_recorded(instance: dg.DagsterInstance) -> None:
    key = dg.AssetKey("_kpi")
    ok = _range_run(instance)
    assert ok.success
    materialized = _materializations(instance, ok.run_id)
    assert sorted(m.partition for m in materialized) == GEMEENTEN
    assert all(m.metadata["gemeenten"].value == 3 for m in materialized)
    assert instance.get_materialized_partitions(key) == set(GEMEENTEN)
    record = instance.get_asset_records([key])[0]
    last = record.asset_entry.last_materialization
    assert last is not None and last.run_id == ok.run_id
    # a failed range run: the UI's partition status shows the three gemeenten failed, not yesterday's green
    failed = _range_run(instance, fail=True)
    assert not failed.success
    assert instance.get_run_by_id(failed.run_id).status == DagsterRunStatus.FAILURE
    status = instance.get_status_by_partition(key, GEMEENTEN, PARTITIES)
    assert status is not None and {s.value for s in status.values()} == {"FAILED"}


def _batch_size_in_code_location(**env: str) -> str:
    """DAGSTER_EVENT_BATCH_SIZE as a fresh process that loads the code location sees it."""
    clean = {k: v for k, v in os.environ.items() if k != "DAGSTER_EVENT_BATCH_SIZE"}
    out = subprocess.run(
        [sys.executable, "-c", "import os, pipelines.definitions; print(os.environ['DAGSTER_EVENT_BATCH_SIZE'])"],
        env={**clean, "PYTHONPATH": str(PROJECT), **env}, cwd=PROJECT, capture_output=True, text=True, timeout=120,
        check=True)
    return out.stdout.strip()


def test_the_code_location_turns_batching_on_and_a_deployment_may_override_it():
    assert int(_batch_size_in_code_location()) >= 342  # a national range run's partitions in one batch
    assert _batch_size_in_code_location(DAGSTER_EVENT_BATCH_SIZE="0") == "0"


def test_sqlite_instance_records_every_partition_and_failure_with_batching(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.EVENT_BATCH_SIZE)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        _assert_range_run_recorded(instance)


@pytest.mark.postgres
def test_postgres_instance_writes_a_range_runs_materializations_as_one_batch(tmp_path, pg_instance_env, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(deploy_home(tmp_path)))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.EVENT_BATCH_SIZE)
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert type(storage) is event_log.BatchingPostgresEventLogStorage
        batches: list[Counter[str]] = []
        original = storage.store_event_batch

        def spy(events):
            batches.append(Counter(e.get_dagster_event().event_type_value for e in events))
            return original(events)

        monkeypatch.setattr(storage, "store_event_batch", spy)
        _assert_range_run_recorded(instance)
        assert Counter({"ASSET_MATERIALIZATION": 3}) in batches
