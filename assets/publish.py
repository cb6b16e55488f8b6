"""warehouse_publicatie: writes a gemeente's KPI and monitor rows to the warehouse in ONE transaction.

The KPI assets compute their tables per gemeente partition; this asset publishes that gemeente's
slice of every table together (the rows with its gemeente_code are replaced, other gemeenten stay),
so dashboards see either yesterday's complete set for a gemeente or today's, never a mix. When any
KPI asset (or a blocking check before it) fails for a gemeente, its publication does not run and the
warehouse keeps that gemeente's previous rows; other gemeenten publish as usual.

Which run published which gemeente is logged in kpi.publicatie (append-only), not in the KPI rows:
the same inputs give byte-identical KPI tables.
"""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from assets.catalog import CATALOG_COLUMNS, catalog_frame
from assets.kpi import KPI_TABLES
from assets.monitor import MONITOR_TABLES
from assets.partitions import GEMEENTE_PARTITIES, gemeenten_of
from assets.resources import WarehouseResource
from warehouse import TableSpec

PUBLISHED = {table.name: table for table in KPI_TABLES}
SPECS: dict[str, TableSpec] = {
    **{name: table.table_spec() for name, table in PUBLISHED.items()},
    **{name: table.table_spec() for name, table in MONITOR_TABLES.items()},
}

CATALOG_SPEC = TableSpec("kpi_catalog", [(c.name, c.type) for c in CATALOG_COLUMNS], schema="kpi")
PUBLICATIE_SPEC = TableSpec(
    "publicatie",
    [
        ("gemeente_code", "text"),
        ("tabel", "text"),
        ("rijen", "integer"),
        ("run_id", "text"),
        ("gepubliceerd_op", "timestamp"),
    ],
    schema="kpi",
    append_only=True,
)


def publicatie_rows(frames: dict[str, pd.DataFrame], gemeenten: list[str], run_id: str) -> pd.DataFrame:
    """One log row per gemeente and table: how many rows this run published for it."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for name, frame in frames.items():
        counts = frame["gemeente_code"].astype("str").value_counts() if len(frame) else pd.Series(dtype="int64")
        for gemeente in gemeenten:
            rows.append({
                "gemeente_code": gemeente,
                "tabel": SPECS[name].qualified_name,
                "rijen": int(counts.get(gemeente, 0)),
                "run_id": run_id,
                "gepubliceerd_op": now,
            })
    return pd.DataFrame(rows, columns=[c for c, _ in PUBLICATIE_SPEC.columns])


@dg.asset(
    ins={name: dg.AssetIn(name) for name in SPECS},
    partitions_def=GEMEENTE_PARTITIES,
    # One publication at a time per deployment (deploy/dagster.yaml limits the pool); the warehouse
    # also serialises writers itself, so this holds without the pool too.
    pool="warehouse",
    group_name="publicatie",
    kinds={"duckdb", "postgres", "sql"},
    owners=["team:woningmarkt"],
    description=(
        "Publiceert per gemeente alle KPI- en monitorrijen in een transactie naar het warehouse dat dashboards "
        "lezen (de rijen van die gemeente worden vervangen). Tabellen: "
        + ", ".join(spec.qualified_name for spec in SPECS.values())
        + ", het datawoordenboek kpi.kpi_catalog en het publicatielogboek kpi.publicatie."
    ),
)
def warehouse_publicatie(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, **frames: pd.DataFrame
) -> dg.MaterializeResult:
    gemeenten = gemeenten_of(context)
    tables = {name: (SPECS[name], frame) for name, frame in frames.items()}
    tables["kpi_catalog"] = (CATALOG_SPEC, catalog_frame())
    log = publicatie_rows(dict(frames), gemeenten, context.run.run_id)
    tables["publicatie"] = (PUBLICATIE_SPEC, log)
    client = warehouse.client()
    try:
        written = client.publish(tables, slices={"gemeente_code": gemeenten})
    finally:
        client.dispose()
    return dg.MaterializeResult(
        metadata={
            "tabellen": dg.MetadataValue.json(written),
            "gemeenten": dg.MetadataValue.json(gemeenten),
            "dagster/row_count": int(sum(n for t, n in written.items() if t not in ("kpi.kpi_catalog", "kpi.publicatie"))),
            "warehouse_dialect": dg.MetadataValue.text(_dialect(warehouse.url)),
        }
    )


def _dialect(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]
