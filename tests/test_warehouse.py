"""The warehouse on this run's backend (DuckDB by default, PostgreSQL with
PRESTATIEMONITOR_TEST_POSTGRES_URL; see tests/conftest.py): one-transaction publish, types, dashboard
views, migrations and the dq tables."""

from datetime import datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from warehouse import TableSpec, Warehouse, WarehouseError, check_identifier
from warehouse import migrate as migrations
from warehouse.quality import open_quarantine, record_corrections, record_quarantine

A = TableSpec("kpi_a", [("naam", "text"), ("aantal", "integer"), ("peildatum", "date")])
B = TableSpec("kpi_b", [("waarde", "double"), ("vlag", "boolean")])
A_WIDER = TableSpec("kpi_a", [("naam", "text"), ("aantal", "integer"), ("peildatum", "date"), ("bron", "text")])
ALL_TYPES = TableSpec(
    "kpi_typen",
    [("t", "text"), ("i", "integer"), ("d", "double"), ("b", "boolean"), ("dag", "date"), ("ts", "timestamp")],
)


def frame_a(n):
    return pd.DataFrame({"naam": ["x"] * n, "aantal": range(n), "peildatum": pd.to_datetime(["2024-12-31"] * n)})


def views(warehouse: Warehouse, schema: str = "dashboard") -> set[str]:
    with warehouse.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s AND table_type = 'VIEW'"),
            {"s": schema},
        )
        return {r[0] for r in rows}


def test_publish_replaces_tables_and_keeps_types(warehouse):
    warehouse.publish({"a": (A, frame_a(3)), "b": (B, pd.DataFrame({"waarde": [1.5, None], "vlag": [True, None]}))})
    warehouse.publish({"a": (A, frame_a(2))})
    a = warehouse.read("kpi", "kpi_a")
    assert a["aantal"].tolist() == [0, 1]
    assert str(a["peildatum"].iloc[0]) == "2024-12-31"
    b = warehouse.read("kpi", "kpi_b")
    assert b["waarde"].iloc[0] == 1.5 and pd.isna(b["waarde"].iloc[1])


def test_every_logical_type_round_trips_with_missing_values(warehouse):
    frame = pd.DataFrame(
        {
            "t": ["één", None, "a;b\tc\nd\\e"],  # characters that COPY's text format must escape
            "i": [1, None, -(2**40)],
            "d": [0.1, float("nan"), -2.5e300],
            "b": [True, None, False],
            "dag": pd.to_datetime(["2024-01-01", None, "1999-12-31"]),
            "ts": pd.to_datetime(["2024-01-01 13:45:00.123456", None, "2026-01-31 00:00:00.000000"]),
        }
    )
    assert warehouse.publish({"typen": (ALL_TYPES, frame)}) == {"kpi.kpi_typen": 3}
    back = warehouse.read("kpi", "kpi_typen")
    missing = back.isna()
    assert missing.iloc[1].all() and not missing.iloc[[0, 2]].any().any()  # row 2 is all NULL, the rest none
    assert back["t"].iloc[[0, 2]].tolist() == ["één", "a;b\tc\nd\\e"]
    assert back["i"].iloc[[0, 2]].tolist() == [1, -(2**40)]
    assert back["d"].iloc[[0, 2]].tolist() == [0.1, -2.5e300]
    assert back["b"].iloc[[0, 2]].tolist() == [True, False]
    assert [str(v) for v in back["dag"].iloc[[0, 2]]] == ["2024-01-01", "1999-12-31"]
    assert pd.Timestamp(back["ts"].iloc[0]) == pd.Timestamp("2024-01-01 13:45:00.123456")


def test_a_categorical_text_column_is_stored_as_its_text_with_missing_values(warehouse):
    """KPI tables hand source_snapshot over as a categorical (codes into a gemeente's file list)."""
    frame = frame_a(3).assign(naam=pd.Categorical(["a.csv;b.csv", None, "één;a;b\tc"]))
    assert warehouse.publish({"a": (A, frame)}) == {"kpi.kpi_a": 3}
    back = warehouse.read("kpi", "kpi_a")
    assert back["naam"].iloc[[0, 2]].tolist() == ["a.csv;b.csv", "één;a;b\tc"]
    assert pd.isna(back["naam"].iloc[1])


def test_a_failure_in_the_second_table_leaves_the_first_as_it_was(warehouse):
    warehouse.publish({"a": (A, frame_a(3)), "b": (B, pd.DataFrame({"waarde": [1.0], "vlag": [False]}))})
    broken_b = pd.DataFrame({"waarde": ["not a number"], "vlag": [True]})
    with pytest.raises(WarehouseError, match="niets gewijzigd"):
        warehouse.publish({"a": (A, frame_a(7)), "b": (B, broken_b)})
    assert len(warehouse.read("kpi", "kpi_a")) == 3
    assert warehouse.read("kpi", "kpi_b")["waarde"].tolist() == [1.0]


def test_missing_column_is_refused_before_anything_changes(warehouse):
    warehouse.publish({"a": (A, frame_a(1))})
    with pytest.raises(WarehouseError, match="aantal"):
        warehouse.publish({"a": (A, frame_a(4).drop(columns=["aantal"]))})
    assert len(warehouse.read("kpi", "kpi_a")) == 1


@pytest.mark.parametrize("name", ["kpi; DROP TABLE x", "Kpi", "a-b", "", "x" * 64])
def test_identifiers_from_configuration_are_allow_listed(name):
    with pytest.raises(ValueError):
        check_identifier(name)


