"""Helpers every KPI asset uses: the source snapshot per gemeente and the gemeente names."""

from __future__ import annotations

import pandas as pd

from assets.common import (
    dwellings_in_exploitatie,
    names_by_code,
    snapshot_by_gemeente,
    snapshot_column,
    summary_markdown,
)


def _stock() -> pd.DataFrame:
    return pd.DataFrame({
        "gemeente_code": pd.Series(["GM0392", "GM0397", "GM0392", None, "GM0392"], dtype="str"),
        "gemeente_naam": pd.Series(["Haarlem", "Heemstede", "Haarlem (oud)", "x", "Haarlem"], dtype="str"),
        "_source_snapshot": pd.Series(["b.csv", "a.csv", "a.csv", "z.csv", None], dtype="str"),
        "is_woning": [True, True, False, True, True],
        "in_exploitatie": [True, False, True, True, True],
    })


def test_the_snapshot_of_a_gemeente_names_the_files_of_its_rows_and_of_every_shared_input():
    stock = _stock()
    shared = pd.DataFrame({"_source_snapshot": pd.Series(["labels.zip", None, "labels.zip"], dtype="str")})
    got = snapshot_by_gemeente(["GM0392", "GM0397", "GM0363"], (stock, "gemeente_code"), (shared, None))
    # sorted, each file once; a row without a gemeente or a file adds nothing; a gemeente without
    # rows still carries the shared input's files
    assert got == {"GM0392": "a.csv;b.csv;labels.zip", "GM0397": "a.csv;labels.zip", "GM0363": "labels.zip"}


def test_an_input_without_a_snapshot_column_is_left_out():
    stock = _stock().drop(columns="_source_snapshot")
    assert snapshot_by_gemeente(["GM0392"], (stock, "gemeente_code")) == {"GM0392": ""}


def test_names_by_code_gives_the_last_name_a_code_has():
    names = names_by_code(_stock().dropna(subset=["gemeente_code"]), "gemeente_code", "gemeente_naam")
    assert names == {"GM0392": "Haarlem", "GM0397": "Heemstede"}
    renamed = _stock().iloc[[0, 2]]
    assert names_by_code(renamed, "gemeente_code", "gemeente_naam") == {"GM0392": "Haarlem (oud)"}


def test_dwellings_in_exploitatie_keeps_only_those_rows_and_the_asked_columns_once():
    got = dwellings_in_exploitatie(_stock(), ["gemeente_code", "gemeente_naam", "gemeente_code"])
    assert list(got.columns) == ["gemeente_code", "gemeente_naam"]
    assert got.index.tolist() == [0, 3, 4]


def test_a_summary_table_in_metadata_is_bounded_and_says_what_it_left_out():
    frame = pd.DataFrame({"gemeente_naam": [f"g{i}" for i in range(45)], "value": range(45)})
    text = summary_markdown(frame, limit=40)
    assert "g39" in text and "g40" not in text
    assert text.endswith("... en nog 5 rijen (alle rijen staan in de warehouse-tabel)")
    small = summary_markdown(frame.head(3), limit=40)
    assert "g2" in small and "en nog" not in small


def test_the_snapshot_column_gives_each_row_its_gemeentes_files_as_codes_into_the_distinct_values():
    frame = pd.DataFrame({"gemeente_code": pd.Series(["GM0392", "GM0397", "GM0392", None, "GM0363"], dtype="str")})
    per_gemeente = {"GM0392": "a.csv;b.csv", "GM0397": "a.csv", "GM0363": "a.csv;b.csv"}
    got = snapshot_column(frame, per_gemeente)
    assert got.tolist() == ["a.csv;b.csv", "a.csv", "a.csv;b.csv", "", "a.csv;b.csv"]
    # gemeenten resting on the same files share one value; a row without a gemeente rests on none
    assert sorted(got.cat.categories) == ["", "a.csv", "a.csv;b.csv"]
    assert got.index.equals(frame.index)
    one = snapshot_column(frame.iloc[[1, 2]], "labels.zip")
    assert one.tolist() == ["labels.zip", "labels.zip"] and one.index.tolist() == [1, 2]
