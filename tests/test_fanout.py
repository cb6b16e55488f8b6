"""The per-gemeente layer: the fan-out after the nightly load, isolation of a failing gemeente, and
per-gemeente runs giving the same published rows as one run over all gemeenten."""

from __future__ import annotations

import hashlib

import dagster as dg
import pandas as pd
import pytest
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.utils import make_new_run_id

from assets.partitions import GEMEENTE_PARTITIES
from assets.publish import SPECS
from assets.settings import KpiSettings
from pipelines.definitions import PARTITIONED, PER_GEMEENTE, all_assets, all_checks, defs
from pipelines.fanout import (
    FANOUT_TAG,
    GEMEENTEN_PER_RUN_ENV,
    KPI_JOB_NAME,
    SPLIT_FROM_TAG,
    fanout_requests,
    gemeenten_per_run,
    split_requests,
)
from pipelines.nightly import _fanout_failed
from tests.pipeline_helpers import ALLE_GEMEENTEN, failed_steps, forget_disposed_instances
from warehouse import Warehouse

HAARLEM, HEEMSTEDE, HARDERWIJK = "GM0392", "GM0397", "GM0243"


def _fanout(asset_selection: set[dg.AssetKey] | None) -> list[dg.RunRequest] | dg.SkipReason:
    sensor = defs.resolve_sensor_def("kpi_per_gemeente_sensor")
    instance = dg.DagsterInstance.ephemeral()
    run = instance.create_run_for_job(
        defs.resolve_job_def("nightly"), asset_selection=frozenset(asset_selection) if asset_selection else None
    )
    instance.report_run_canceled(run)  # any terminal state; the sensor only reads the run
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=dg.DagsterEvent(
            event_type_value="PIPELINE_SUCCESS", job_name="nightly", message="ok"
        ),
        repository_def=defs.get_repository_def(),
    )
    return sensor(context)  # type: ignore[return-value]


def test_a_full_nightly_fans_out_one_run_per_gemeente():
    requests = _fanout(None)
    assert isinstance(requests, list)
    assert sorted(r.partition_key for r in requests) == GEMEENTE_PARTITIES.get_partition_keys()
    assert len({r.run_key for r in requests}) == len(requests) == 21
    assert all(r.asset_selection is None for r in requests)  # the whole kpi_per_gemeente job


def test_a_partial_load_recomputes_only_the_kpis_downstream_plus_monitor_and_publication():
    loaded = {dg.AssetKey(k) for k in ("raw_ep_online", "stg_energielabels")}
    requests = _fanout(loaded)
    assert isinstance(requests, list) and len(requests) == 21
    keys = {k.to_user_string() for k in requests[0].asset_selection or []}
    assert {"kpi_energielabels", "monitor_stoplight", "monitor_stoplight_historie", "monitor_rapport", "warehouse_publicatie"} == keys


def test_with_gemeenten_per_run_the_fanout_starts_range_runs_covering_every_gemeente_once(monkeypatch):
    monkeypatch.setenv(GEMEENTEN_PER_RUN_ENV, "8")
    loaded = {dg.AssetKey(k) for k in ("raw_ep_online", "stg_energielabels")}
    requests = _fanout(loaded)
    assert isinstance(requests, list) and len(requests) == 3  # 21 gemeenten: 8 + 8 + 5
    keys = GEMEENTE_PARTITIES.get_partition_keys()
    covered = []
    for request in requests:
        assert request.partition_key is None
        assert set(ALLE_GEMEENTEN) <= set(request.tags)  # the range tags a range run is started with
        start, end = (request.tags[tag] for tag in ALLE_GEMEENTEN)
        covered += GEMEENTE_PARTITIES.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))
        assert {k.to_user_string() for k in request.asset_selection or []} >= {"kpi_energielabels", "warehouse_publicatie"}
    assert covered == keys
    assert [len(GEMEENTE_PARTITIES.get_partition_keys_in_range(dg.PartitionKeyRange(*(r.tags[t] for t in ALLE_GEMEENTEN)))) for r in requests] == [8, 8, 5]
    assert len({r.run_key for r in requests}) == 3


def test_a_last_range_of_one_gemeente_is_a_run_of_that_partition():
    keys = GEMEENTE_PARTITIES.get_partition_keys()
    requests = fanout_requests("R", None, keys, 20)
    assert len(requests) == 2 and requests[1].partition_key == keys[-1] and requests[1].run_key == f"R:{keys[-1]}"


@pytest.mark.parametrize("value", ["0", "-3", "acht", "2.5"])
def test_a_wrong_gemeenten_per_run_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv(GEMEENTEN_PER_RUN_ENV, value)
    with pytest.raises(ValueError, match=GEMEENTEN_PER_RUN_ENV):
        gemeenten_per_run()


