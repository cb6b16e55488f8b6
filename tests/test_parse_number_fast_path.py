"""sources.formats.parse_number cleans only the cells that are not plain numbers already (issue 8: the
per-cell cleaning was the hottest spot of the national stock load). Whatever the cell, the outcome
must be the one of cleaning every cell: the same numbers, or the same error at the same row."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.errors import SourceError
from sources.formats import _NUMBER_JUNK, SOURCE_ROW, _first_bad, _to_float, parse_number


def _cleaning_every_cell(frame: pd.DataFrame, column: str, *, decimal: str, thousands: str | None) -> pd.Series:
    """parse_number as it was before the fast path (without the range checks)."""
    if thousands == decimal:
        thousands = None
    raw = frame[column]
    present = raw.notna() & (raw.astype("str").str.strip() != "")
    text = raw.astype("str").where(present, None)
    cleaned = text.str.replace(_NUMBER_JUNK, "", regex=True)
    if thousands:
        cleaned = cleaned.str.replace(rf"(?<=[0-9]){re.escape(thousands)}(?=[0-9]{{3}}(?:[^0-9]|$))", "", regex=True)
    dec = re.escape(decimal)
    well_formed = cleaned.str.fullmatch(rf"[+-]?(?:[0-9]+(?:{dec}[0-9]+)?|{dec}[0-9]+)").fillna(False).astype(bool)
    bad = present & ~well_formed
    if bad.any():
        row, value = _first_bad(bad, frame, raw)
        raise SourceError("f.csv", "geen geldig getal", row=row, column=column, value=value)
    if decimal != ".":
        cleaned = cleaned.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(cleaned.where(present, None), errors="coerce").astype("float64")


def _outcome(function, frame, **conventions):  # type: ignore[no-untyped-def]
    try:
        return ("ok", function(frame, "x", **conventions).to_numpy())
    except SourceError as error:
        return ("error", error.row, error.value)


CELLS = st.one_of(
    st.none(),
    st.text(alphabet="0123456789,.-+ €\u00a0EURe٣x\t", max_size=10),
    st.from_regex(r"-?[0-9]{1,7}(,[0-9]{1,2})?", fullmatch=True),
    st.from_regex(r"€ ?[0-9]{1,3}(\.[0-9]{3})*(,[0-9]{2})?", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=12), convention=st.sampled_from([(",", "."), (".", ","), (",", None), (".", ".")]))
def test_the_fast_path_gives_what_cleaning_every_cell_gives(cells, convention):
    decimal, thousands = convention
    frame = pd.DataFrame({"x": pd.array(cells, dtype="str"), SOURCE_ROW: pd.array(range(2, len(cells) + 2), dtype="Int64")})
    expected = _outcome(_cleaning_every_cell, frame, decimal=decimal, thousands=thousands)
    got = _outcome(lambda f, c, **k: parse_number(f, c, file="f.csv", **k), frame, decimal=decimal, thousands=thousands)
    assert got[0] == expected[0]
    if got[0] == "ok":
        np.testing.assert_array_equal(got[1], expected[1])
    else:
        assert got[1:] == expected[1:]


@pytest.mark.parametrize(
    ("cells", "numbers"),
    [
        (["974,78", "€ 1.234,56", None, " 12 ", "-0,5", ",5"], [974.78, 1234.56, np.nan, 12.0, -0.5, 0.5]),
        (["700", "1.000.000"], [700.0, 1_000_000.0]),
    ],
)
def test_plain_and_dressed_numbers_side_by_side(cells, numbers):
    frame = pd.DataFrame({"x": pd.array(cells, dtype="str"), SOURCE_ROW: pd.array(range(2, len(cells) + 2), dtype="Int64")})
    np.testing.assert_array_equal(parse_number(frame, "x", file="f.csv").to_numpy(), np.array(numbers))


def test_a_thousands_mark_that_does_not_group_three_digits_is_still_refused():
    frame = pd.DataFrame({"x": pd.array(["12,5", "12.5"], dtype="str"), SOURCE_ROW: pd.array([2, 3], dtype="Int64")})
    with pytest.raises(SourceError) as error:
        parse_number(frame, "x", file="f.csv")
    assert error.value.row == 3 and error.value.value == "12.5"


PLAIN = r"[+-]?(?:[0-9]{1,19}(?:\.[0-9]{1,19})?|\.[0-9]{1,19})"


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.from_regex(PLAIN, fullmatch=True)), max_size=20))
def test_arrow_parses_plain_numbers_correctly_rounded(cells):
    """_to_float (Arrow's cast) gives the nearest float, as Python's float() does, long mantissas
    included. pd.to_numeric, used before, is not correctly rounded: '1.0010000000000001' gave 1.001."""
    text = pd.Series(pd.array(cells, dtype="str"))
    expected = np.array([np.nan if c is None else float(c) for c in cells], dtype="float64")
    np.testing.assert_array_equal(_to_float(text).to_numpy(), expected)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.from_regex(r"-?[0-9]{1,9}(\.[0-9]{1,4})?", fullmatch=True)), max_size=20))
def test_amounts_parse_as_pandas_parsed_them(cells):
    """For what the sources deliver (amounts, areas, counts: at most 13 significant digits) the
    floats are the ones pd.to_numeric gave, so no stored value changes with the faster parse."""
    text = pd.Series(pd.array(cells, dtype="str"))
    expected = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
    np.testing.assert_array_equal(_to_float(text).to_numpy(), expected)


def test_a_cell_arrow_refuses_falls_back_to_pandas():
    text = pd.Series(pd.array(["1.5", "abc", None], dtype="str"))
    with pytest.raises(pa.ArrowInvalid):
        pc.cast(pa.array(text, from_pandas=True), pa.float64())
    pd.testing.assert_series_equal(_to_float(text), pd.to_numeric(text, errors="coerce").astype("float64"))
