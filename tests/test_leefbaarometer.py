"""Leefbaarometer 3.0 reader: levels, separators and decimal marks, codes, years, classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sources.errors import SchemaError, SourceError
from sources.formats import SOURCE_FILE, SOURCE_ROW
from sources.leefbaarometer import (
    DEFAULT_BOUNDARIES,
    KLASSE_NAMEN,
    MEETJAREN,
    OUTPUT_COLUMNS,
    klasse_uit_afw,
    load_klassegrenzen,
    read_scores,
)

FIXTURES = Path(__file__).parent / "fixtures" / "leefbaarometer"
BUURTEN = FIXTURES / "Leefbaarometer-scores buurten 2002-2024.csv"
WIJKEN = FIXTURES / "Leefbaarometer-scores wijken 2002-2024.csv"
GEMEENTEN = FIXTURES / "Leefbaarometer-scores gemeenten 2002-2024.csv"

HEADER = "bu_code,bu_naam,jaar,lbm,afw,won,fys,vrz,soc,onv"


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_buurten_codes_names_years_and_scores() -> None:
    result = read_scores(BUURTEN)
    frame = result.frame
    assert list(frame.columns) == OUTPUT_COLUMNS
    assert (frame["niveau"] == "buurt").all()
    # CBS pads codes with trailing spaces; Amsterdam codes carry letters.
    assert frame["gebied_code"].tolist() == [
        "BU0363AA06", "BU0363AA06", "BU03920100", "BU03920100", "BU05990301", "BU02430000", "BU02430001",
    ]
    assert frame["gemeente_code"].tolist() == ["GM0363", "GM0363", "GM0392", "GM0392", "GM0599", "GM0243", "GM0243"]
    assert frame.loc[2, "gebied_naam"] == "Centrum, Haarlem"
    assert frame["jaar"].tolist() == [2022, 2024, 2022, 2024, 2020, 2002, 2024]
    assert str(frame["jaar"].dtype) == "Int64"
    for column in ("lbm", "afw", "won", "fys", "vrz", "soc", "onv"):
        assert frame[column].dtype == np.float64
    assert frame.loc[0, "lbm"] == pytest.approx(4.1023)
    assert frame.loc[0, "afw"] == pytest.approx(-0.0312)
    assert frame.loc[0, "vrz"] == pytest.approx(0.1234)
    assert frame.iloc[6][["lbm", "afw", "onv"]].isna().all()
    assert frame[SOURCE_ROW].tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert (frame[SOURCE_FILE] == BUURTEN.name).all()
    assert result.metadata["niveau"] == "buurt"
    assert result.metadata["decimaalteken"] == "."
    assert result.metadata["jaren"] == [2002, 2020, 2022, 2024]
    assert result.drift.is_empty


def test_classes_derived_from_afw_are_flagged() -> None:
    result = read_scores(BUURTEN)
    frame = result.frame
    # afw -0.0312, -0.0135, 0.11, 0.20 (boundary: lower bound inclusive), -0.35, 0.00, missing
    assert frame["klasse"].tolist()[:6] == [5, 5, 8, 9, 1, 6]
    assert pd.isna(frame.loc[6, "klasse"])
    assert str(frame["klasse"].dtype) == "Int64"
    assert frame["klasse_afgeleid"].tolist() == [True, True, True, True, True, True, False]
    assert frame["klasse_afgeleid"].dtype == bool
    assert result.metadata["klasse_afgeleid"] is True
    assert result.metadata["afgeleid_rijen"] == 6
    assert result.metadata["klassegrenzen"] == "leefbaarometer_klassen.csv"
    assert result.metadata["klassegrenzen_confidence"] == "unverified"
    assert any("afgeleid" in w and "unverified" in w for w in result.warnings)
    assert not any("wijkt" in w for w in result.warnings)  # dimensions add up in this file


def test_wijken_with_kscore_semicolon_and_decimal_comma() -> None:
    result = read_scores(WIJKEN)
    frame = result.frame
    assert (frame["niveau"] == "wijk").all()
    assert frame["gebied_code"].tolist() == ["WK0363AA", "WK0363AA", "WK039201", "WK039202"]
    assert frame["gemeente_code"].tolist() == ["GM0363", "GM0363", "GM0392", "GM0392"]
    assert result.metadata["decimaalteken"] == ","
    assert frame["afw"].tolist() == pytest.approx([-0.0834, -0.07, 0.15, -0.15])
    assert frame.loc[0, "lbm"] == pytest.approx(4.0512)
    # kscore where present, derived from afw where the cell is empty.
    assert frame["klasse"].tolist() == [4, 4, 8, 3]
    assert frame["klasse_afgeleid"].tolist() == [False, False, False, True]
    assert result.metadata["klasse_rijen_uit_bestand"] == 3
    assert result.metadata["klasse_bron"].startswith("gemengd")
    assert result.drift.unknown == []  # kwon is known and ignored


def test_dimension_sum_mismatch_warns_with_row() -> None:
    warnings = read_scores(WIJKEN).warnings
    mismatch = [w for w in warnings if "won+fys+vrz+soc+onv" in w]
    assert len(mismatch) == 1
    assert "1 rij(en)" in mismatch[0]
    assert "rij 4" in mismatch[0] and "WK039201" in mismatch[0]


def test_gemeenten_tab_separated_with_padded_codes() -> None:
    result = read_scores(GEMEENTEN)
    frame = result.frame
    assert (frame["niveau"] == "gemeente").all()
    assert frame["gebied_code"].tolist() == ["GM0363", "GM0392"]
    assert frame["gemeente_code"].tolist() == ["GM0363", "GM0392"]
    assert frame["gebied_naam"].tolist() == ["Amsterdam", "Haarlem"]
    assert frame["klasse"].tolist() == [5, 7]


def test_pc4_level(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Leefbaarometer-scores PC4 2002-2024.csv",
        ["PC4,jaar,lbm,afw,won,fys,vrz,soc,onv", "2011,2024,4.2,0.06,0.01,0.01,0.02,0.01,0.01"],
    )
    result = read_scores(path)
    frame = result.frame
    assert frame.loc[0, "niveau"] == "pc4"
    assert frame.loc[0, "gebied_code"] == "2011"
    assert pd.isna(frame.loc[0, "gemeente_code"]) and pd.isna(frame.loc[0, "gebied_naam"])
    assert frame.loc[0, "klasse"] == 7


@pytest.mark.parametrize(
    ("fixture", "error", "row", "column", "value"),
    [
        ("bad_code.csv", SourceError, 4, "bu_code", "BU392AB01"),
        ("lbm2_jaren.csv", SourceError, 6, "jaar", "1998"),
        ("no_key.csv", SchemaError, 1, None, None),
        ("missing_afw.csv", SchemaError, 1, None, None),
    ],
)
def test_broken_files(
    fixture: str, error: type[SourceError], row: int, column: str | None, value: str | None
) -> None:
    with pytest.raises(error) as caught:
        read_scores(FIXTURES / fixture)
    exc = caught.value
    assert exc.file == fixture
    assert exc.row == row
    assert exc.column == column
    if value is not None:
        assert exc.value == value


def test_missing_afw_names_the_column() -> None:
    with pytest.raises(SchemaError, match="afw"):
        read_scores(FIXTURES / "missing_afw.csv")


def test_kscore_out_of_range(tmp_path: Path) -> None:
    path = _write(tmp_path, "k.csv", [HEADER + ",kscore", "BU03920100,Centrum,2024,4.3,0.2,0.03,0.02,0.1,0.03,0.02,10"])
    with pytest.raises(SourceError) as caught:
        read_scores(path)
    assert (caught.value.row, caught.value.column) == (2, "kscore")


def test_mixed_decimal_marks_are_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "mixed.csv",
        [
            HEADER.replace(",", ";"),
            "BU03920100;Centrum;2022;4.25;0.11;0.02;0.015;0.09;-0.005;-0.01",
            "BU03920100;Centrum;2024;4,34;0,2;0,03;0,02;0,1;0,03;0,02",
        ],
    )
    with pytest.raises(SourceError, match="decimale komma en decimale punt") as caught:
        read_scores(path)
    assert caught.value.row == 3


def test_duplicate_area_year_is_refused(tmp_path: Path) -> None:
    row = "BU03920100,Centrum,2024,4.3,0.2,0.03,0.02,0.1,0.03,0.02"
    path = _write(tmp_path, "dubbel.csv", [HEADER, row, row])
    with pytest.raises(SourceError, match="twee keer") as caught:
        read_scores(path)
    assert caught.value.row == 3


def test_unknown_column_is_drift(tmp_path: Path) -> None:
    path = _write(tmp_path, "extra.csv", [HEADER + ",opmerking", "BU03920100,Centrum,2024,4.3,0.2,0.03,0.02,0.1,0.03,0.02,x"])
    result = read_scores(path)
    assert result.drift.unknown == ["opmerking"]
    assert any("opmerking" in w for w in result.warnings)


# ------------------------------------------------------------------------------------------
# classes
# ------------------------------------------------------------------------------------------


def test_klasse_namen() -> None:
    assert list(KLASSE_NAMEN) == list(range(1, 10))
    assert KLASSE_NAMEN[1] == "Zeer onvoldoende"
    assert KLASSE_NAMEN[3] == "Onvoldoende"
    assert KLASSE_NAMEN[4] == "Zwak"  # ranks above Onvoldoende
    assert KLASSE_NAMEN[5] == "Voldoende"
    assert KLASSE_NAMEN[9] == "Uitstekend"
    assert MEETJAREN == (2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022, 2024)


def test_boundary_table_is_complete_and_flagged_unverified() -> None:
    table = load_klassegrenzen()
    assert DEFAULT_BOUNDARIES.name == "leefbaarometer_klassen.csv"
    assert table["klasse"].tolist() == list(range(1, 10))
    assert table["naam"].tolist() == list(KLASSE_NAMEN.values())
    assert (table["confidence"] == "unverified").all()
    assert pd.isna(table.loc[0, "afw_ondergrens"]) and pd.isna(table.loc[8, "afw_bovengrens"])
    assert table["afw_bovengrens"].iloc[:-1].tolist() == table["afw_ondergrens"].iloc[1:].tolist()


def test_klasse_uit_afw_boundaries() -> None:
    grenzen = load_klassegrenzen()
    afw = pd.Series([-1.0, -0.30, -0.2999, -0.05, 0.0, 0.0499, 0.2, 5.0, np.nan])
    assert klasse_uit_afw(afw, grenzen).tolist()[:8] == [1, 2, 2, 5, 6, 6, 9, 9]
    assert pd.isna(klasse_uit_afw(afw, grenzen).iloc[8])


def test_custom_boundary_table(tmp_path: Path) -> None:
    lines = DEFAULT_BOUNDARIES.read_text(encoding="utf-8").splitlines()
    shifted = [lines[0]] + [line.replace("0.10", "0.12") for line in lines[1:]]  # Goed/Zeer goed at 0.12
    path = _write(tmp_path, "klassen.csv", shifted)
    frame = read_scores(BUURTEN, boundaries_path=path).frame
    assert frame.loc[2, "klasse"] == 7  # afw 0.11 is now Goed


def test_boundary_table_with_a_gap_is_refused(tmp_path: Path) -> None:
    lines = DEFAULT_BOUNDARIES.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("-0.20,-0.10", "-0.20,-0.12")  # klasse 3 stops short of klasse 4
    path = _write(tmp_path, "klassen.csv", lines)
    with pytest.raises(SourceError, match="sluit niet aan") as caught:
        read_scores(BUURTEN, boundaries_path=path)
    assert caught.value.row == 4


def test_the_code_vintage_comes_from_the_file_name():
    from sources.leefbaarometer import indeling_from_name

    assert indeling_from_name("Leefbaarometer-scores buurten 2002-2024.csv") == 2024
    assert indeling_from_name("Leefbaarometer-scores wijken 2002 - 2022.csv") == 2022
    assert indeling_from_name("scores.csv") is None
