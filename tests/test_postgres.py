"""PostgreSQL specifics, against a real server (PRESTATIEMONITOR_TEST_POSTGRES_URL; these tests FAIL
instead of skipping when CI is set): COPY inside the publish transaction, what a concurrent reader
sees mid-publish, the read-only dashboard role, the generic executemany path, and the whole graph
published to PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

import warehouse as warehouse_module
from warehouse import DASHBOARD_READER, LOADER_ROLE, TableSpec, Warehouse, WarehouseError
from warehouse import migrate as migrations

pytestmark = pytest.mark.postgres

A = TableSpec("kpi_a", [("naam", "text"), ("aantal", "integer"), ("peildatum", "date")])
B = TableSpec("kpi_b", [("waarde", "double"), ("vlag", "boolean")])


def frame_a(n, naam="x"):
    return pd.DataFrame({"naam": [naam] * n, "aantal": range(n), "peildatum": pd.to_datetime(["2024-12-31"] * n)})


@pytest.fixture
def pg(postgres_url):
    client = Warehouse(postgres_url)
    yield client
    client.dispose()


@pytest.fixture
def reader(postgres_url):
    """A login role that is only a member of dashboard_reader, and its URL on the test database."""
    admin = Warehouse(postgres_url)
    admin.ensure_dashboard_access()  # creates the group role if this cluster has not got it yet
    name = f"pmtest_lezer_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with admin.engine.begin() as connection:
        connection.execute(sa.text(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}' IN ROLE \"{DASHBOARD_READER}\""))
    url = sa.engine.make_url(postgres_url).set(username=name, password=password)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()
    with admin.engine.begin() as connection:
        connection.execute(sa.text(f'DROP ROLE "{name}"'))
    admin.dispose()


def test_bulk_load_goes_through_copy_not_executemany(pg, monkeypatch):
    statements: list[str] = []
    original_copy = psycopg.Cursor.copy

    def spy_copy(self, statement, *args, **kwargs):
        statements.append(str(statement))
        return original_copy(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy_copy)
    monkeypatch.setattr(warehouse_module, "_records", lambda *a: pytest.fail("executemany path used on psycopg"))
    written = pg.publish({"a": (A, frame_a(5000)), "b": (B, pd.DataFrame({"waarde": [1.0, None], "vlag": [True, False]}))})
    assert written == {"kpi.kpi_a": 5000, "kpi.kpi_b": 2}
    assert statements == ['COPY "kpi"."kpi_a" ("naam", "aantal", "peildatum") FROM STDIN',
                          'COPY "kpi"."kpi_b" ("waarde", "vlag") FROM STDIN']
    assert pg.read("kpi", "kpi_a")["aantal"].sum() == sum(range(5000))


def test_a_reader_mid_publish_sees_yesterday_and_a_failure_leaves_it(pg, postgres_url, monkeypatch):
    pg.publish({"a": (A, frame_a(3, "gisteren")), "b": (B, pd.DataFrame({"waarde": [1.0], "vlag": [True]}))})
    seen: list[list[str]] = []
    original = warehouse_module._copy_postgres

    def copy_then_look(connection, spec, frame):
        original(connection, spec, frame)
        if spec.name == "kpi_b":  # kpi_a is already deleted and reloaded in the open transaction
            with psycopg.connect(sa.engine.make_url(postgres_url).set(drivername="postgresql").render_as_string(False)) as other:
                seen.append([r[0] for r in other.execute('SELECT DISTINCT naam FROM "dashboard"."kpi_a"')])
            raise RuntimeError("stroomstoring halverwege")

    monkeypatch.setattr(warehouse_module, "_copy_postgres", copy_then_look)
    with pytest.raises(RuntimeError, match="stroomstoring"):
        pg.publish({"a": (A, frame_a(9, "vandaag")), "b": (B, pd.DataFrame({"waarde": [2.0], "vlag": [False]}))})
    assert seen == [["gisteren"]]
    assert pg.read("kpi", "kpi_a")["naam"].unique().tolist() == ["gisteren"]
    assert len(pg.read("kpi", "kpi_a")) == 3


def test_dashboard_reader_reads_views_only(pg, reader):
    pg.publish({"a": (A, frame_a(2)), "q": (TableSpec("quarantaine_x", [("x", "text")], schema="dq"), pd.DataFrame({"x": ["geheim"]}))})
    with reader.connect() as connection:
        assert connection.execute(sa.text('SELECT count(*) FROM "dashboard"."kpi_a"')).scalar() == 2
    for statement in ('SELECT * FROM "kpi"."kpi_a"', 'SELECT * FROM "dq"."quarantaine_x"',
                      "INSERT INTO \"dashboard\".\"kpi_a\" (naam) VALUES ('x')", 'DELETE FROM "dashboard"."kpi_a"',
                      'CREATE TABLE "dashboard"."eigen" (x int)', 'DROP VIEW "dashboard"."kpi_a"'):
        with reader.connect() as connection, pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner"):
            connection.execute(sa.text(statement))


def test_column_change_keeps_view_and_grant_for_the_reader(pg, reader):
    pg.publish({"a": (A, frame_a(2))})
    wider = TableSpec("kpi_a", [*A.columns, ("bron", "text")])
    pg.publish({"a": (wider, frame_a(4).assign(bron="export"))})
    with reader.connect() as connection:
        rows = connection.execute(sa.text('SELECT bron, count(*) FROM "dashboard"."kpi_a" GROUP BY bron')).fetchall()
    assert rows == [("export", 4)]
    # a new KPI table published later is readable too (grant made at publish, not only at migration)
    pg.publish({"b": (B, pd.DataFrame({"waarde": [3.0], "vlag": [True]}))})
    with reader.connect() as connection:
        assert connection.execute(sa.text('SELECT waarde FROM "dashboard"."kpi_b"')).scalar() == 3.0


def test_baseline_migration_creates_role_schemas_and_grants(postgres_url, reader):
    migrations.upgrade(postgres_url)
    assert migrations.current(postgres_url) == "0002_loader_role"
    client = Warehouse(postgres_url)
    try:
        with client.engine.connect() as connection:
            usage = connection.execute(
                sa.text("SELECT has_schema_privilege(:r, 'dashboard', 'USAGE'), has_schema_privilege(:r, 'kpi', 'USAGE')"),
                {"r": DASHBOARD_READER},
            ).one()
        assert tuple(usage) == (True, False)
        client.publish({"a": (A, frame_a(1))})
    finally:
        client.dispose()
    with reader.connect() as connection:
        assert connection.execute(sa.text('SELECT count(*) FROM "dashboard"."kpi_a"')).scalar() == 1


def test_generic_executemany_path_gives_the_same_tables(postgres_url, pg):
    """postgresql+psycopg2 (installed with dagster-postgres) has no COPY path here: executemany."""
    pg.publish({"a": (A, frame_a(50))})
    expected = pg.read("kpi", "kpi_a")
    other = Warehouse(sa.engine.make_url(postgres_url).set(drivername="postgresql+psycopg2").render_as_string(False))
    try:
        other.publish({"a": (A, frame_a(50))})
        pd.testing.assert_frame_equal(other.read("kpi", "kpi_a"), expected)
    finally:
        other.dispose()


def test_errors_do_not_reveal_the_password(postgres_url):
    password = sa.engine.make_url(postgres_url).password
    broken = Warehouse(sa.engine.make_url(postgres_url).set(port=1).render_as_string(False))
    try:
        with pytest.raises(WarehouseError) as caught:
            broken.publish({"a": (A, frame_a(1))})
    finally:
        broken.dispose()
    assert password and password not in str(caught.value)


@pytest.mark.slow
def test_whole_graph_publishes_to_postgresql_and_a_red_run_leaves_it(tmp_path, postgres_url, reader):
    from assets.publish import PUBLISHED
    from tests.pipeline_helpers import Workspace, failed_steps

    migrations.upgrade(postgres_url)
    workspace = Workspace(tmp_path / "pg")
    workspace.url = postgres_url
    result = workspace.run()
    assert result.success, failed_steps(result)
    client = Warehouse(postgres_url)
    try:
        before = {name: client.read("dashboard", name) for name in [*PUBLISHED, "kpi_catalog"]}
        assert all(len(frame) > 0 for frame in before.values())
        with reader.connect() as connection:
            assert connection.execute(sa.text('SELECT count(*) FROM "dashboard"."kpi_zon"')).scalar() == len(before["kpi_zon"])

        lettings = sorted((workspace.landing / "woonservice").glob("toewijzingen_*.csv"))[0]
        lines = lettings.read_text(encoding="utf-8-sig").splitlines()
        header = lines[0].split(";")
        cells = lines[5].split(";")
        cells[header.index("toewijzingsdatum")] = "31-02-2024"
        lines[5] = ";".join(cells)
        lettings.write_text("\n".join(lines) + "\n", encoding="utf-8")
        red = workspace.run()
        assert not red.success
        for name, frame in before.items():
            pd.testing.assert_frame_equal(client.read("dashboard", name), frame)
    finally:
        client.dispose()


@pytest.fixture
def loader(postgres_url):
    """A login role that is only a member of prestatiemonitor_loader (after the migrations)."""
    migrations.upgrade(postgres_url)
    admin = Warehouse(postgres_url)
    name = f"pmtest_laden_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with admin.engine.begin() as connection:
        connection.execute(sa.text(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}' IN ROLE \"{LOADER_ROLE}\""))
    url = sa.engine.make_url(postgres_url).set(username=name, password=password)
    yield url.render_as_string(hide_password=False)
    with admin.engine.begin() as connection:
        connection.execute(sa.text(f'GRANT "{name}" TO CURRENT_USER'))  # to take over what it created
        connection.execute(sa.text(f'REASSIGN OWNED BY "{name}" TO CURRENT_USER'))
        connection.execute(sa.text(f'DROP OWNED BY "{name}"'))
        connection.execute(sa.text(f'DROP ROLE "{name}"'))
    admin.dispose()


def test_the_loader_role_publishes_and_records_quality_but_cannot_drop_a_schema(postgres_url, loader):
    from assets.publish import SPECS
    from warehouse.quality import record_quarantine

    spec = SPECS["kpi_zon"]
    row = {c: None for c, _ in spec.columns} | {"gemeente_code": "GM0392", "corporatie": "alle", "numerator": 1.0}
    client = Warehouse(loader)
    try:
        written = client.publish({"kpi_zon": (spec, pd.DataFrame([row]))}, slices={"gemeente_code": ["GM0392"]})
        assert written == {"kpi.kpi_zon": 1}
        client.publish({"kpi_zon": (spec, pd.DataFrame([row]))}, slices={"gemeente_code": ["GM0392"]})  # again: replace
        assert len(client.read("kpi", "kpi_zon")) == 1
        quarantined = pd.DataFrame([{"bestand": "b.csv", "rij": 3, "sleutel": "k", "kolom": "c", "waarde": "v",
                                     "regel": "r", "ernst": "ERROR", "actie": "geweigerd"}])
        now = datetime(2026, 11, 23, 2, 0)
        assert record_quarantine(client, "stg_x", quarantined, run_id="r1", now=now)["nieuw"] == 1
        for statement in ('DROP SCHEMA "kpi" CASCADE', 'DROP SCHEMA "dq" CASCADE', 'ALTER SCHEMA "kpi" RENAME TO x'):
            with client.engine.begin() as connection, pytest.raises(sa.exc.ProgrammingError, match="must be owner"):
                connection.execute(sa.text(statement))
        with client.engine.begin() as connection, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            connection.execute(sa.text('CREATE SCHEMA "eigen_schema"'))
    finally:
        client.dispose()
