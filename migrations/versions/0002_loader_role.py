"""The loader role: what the nightly run publishes with in production, and nothing more.

Schema ``monitor`` joins kpi, dq and dashboard. On PostgreSQL the NOLOGIN group role
``prestatiemonitor_loader`` gets USAGE and CREATE on those schemas (publish creates a table the first
time and recreates it when its columns change, and keeps the dashboard views) and SELECT, INSERT,
UPDATE, DELETE on their tables, now and in future (default privileges of the migrating role). It is
not the owner of any schema, so it cannot DROP or ALTER a schema and cannot touch what the owner
created beyond those rights. Give the nightly run a login role in it:
``CREATE ROLE etl LOGIN PASSWORD '...' IN ROLE prestatiemonitor_loader`` and run migrations with the
owner's URL (deploy/README.md, "Roles").

Revision ID: 0002_loader_role
Revises: 0001_baseline
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse import DASHBOARD_SCHEMA, DEFAULT_SCHEMA, LOADER_ROLE, MONITOR_SCHEMA, check_identifier
from warehouse.quality import DQ_SCHEMA

revision = "0002_loader_role"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

SCHEMAS = (DEFAULT_SCHEMA, MONITOR_SCHEMA, DQ_SCHEMA, DASHBOARD_SCHEMA)


def upgrade() -> None:
    op.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{MONITOR_SCHEMA}"'))
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # DuckDB has no roles: the file's permissions are the access control
    role = check_identifier(LOADER_ROLE)
    exists = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        op.execute(sa.text(
            "DO $$ BEGIN "
            f'CREATE ROLE "{role}" NOLOGIN; '
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
            "END $$"
        ))
    for schema in SCHEMAS:
        op.execute(sa.text(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"'))
        op.execute(sa.text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
        op.execute(sa.text(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"'
        ))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    role = check_identifier(LOADER_ROLE)
    if bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
        return
    for schema in SCHEMAS:
        op.execute(sa.text(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM "{role}"'
        ))
        op.execute(sa.text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"'))
        op.execute(sa.text(f'REVOKE USAGE, CREATE ON SCHEMA "{schema}" FROM "{role}"'))
