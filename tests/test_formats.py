"""The shared Dutch-format helpers in sources/formats.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from sources.errors import SchemaError, SourceError
from sources.formats import (
    SOURCE_FILE,
    SOURCE_ROW,
    map_columns,
    map_values,
    normalise_bag_id,
    normalise_cbs_code,
    normalise_postcode,
    normalise_toevoeging,
    parse_bool,
    parse_code,
    parse_date,
    parse_delimited_text,
    parse_integer,
    parse_number,
    read_delimited,
    read_xlsx,
    split_huisnummer,
)


def frame_of(*values: object, column: str = "c", first_row: int = 2) -> pd.DataFrame:
    """A one-column string frame as a reader returns it, with source rows from `first_row`."""
    return pd.DataFrame(
        {
            column: pd.Series(list(values), dtype="str"),
            SOURCE_ROW: pd.array(range(first_row, first_row + len(values)), dtype="Int64"),
        }
    )


# --- numbers ---------------------------------------------------------------------------------------


def test_parse_number_dutch_amounts() -> None:
    frame = frame_of("€ 1.234,56", "-12,5", "700", None, "1.234.567,89", "EUR 12,00", "€\u00a0612,34", ",5")
    result = parse_number(frame, "c", file="f.csv")
    assert result.dtype == "float64"
    assert result.tolist()[:3] == [1234.56, -12.5, 700.0]
    assert pd.isna(result[3])
    assert result.tolist()[4:] == [1234567.89, 12.0, 612.34, 0.5]


def test_parse_number_refuses_point_decimal_in_comma_file() -> None:
    frame = frame_of("612,34", "12.5")
    with pytest.raises(SourceError) as info:
        parse_number(frame, "c", file="f.csv")
    err = info.value
    assert (err.file, err.row, err.column, err.value) == ("f.csv", 3, "c", "12.5")
    assert "1.234,56" in str(err)


@pytest.mark.parametrize("value", ["1.2345", "12,34,5", "1e5", "nan", "12,-", "twaalf", "1.23,4"])
def test_parse_number_refuses_malformed(value: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_number(frame_of(value), "c", file="f.csv")
    assert info.value.row == 2 and info.value.value == value


def test_parse_number_decimal_point_modes() -> None:
    frame = frame_of("1,234.56", "12.5", "1234")
    assert parse_number(frame, "c", file="f", decimal=".", thousands=",").tolist() == [1234.56, 12.5, 1234.0]
    with pytest.raises(SourceError) as info:
        parse_number(frame, "c", file="f", decimal=".", thousands=None)
    assert info.value.value == "1,234.56"


def test_parse_number_minimum_and_maximum() -> None:
    with pytest.raises(SourceError) as info:
        parse_number(frame_of("10", "-1,00"), "c", file="f", minimum=0)
    assert info.value.row == 3 and info.value.value == "-1,00"
    assert "negatieve" in info.value.message
    with pytest.raises(SourceError, match="te hoog"):
        parse_number(frame_of("101"), "c", file="f", maximum=100)


def test_parse_number_decimal_point_with_default_thousands_means_none() -> None:
    assert parse_number(frame_of("1.234", "-0.5"), "c", file="f", decimal=".").tolist() == [1.234, -0.5]


def test_parse_integer() -> None:
    assert parse_integer(frame_of("3", "1.000", None), "c", file="f").tolist() == [3, 1000, pd.NA]
    assert parse_integer(frame_of("1975"), "c", file="f", decimal=".", thousands=None).dtype == "Int64"
    with pytest.raises(SourceError, match="geheel getal") as info:
        parse_integer(frame_of("2", "2,5"), "c", file="f")
    assert info.value.row == 3


# --- dates, booleans, codes ------------------------------------------------------------------------


def test_parse_date_formats() -> None:
    frame = frame_of(
        "01-02-2024", "2024-02-01", "20240201", "01/02/2024", "1/2/2024", "01.02.2024", "2024-02-01 13:45:00", None
    )
    result = parse_date(frame, "c", file="f")
    assert str(result.dtype) == "datetime64[ns]"
    assert result.iloc[:7].tolist() == [pd.Timestamp("2024-02-01")] * 7
    assert pd.isna(result.iloc[7])


@pytest.mark.parametrize("value", ["31-02-2024", "2024-13-01", "gisteren", "01-02-24"])
def test_parse_date_refuses(value: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_date(frame_of("01-01-2024", value), "c", file="f.csv")
    assert (info.value.row, info.value.value) == (3, value)
    assert "dd-mm-jjjj" in str(info.value)


def test_parse_bool() -> None:
    result = parse_bool(frame_of("ja", "Nee", None, "1", "J", "0", "x"), "c", file="f")
    assert str(result.dtype) == "boolean"
    assert result.tolist() == [True, False, pd.NA, True, True, False, True]
    with pytest.raises(SourceError) as info:
        parse_bool(frame_of("ja", "misschien"), "c", file="f")
    assert info.value.row == 3


def test_parse_code() -> None:
    frame = frame_of("aan", "Loting", None, "")
    result = parse_code(frame, "c", file="f", values={"Loting": "LOT"}, allowed={"AAN", "LOT"})
    assert result.iloc[:2].tolist() == ["AAN", "LOT"]
    assert result.iloc[2:].isna().all()
    with pytest.raises(SourceError) as info:
        parse_code(frame_of("AAN", "XYZ"), "c", file="f", allowed={"AAN"})
    assert (info.value.row, info.value.value, info.value.expected) == (3, "XYZ", "AAN")


def test_map_values_case_and_blank_insensitive() -> None:
    series = pd.Series(["Direct  bemiddeld", "GEEN", "anders", None], dtype="str")
    result = map_values(series, {"direct bemiddeld": "DIR", "Geen": None})
    assert result.iloc[0] == "DIR"
    assert pd.isna(result.iloc[1])
    assert result.iloc[2] == "anders"
    assert pd.isna(result.iloc[3])
    assert str(result.dtype) == "str"


def test_normalise_cbs_code() -> None:
    series = pd.Series(["gm0392 ", "392", "GM0363", None, "0363"], dtype="str")
    assert normalise_cbs_code(series, "GM", 4).tolist()[:3] == ["GM0392", "GM0392", "GM0363"]
    assert normalise_cbs_code(pd.Series(["03920101"], dtype="str"), "BU", 8).tolist() == ["BU03920101"]


# --- addresses and BAG ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number", "letter", "addition"),
    [
        ("12", 12, None, None),
        ("12A", 12, "A", None),
        ("12a", 12, "A", None),
        ("12-A", 12, "A", None),
        ("12 a 3", 12, "A", "3"),
        ("12-2", 12, None, "2"),
        ("12-2hg", 12, None, "2HG"),
        ("7 bis", 7, None, "BIS"),
        ("7bis", 7, None, "BIS"),
        ("12 hs", 12, None, "HS"),
        (" 14 b", 14, "B", None),
        ("12A-3", 12, "A", "3"),
    ],
)
def test_split_huisnummer(raw: str, number: int, letter: str | None, addition: str | None) -> None:
    parts = split_huisnummer(pd.Series([raw], dtype="str"))
    assert parts.at[0, "huisnummer"] == number
    assert (None if pd.isna(parts.at[0, "huisletter"]) else parts.at[0, "huisletter"]) == letter
    found = parts.at[0, "huisnummertoevoeging"]
    assert (None if pd.isna(found) else found) == addition


def test_split_huisnummer_unreadable_and_missing() -> None:
    parts = split_huisnummer(pd.Series(["abc", None], dtype="str"))
    assert parts["huisnummer"].isna().all()
    assert str(parts["huisnummer"].dtype) == "Int64"


def test_normalise_postcode_and_toevoeging() -> None:
    assert normalise_postcode(pd.Series(["1234 ab", "1234AB", "0123AB", None], dtype="str")).tolist()[:2] == [
        "1234AB",
        "1234AB",
    ]
    assert normalise_postcode(pd.Series(["0123AB"], dtype="str")).isna().all()
    assert normalise_toevoeging(pd.Series(["-2", " /hs", ""], dtype="str")).tolist()[:2] == ["2", "HS"]


def test_normalise_bag_id_pads_lost_leading_zeros() -> None:
    series = pd.Series(["392010000012345", "0392010000012345", None, "363010000123456.0"], dtype="str")
    frame = pd.DataFrame({"b": series, SOURCE_ROW: pd.array([2, 3, 4, 5], dtype="Int64")})
    padded, padded_rows = normalise_bag_id(series, file="f", frame=frame, column="b")
    assert padded.iloc[0] == "0392010000012345"
    assert padded.iloc[1] == "0392010000012345"
    assert pd.isna(padded.iloc[2])
    assert padded.iloc[3] == "0363010000123456"
    assert padded_rows.tolist() == [True, False, False, True]


@pytest.mark.parametrize("value", ["3920100000", "0392O10000012345", "03920100000123456"])
def test_normalise_bag_id_refuses(value: str) -> None:
    series = pd.Series(["0392010000012345", value], dtype="str")
    frame = pd.DataFrame({"b": series, SOURCE_ROW: pd.array([2, 3], dtype="Int64")})
    with pytest.raises(SourceError) as info:
        normalise_bag_id(series, file="f", frame=frame, column="b")
    assert (info.value.row, info.value.value) == (3, value)


# --- delimited text --------------------------------------------------------------------------------


def test_read_delimited_cp1252_and_utf8_give_the_same_frame(tmp_path: Path) -> None:
    text = "Naam;Oppervlakte (m²);Huur\r\nCafé;85,5;€ 612,34\r\n"
    cp = tmp_path / "cp.csv"
    cp.write_bytes(text.encode("cp1252"))
    utf = tmp_path / "utf.csv"
    utf.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    a = read_delimited(cp, display_name="x.csv")
    b = read_delimited(utf, display_name="x.csv")
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["Naam", "Oppervlakte (m²)", "Huur", SOURCE_FILE, SOURCE_ROW]
    assert a.iloc[0].tolist()[:3] == ["Café", "85,5", "€ 612,34"]


def test_read_delimited_refuses_utf16(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("a;b\n1;2\n".encode("utf-16"))
    with pytest.raises(SourceError, match="UTF-16"):
        read_delimited(path)


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_separator_detected(sep: str) -> None:
    frame = parse_delimited_text(f"a{sep}b\n1{sep}2\n", "f")
    assert frame[["a", "b"]].iloc[0].tolist() == ["1", "2"]


def test_row_numbers_are_physical_lines() -> None:
    text = 'id;tekst\n1;"twee\nregels"\n\n2;gewoon\n3;"a;b"\n'
    frame = parse_delimited_text(text, "f")
    assert frame["id"].tolist() == ["1", "2", "3"]
    assert frame[SOURCE_ROW].tolist() == [2, 5, 6]
    assert frame["tekst"].tolist() == ["twee\nregels", "gewoon", "a;b"]


def test_preamble_lines_counted() -> None:
    text = "PublicatieDatum;01-04-2026\nLaatstVerwerkteMutatievolgnummer;19345219\nA;B;C\n1;2;3\n"
    frame = parse_delimited_text(text, "f", skip_lines=2)
    assert frame[SOURCE_ROW].tolist() == [4]
    assert frame["C"].tolist() == ["3"]


def test_trailing_separators_are_tolerated() -> None:
    frame = parse_delimited_text("a;b;\n1;2;\n3;4;;\n", "f")
    assert list(frame.columns[:2]) == ["a", "b"]
    assert frame["b"].tolist() == ["2", "4"]


def test_field_count_mismatch_names_the_line() -> None:
    with pytest.raises(SourceError) as info:
        parse_delimited_text("a;b;c\n1;2;3\n4,5,6\n", "f.csv")
    assert info.value.row == 3
    assert "1 velden" in info.value.message


def test_declared_separator_not_in_header() -> None:
    with pytest.raises(SchemaError) as info:
        parse_delimited_text("a,b,c\n1,2,3\n", "f.csv", separator=";")
    assert info.value.row == 1
    assert "','" in info.value.message


def test_duplicated_header_is_refused() -> None:
    with pytest.raises(SchemaError) as info:
        parse_delimited_text("Postcode;Huisnummer;postcode\n1;2;3\n", "f.csv")
    assert (info.value.row, info.value.column) == (1, "postcode")


@pytest.mark.parametrize("text", ["", "\n\n", "   \n1;2\n"])
def test_empty_file_is_refused(text: str) -> None:
    with pytest.raises(SchemaError, match="leeg"):
        parse_delimited_text(text, "f.csv")


def test_header_without_separator_is_refused() -> None:
    with pytest.raises(SchemaError, match="scheidingsteken"):
        parse_delimited_text("alleenééncolom\n1\n", "f.csv")


# --- xlsx ------------------------------------------------------------------------------------------


def test_read_xlsx_renders_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Datum", "Bedrag", "Aantal", "Vlag", "Id", "Tekst"])
    sheet.append([dt.datetime(2024, 3, 15), 612.34, 4.0, True, 392010000012345, " Haarlem "])
    sheet.append([None, None, None, None, None, None])
    sheet.append([dt.date(2024, 1, 1), 0.00001, 3, False, "0392010000012345", None])
    path = tmp_path / "x.xlsx"
    book.save(path)
    frame = read_xlsx(path, decimal=",")
    assert frame[SOURCE_ROW].tolist() == [2, 4]
    assert frame.iloc[0].tolist()[:6] == ["2024-03-15", "612,34", "4", "ja", "392010000012345", "Haarlem"]
    assert frame.iloc[1].tolist()[:5] == ["2024-01-01", "0,00001", "3", "nee", "0392010000012345"]
    assert read_xlsx(path)["Bedrag"].iloc[0] == "612.34"


def test_read_xlsx_refuses_broken_and_empty(tmp_path: Path) -> None:
    from openpyxl import Workbook

    broken = tmp_path / "kapot.xlsx"
    broken.write_bytes(b"geen zip")
    with pytest.raises(SourceError, match="XLSX"):
        read_xlsx(broken)
    empty = tmp_path / "leeg.xlsx"
    Workbook().save(empty)
    with pytest.raises(SchemaError, match="leeg"):
        read_xlsx(empty)


# --- column mapping --------------------------------------------------------------------------------


def test_map_columns_required_drift_and_aliases() -> None:
    frame = parse_delimited_text("VHE;Oude huur;Extra\n1;2;3\n", "f.csv")
    out, drift = map_columns(
        frame,
        {"vhe_id": "vhe", "netto_kale_huur": ["Netto kale huur", "Oude huur"], "bouwjaar": "Bouwjaar"},
        required=["vhe_id"],
        file="f.csv",
    )
    assert list(out.columns) == ["vhe_id", "netto_kale_huur", SOURCE_FILE, SOURCE_ROW, "bouwjaar"]
    assert drift.renamed == {"netto_kale_huur": "Oude huur"}
    assert drift.unknown == ["Extra"]
    assert drift.missing_optional == ["bouwjaar"]


def test_map_columns_missing_required_lists_headers() -> None:
    frame = parse_delimited_text("Huur;Bouwjaar\n1;2\n", "f.csv")
    with pytest.raises(SchemaError) as info:
        map_columns(frame, {"vhe_id": "VHE-nummer"}, required=["vhe_id", "gemeente_code"], file="f.csv")
    assert info.value.row == 1
    assert "VHE-nummer" in str(info.value) and "gemeente_code" in str(info.value)