def test_data_dictionary_is_generated_from_the_code():
    from assets.catalog import DICTIONARY_PATH, KPI_TABLES, catalog_frame, render_markdown

    assert DICTIONARY_PATH.read_text(encoding="utf-8") == render_markdown(), "run: python -m assets.catalog"
    catalog = catalog_frame()
    assert set(catalog["tabel"]) == {t.name for t in KPI_TABLES}
    assert catalog["beschrijving"].str.len().gt(0).all()


def test_every_kpi_table_gets_a_dashboard_view_and_dq_tables_do_not(warehouse):
    dq = TableSpec("iets", [("x", "text")], schema="dq")
    warehouse.publish({"a": (A, frame_a(2)), "dq": (dq, pd.DataFrame({"x": ["y"]}))})
    assert views(warehouse) == {"kpi_a"}
    pd.testing.assert_frame_equal(warehouse.read("dashboard", "kpi_a"), warehouse.read("kpi", "kpi_a"))


def test_a_column_change_recreates_table_and_view_in_the_same_transaction(warehouse):
    warehouse.publish({"a": (A, frame_a(2))})
    wider = frame_a(3).assign(bron=["export"] * 3)
    warehouse.publish({"a": (A_WIDER, wider)})
    view = warehouse.read("dashboard", "kpi_a")
    assert list(view.columns) == ["naam", "aantal", "peildatum", "bron"]
    assert view["bron"].tolist() == ["export"] * 3
    # and a failing publish that would have recreated it leaves table and view as they were
    with pytest.raises(WarehouseError):
        warehouse.publish({"a": (A, frame_a(1)), "b": (B, pd.DataFrame({"waarde": ["x"], "vlag": [True]}))})
    assert list(warehouse.read("dashboard", "kpi_a").columns) == ["naam", "aantal", "peildatum", "bron"]
    assert len(warehouse.read("dashboard", "kpi_a")) == 3


def test_ensure_dashboard_access_is_idempotent_and_covers_existing_tables(warehouse):
    warehouse.publish({"a": (A, frame_a(1)), "b": (B, pd.DataFrame({"waarde": [2.0], "vlag": [True]}))})
    with warehouse.engine.begin() as connection:
        connection.execute(sa.text('DROP VIEW "dashboard"."kpi_b"'))
    warehouse.ensure_dashboard_access()
    warehouse.ensure_dashboard_access()
    assert views(warehouse) == {"kpi_a", "kpi_b"}
    assert warehouse.read("dashboard", "kpi_b")["waarde"].tolist() == [2.0]


def test_migrations_baseline_then_publish_then_downgrade(warehouse_url):
    assert migrations.current(warehouse_url) is None
    migrations.upgrade(warehouse_url)
    migrations.upgrade(warehouse_url)  # idempotent
    assert migrations.current(warehouse_url) == "0002_loader_role"
    warehouse = Warehouse(warehouse_url)
    try:
        with warehouse.engine.connect() as connection:
            schemas = {r[0] for r in connection.execute(sa.text("SELECT schema_name FROM information_schema.schemata"))}
        assert {"kpi", "monitor", "dq", "dashboard"} <= schemas
        assert warehouse.table_exists("dq", "quarantaine") and warehouse.table_exists("dq", "correctie_audit")
        warehouse.publish({"a": (A, frame_a(2))})
        assert len(warehouse.read("dashboard", "kpi_a")) == 2
    finally:
        warehouse.dispose()
    migrations.downgrade(warehouse_url, "base")
    assert migrations.current(warehouse_url) is None
    warehouse = Warehouse(warehouse_url)
    try:
        assert views(warehouse) == set()
        assert len(warehouse.read("kpi", "kpi_a")) == 2  # the data stays
    finally:
        warehouse.dispose()


def test_migrate_cli_never_prints_the_password(warehouse_url, capsys):
    assert migrations.main(["upgrade", "--url", warehouse_url]) == 0
    out = capsys.readouterr().out
    assert "0002_loader_role" in out
    password = sa.engine.make_url(warehouse_url).password
    if password:
        assert password not in out


def test_quarantine_and_corrections_audit_on_this_backend(warehouse):
    t1, t2 = datetime(2026, 1, 30, 2, 0), datetime(2026, 1, 31, 2, 0)
    a = {"bestand": "f.csv", "rij": 3, "sleutel": "id=1", "kolom": "k", "waarde": "x", "regel": "r", "ernst": "ERROR", "actie": "lading geblokkeerd"}
    b = {**a, "rij": 4, "sleutel": "id=2"}
    assert record_quarantine(warehouse, "d", pd.DataFrame([a, b]), run_id="r1", now=t1) == {"nieuw": 2, "nog_open": 0, "opgelost": 0}
    assert record_quarantine(warehouse, "d", pd.DataFrame([a]), run_id="r2", now=t2) == {"nieuw": 0, "nog_open": 1, "opgelost": 1}
    still = open_quarantine(warehouse, "d")
    assert still["rij"].tolist() == [3]
    assert pd.Timestamp(still["eerst_gezien"].iloc[0]) == pd.Timestamp(t1)
    audit = pd.DataFrame([{"dataset": "d", "sleutel": "id=1", "kolom": "k", "oude_waarde": "x", "nieuwe_waarde": "y",
                           "reden": "typefout", "auteur": "J. Steward", "datum": "2026-01-31", "rijen_geraakt": 1,
                           "status": "toegepast"}])
    record_corrections(warehouse, audit, run_id="r2", now=t2)
    stored = warehouse.read("dq", "correctie_audit")
    assert stored["auteur"].tolist() == ["J. Steward"] and stored["rijen_geraakt"].tolist() == [1]
    assert "quarantaine" not in views(warehouse)