def test_a_failed_range_run_is_split_into_one_run_per_gemeente_and_judged_by_those():
    keys = GEMEENTE_PARTITIES.get_partition_keys()
    selection = [dg.AssetKey("kpi_energielabels"), dg.AssetKey("warehouse_publicatie")]
    with dg.instance_for_test() as instance:
        load = DagsterRun(job_name="nightly", run_id=make_new_run_id(), status=dg.DagsterRunStatus.SUCCESS)
        instance.add_run(load)
        [request] = fanout_requests(load.run_id, selection, keys[:4], 4)
        failed = DagsterRun(
            job_name=KPI_JOB_NAME, run_id=make_new_run_id(), status=dg.DagsterRunStatus.FAILURE,
            tags=request.tags, asset_selection=frozenset(selection),
        )
        instance.add_run(failed)
        assert _fanout_failed(instance, load.run_id)

        split = split_requests(instance, failed)
        assert [r.partition_key for r in split] == keys[:4]
        assert all(r.tags[FANOUT_TAG] == load.run_id and r.tags[SPLIT_FROM_TAG] == failed.run_id for r in split)
        assert all(list(r.asset_selection or []) == selection for r in split)
        assert len({r.run_key for r in split}) == 4
        # the range run now counts by its gemeenten' runs: none failed yet ...
        assert not _fanout_failed(instance, load.run_id)
        # ... a gemeente that fails on its own is retried the next night
        instance.add_run(DagsterRun(
            job_name=KPI_JOB_NAME, run_id=make_new_run_id(), status=dg.DagsterRunStatus.FAILURE, tags=split[1].tags,
        ))
        assert _fanout_failed(instance, load.run_id)
        # a per-gemeente run (or one of a split) is never split again
        single = DagsterRun(job_name=KPI_JOB_NAME, run_id=make_new_run_id(), status=dg.DagsterRunStatus.FAILURE, tags=split[1].tags)
        assert split_requests(instance, single) == []


def test_the_split_sensor_watches_the_kpi_runs():
    sensor = defs.resolve_sensor_def("kpi_per_gemeente_splitsing")
    assert sensor.job_name == KPI_JOB_NAME


def test_the_jobs_split_the_graph_without_overlap():
    graph = defs.get_repository_def().asset_graph
    nightly = set(defs.resolve_job_def("nightly").asset_layer.executable_asset_keys)
    per_gemeente = set(defs.resolve_job_def("kpi_per_gemeente").asset_layer.executable_asset_keys)
    everything = set((dg.AssetSelection.all() - PARTITIONED).resolve(graph))
    assert nightly | per_gemeente == everything and not nightly & per_gemeente
    assert per_gemeente == set(PER_GEMEENTE.resolve(graph))
    for key in per_gemeente:
        assert graph.get(key).partitions_def == GEMEENTE_PARTITIES, key


def _slice_digest(url: str, gemeente: str) -> dict[str, str]:
    warehouse = Warehouse(url)
    try:
        out = {}
        for spec in SPECS.values():
            frame = warehouse.read(spec.schema, spec.name, where={"gemeente_code": [gemeente]})
            frame = frame.astype("str").sort_values(list(frame.columns)).reset_index(drop=True)
            out[spec.qualified_name] = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
        return out
    finally:
        warehouse.dispose()


@pytest.mark.slow
def test_a_failing_gemeente_keeps_its_rows_and_does_not_hold_back_the_others(tmp_path, sample_baseline):
    workspace = sample_baseline.published(tmp_path)  # yesterday: the whole graph, published
    before = {g: _slice_digest(workspace.url, g) for g in (HAARLEM, HEEMSTEDE)}
    warehouse = Warehouse(workspace.url)
    heemstede_rows = len(warehouse.read("kpi", "kpi_energielabels", where={"gemeente_code": [HEEMSTEDE]}))
    warehouse.dispose()
    assert heemstede_rows > 0

    # Heemstede's EFG target date is broken in the settings: only its kpi_energielabels can fail.
    broken = KpiSettings(efg_streefdatum_per_gemeente={HAARLEM: "2026-12-31", HEEMSTEDE: "31-13-2026"})
    results = {g: workspace.run_per_gemeente(g, kpi_settings=broken) for g in (HAARLEM, HEEMSTEDE, HARDERWIJK)}
    assert results[HAARLEM].success and results[HARDERWIJK].success
    assert not results[HEEMSTEDE].success
    assert "kpi_energielabels" in failed_steps(results[HEEMSTEDE])
    # Heemstede kept yesterday's slice, untouched; Haarlem was republished with the same numbers.
    assert _slice_digest(workspace.url, HEEMSTEDE) == before[HEEMSTEDE]
    assert _slice_digest(workspace.url, HAARLEM) == before[HAARLEM]
    warehouse = Warehouse(workspace.url)
    log = warehouse.read("kpi", "publicatie")
    warehouse.dispose()
    runs = set(log.loc[log["gemeente_code"] == HAARLEM, "run_id"])
    assert results[HAARLEM].run_id in runs
    assert results[HEEMSTEDE].run_id not in set(log["run_id"])


