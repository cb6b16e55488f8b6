"""The SQL warehouse that dashboards read: DuckDB file by default, PostgreSQL in production.

Plain SQLAlchemy, no Dagster. Every publication replaces a set of tables (or slices of them) in ONE
transaction, so a reader sees either all of yesterday's tables or all of today's, never a mix, and a
failure half-way leaves the warehouse exactly as it was.

Bulk loads take each backend's fast path inside that transaction: DuckDB registers the DataFrame and
runs INSERT ... SELECT; PostgreSQL (``postgresql+psycopg://``, psycopg 3) streams the rows with
``COPY ... FROM STDIN`` on the same connection; any other driver falls back to executemany.

Dashboards read the views in schema ``dashboard`` (one per table in schema ``kpi``), never the tables:
on PostgreSQL the group role ``dashboard_reader`` gets USAGE on that schema and SELECT on those views
only (a view runs with its owner's rights, so the role needs nothing on ``kpi`` or ``dq``). Publishing
(re)creates a view and its grant whenever its table is new or recreated, in the same transaction;
a table whose columns changed is dropped with CASCADE, so nothing stale survives it. Schemas, the
role and the dq tables are created by the alembic baseline (``migrations/``, ``python -m
warehouse.migrate upgrade``); tables and views are still created if missing, so an unmigrated DuckDB
file works as before.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

T = TypeVar("T")

DEFAULT_SCHEMA = "kpi"
MONITOR_SCHEMA = "monitor"
# The group role the nightly run publishes with in production (migrations/versions/0002_loader_role.py).
LOADER_ROLE = "prestatiemonitor_loader"
# Any constant identifies "a publication is being written" to pg_advisory_xact_lock.
PUBLISH_LOCK_KEY = 7_318_512_004
# How long a publication waits for another process's write to a DuckDB file before failing.
PUBLISH_LOCK_WAIT_SECONDS = 600
DASHBOARD_SCHEMA = "dashboard"
DASHBOARD_READER = "dashboard_reader"
# Tables in these schemas get a read-only view in DASHBOARD_SCHEMA; dq is for the steward, not dashboards.
DASHBOARD_SOURCE_SCHEMAS = (DEFAULT_SCHEMA,)
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # always fullmatch: '$' would let "x\n" through

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
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"ongeldige tabel- of kolomnaam {name!r}: alleen a-z, 0-9 en _ toegestaan")
    return name


@dataclass(frozen=True)
class TableSpec:
    """A published table: its name and ordered (column, logical type) pairs."""

    name: str
    columns: Sequence[tuple[str, str]]
    schema: str = DEFAULT_SCHEMA
    #: A table published in slices (e.g. per gemeente): a publication names the slice values it
    #: replaces, and rows of other slices stay as they are.
    slice_columns: Sequence[str] = field(default_factory=tuple)
    #: A log (e.g. kpi.publicatie): rows are added, never replaced.
    append_only: bool = False

    def __post_init__(self) -> None:
        check_identifier(self.name)
        check_identifier(self.schema)
        for column in self.slice_columns:
            if column not in [c for c, _ in self.columns]:
                raise ValueError(f"{self.name}: plakkolom {column!r} is geen kolom van de tabel")
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

    def publish(
        self,
        tables: Mapping[str, tuple[TableSpec, pd.DataFrame]],
        *,
        slices: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, int]:
        """Replace every given table in one transaction; returns rows written per table.

        With `slices` (e.g. {"gemeente_code": ["GM0392"]}), a table with those slice_columns gets only
        the rows of those values replaced; a frame row outside them is an error. Append-only tables
        get their rows added. Publications are serialised (PostgreSQL: a transaction-level advisory
        lock; DuckDB: one writing process at a time, a waiting one retries), so two runs never
        interleave their writes. A table whose stored columns differ from its spec is recreated
        inside the same transaction (DuckDB and PostgreSQL both have transactional DDL), and so are
        its dashboard view and grant.
        """
        return wait_for_duckdb_lock(lambda: self._publish_once(tables, slices or {}))

    def _publish_once(
        self, tables: Mapping[str, tuple[TableSpec, pd.DataFrame]], slices: Mapping[str, Sequence[str]]
    ) -> dict[str, int]:
        written: dict[str, int] = {}
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK_KEY})
                recreated: list[TableSpec] = []
                for spec, frame in tables.values():
                    rows, created = self._replace(connection, spec, frame, slices)
                    written[spec.qualified_name] = rows
                    if created:
                        recreated.append(spec)
                for spec, _ in tables.values():
                    if spec.schema in DASHBOARD_SOURCE_SCHEMAS:
                        _ensure_dashboard_view(connection, spec, force=spec in recreated)
        except WarehouseError:
            raise
        except Exception as exc:
            if _is_duckdb_busy(exc):
                raise
            if not isinstance(exc, (sa.exc.SQLAlchemyError, ValueError, TypeError)):
                raise
            detail = exc.args[0] if exc.args else exc
            raise WarehouseError(f"schrijven naar het warehouse mislukt, niets gewijzigd ({type(exc).__name__}: {detail})") from exc
        return written

    def read(self, schema: str, table: str, *, where: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
        """The table's rows; with `where`, only rows whose column holds one of the given values."""
        check_identifier(schema)
        check_identifier(table)
        clauses, params = [], {}
        for i, (column, values) in enumerate((where or {}).items()):
            check_identifier(column)
            names = [f"w{i}_{j}" for j in range(len(values))]
            params.update(dict(zip(names, [str(v) for v in values], strict=True)))
            clauses.append(f'"{column}" IN ({", ".join(":" + n for n in names)})' if names else "FALSE")
        condition = f" WHERE {' AND '.join(clauses)}" if clauses else ""

        def select() -> pd.DataFrame:
            with self.engine.connect() as connection:
                result = connection.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"{condition}'), params)
                return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

        return wait_for_duckdb_lock(select)

    def table_exists(self, schema: str, table: str) -> bool:
        def exists() -> bool:
            with self.engine.connect() as connection:
                return bool(_stored_columns(connection, schema, table))

        return wait_for_duckdb_lock(exists)

    def ensure_dashboard_access(self, reader_role: str = DASHBOARD_READER) -> None:
        """Idempotently set up what dashboards read: schema ``dashboard`` with a view per KPI table,
        and on PostgreSQL the NOLOGIN group role ``reader_role`` with USAGE on that schema and SELECT
        on its views only. Needs CREATEROLE when the role does not exist yet. The alembic baseline runs
        the same code; give people or tools a login role that is a member:
        ``CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE dashboard_reader``."""
        def apply() -> None:
            with self.engine.begin() as connection:
                apply_dashboard_access(connection, reader_role)

        try:
            wait_for_duckdb_lock(apply)
        except sa.exc.SQLAlchemyError as exc:
            raise WarehouseError(f"dashboardtoegang niet ingericht ({type(exc).__name__}: {exc.args[0] if exc.args else exc})") from exc

    def _replace(
        self, connection: sa.Connection, spec: TableSpec, frame: pd.DataFrame, slices: Mapping[str, Sequence[str]]
    ) -> tuple[int, bool]:
        """Delete and reload one table (or its slices); returns (rows written, whether the table was (re)created)."""
        expected = [c for c, _ in spec.columns]
        missing = [c for c in expected if c not in frame.columns]
        if missing:
            raise WarehouseError(f"{spec.qualified_name}: kolommen ontbreken in de data: {missing}")
        sliced = {c: [str(v) for v in slices[c]] for c in spec.slice_columns if c in slices}
        for column, values in sliced.items():
            outside = sorted(set(frame[column].astype("str").unique()) - set(values))
            if outside:
                raise WarehouseError(
                    f"{spec.qualified_name}: rijen met {column} buiten de gepubliceerde plakken: {outside[:5]}"
                )
        frame = _to_storage_types(frame[expected], spec)
        ensure_schema(connection, spec.schema)
        stored = _stored_columns(connection, spec.schema, spec.name)
        if stored and stored != expected:
            # CASCADE on PostgreSQL drops the dashboard view (and anything else built on the table);
            # publish() recreates the view and its grant before the transaction commits.
            cascade = " CASCADE" if connection.dialect.name == "postgresql" else ""
            connection.execute(sa.text(f'DROP TABLE "{spec.schema}"."{spec.name}"{cascade}'))
        table = spec.sqlalchemy_table(sa.MetaData())
        table.create(connection, checkfirst=True)
        created = stored != expected
        # DELETE, not TRUNCATE: readers keep seeing the old rows (MVCC) until this transaction commits.
        if not spec.append_only:
            delete = table.delete()
            for column, values in sliced.items():
                delete = delete.where(table.c[column].in_(values))
            connection.execute(delete)
        if frame.empty:
            return 0, created
        if connection.dialect.name == "duckdb":
            _insert_duckdb(connection, spec, frame)
        elif connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
            _copy_postgres(connection, spec, frame)
        else:
            connection.execute(table.insert(), _records(frame, spec))
        return len(frame), created


