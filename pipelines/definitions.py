"""The single Dagster Definitions of Prestatiemonitor: assets, checks, resources, job, schedule, sensor."""

from __future__ import annotations

import os

import dagster as dg

from assets import publish, raw
from assets.kpi import KPI_MODULES
from assets.resources import DataQuality, LandingFolder, WarehouseResource
from assets.settings import KpiSettings
from assets.staging import bezit, cross_checks, leefbaarometer, mutaties, referentie, woonservice
from pipelines import config
from pipelines.io import ParquetIOManager
from pipelines.sensors import build_landing_sensor

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

ASSET_MODULES = [raw, referentie, bezit, mutaties, woonservice, leefbaarometer, *KPI_MODULES, publish]
all_assets = dg.load_assets_from_modules(ASSET_MODULES)
# GX suites run inside their staged assets (check_specs); these are the separate checks.
all_checks = dg.load_asset_checks_from_modules([*KPI_MODULES, cross_checks])

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    description="Alle bronnen -> staging (met GX-checks) -> KPI's -> publicatie in het warehouse.",
    tags={"dagster/max_retries": "1"},
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_0200",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Elke nacht om 02:00 (Europe/Amsterdam) alles materialiseren.",
)


def resources() -> dict[str, object]:
    return {
        "landing": LandingFolder(path=config.landing_dir()),
        "warehouse": WarehouseResource(url=config.warehouse_url()),
        "kpi_settings": KpiSettings(),
        "data_quality": DataQuality(),
        "io_manager": ParquetIOManager(base_path=config.storage_dir()),
    }


defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    sensors=[build_landing_sensor(nightly_job)],
    resources=resources(),
)
