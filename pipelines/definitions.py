"""The single Dagster Definitions of Prestatiemonitor: assets, checks, resources, job, schedule, sensor."""

from __future__ import annotations

import os

import dagster as dg

from assets import ep_online_mutaties, publish, raw, raw_planlijst
from assets.ep_online_mutaties import EpOnlineApi
from assets.kpi import KPI_MODULES
from assets.monitor import MONITOR_MODULES, MonitorSettings
from assets.resources import DataQuality, LandingFolder, Pseudonymisation, WarehouseResource
from assets.settings import KpiSettings
from assets.staging import bezit, cross_checks, leefbaarometer, mutaties, referentie, woonservice
from pipelines import config
from pipelines.alerts import alert_channels_from_env, build_run_failure_alert_sensor
from pipelines.ep_online_sensor import build_ep_online_mutation_sensor, ep_online_mutaties_job
from pipelines.event_log import turn_on_event_batching
from pipelines.executors import executor_from_env
from pipelines.fanout import KPI_JOB_NAME, build_kpi_fanout_sensor, build_kpi_split_sensor
from pipelines.freshness import build_freshness_alert_sensor, with_kpi_freshness
from pipelines.io import ParquetIOManager
from pipelines.nightly import build_nightly_schedule
from pipelines.retention import AssetStorage, build_retention_schedule, retentie_opschonen
from pipelines.sensors import build_landing_sensor

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# A range run records one planned event and one materialization per partition and asset (342
# nationally). With a batch size, Dagster hands them to the event log in batches, which the
# project's storages (pipelines/event_log.py, deploy/dagster.yaml) write in one transaction each and
# dagster-postgres' own storage at least for materializations (bench/bench_bookkeeping.py). The
# project's storages turn it on themselves; this covers processes of an instance with Dagster's own
# (the Helm chart's).
turn_on_event_batching()

ASSET_MODULES = [raw, raw_planlijst, ep_online_mutaties, referentie, bezit, mutaties, woonservice, leefbaarometer, *KPI_MODULES, *MONITOR_MODULES, publish]
all_assets = with_kpi_freshness(dg.load_assets_from_modules(ASSET_MODULES))
# GX suites run inside their staged assets (check_specs); these are the separate checks.
all_checks = dg.load_asset_checks_from_modules([*KPI_MODULES, *MONITOR_MODULES, cross_checks])

# The daily EP-online mutation files are a partitioned asset with its own job and sensor; the
# nightly job reads whatever partitions exist through stg_energielabels.
PARTITIONED = dg.AssetSelection.assets("raw_ep_online_mutaties")
# KPIs, monitor and publication: one partition per gemeente (assets/partitions.py).
PER_GEMEENTE = dg.AssetSelection.groups("kpi", "monitor", "publicatie")

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all() - PARTITIONED - PER_GEMEENTE,
    description=(
        "Alle bronnen -> staging (met GX-checks). Als de run slaagt, start kpi_per_gemeente_sensor per "
        "gemeente een run van kpi_per_gemeente (KPI's -> monitor -> publicatie)."
    ),
    # The tag is what deploy/dagster.yaml's run queue limits to one at a time: nightly runs never overlap.
    tags={"dagster/max_retries": "1", "prestatiemonitor/nightly": "true"},
)

kpi_job = dg.define_asset_job(
    name=KPI_JOB_NAME,
    selection=PER_GEMEENTE,
    description=(
        "Per gemeente: KPI's -> stoplichtmonitor en rapport -> publicatie van de rijen van die gemeente. "
        "Een gemeente die faalt houdt de andere niet op; het warehouse houdt dan haar vorige rijen."
    ),
    # deploy/dagster.yaml limits how many gemeenten run at once (this tag) and the publication pool.
    tags={"dagster/max_retries": "1", "prestatiemonitor/per-gemeente": "true"},
)

nightly_schedule = build_nightly_schedule(nightly_job)


def resources() -> dict[str, object]:
    return {
        "landing": LandingFolder(path=config.landing_dir()),
        "warehouse": WarehouseResource(url=config.warehouse_url()),
        "kpi_settings": KpiSettings(),
        "data_quality": DataQuality(report_dir=config.report_dir()),
        "io_manager": ParquetIOManager(base_path=config.storage_dir()),
        "ep_online_api": EpOnlineApi(api_key=config.env_or_default("EP_ONLINE_API_KEY", "")),
        "pseudonymisation": Pseudonymisation(
            sleutel=config.pseudonym_key(), ontwikkelsleutel=config.development_pseudonym_key_allowed()
        ),
        "alerts": alert_channels_from_env(),
        "monitor": MonitorSettings(report_dir=config.monitor_report_dir()),
        "asset_storage": AssetStorage(path=config.storage_dir()),
    }


defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[nightly_job, kpi_job, ep_online_mutaties_job, retentie_opschonen],
    # The retention purge never runs on its own against the bundled sample.
    schedules=[nightly_schedule, build_retention_schedule(running=not config.uses_sample_landing())],
    sensors=[
        build_landing_sensor(nightly_job, exclude=PARTITIONED | PER_GEMEENTE),
        build_kpi_fanout_sensor(nightly_job, kpi_job, PER_GEMEENTE),
        build_kpi_split_sensor(kpi_job),
        build_ep_online_mutation_sensor(ep_online_mutaties_job),
        build_run_failure_alert_sensor(),
        build_freshness_alert_sensor(),
    ],
    resources=resources(),
    # Every job, also ep_online_mutaties and the UI's ad-hoc materialisations (pipelines/executors.py).
    executor=executor_from_env(),
)
