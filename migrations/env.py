"""alembic environment of the warehouse. Run through `python -m warehouse.migrate` (which hands over an
open connection), or `alembic -c migrations/alembic.ini upgrade head` with
PRESTATIEMONITOR_WAREHOUSE_URL set."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

import warehouse.migrate  # noqa: F401  (registers the DuckDB dialect with alembic)

config = context.config


def run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: the migrations inspect the database (roles, tables)")

connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = os.environ.get(warehouse.migrate.URL_ENV)
    if not url:
        raise SystemExit(f"set {warehouse.migrate.URL_ENV} to the warehouse's SQLAlchemy URL")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as own_connection:
        run(own_connection)
        own_connection.commit()
    engine.dispose()
