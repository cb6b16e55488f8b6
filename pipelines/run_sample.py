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
    (home / "dagster.yaml").touch(exist_ok=True)  # defaults: SQLite run and event storage under DAGSTER_HOME
    (PROJECT_DIR / "out").mkdir(exist_ok=True)

    import dagster as dg

    from pipelines.config import DEFAULT_WAREHOUSE
    from pipelines.definitions import defs
    from warehouse import Warehouse

    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("nightly").execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
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
    for table in ("kpi_slaagkans", "kpi_energielabels", "kpi_zon", "kpi_voorraadontwikkeling"):
        rows = len(warehouse.read("kpi", table))
        print(f"  kpi.{table:<28} {rows:>6} rijen")
    warehouse.dispose()
    print("Dagster UI met asset-graaf, checks en deze run: make ui  ->  http://127.0.0.1:3000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
