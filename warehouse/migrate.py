"""Schema changes of the warehouse through alembic (scripts in ``migrations/`` at the project root).

    python -m warehouse.migrate upgrade            # to head; URL from PRESTATIEMONITOR_WAREHOUSE_URL
    python -m warehouse.migrate current
    python -m warehouse.migrate downgrade <rev>
    python -m warehouse.migrate upgrade --url postgresql+psycopg://owner@db/warehouse

Run it as the role that owns the warehouse (URL in PRESTATIEMONITOR_MIGRATE_URL, else
PRESTATIEMONITOR_WAREHOUSE_URL): it creates the schemas kpi, monitor, dq and dashboard, the dq tables,
and on PostgreSQL the group roles ``dashboard_reader`` and ``prestatiemonitor_loader`` (needs
CREATEROLE the first time, or let a DBA create the roles beforehand). The nightly run then publishes
as a login role in ``prestatiemonitor_loader``, which cannot drop or alter a schema. The connection is handed to
alembic directly, so a password in the URL never passes through alembic's config file or the log.
Works on DuckDB too (alembic has no DuckDB dialect of its own; a minimal one is registered here).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
URL_ENV = "PRESTATIEMONITOR_WAREHOUSE_URL"
# In production the owner migrates and the nightly run publishes as the loader role: two URLs.
MIGRATE_URL_ENV = "PRESTATIEMONITOR_MIGRATE_URL"


class DuckDBImpl(DefaultImpl):
    """Registers dialect 'duckdb' with alembic (the subclass registers itself by __dialect__)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the warehouse at ``url`` to ``revision``, in one transaction."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), revision)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(_config(connection), revision)
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    """The revision the warehouse is at, or None when it was never migrated."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["upgrade", "downgrade", "current"])
    parser.add_argument("revision", nargs="?", default=None)
    parser.add_argument("--url", default=None, help=f"SQLAlchemy URL (default: ${MIGRATE_URL_ENV}, else ${URL_ENV})")
    args = parser.parse_args(argv)
    url = args.url or os.environ.get(MIGRATE_URL_ENV) or os.environ.get(URL_ENV)
    if not url:
        parser.error(f"geen warehouse-URL: geef --url of zet {MIGRATE_URL_ENV} of {URL_ENV}")
    if args.action == "upgrade":
        upgrade(url, args.revision or "head")
        print(f"{safe_url(url)}: bijgewerkt tot {current(url)}")
    elif args.action == "downgrade":
        if not args.revision:
            parser.error("downgrade heeft een revisie nodig (bijv. base)")
        downgrade(url, args.revision)
        print(f"{safe_url(url)}: teruggezet tot {current(url)}")
    else:
        print(current(url) or "(niet gemigreerd)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
