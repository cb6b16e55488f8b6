"""Data-quality tables in the warehouse (schema dq): the quarantine and the corrections audit.

These are operational tables for the data steward, separate from the published KPI tables (schema
kpi): a failed run writes what failed here, while the KPI tables stay as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from warehouse import TableSpec, Warehouse, WarehouseError, ensure_schema, wait_for_duckdb_lock

DQ_SCHEMA = "dq"

QUARANTINE = TableSpec(
    "quarantaine",
    [
        ("dataset", "text"),
        ("bestand", "text"),
        ("rij", "integer"),
        ("sleutel", "text"),
        ("kolom", "text"),
        ("waarde", "text"),
        ("regel", "text"),
        ("ernst", "text"),
        ("actie", "text"),
        ("run_id", "text"),
        ("eerst_gezien", "timestamp"),
        ("laatst_gezien", "timestamp"),
        ("opgelost_op", "timestamp"),
    ],
    schema=DQ_SCHEMA,
)
IDENTITY = ["dataset", "bestand", "rij", "kolom", "waarde", "regel"]

CORRECTION_AUDIT = TableSpec(
    "correctie_audit",
    [
        ("dataset", "text"),
        ("sleutel", "text"),
        ("kolom", "text"),
        ("oude_waarde", "text"),
        ("nieuwe_waarde", "text"),
        ("reden", "text"),
        ("auteur", "text"),
        ("datum", "text"),
        ("rijen_geraakt", "integer"),
        ("status", "text"),
        ("run_id", "text"),
        ("toegepast_op", "timestamp"),
    ],
    schema=DQ_SCHEMA,
)


def _ensure(connection: sa.Connection, spec: TableSpec) -> sa.Table:
    ensure_schema(connection, spec.schema)
    table = spec.sqlalchemy_table(sa.MetaData())
    table.create(connection, checkfirst=True)
    return table


def _identity(frame: pd.DataFrame) -> pd.Series:
    parts = [frame[c].astype("str").fillna("") for c in IDENTITY]
    key = parts[0]
    for part in parts[1:]:
        key = key + "\x1f" + part
    return key


def record_quarantine(
    warehouse: Warehouse, dataset: str, failures: pd.DataFrame, *, run_id: str, now: datetime
) -> dict[str, int]:
    """Record this run's failing cells of one dataset, in one transaction (delete open slice + insert).

    A failure seen before keeps its eerst_gezien; an open failure of this dataset that is no longer
    found gets opgelost_op = now. Returns counts: nieuw, nog_open, opgelost.
    """
    names = [c for c, _ in QUARANTINE.columns]
    current = failures.reindex(columns=["bestand", "rij", "sleutel", "kolom", "waarde", "regel", "ernst", "actie"]).copy()
    current["dataset"] = dataset
    current["waarde"] = current["waarde"].astype("str")
    current["rij"] = pd.to_numeric(current["rij"]).astype("Int64")
    def write() -> tuple[pd.Series, pd.DataFrame]:
        with warehouse.engine.begin() as connection:
            table = _ensure(connection, QUARANTINE)
            rows = connection.execute(
                sa.select(table).where(table.c.dataset == dataset, table.c.opgelost_op.is_(None))
            ).fetchall()
            previous = pd.DataFrame(rows, columns=names)
            previous["rij"] = pd.to_numeric(previous["rij"]).astype("Int64")
            previous_ids = _identity(previous) if len(previous) else pd.Series(dtype="str")
            current_ids = _identity(current) if len(current) else pd.Series(dtype="str")
            first_seen = dict(zip(previous_ids, previous["eerst_gezien"], strict=True))
            still = current_ids.isin(set(previous_ids))
            merged = current.assign(
                run_id=run_id,
                eerst_gezien=[first_seen.get(i, now) for i in current_ids],
                laatst_gezien=now,
                opgelost_op=None,
            )
            resolved = previous[~previous_ids.isin(set(current_ids))].assign(opgelost_op=now)
            out = pd.concat([merged[names], resolved[names]], ignore_index=True)
            connection.execute(table.delete().where(table.c.dataset == dataset, table.c.opgelost_op.is_(None)))
            if len(out):
                records = out.astype("object").where(out.notna(), None)
                connection.execute(table.insert(), records.to_dict(orient="records"))
        return still, resolved

    try:
        still, resolved = wait_for_duckdb_lock(write)
    except sa.exc.SQLAlchemyError as exc:
        raise WarehouseError(f"quarantaine van {dataset} niet bijgewerkt ({type(exc).__name__}: {exc})") from exc
    return {"nieuw": int((~still).sum()), "nog_open": int(still.sum()), "opgelost": len(resolved)}


def record_corrections(warehouse: Warehouse, audit: pd.DataFrame, *, run_id: str, now: datetime) -> None:
    if audit.empty:
        return
    records = audit.reindex(columns=[c for c, _ in CORRECTION_AUDIT.columns]).copy()
    records["run_id"] = run_id
    records["toegepast_op"] = now
    records = records.astype("object").where(records.notna(), None)
    def write() -> None:
        with warehouse.engine.begin() as connection:
            table = _ensure(connection, CORRECTION_AUDIT)
            connection.execute(table.insert(), records.to_dict(orient="records"))

    try:
        wait_for_duckdb_lock(write)
    except sa.exc.SQLAlchemyError as exc:
        raise WarehouseError(f"correctie-audit niet geschreven ({type(exc).__name__}: {exc})") from exc


def open_quarantine(warehouse: Warehouse, dataset: str | None = None) -> pd.DataFrame:
    def select() -> list[Any]:
        with warehouse.engine.connect() as connection:
            table = _ensure(connection, QUARANTINE)
            connection.commit()
            query = sa.select(table).where(table.c.opgelost_op.is_(None))
            if dataset:
                query = query.where(table.c.dataset == dataset)
            return list(connection.execute(query).fetchall())

    return pd.DataFrame(wait_for_duckdb_lock(select), columns=[c for c, _ in QUARANTINE.columns])
