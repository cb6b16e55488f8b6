"""Baseline: schemas kpi, dq and dashboard; the dq tables; dashboard views and the read-only role.

KPI tables themselves are created (and recreated on a column change) by Warehouse.publish from the
table specs in code, so this baseline does not list them; a later migration that must move data
(rename a column, split a table) goes here as 0002_... .

Revision ID: 0001_baseline
Revises:
Create Date: 2026-01-31
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warehouse import DASHBOARD_READER, DASHBOARD_SCHEMA, DEFAULT_SCHEMA, apply_dashboard_access
from warehouse.quality import CORRECTION_AUDIT, DQ_SCHEMA, QUARANTINE

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for schema in (DEFAULT_SCHEMA, DQ_SCHEMA, DASHBOARD_SCHEMA):
        op.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    for spec in (QUARANTINE, CORRECTION_AUDIT):
        spec.sqlalchemy_table(sa.MetaData()).create(bind, checkfirst=True)
    apply_dashboard_access(bind, DASHBOARD_READER)


def downgrade() -> None:
    # Only the views go: the data in kpi and dq is kept, and the cluster-wide role may serve other
    # databases (drop it by hand: DROP ROLE dashboard_reader).
    op.execute(sa.text(f'DROP SCHEMA IF EXISTS "{DASHBOARD_SCHEMA}" CASCADE'))
