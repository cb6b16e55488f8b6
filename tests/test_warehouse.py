import pandas as pd
import pytest

from warehouse import TableSpec, Warehouse, WarehouseError, check_identifier

A = TableSpec("kpi_a", [("naam", "text"), ("aantal", "integer"), ("peildatum", "date")])
B = TableSpec("kpi_b", [("waarde", "double"), ("vlag", "boolean")])


def frame_a(n):
    return pd.DataFrame({"naam": ["x"] * n, "aantal": range(n), "peildatum": pd.to_datetime(["2024-12-31"] * n)})


@pytest.fixture
def warehouse(tmp_path):
    w = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    yield w
    w.dispose()


def test_publish_replaces_tables_and_keeps_types(warehouse):
    warehouse.publish({"a": (A, frame_a(3)), "b": (B, pd.DataFrame({"waarde": [1.5, None], "vlag": [True, None]}))})
    warehouse.publish({"a": (A, frame_a(2))})
    a = warehouse.read("kpi", "kpi_a")
    assert a["aantal"].tolist() == [0, 1]
    assert str(a["peildatum"].iloc[0]) == "2024-12-31"
    b = warehouse.read("kpi", "kpi_b")
    assert b["waarde"].iloc[0] == 1.5 and pd.isna(b["waarde"].iloc[1])


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
