"""The monitor of the prestatieafspraken (DESIGN.md §6): a stoplight per agreement and a report.

- `stoplight`: assets `monitor_stoplight` (one row per agreement of agreements/*.yaml, judged on the
  KPI tables) and `monitor_stoplight_historie` (every run's rows, keyed by run_id and as_of);
- `report`: asset `monitor_rapport` (HTML per gemeente and year with trend charts, plus CSV/XLSX).

Publication: `MONITOR_TABLES` are the tables to write to the warehouse in the same transaction as
the KPI tables (schema monitor); each asset's value is the frame to publish under its spec.
Resource: `monitor: MonitorSettings` (agreements directory, report directory, as_of).
"""

from assets.monitor import report, stoplight
from assets.monitor.stoplight import (
    HISTORIE,
    STOPLIGHT,
    MonitorSettings,
    MonitorTable,
    load_monitor_agreements,
)

MONITOR_MODULES = [stoplight, report]
#: asset name -> published table: the frame of that asset is written under table.table_spec().
MONITOR_TABLES: dict[str, MonitorTable] = {
    "monitor_stoplight": STOPLIGHT,
    "monitor_stoplight_historie": HISTORIE,
}

__all__ = ["MONITOR_MODULES", "MONITOR_TABLES", "MonitorSettings", "MonitorTable", "load_monitor_agreements"]
