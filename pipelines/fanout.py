"""kpi_per_gemeente_sensor: when the nightly load succeeds, one kpi_per_gemeente run per gemeente.

Each gemeente is its own run (and its own warehouse slice), so a gemeente whose KPIs fail keeps its
previous published rows while the others publish. The run key ties each request to the nightly run
that caused it: a sensor evaluated twice never starts a gemeente twice for the same load.

When the nightly run loaded only part of the sources (the landing-folder sensor starts it for the
datasets with a new file), only the KPI assets downstream of what it loaded are recomputed; the
monitor and the publication always follow, as they read every KPI table.

A run has a fixed cost: a process per step, and every step reads its national inputs (~70 s per
gemeente on the national benchmark set, whatever its size). A deployment with many gemeenten can set
PRESTATIEMONITOR_GEMEENTEN_PER_RUN: the sensor then starts one run per range of that many
consecutive gemeenten (Dagster's partition-range runs, the same rows as one run per gemeente). A
range run that fails is split: kpi_per_gemeente_splitsing starts one run per gemeente of its range,
so a failing gemeente still holds back only itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import dagster as dg

from assets.partitions import GEMEENTE_PARTITIES, gemeenten_of_range, range_tags

FANOUT_TAG = "prestatiemonitor/na-run"
#: On a range run that failed and was split into one run per gemeente (value "ja").
SPLIT_TAG = "prestatiemonitor/opgesplitst-in-runs"
#: On the per-gemeente runs of a split: the range run they replace.
SPLIT_FROM_TAG = "prestatiemonitor/uit-range-run"
KPI_JOB_NAME = "kpi_per_gemeente"
GEMEENTEN_PER_RUN_ENV = "PRESTATIEMONITOR_GEMEENTEN_PER_RUN"


def gemeenten_per_run() -> int:
    """PRESTATIEMONITOR_GEMEENTEN_PER_RUN: how many gemeenten one kpi_per_gemeente run computes (1 by default)."""
    raw = os.environ.get(GEMEENTEN_PER_RUN_ENV, "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{GEMEENTEN_PER_RUN_ENV}={raw!r}: verwacht een geheel getal van 1 of meer")
    return int(raw)


def _gemeente_run(
    cause: str, gemeente: str, selection: Sequence[dg.AssetKey] | None, tags: dict[str, str]
) -> dg.RunRequest:
    """The kpi_per_gemeente run of one gemeente, keyed to the run that caused it."""
    return dg.RunRequest(run_key=f"{cause}:{gemeente}", partition_key=gemeente, asset_selection=selection, tags=tags)


def fanout_requests(
    run_id: str, selection: Sequence[dg.AssetKey] | None, gemeenten: Sequence[str], per_run: int
) -> list[dg.RunRequest]:
    """The kpi_per_gemeente runs after nightly run `run_id`: one per gemeente, or one per range of
    `per_run` consecutive gemeenten (in partition order). Run keys tie each to `run_id`, so a sensor
    evaluated twice starts nothing twice."""
    requests = []
    for start in range(0, len(gemeenten), per_run):
        chunk = gemeenten[start : start + per_run]
        if len(chunk) == 1:
            requests.append(_gemeente_run(run_id, chunk[0], selection, {FANOUT_TAG: run_id}))
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{run_id}:{chunk[0]}..{chunk[-1]}",
                asset_selection=selection,
                tags={FANOUT_TAG: run_id, **range_tags(chunk)},
            )
        )
    return requests


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
        return fanout_requests(run.run_id, selection, GEMEENTE_PARTITIES.get_partition_keys(), gemeenten_per_run())

    return kpi_per_gemeente_sensor


def split_requests(instance: dg.DagsterInstance, failed: dg.DagsterRun) -> list[dg.RunRequest]:
    """One run per gemeente of a failed range run of the fan-out (none for any other run). The
    range run is tagged as split, so the nightly gate (pipelines/nightly.py) judges the gemeenten'
    own runs instead of it."""
    gemeenten = gemeenten_of_range(failed.tags)
    load = failed.tags.get(FANOUT_TAG)
    if not (gemeenten and load) or SPLIT_FROM_TAG in failed.tags:
        return []
    selection = sorted(failed.asset_selection, key=lambda k: k.to_user_string()) if failed.asset_selection else None
    instance.add_run_tags(failed.run_id, {SPLIT_TAG: "ja"})
    return [
        _gemeente_run(failed.run_id, gemeente, selection, {FANOUT_TAG: load, SPLIT_FROM_TAG: failed.run_id})
        for gemeente in gemeenten
    ]


def build_kpi_split_sensor(kpi_job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="kpi_per_gemeente_splitsing",
        monitored_jobs=[kpi_job],
        request_job=kpi_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Splitst een mislukte kpi_per_gemeente-run over een reeks gemeenten in een run per gemeente, "
            "zodat alleen de gemeente die faalt haar vorige cijfers houdt."
        ),
    )
    def kpi_per_gemeente_splitsing(context: dg.RunFailureSensorContext) -> list[dg.RunRequest] | dg.SkipReason:
        requests = split_requests(context.instance, context.dagster_run)
        if not requests:
            return dg.SkipReason(f"run {context.dagster_run.run_id[:8]} is geen range-run van de fan-out")
        return requests

    return kpi_per_gemeente_splitsing


#: Run statuses of a per-gemeente run that has not finished.
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
]


def unfinished_fanout_run(instance: dg.DagsterInstance) -> str | None:
    """The id of a kpi_per_gemeente run still queued or running, if any: a new load must wait for it,
    or it would replace the staged values under a gemeente that is still reading them."""
    busy = instance.get_runs(filters=dg.RunsFilter(job_name=KPI_JOB_NAME, statuses=UNFINISHED), limit=1)
    return busy[0].run_id if busy else None
