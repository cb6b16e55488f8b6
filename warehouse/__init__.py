"""The SQL warehouse that dashboards read: DuckDB file by default, PostgreSQL in production.

Plain SQLAlchemy, no Dagster. Every publication replaces a set of tables (or slices of them) in ONE
transaction, so a reader sees either all of yesterday's tables or all of today's, never a mix, and a
failure half-way leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

DEFAULT_SCHEMA = "kpi"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

LOGICAL_TYPES: dict[str, Any] = {
    "text": sa.Text(),
    "integer": sa.BigInteger(),
    "double": sa.Float(precision=53),
    "boolean": sa.Boolean(),
    "date": sa.Date(),
    "timestamp": sa.DateTime(),
}


class WarehouseError(RuntimeError):
    """The warehouse could not be written; the transaction was rolled back."""


def check_identifier(name: str) -> str:
    """Table and column names come from code and configuration: allow only plain snake_case."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"ongeldige tabel- of kolomnaam {name!r}: alleen a-z, 0-9 en _ toegestaan")
    return name


@dataclass(frozen=True)
class TableSpec:
    """A published table: its name and ordered (column, logical type) pairs."""

    name: str
    columns: Sequence[tuple[str, str]]
    schema: str = DEFAULT_SCHEMA
    slice_columns: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        check_identifier(self.name)
        check_identifier(self.schema)
        for column, logical in self.columns:
            check_identifier(column)
            if logical not in LOGICAL_TYPES:
                raise ValueError(f"{self.name}.{column}: onbekend type {logical!r}")

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def sqlalchemy_table(self, metadata: sa.MetaData) -> sa.Table:
        return sa.Table(
            self.name,
            metadata,
            *(sa.Column(c, LOGICAL_TYPES[t]) for c, t in self.columns),
            schema=self.schema,
        )


class Warehouse:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.Engine | None = None

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = sa.create_engine(self.url, future=True)
        return self._engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def publish(self, tables: Mapping[str, tuple[TableSpec, pd.DataFrame]]) -> dict[str, int]:
        """Replace every given table in one transaction; returns rows written per table.

        A table whose stored columns differ from its spec is recreated inside the same transaction
        (DuckDB and PostgreSQL both have transactional DDL).
        """
        written: dict[str, int] = {}
        try:
            with self.engine.begin() as connection:
                for spec, frame in tables.values():
                    written[spec.qualified_name] = self._replace(connection, spec, frame)
        except WarehouseError:
            raise
        except (sa.exc.SQLAlchemyError, ValueError, TypeError) as exc:
            detail = exc.args[0] if exc.args else exc
            raise WarehouseError(f"schrijven naar het warehouse mislukt, niets gewijzigd ({type(exc).__name__}: {detail})") from exc
        return written

    def read(self, schema: str, table: str) -> pd.DataFrame:
        check_identifier(schema)
        check_identifier(table)
        with self.engine.connect() as connection:
            result = connection.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"'))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def table_exists(self, schema: str, table: str) -> bool:
        with self.engine.connect() as connection:
            return bool(_stored_columns(connection, schema, table))

    def _replace(self, connection: sa.Connection, spec: TableSpec, frame: pd.DataFrame) -> int:
        expected = [c for c, _ in spec.columns]
        missing = [c for c in expected if c not in frame.columns]
        if missing:
            raise WarehouseError(f"{spec.qualified_name}: kolommen ontbreken in de data: {missing}")
        frame = _to_storage_types(frame[expected], spec)
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{spec.schema}"'))
        stored = _stored_columns(connection, spec.schema, spec.name)
        if stored and stored != expected:
            connection.execute(sa.text(f'DROP TABLE "{spec.schema}"."{spec.name}"'))
        table = spec.sqlalchemy_table(sa.MetaData())
        table.create(connection, checkfirst=True)
        connection.execute(table.delete())
        if frame.empty:
            return 0
        if connection.dialect.name == "duckdb":
            _insert_duckdb(connection, spec, frame)
        else:
            connection.execute(table.insert(), _records(frame, spec))
        return len(frame)


def _stored_columns(connection: sa.Connection, schema: str, table: str) -> list[str]:
    """Column names in order; information_schema works on DuckDB and PostgreSQL alike (SQLAlchemy's
    PostgreSQL inspector, which duckdb-engine reuses, queries catalogs DuckDB does not have)."""
    rows = connection.execute(
        sa.text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"
        ),
        {"schema": schema, "table": table},
    )
    return [r[0] for r in rows]


def _to_storage_types(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Coerce each column to the pandas dtype of its logical type; a value that does not fit fails."""
    out = pd.DataFrame(index=frame.index)
    for column, logical in spec.columns:
        values = frame[column]
        if logical == "text":
            out[column] = values.astype("str")
        elif logical == "integer":
            out[column] = pd.to_numeric(values).astype("Int64")
        elif logical == "double":
            out[column] = pd.to_numeric(values).astype("float64")
        elif logical == "boolean":
            out[column] = values.astype("boolean")
        else:
            out[column] = pd.to_datetime(values).astype("datetime64[us]")
    return out.reset_index(drop=True)


def _records(frame: pd.DataFrame, spec: TableSpec) -> list[dict[str, Any]]:
    """Plain Python values with None for missing, for drivers without a bulk path."""
    converted: dict[str, list[Any]] = {}
    for column, logical in spec.columns:
        values = frame[column]
        if logical == "date":
            items = [v.date() if not pd.isna(v) else None for v in values]
        elif logical == "timestamp":
            items = [v.to_pydatetime() if not pd.isna(v) else None for v in values]
        else:
            items = [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in values]
        converted[column] = items
    return [dict(zip(converted, row, strict=True)) for row in zip(*converted.values(), strict=True)]


def _insert_duckdb(connection: sa.Connection, spec: TableSpec, frame: pd.DataFrame) -> None:
    """DuckDB's fast path: register the frame and INSERT ... SELECT inside the open transaction."""
    raw = connection.connection.driver_connection
    view = f"_load_{spec.name}"
    casts = ", ".join(
        f'CAST("{c}" AS {LOGICAL_TYPES[t].compile(dialect=connection.dialect)}) AS "{c}"' for c, t in spec.columns
    )
    raw.register(view, frame)  # type: ignore[union-attr]
    try:
        raw.execute(f'INSERT INTO "{spec.schema}"."{spec.name}" SELECT {casts} FROM "{view}"')  # type: ignore[union-attr]
    finally:
        raw.unregister(view)  # type: ignore[union-attr]
