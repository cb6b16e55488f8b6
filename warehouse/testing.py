"""Scratch warehouses for tests, on the backend the test run asks for (plain Python, no pytest).

- ``PRESTATIEMONITOR_TEST_POSTGRES_URL``: a PostgreSQL URL (``postgresql+psycopg://user:pw@host:port/db``)
  of a role with CREATEDB and CREATEROLE. When set, every scratch warehouse is a fresh database
  ``pmtest_<random>`` on that server (dropped again by :func:`drop_scratch_databases`).
- ``PRESTATIEMONITOR_TEST_WAREHOUSE``: ``duckdb`` or ``postgres``; default ``postgres`` when the URL is
  set, ``duckdb`` otherwise. CI runs the suite once with ``duckdb`` (the URL still set, so the
  PostgreSQL-only tests run too) and once with ``postgres``.

``tests/conftest.py`` exposes these as fixtures; ``tests/pipeline_helpers.Workspace`` uses
:func:`scratch_url` for the warehouse of a whole-graph run.
"""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path

import sqlalchemy as sa

POSTGRES_URL_ENV = "PRESTATIEMONITOR_TEST_POSTGRES_URL"
BACKEND_ENV = "PRESTATIEMONITOR_TEST_WAREHOUSE"
SCRATCH_PREFIX = "pmtest_"

_created: list[str] = []


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV) or None


def backend() -> str:
    """'duckdb' or 'postgres': the backend scratch warehouses of this test run use."""
    chosen = os.environ.get(BACKEND_ENV, "").strip().lower()
    if not chosen:
        return "postgres" if postgres_admin_url() else "duckdb"
    if chosen not in ("duckdb", "postgres"):
        raise ValueError(f"{BACKEND_ENV}={chosen!r}: kies duckdb of postgres")
    if chosen == "postgres" and not postgres_admin_url():
        raise RuntimeError(f"{BACKEND_ENV}=postgres maar {POSTGRES_URL_ENV} is niet gezet")
    return chosen


def scratch_url(base_dir: Path, name: str = "warehouse") -> str:
    """A fresh, empty warehouse: a DuckDB file in ``base_dir``, or a new PostgreSQL database."""
    if backend() == "postgres":
        return create_scratch_database()
    return f"duckdb:///{Path(base_dir) / f'{name}.duckdb'}"


def _admin_engine() -> sa.Engine:
    url = postgres_admin_url()
    if not url:
        raise RuntimeError(f"{POSTGRES_URL_ENV} is niet gezet")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def create_scratch_database() -> str:
    """CREATE DATABASE pmtest_<random> on the test server; returns its URL (same role and password)."""
    name = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:16]}"
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    _created.append(name)
    return sa.engine.make_url(postgres_admin_url() or "").set(database=name).render_as_string(hide_password=False)


def drop_scratch_databases() -> list[str]:
    """Drop the databases this process created (WITH FORCE: leftover pooled connections are cut)."""
    if not _created:
        return []
    dropped = []
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            while _created:
                name = _created.pop()
                try:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                except sa.exc.DBAPIError as exc:
                    # Cleanup of a throwaway server: a database left behind does not make a test fail.
                    warnings.warn(f"scratch database {name} not dropped: {exc.orig}", stacklevel=2)
                    continue
                dropped.append(name)
    finally:
        engine.dispose()
    return dropped


def describe() -> str:
    """One line for the test report header; never the password."""
    chosen = backend()
    admin = postgres_admin_url()
    server = sa.engine.make_url(admin).render_as_string(hide_password=True) if admin else "niet gezet"
    return f"warehouse backend: {chosen}; PostgreSQL voor PG-tests: {server}"
