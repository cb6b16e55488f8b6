"""Running the real graph in tests: temporary landing copy, warehouse, storage and steward files."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from assets.ep_online_mutaties import EpOnlineApi
from assets.monitor import MonitorSettings
from assets.resources import DataQuality, LandingFolder, WarehouseResource
from assets.settings import KpiSettings
from pipelines.config import SAMPLE_LANDING
from pipelines.definitions import PARTITIONED, all_assets, all_checks
from pipelines.io import ParquetIOManager
from warehouse.testing import scratch_url

# The sample runs to peildatum 31-12-2025; validating "today" as 31-01-2026 keeps the tests stable.
SAMPLE_TODAY = "2026-01-31"


class Workspace:
    def __init__(self, base: Path, landing: Path | None = None) -> None:
        self.base = base
        self.landing = base / "landing"
        if not self.landing.exists():
            shutil.copytree(landing or SAMPLE_LANDING, self.landing)
        self.url = scratch_url(base)  # DuckDB file, or a fresh PostgreSQL database in CI's second pass
        self.storage = base / "storage"
        self.corrections = base / "correcties.csv"
        if not self.corrections.exists():
            self.corrections.write_text("dataset,sleutel,kolom,nieuwe_waarde,reden,auteur,datum\n", encoding="utf-8")
        self.reports = base / "validatie"

    def resources(self) -> dict[str, object]:
        return {
            "landing": LandingFolder(path=str(self.landing)),
            "warehouse": WarehouseResource(url=self.url),
            "kpi_settings": KpiSettings(),
            "io_manager": ParquetIOManager(base_path=str(self.storage)),
            "ep_online_api": EpOnlineApi(api_key=""),
            "monitor": MonitorSettings(report_dir=str(self.base / "rapport"), as_of=SAMPLE_TODAY),
            "data_quality": DataQuality(
                corrections_path=str(self.corrections), report_dir=str(self.reports), vandaag=SAMPLE_TODAY
            ),
        }

    def run(self, selection: str | dg.AssetSelection | None = None, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
        """The graph as the nightly job runs it (the partitioned mutation-file asset is its own job)."""
        return dg.materialize(
            [*all_assets, *all_checks],
            resources=self.resources(),
            selection=selection if selection is not None else dg.AssetSelection.all() - PARTITIONED,
            instance=instance,
            raise_on_error=False,
        )


def failed_steps(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.step_key for e in result.all_events if e.is_step_failure]
