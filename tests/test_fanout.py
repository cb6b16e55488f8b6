"""The per-gemeente layer: the fan-out after the nightly load, isolation of a failing gemeente, and
per-gemeente runs giving the same published rows as one run over all gemeenten."""

from __future__ import annotations

import hashlib

import dagster as dg
import pandas as pd
import pytest

from assets.partitions import GEMEENTE_PARTITIES
from assets.publish import SPECS
from assets.settings import KpiSettings
from pipelines.definitions import PARTITIONED, PER_GEMEENTE, defs
from tests.pipeline_helpers import failed_steps
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
