"""The Arrow path of parse_delimited_text (plain files: no quotes, every line as many fields as the
header) must give exactly what the row-by-row path gives, and leave everything else to it."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources import formats
from sources.errors import SourceError
from sources.formats import parse_delimited_text


def row_by_row(text: str, **kwargs: object) -> pd.DataFrame:
    original = formats._parse_plain_rows
    formats._parse_plain_rows = lambda *a, **k: None  # type: ignore[assignment]
    try:
        return parse_delimited_text(text, "x.csv", **kwargs)  # type: ignore[arg-type]
    finally:
        formats._parse_plain_rows = original


def outcome(parse, text: str, **kwargs: object) -> tuple[str, object]:
    try:
        return "frame", parse(text, **kwargs)
    except SourceError as exc:
        return "error", str(exc)


CELL = st.text(alphabet=st.sampled_from(list("ab1 ,.\t\u00a0\u2003\x1cé-")), max_size=5)
LINE_END = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def plain_files(draw):
    width = draw(st.integers(2, 4))
    sep = draw(st.sampled_from([";", ",", "\t"]))
    header = [f"k{i}" for i in range(width)]
    end = draw(LINE_END)
    lines = [sep.join(header)]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["row", "row", "row", "blank", "spaces", "separators", "short", "long"]))
        if kind == "row":
            lines.append(sep.join(draw(CELL) for _ in range(width)))
        elif kind == "blank":
            lines.append("")
        elif kind == "spaces":
            lines.append(" \t ")
        elif kind == "separators":
            lines.append(sep * (width - 1))
        elif kind == "short":
            lines.append(sep.join(draw(CELL) for _ in range(width - 1)))
        else:
            lines.append(sep.join(draw(CELL) for _ in range(width + 1)))
    text = end.join(lines) + draw(st.sampled_from(["", end, end + end]))
    preamble = draw(st.sampled_from(["", "Exportdatum: 1-1-2025" + end]))
    return preamble + text, int(bool(preamble))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_files())
def test_arrow_and_row_by_row_read_the_same(case):
    text, skip = case
    fast = outcome(lambda t, **k: parse_delimited_text(t, "x.csv", **k), text, skip_lines=skip)
    slow = outcome(row_by_row, text, skip_lines=skip)
    assert fast[0] == slow[0]
    if fast[0] == "frame":
        pd.testing.assert_frame_equal(fast[1], slow[1])
    else:
        assert fast[1] == slow[1]


def test_a_plain_file_is_read_by_arrow_with_its_line_numbers():
    text = "a;b\n1; x \n\n;\n2;\u00a0\n"
    frame = formats._parse_plain_rows(text, ";", ["a", "b"], ["a", "b"], first_row=2)
    assert frame is not None
    assert frame["a"].tolist() == ["1", "2"]
    assert frame["b"].isna().tolist() == [False, True] and frame["b"].iloc[0] == "x"
    assert frame[formats._LINE].tolist() == [2, 5]  # the blank and the all-empty line skipped, not renumbered


@pytest.mark.parametrize(
    "text",
    [
        'a;b\n"1;2";3\n',  # quotes: a cell may hold the separator or a line break
        "a;b\n1;2;3\n",  # a field too many: the row-by-row path names the row
        "a;b\n1\n",  # a field too few
        "a;b\n1;\x002\n",  # NUL
    ],
)
def test_anything_but_a_plain_file_is_left_to_the_row_by_row_path(text):
    assert formats._parse_plain_rows(text, ";", ["a", "b"], ["a", "b"], first_row=2) is None


def test_a_short_row_is_still_named_by_its_line():
    with pytest.raises(SourceError) as caught:
        parse_delimited_text("a;b\n1;2\n3;4\n5\n", "x.csv")
    assert caught.value.row == 4


def test_the_written_out_whitespace_is_pythons_own():
    assert "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) == formats._PY_WHITESPACE