def ensure_schema(connection: sa.Connection, schema: str) -> None:
    """Create the schema only when it is missing: PostgreSQL checks the right to create schemas in
    the database before IF NOT EXISTS, and the loader role (rightly) has no such right."""
    check_identifier(schema)
    query = (
        "SELECT 1 FROM pg_namespace WHERE nspname = :s"  # lists schemas without any privilege on them
        if connection.dialect.name == "postgresql"
        else "SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"
    )
    found = connection.execute(sa.text(query), {"s": schema}).first()
    if found is None:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


def wait_for_duckdb_lock(action: Callable[[], T]) -> T:
    """Run `action`, retrying while another process holds the DuckDB file (DuckDB allows one process
    per file; the conflict is raised at connect, before anything is read or written) or is still
    creating it. After PUBLISH_LOCK_WAIT_SECONDS: a WarehouseError. PostgreSQL never raises these and
    runs straight."""
    try:
        for attempt in Retrying(
            retry=retry_if_exception(_is_duckdb_busy),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_delay(PUBLISH_LOCK_WAIT_SECONDS),
            reraise=True,
        ):
            with attempt:
                return action()
    except Exception as exc:
        if _is_duckdb_lock_conflict(exc):
            raise WarehouseError(
                f"het warehouse-bestand wordt na {PUBLISH_LOCK_WAIT_SECONDS} s nog door een ander proces "
                "geschreven; niets gewijzigd"
            ) from exc
        invalid = _NOT_A_DUCKDB_FILE.search(str(exc))
        if invalid is not None:
            raise WarehouseError(
                f"het warehouse-bestand {invalid['path']} is geen geldig DuckDB-bestand ({_size(invalid['path'])} bytes) "
                "en wordt niet meer aangemaakt: leeg of beschadigd. Zet een back-up terug of verwijder een leeg "
                "bestand (de volgende run maakt het opnieuw aan); niets gewijzigd"
            ) from exc
        raise
    raise AssertionError("unreachable")  # pragma: no cover


