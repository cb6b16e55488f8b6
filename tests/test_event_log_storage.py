"""The project's event log storages (pipelines/event_log.py) record exactly what Dagster's own do:
the same events of every run, the same materialized and failed partitions, the same asset rows and
index records; they only write a batch of them at once. And they do write it at once: Dagster's
per-event `store_event` is not called for the batched events."""

import os
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.partitions import range_tags
from pipelines import event_log
from tests.dagster_instances import DAGSTER_PG_ENV, NullIOManager, deploy_home, home_with, local_home
from warehouse import testing as scratch

GEMEENTEN = ["GM0392", "GM0394", "GM0397"]
PARTITIES = dg.StaticPartitionsDefinition(GEMEENTEN)
KEYS = [dg.AssetKey("_kpi_a"), dg.AssetKey("_kpi_b")]
PLANNED = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


@dg.asset(partitions_def=PARTITIES, backfill_policy=dg.BackfillPolicy.single_run())
def _kpi_a(context: dg.AssetExecutionContext) -> None:
    context.add_output_metadata({"gemeenten": len(context.partition_keys)})


@dg.asset(partitions_def=PARTITIES, backfill_policy=dg.BackfillPolicy.single_run(), deps=[_kpi_a])
def _kpi_b(context: dg.AssetExecutionContext) -> None:
    if context.run.tags.get("test/kapot"):
        raise RuntimeError("kapot")


JOB = dg.Definitions(assets=[_kpi_a, _kpi_b], resources={"io_manager": NullIOManager()}).resolve_implicit_global_asset_job_def()
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _scenario(instance: dg.DagsterInstance) -> tuple[list[str], list[dict[str, Any]]]:
    """A good range run, a range run whose second asset fails, a run of one gemeente; after each
    run, the state of each asset."""
    run_ids: list[str] = []
    states = []
    for tags in (range_tags(GEMEENTEN), {**range_tags(GEMEENTEN), "test/kapot": "ja"}, {"dagster/partition": "GM0394"}):
        result = JOB.execute_in_process(instance=instance, tags=tags, run_config=QUIET, raise_on_error=False)
        assert result.success == ("test/kapot" not in tags)
        run_ids.append(result.run_id)
        states.append(_asset_states(instance, run_ids))
    return run_ids, states


def _asset_states(instance: dg.DagsterInstance, run_ids: list[str]) -> dict[str, Any]:
    """What the UI and the fan-out read of each asset, run ids as their order in the scenario."""
    ordinal = {run_id: i for i, run_id in enumerate(run_ids)}
    states = {}
    for key in KEYS:
        [record] = instance.get_asset_records([key])
        last = record.asset_entry.last_materialization
        status = instance.get_status_by_partition(key, GEMEENTEN, PARTITIES) or {}
        states[key.to_user_string()] = {
            "materialized": sorted(instance.get_materialized_partitions(key)),
            "status": {partition: value.value for partition, value in status.items()},
            "last_run": ordinal[record.asset_entry.last_run_id or ""],
            "last_materialization": last and (ordinal[last.run_id], last.dagster_event and last.dagster_event.partition),
        }
    return states


def _recorded(instance: dg.DagsterInstance, run_ids: list[str]) -> dict[str, Any]:
    """Every run's events, and each asset's records in the index."""
    ordinal = {run_id: i for i, run_id in enumerate(run_ids)}
    recorded: dict[str, Any] = {"events": [
        [(e.dagster_event.event_type_value, e.dagster_event.asset_key and e.dagster_event.asset_key.to_string(),
          e.dagster_event.partition, e.dagster_event.step_key)
         for e in instance.all_logs(run_id) if e.dagster_event is not None]
        for run_id in run_ids]}
    for key in KEYS:
        planned = instance.event_log_storage.get_event_records(
            dg.EventRecordsFilter(PLANNED, asset_key=key), limit=100, ascending=True)
        recorded[key.to_user_string()] = {
            "materializations": [(ordinal[r.run_id], r.partition_key)
                                 for r in instance.fetch_materializations(key, limit=100, ascending=True).records],
            "planned": [(ordinal[r.run_id], r.partition_key) for r in planned],
        }
    return recorded


def _record_scenario(instance: dg.DagsterInstance) -> tuple[dict[str, Any], Counter[str]]:
    """The scenario's records, and the event types Dagster's per-event `store_event` wrote."""
    storage = instance.event_log_storage
    one_by_one: Counter[str] = Counter()
    original = storage.store_event

    def spy(event):
        one_by_one[event.get_dagster_event().event_type_value] += 1
        return original(event)

    storage.store_event = spy  # type: ignore[method-assign]  # this instance only, closed after the test
    try:
        run_ids, states = _scenario(instance)
    finally:
        del storage.store_event
    return {"after each run": states, **_recorded(instance, run_ids)}, one_by_one


def _compare_storages(own_home: Path, project_home: Path, project_storage: type) -> tuple[Counter[str], Counter[str]]:
    """The scenario on an instance with Dagster's own event log and on one with the project's: what
    they record must be the same. Returns the event types each wrote one by one."""
    with dg.DagsterInstance.from_config(str(own_home)) as own:
        assert type(own.event_log_storage).__module__.startswith(("dagster.", "dagster_postgres."))
        expected, own_one_by_one = _record_scenario(own)
    with dg.DagsterInstance.from_config(str(project_home)) as project:
        assert type(project.event_log_storage) is project_storage
        recorded, project_one_by_one = _record_scenario(project)
    assert recorded == expected
    assert expected["after each run"][1]["_kpi_b"]["status"] == dict.fromkeys(GEMEENTEN, "FAILED")
    assert expected["after each run"][2]["_kpi_b"]["status"] == {"GM0392": "FAILED", "GM0394": "MATERIALIZED",
                                                                 "GM0397": "FAILED"}
    return own_one_by_one, project_one_by_one


