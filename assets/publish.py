"""warehouse_publicatie: writes every KPI table and the monitor tables to the warehouse in ONE transaction.

The KPI assets compute their tables; this asset publishes them together, so dashboards see either
yesterday's complete set or today's, never a mix. When any KPI asset (or a blocking check before
it) fails, this asset does not run and the warehouse keeps the previous tables.
"""


import dagster as dg
import pandas as pd

from assets.catalog import CATALOG_COLUMNS, catalog_frame
from assets.kpi import KPI_TABLES
from assets.monitor import MONITOR_TABLES
from assets.resources import WarehouseResource
from warehouse import TableSpec

PUBLISHED = {table.name: table for table in KPI_TABLES}
SPECS: dict[str, TableSpec] = {
    **{name: table.table_spec() for name, table in PUBLISHED.items()},
    **{name: table.table_spec() for name, table in MONITOR_TABLES.items()},
}

CATALOG_SPEC = TableSpec("kpi_catalog", [(c.name, c.type) for c in CATALOG_COLUMNS], schema="kpi")


@dg.asset(
    ins={name: dg.AssetIn(name) for name in SPECS},
    group_name="publicatie",
    kinds={"duckdb", "postgres", "sql"},
    owners=["team:woningmarkt"],
    description=(
        "Publiceert alle KPI-tabellen (schema kpi) in een transactie naar het warehouse dat dashboards lezen. "
        "Tabellen: " + ", ".join(spec.qualified_name for spec in SPECS.values())
        + ", en het datawoordenboek kpi.kpi_catalog."
    ),
)
def warehouse_publicatie(warehouse: WarehouseResource, **frames: pd.DataFrame) -> dg.MaterializeResult:
    tables = {name: (SPECS[name], frame) for name, frame in frames.items()}
    tables["kpi_catalog"] = (CATALOG_SPEC, catalog_frame())
    client = warehouse.client()
    try:
        written = client.publish(tables)
    finally:
        client.dispose()
    return dg.MaterializeResult(
        metadata={
            "tabellen": dg.MetadataValue.json(written),
            "dagster/row_count": int(sum(written.values())),
            "warehouse_dialect": dg.MetadataValue.text(_dialect(warehouse.url)),
        }
    )


def _dialect(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]