def _is_duckdb_lock_conflict(exc: BaseException) -> bool:
    """DuckDB allows one writing process per file; another one gets this error when it connects."""
    text = str(exc)
    return "Could not set lock on file" in text or "Conflicting lock is held" in text


#: How long after its last change a file DuckDB calls invalid may still be being created.
CREATING_SECONDS = 30
_NOT_A_DUCKDB_FILE = re.compile(r'The file "(?P<path>[^"]+)" exists, but it is not a valid DuckDB database file')


def _duckdb_file_being_created(exc: BaseException) -> bool:
    """DuckDB refused a file that changed moments ago: another process has just created it and is
    writing its headers (two first runs at once on a new warehouse; DuckDB creates the file before
    it takes the lock). An older invalid file is empty or damaged and fails at once."""
    match = _NOT_A_DUCKDB_FILE.search(str(exc))
    if match is None:
        return False
    try:
        changed = os.path.getmtime(match["path"])
    except OSError:
        return True  # gone again: the other process is replacing it
    return time.time() - changed < CREATING_SECONDS


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _is_duckdb_busy(exc: BaseException) -> bool:
    return _is_duckdb_lock_conflict(exc) or _duckdb_file_being_created(exc)


def apply_dashboard_access(connection: sa.Connection, reader_role: str = DASHBOARD_READER) -> None:
    """The dashboard schema, role, grants and a view per existing KPI table, on an open connection
    (used by Warehouse.ensure_dashboard_access and by the alembic baseline migration)."""
    check_identifier(reader_role)
    ensure_schema(connection, DASHBOARD_SCHEMA)
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        if not _role_exists(connection, reader_role):
            # A concurrent creator may win the race: swallow exactly that, inside the DO block.
            connection.execute(sa.text(
                "DO $$ BEGIN "
                f'CREATE ROLE "{reader_role}" NOLOGIN; '
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
                "END $$"
            ))
        connection.execute(sa.text(f'GRANT USAGE ON SCHEMA "{DASHBOARD_SCHEMA}" TO "{reader_role}"'))
        connection.execute(sa.text(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{DASHBOARD_SCHEMA}" GRANT SELECT ON TABLES TO "{reader_role}"'
        ))
    for schema in DASHBOARD_SOURCE_SCHEMAS:
        for table in _tables_in(connection, schema):
            columns = _stored_columns(connection, schema, table)
            spec = TableSpec(table, [(c, "text") for c in columns], schema=schema)  # only names matter here
            _ensure_dashboard_view(connection, spec, force=True, reader_role=reader_role)


