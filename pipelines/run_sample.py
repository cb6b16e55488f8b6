"""`make run`: the nightly job once, in-process, on the bundled sample data into the DuckDB warehouse.

The run is recorded in the Dagster instance under DAGSTER_HOME, so `make ui` shows it afterwards.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def root_cause(event: object) -> str:
    """The innermost error message of a failed step: the reader's or warehouse's own words."""
    data = getattr(event, "step_failure_data", None)
    if data is None:
        return ""
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error is not None else ""


def main() -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_DIR / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    instance_config = home / "dagster.yaml"  # SQLite run and event storage under DAGSTER_HOME
    if not instance_config.exists():
        from pipelines.event_log import local_instance_yaml

        instance_config.write_text(local_instance_yaml(home), encoding="utf-8")
    (PROJECT_DIR / "out").mkdir(exist_ok=True)

    import dagster as dg

    from assets.ep_online_mutaties import EP_ONLINE_MUTATIEBESTANDEN
    from assets.partitions import GEMEENTE_PARTITIES, range_tags
    from assets.publish import PUBLISHED
    from assets.resources import LandingFolder
    from pipelines import config
    from pipelines.config import DEFAULT_WAREHOUSE
    from pipelines.definitions import defs
    from pipelines.ep_online_sensor import ep_online_mutaties_job, mutation_partition_keys
    from warehouse import Warehouse

    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        # As the daemon would: register the daily EP-online mutation files in the landing folder as
        # partitions and process them (they filter on the stock, so raw_bezit comes first); then the
        # nightly job, whose stg_energielabels applies them on top of the total file.
        nightly = defs.resolve_job_def("nightly")
        landing = os.environ.get("PRESTATIEMONITOR_LANDING_DIR") or str(config.SAMPLE_LANDING)
        keys = mutation_partition_keys(LandingFolder(path=landing))
        if keys:
            nightly.execute_in_process(instance=instance, asset_selection=[dg.AssetKey("raw_bezit")], run_config=quiet)
            instance.add_dynamic_partitions(EP_ONLINE_MUTATIEBESTANDEN, keys)
            mutations = defs.resolve_job_def(ep_online_mutaties_job.name)
            for key in keys:
                mutations.execute_in_process(instance=instance, partition_key=key, run_config=quiet)
            print(f"EP-online mutatiebestanden verwerkt: {', '.join(keys)}")
        result = nightly.execute_in_process(instance=instance, raise_on_error=False, run_config=quiet)
        if result.success:
            # In production kpi_per_gemeente_sensor starts one run per gemeente after the load; here
            # all gemeenten go in one run over the whole partition range (same rows, much faster).
            gemeenten = GEMEENTE_PARTITIES.get_partition_keys()
            result = defs.resolve_job_def("kpi_per_gemeente").execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config=quiet,
                tags=range_tags(gemeenten),
            )
            print(f"KPI's, monitor en publicatie voor {len(gemeenten)} gemeenten (run {result.run_id})")
    seconds = time.monotonic() - started
    url = os.environ.get("PRESTATIEMONITOR_WAREHOUSE_URL", f"duckdb:///{DEFAULT_WAREHOUSE}")
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        print(f"\nRun {result.run_id} MISLUKT na {seconds:.0f} s; het warehouse is niet gewijzigd.")
        for event in failures:
            print(f"  - {event.step_key}: {root_cause(event)}")
        return 1
    warehouse = Warehouse(url)
    print(f"\nRun {result.run_id} geslaagd in {seconds:.0f} s.")
    print(f"KPI-tabellen in het warehouse {url} (schema kpi):")
    for table in PUBLISHED:
        rows = len(warehouse.read("kpi", table))
        print(f"  kpi.{table:<28} {rows:>6} rijen")
    warehouse.dispose()
    rapport = os.environ.get("PRESTATIEMONITOR_RAPPORT_DIR") or str(PROJECT_DIR / "out" / "rapport")
    print("Stoplichtmonitor: tabel monitor.monitor_stoplight; rapporten per gemeente en jaar: "
          f"{rapport}/index.html")
    print("Dagster UI met asset-graaf, checks en deze run: make ui  ->  http://127.0.0.1:3000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