@pytest.mark.slow
def test_a_range_run_that_fails_is_split_and_only_the_failing_gemeente_keeps_its_old_rows(tmp_path, sample_baseline):
    workspace = sample_baseline.published(tmp_path)  # yesterday: the whole graph, published
    before = {g: _slice_digest(workspace.url, g) for g in (HAARLEM, HEEMSTEDE)}
    broken = KpiSettings(efg_streefdatum_per_gemeente={HAARLEM: "2026-12-31", HEEMSTEDE: "31-13-2026"})
    keys = GEMEENTE_PARTITIES.get_partition_keys()
    gemeenten = keys[keys.index(HAARLEM) : keys.index(HEEMSTEDE) + 1]  # Haarlem, Bloemendaal, Heemstede
    [request] = fanout_requests("nacht", None, gemeenten, len(gemeenten))
    resources = {**workspace.resources(), "kpi_settings": broken}

    def run(tags: dict[str, str], partition_key: str | None = None) -> dg.ExecuteInProcessResult:
        forget_disposed_instances()
        return dg.materialize(
            [*all_assets, *all_checks], resources=resources, selection=PER_GEMEENTE, partition_key=partition_key,
            tags=tags, instance=instance, raise_on_error=False,
        )

    with dg.instance_for_test() as instance:
        together = run(request.tags)
        assert not together.success and "kpi_energielabels" in failed_steps(together)
        # the range run published nothing: both slices are yesterday's
        assert {g: _slice_digest(workspace.url, g) for g in (HAARLEM, HEEMSTEDE)} == before
        split = split_requests(instance, instance.get_run_by_id(together.run_id))
        assert [r.partition_key for r in split] == gemeenten
        results = {r.partition_key: run(r.tags, r.partition_key) for r in split}
    assert results[HAARLEM].success and results[gemeenten[1]].success and not results[HEEMSTEDE].success
    assert _slice_digest(workspace.url, HEEMSTEDE) == before[HEEMSTEDE]
    assert _slice_digest(workspace.url, HAARLEM) == before[HAARLEM]  # republished, the same numbers
    warehouse = Warehouse(workspace.url)
    log = warehouse.read("kpi", "publicatie")
    warehouse.dispose()
    assert results[HAARLEM].run_id in set(log.loc[log["gemeente_code"] == HAARLEM, "run_id"])
    assert together.run_id not in set(log["run_id"]) and results[HEEMSTEDE].run_id not in set(log["run_id"])


@pytest.mark.slow
def test_per_gemeente_runs_publish_the_same_rows_as_one_run_over_all_gemeenten(tmp_path, sample_baseline):
    # one run over all gemeenten: the session's baseline, its values published into a warehouse
    together = sample_baseline.published(tmp_path / "samen")
    # the per-gemeente runs start from the same nightly load (the stored staging) and an empty
    # warehouse; each recomputes its gemeente's whole KPI and monitor layer before it publishes
    apart = sample_baseline.workspace(tmp_path / "apart")
    for gemeente in (HAARLEM, HARDERWIJK, "GM0484"):
        result = apart.run_per_gemeente(gemeente)
        assert result.success, failed_steps(result)
        assert _slice_digest(apart.url, gemeente) == _slice_digest(together.url, gemeente), gemeente
    # gemeenten without a run of their own have nothing published in that warehouse
    warehouse = Warehouse(apart.url)
    published = set(warehouse.read("kpi", "kpi_slaagkans")["gemeente_code"])
    warehouse.dispose()
    assert published == {HAARLEM, HARDERWIJK, "GM0484"}


def test_a_slice_row_outside_the_published_gemeenten_is_refused(tmp_path):
    from warehouse import WarehouseError
    from warehouse.testing import scratch_url

    url = scratch_url(tmp_path)
    spec = SPECS["kpi_zon"]
    columns = [c for c, _ in spec.columns]
    frame = pd.DataFrame([{c: None for c in columns} | {"gemeente_code": HAARLEM}])
    warehouse = Warehouse(url)
    try:
        with pytest.raises(WarehouseError, match="buiten de gepubliceerde plakken"):
            warehouse.publish({"kpi_zon": (spec, frame)}, slices={"gemeente_code": [HEEMSTEDE]})
    finally:
        warehouse.dispose()