def _ensure_dashboard_view(
    connection: sa.Connection, spec: TableSpec, *, force: bool, reader_role: str = DASHBOARD_READER
) -> None:
    """dashboard.<table> = SELECT <columns> FROM <schema>.<table>, granted to the reader role.

    Created when missing or when the table was (re)created; otherwise left alone, so a routine
    publish takes no lock on the view that dashboards are reading."""
    view_exists = _relation_type(connection, DASHBOARD_SCHEMA, spec.name) is not None
    if force or not view_exists:
        columns = ", ".join(f'"{c}"' for c, _ in spec.columns)
        ensure_schema(connection, DASHBOARD_SCHEMA)
        connection.execute(sa.text(
            f'CREATE OR REPLACE VIEW "{DASHBOARD_SCHEMA}"."{spec.name}" AS '
            f'SELECT {columns} FROM "{spec.schema}"."{spec.name}"'
        ))
    if connection.dialect.name == "postgresql" and _role_exists(connection, reader_role):
        granted = connection.execute(
            sa.text("SELECT has_table_privilege(:role, :view, 'SELECT')"),
            {"role": reader_role, "view": f'"{DASHBOARD_SCHEMA}"."{spec.name}"'},
        ).scalar()
        if not granted:
            connection.execute(sa.text(f'GRANT SELECT ON "{DASHBOARD_SCHEMA}"."{spec.name}" TO "{reader_role}"'))
        usage = connection.execute(
            sa.text("SELECT has_schema_privilege(:role, :schema, 'USAGE')"),
            {"role": reader_role, "schema": DASHBOARD_SCHEMA},
        ).scalar()
        if not usage and _owns_schema(connection, DASHBOARD_SCHEMA):
            connection.execute(sa.text(f'GRANT USAGE ON SCHEMA "{DASHBOARD_SCHEMA}" TO "{reader_role}"'))