# Planned events: 2 range runs x 2 assets x 3 gemeenten + the single gemeente's 2 = 14;
# materializations: 6 + 3 (the failing run's first asset) + 2 = 11. With a batch size of 5 a range
# run's 6 planned events come as a batch of 5 and one left over, which goes to Dagster's code; so do
# the single gemeente's materializations, one per step.
@pytest.mark.parametrize(("batch_size", "planned_one_by_one"), [(event_log.EVENT_BATCH_SIZE, 0), ("5", 2)])
def test_sqlite_storage_records_what_dagsters_own_records(tmp_path, monkeypatch, batch_size, planned_one_by_one):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
    own, project = _compare_storages(home_with(tmp_path / "dagster", {"telemetry": {"enabled": False}}),
                                     local_home(tmp_path / "project"), event_log.BatchingSqliteEventLogStorage)
    assert (own[PLANNED.value], own[MATERIALIZATION.value]) == (14, 11)
    assert (project[PLANNED.value], project[MATERIALIZATION.value]) == (planned_one_by_one, 2)


def _reads_on(before_home: Path, after_home: Path, project_storage: type) -> None:
    """Runs recorded with Dagster's own event log read the same with the project's, on the same
    database or folders."""
    with dg.DagsterInstance.from_config(str(before_home)) as before:
        run_ids, states = _scenario(before)
        expected = {"assets": states[-1], **_recorded(before, run_ids)}
    with dg.DagsterInstance.from_config(str(after_home)) as after:
        assert type(after.event_log_storage) is project_storage
        assert {"assets": _asset_states(after, run_ids), **_recorded(after, run_ids)} == expected


def test_a_home_made_with_dagsters_sqlite_storage_reads_on_with_the_project_s(tmp_path, monkeypatch):
    """`make run`'s and the benchmark's older dagster_home: the same folders and tables."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.EVENT_BATCH_SIZE)
    home = home_with(tmp_path / "home", {"telemetry": {"enabled": False}})
    _reads_on(home, local_home(tmp_path / "after", storage=home), event_log.BatchingSqliteEventLogStorage)


def test_the_storages_turn_event_batching_on_unless_the_deployment_set_it(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    event_log.BatchingSqliteEventLogStorage(str(tmp_path / "a")).dispose()
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == event_log.EVENT_BATCH_SIZE
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    event_log.BatchingSqliteEventLogStorage(str(tmp_path / "b")).dispose()
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == "0"


@pytest.mark.postgres
def test_postgres_storage_of_deploy_records_what_dagster_postgres_records(tmp_path, pg_instance_env, monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.EVENT_BATCH_SIZE)
    url = sa.engine.make_url(scratch.create_scratch_database())  # a second database, for Dagster's own storage
    postgres_db = {"scheme": "postgresql+psycopg2", "hostname": url.host, "port": url.port or 5432,
                   "username": url.username, "password": url.password or "", "db_name": url.database}
    own_home = home_with(tmp_path / "dagster", {"storage": {"postgres": {"postgres_db": postgres_db}},
                                                 "telemetry": {"enabled": False}})
    own, project = _compare_storages(own_home, deploy_home(tmp_path, "project"), event_log.BatchingPostgresEventLogStorage)
    assert (own[PLANNED.value], own[MATERIALIZATION.value]) == (14, 2)  # dagster-postgres batches materializations
    assert (project[PLANNED.value], project[MATERIALIZATION.value]) == (0, 2)


@pytest.mark.postgres
def test_a_failed_batch_write_on_postgres_leaves_no_event_twice(tmp_path, pg_instance_env, monkeypatch):
    """The batch is one transaction: when it fails, Dagster writes the events one by one, each once."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.EVENT_BATCH_SIZE)
    failures = []
    store_rows = event_log._store_asset_rows

    def fail_once(storage, conn, events, event_ids):
        if not failures:
            failures.append(len(events))
            raise RuntimeError("verbinding verbroken")
        return store_rows(storage, conn, events, event_ids)

    monkeypatch.setattr(event_log, "_store_asset_rows", fail_once)
    with dg.DagsterInstance.from_config(str(deploy_home(tmp_path))) as instance:
        result = JOB.execute_in_process(instance=instance, tags=range_tags(GEMEENTEN), run_config=QUIET)
        planned = instance.all_logs(result.run_id, of_type=PLANNED)
        status = instance.get_status_by_partition(KEYS[1], GEMEENTEN, PARTITIES) or {}
    assert failures == [6]  # the range run's planned events, 2 assets x 3 gemeenten
    assert sorted((e.dagster_event.asset_key.to_user_string(), e.dagster_event.partition) for e in planned) == [
        (key.to_user_string(), gemeente) for key in KEYS for gemeente in GEMEENTEN]
    assert {value.value for value in status.values()} == {"MATERIALIZED"}


@pytest.mark.postgres
def test_an_instance_with_dagsters_postgres_storage_reads_on_with_deploys(tmp_path, pg_instance_env, monkeypatch):
    """deploy/README.md: switching a deployment's `storage: postgres:` block to deploy/dagster.yaml's
    keeps its database."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", event_log.EVENT_BATCH_SIZE)
    postgres_db = {"scheme": "postgresql+psycopg2", **{key: {"env": name} for key, name in zip(
        ("hostname", "port", "username", "password", "db_name"), DAGSTER_PG_ENV, strict=True)}}
    before = home_with(tmp_path / "before", {"storage": {"postgres": {"postgres_db": postgres_db}},
                                             "telemetry": {"enabled": False}})
    _reads_on(before, deploy_home(tmp_path), event_log.BatchingPostgresEventLogStorage)
