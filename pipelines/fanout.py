"""kpi_per_gemeente_sensor: when the nightly load succeeds, one kpi_per_gemeente run per gemeente.

Each gemeente is its own run (and its own warehouse slice), so a gemeente whose KPIs fail keeps its
previous published rows while the others publish. The run key ties each request to the nightly run
that caused it: a sensor evaluated twice never starts a gemeente twice for the same load.

When the nightly run loaded only part of the sources (the landing-folder sensor starts it for the
datasets with a new file), only the KPI assets downstream of what it loaded are recomputed; the
monitor and the publication always follow, as they read every KPI table.
"""

from __future__ import annotations

import dagster as dg

from assets.partitions import GEMEENTE_PARTITIES

FANOUT_TAG = "prestatiemonitor/na-run"
KPI_JOB_NAME = "kpi_per_gemeente"


def affected_selection(
    loaded: list[dg.AssetKey] | None, per_gemeente: dg.AssetSelection, asset_graph: object
) -> list[dg.AssetKey] | None:
    """The per-gemeente assets to recompute after a load of `loaded` (None: the whole layer)."""
    if loaded is None:
        return None
    graph = asset_graph
    affected = (dg.AssetSelection.assets(*loaded).downstream() & per_gemeente).resolve(graph)  # type: ignore[arg-type]
    if not affected:
        return []
    # The monitor and the publication read every KPI table: always recompute them with the rest.
    always = (dg.AssetSelection.groups("monitor", "publicatie") & per_gemeente).resolve(graph)  # type: ignore[arg-type]
    return sorted(set(affected) | set(always), key=lambda k: k.to_user_string())


def build_kpi_fanout_sensor(
    nightly_job: dg.UnresolvedAssetJobDefinition,
    kpi_job: dg.UnresolvedAssetJobDefinition,
    per_gemeente: dg.AssetSelection,
) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name="kpi_per_gemeente_sensor",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[nightly_job],
        request_job=kpi_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Start na een geslaagde nightly-run per gemeente een run van kpi_per_gemeente.",
    )
    def kpi_per_gemeente_sensor(context: dg.RunStatusSensorContext) -> list[dg.RunRequest] | dg.SkipReason:
        run = context.dagster_run
        loaded = sorted(run.asset_selection, key=lambda k: k.to_user_string()) if run.asset_selection else None
        repository = context.repository_def
        if repository is None:
            raise RuntimeError("sensor draait zonder code location")
        selection = affected_selection(loaded, per_gemeente, repository.asset_graph)
        if selection == []:
            return dg.SkipReason(f"run {run.run_id[:8]} raakte geen KPI's")
        return [
            dg.RunRequest(
                run_key=f"{run.run_id}:{gemeente}",
                partition_key=gemeente,
                asset_selection=selection,
                tags={FANOUT_TAG: run.run_id},
            )
            for gemeente in GEMEENTE_PARTITIES.get_partition_keys()
        ]

    return kpi_per_gemeente_sensor


#: Run statuses of a per-gemeente run that has not finished.
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
]


def unfinished_fanout_run(instance: dg.DagsterInstance) -> str | None:
    """The id of a kpi_per_gemeente run still queued or running, if any: a new load must wait for it,
    or it would replace the staged values under a gemeente that is still reading them."""
    busy = instance.get_runs(filters=dg.RunsFilter(job_name=KPI_JOB_NAME, statuses=UNFINISHED), limit=1)
    return busy[0].run_id if busy else None