def _role_exists(connection: sa.Connection, role: str) -> bool:
    return connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is not None


def _owns_schema(connection: sa.Connection, schema: str) -> bool:
    return bool(connection.execute(
        sa.text("SELECT pg_get_userbyid(nspowner) = current_user FROM pg_namespace WHERE nspname = :s"),
        {"s": schema},
    ).scalar())


def _relation_type(connection: sa.Connection, schema: str, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None; information_schema works on DuckDB and PostgreSQL alike."""
    row = connection.execute(
        sa.text("SELECT table_type FROM information_schema.tables WHERE table_schema = :s AND table_name = :t"),
        {"s": schema, "t": name},
    ).first()
    return None if row is None else str(row[0])


def _tables_in(connection: sa.Connection, schema: str) -> list[str]:
    rows = connection.execute(
        sa.text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = :s AND table_type = 'BASE TABLE' ORDER BY table_name"
        ),
        {"s": schema},
    )
    return [r[0] for r in rows if _IDENTIFIER.fullmatch(r[0])]


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
        if logical == "text" and isinstance(values.dtype, pd.CategoricalDtype):
            # as codes into their text values: a categorical's values copied out per row were most of
            # a national KPI table's bytes (its source_snapshot)
            out[column] = values.cat.rename_categories(values.cat.categories.astype("str"))
        elif logical == "text":
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


def _python_columns(frame: pd.DataFrame, spec: TableSpec) -> list[list[Any]]:
    """Per column, plain Python values with None for missing (what DBAPI drivers and COPY adapt)."""
    columns: list[list[Any]] = []
    for column, logical in spec.columns:
        values = frame[column]
        missing = values.isna().tolist()
        items = values.tolist()
        if logical == "date":
            items = [v.date() if not m else None for v, m in zip(items, missing, strict=True)]
        elif logical == "timestamp":
            items = [v.to_pydatetime() if not m else None for v, m in zip(items, missing, strict=True)]
        else:
            items = [None if m else v for v, m in zip(items, missing, strict=True)]
        columns.append(items)
    return columns


def _records(frame: pd.DataFrame, spec: TableSpec) -> list[dict[str, Any]]:
    """Plain Python values with None for missing, for drivers without a bulk path."""
    names = [c for c, _ in spec.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*_python_columns(frame, spec), strict=True)]


def _copy_postgres(connection: sa.Connection, spec: TableSpec, frame: pd.DataFrame) -> None:
    """PostgreSQL's fast path: COPY ... FROM STDIN on the transaction's own psycopg connection."""
    raw = connection.connection.driver_connection
    columns = ", ".join(f'"{c}"' for c, _ in spec.columns)
    statement = f'COPY "{spec.schema}"."{spec.name}" ({columns}) FROM STDIN'
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in zip(*_python_columns(frame, spec), strict=True):
            copy.write_row(row)


def _insert_duckdb(connection: sa.Connection, spec: TableSpec, frame: pd.DataFrame) -> None:
    """DuckDB's fast path: register the frame and INSERT ... SELECT inside the open transaction."""
    raw = connection.connection.driver_connection
    view = f"_load_{spec.name}"
    casts = ", ".join(
        f'CAST("{c}" AS {LOGICAL_TYPES[t].compile(dialect=connection.dialect)}) AS "{c}"' for c, t in spec.columns
    )
    # As an Arrow table: DuckDB scans it natively, where a registered DataFrame's text columns were
    # first converted to Python objects (half of a national publication's 44 s).
    raw.register(view, pa.Table.from_pandas(frame, preserve_index=False))  # type: ignore[union-attr]
    try:
        raw.execute(f'INSERT INTO "{spec.schema}"."{spec.name}" SELECT {casts} FROM "{view}"')  # type: ignore[union-attr]
    finally:
        raw.unregister(view)  # type: ignore[union-attr]
