"""Running the real graph in tests: temporary landing copy, warehouse, storage and steward files."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from assets.ep_online_mutaties import EpOnlineApi
from assets.monitor import MonitorSettings
from assets.partitions import GEMEENTE_PARTITIES, range_tags
from assets.resources import DataQuality, LandingFolder, Pseudonymisation, WarehouseResource
from assets.settings import KpiSettings
from pipelines.config import SAMPLE_LANDING
from pipelines.definitions import PARTITIONED, PER_GEMEENTE, all_assets, all_checks
from pipelines.io import ParquetIOManager
from warehouse.testing import scratch_url

# A run over every configured gemeente partition at once (tests of the KPI and monitor assets).
ALLE_GEMEENTEN = range_tags(GEMEENTE_PARTITIES.get_partition_keys())

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
            "pseudonymisation": Pseudonymisation(ontwikkelsleutel=True),
            "monitor": MonitorSettings(report_dir=str(self.base / "rapport"), as_of=SAMPLE_TODAY),
            "data_quality": DataQuality(
                corrections_path=str(self.corrections), report_dir=str(self.reports), vandaag=SAMPLE_TODAY
            ),
        }

    def run(
        self,
        selection: str | dg.AssetSelection | None = None,
        instance: dg.DagsterInstance | None = None,
        gemeenten: list[str] | None = None,
    ) -> dg.ExecuteInProcessResult:
        """The nightly load and the per-gemeente layer in ONE in-process run: the gemeente partitions as
        one range (all configured gemeenten unless given). The production path, one run per gemeente,
        is `run_per_gemeente`."""
        keys = sorted(gemeenten) if gemeenten else GEMEENTE_PARTITIES.get_partition_keys()
        forget_disposed_instances()
        return dg.materialize(
            [*all_assets, *all_checks],
            resources=self.resources(),
            selection=selection if selection is not None else dg.AssetSelection.all() - PARTITIONED,
            instance=instance,
            raise_on_error=False,
            tags=range_tags(keys),
        )

    def run_per_gemeente(
        self, gemeente: str, instance: dg.DagsterInstance | None = None, **resources: object
    ) -> dg.ExecuteInProcessResult:
        """One kpi_per_gemeente run, as the fan-out sensor starts it after the nightly load."""
        forget_disposed_instances()
        return dg.materialize(
            [*all_assets, *all_checks],
            resources={**self.resources(), **resources},
            selection=PER_GEMEENTE,
            partition_key=gemeente,
            instance=instance,
            raise_on_error=False,
        )


def forget_disposed_instances() -> None:
    """Every DagsterInstance makes its state storage the current one (a context variable) until it is
    disposed; one left to the garbage collector leaves a dead weak reference that makes the next
    materialize fail ("undefined DagsterInstance weakref"), and its disposal by the collector in the
    middle of a later run restores such a stale value. Collect now, then clear."""
    import gc

    from dagster._core.storage.defs_state import base

    gc.collect()
    base._current_storage.set(None)


def failed_steps(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.step_key for e in result.all_events if e.is_step_failure and e.step_key]
