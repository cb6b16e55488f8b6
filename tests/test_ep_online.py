"""EP-online bulk reader: real-format fixtures (BOM, preamble, decimal comma), filters, drift, errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sources import ep_online
from sources.ep_online import OUTPUT_COLUMNS, read_bulk
from sources.errors import SchemaError, SourceError
from sources.formats import SOURCE_FILE, SOURCE_ROW, address_key

FIXTURES = Path(__file__).parent / "fixtures" / "ep_online"
V4 = FIXTURES / "v20251101_v4.csv"
V4_ZIP = FIXTURES / "v20251101_v4_csv.zip"
V2 = FIXTURES / "v20210401_v2.csv"


def test_v4_reads_every_certificate_with_line_numbers_and_preamble() -> None:
    result = read_bulk(V4)
    frame = result.frame
    assert list(frame.columns) == OUTPUT_COLUMNS
    assert "Certificaathouder" not in frame.columns and "certificaathouder" not in frame.columns
    assert frame[SOURCE_ROW].tolist() == [4, 5, 6, 7, 8, 9]  # 2 preamble lines + header
    assert (frame[SOURCE_FILE] == "v20251101_v4.csv").all()
    assert result.metadata["publicatiedatum"] == "2025-11-01"
    assert result.metadata["laatst_verwerkte_mutatievolgnummer"] == 19345219
    assert result.metadata["generation"] == "v4"
    assert result.metadata["rows_scanned"] == 6
    assert result.metadata["rows_kept"] == 6
    assert result.metadata["header_row"] == 3
    assert result.drift.is_empty
    assert result.warnings == []


def test_v4_values_are_typed() -> None:
    frame = read_bulk(V4).frame
    assert frame["bag_vbo_id"].tolist() == [
        "0392010000012345",
        "0392010000012345",
        "0392010000012399",
        "0363010000654321",
        "0392010000020000",
        "0599010000000001",
    ]
    assert frame["energieklasse"].tolist() == ["C", "A", "B", "A++++", "G", "A+++++"]
    assert frame["gebouwklasse"].tolist() == ["W", "W", "W", "U", "W", "U"]
    assert str(frame["huisnummer"].dtype) == "Int64"
    assert frame["huisnummer"].tolist() == [12, 12, 14, 1, 5, 100]
    assert frame["postcode"].tolist() == ["2011AB", "2011AB", "2011AB", "1011AA", "2012CD", "3011AA"]
    assert frame.loc[2, "huisletter"] == "A"
    assert frame.loc[2, "huisnummertoevoeging"] == "2HG"
    assert pd.isna(frame.loc[0, "huisletter"]) and pd.isna(frame.loc[0, "huisnummertoevoeging"])
    assert frame["energie_index"].dtype == np.float64
    assert frame.loc[0, "energie_index"] == pytest.approx(1.45)
    assert frame.loc[4, "energie_index"] == pytest.approx(2.87)
    assert pd.isna(frame.loc[1, "energie_index"])
    assert frame["primaire_fossiele_energie"].tolist()[1:4] == pytest.approx([152.3, 180.0, -3.2])
    assert frame.loc[5, "primaire_fossiele_energie"] == pytest.approx(-25.75)
    assert frame.loc[1, "registratiedatum"] == pd.Timestamp("2023-05-14")
    assert frame.loc[1, "opnamedatum"] == pd.Timestamp("2023-05-01")
    assert frame.loc[1, "geldig_tot"] == pd.Timestamp("2033-05-14")
    for column in ("opnamedatum", "registratiedatum", "geldig_tot", "publicatiedatum"):
        assert str(frame[column].dtype).startswith("datetime64")
    assert (frame["publicatiedatum"] == pd.Timestamp("2025-11-01")).all()
    assert frame["bouwjaar"].tolist() == [1932, 1932, 1965, 2019, 1910, 2024]
    assert str(frame["bouwjaar"].dtype) == "Int64"
    assert frame.loc[1, "berekeningstype"] == "NTA 8800:2023 (detailopname woningbouw)"
    assert frame.loc[3, "status"] == "Oplevering"
    assert frame.loc[0, "gebouwtype"] == "Rijwoning tussen"


def test_zip_gives_the_same_rows_as_the_csv() -> None:
    plain = read_bulk(V4)
    zipped = read_bulk(V4_ZIP)
    pd.testing.assert_frame_equal(
        plain.frame.drop(columns=[SOURCE_FILE]), zipped.frame.drop(columns=[SOURCE_FILE])
    )
    assert (zipped.frame[SOURCE_FILE] == "v20251101_v4_csv.zip").all()
    assert zipped.metadata["zip_member"] == "v20251101_v4.csv"
    assert zipped.metadata["publicatiedatum"] == "2025-11-01"
    assert zipped.metadata["rows_scanned"] == 6


def test_filter_on_bag_ids() -> None:
    result = read_bulk(V4, bag_ids={"0392010000012345"})
    assert result.frame[SOURCE_ROW].tolist() == [4, 5]
    assert result.frame["energieklasse"].tolist() == ["C", "A"]
    assert result.metadata["rows_scanned"] == 6
    assert result.metadata["rows_kept"] == 2


def test_filter_on_bag_id_that_lost_its_leading_zero() -> None:
    result = read_bulk(V4, bag_ids=["392010000012345"])
    assert result.frame[SOURCE_ROW].tolist() == [4, 5]


def test_filter_on_address_keys_built_by_formats_address_key() -> None:
    stock = pd.DataFrame(
        {"postcode": ["2011AB", "9999ZZ"], "huisnummer": [14, 1], "huisletter": ["a", None], "toevoeging": ["2hg", None]}
    )
    keys = address_key(stock["postcode"], stock["huisnummer"], stock["huisletter"], stock["toevoeging"])
    assert keys.tolist() == ["2011AB|14|A|2HG", "9999ZZ|1||"]
    result = read_bulk(V4, address_keys=keys.tolist())
    assert result.frame[SOURCE_ROW].tolist() == [6]
    kept = result.frame
    assert address_key(
        kept["postcode"], kept["huisnummer"], kept["huisletter"], kept["huisnummertoevoeging"]
    ).tolist() == ["2011AB|14|A|2HG"]


def test_filter_keeps_certificates_matching_either_set() -> None:
    result = read_bulk(V4, bag_ids={"0599010000000001"}, address_keys={"2011AB|12||", "2012CD|5||"})
    assert result.frame[SOURCE_ROW].tolist() == [4, 5, 8, 9]
    assert result.metadata["filter"] == {"bag_ids": 1, "address_keys": 2}


def test_empty_filter_keeps_nothing_but_keeps_the_contract() -> None:
    result = read_bulk(V4, bag_ids=set())
    assert len(result.frame) == 0
    assert list(result.frame.columns) == OUTPUT_COLUMNS
    assert str(result.frame["huisnummer"].dtype) == "Int64"
    assert result.metadata["rows_kept"] == 0
    assert result.metadata["rows_scanned"] == 6


def test_only_kept_certificates_are_typed_and_checked() -> None:
    # The bad date sits on line 5 (BAG 0392010000012345); a filter that skips it reads cleanly.
    result = read_bulk(FIXTURES / "bad_date.csv", bag_ids={"0363010000654321"})
    assert result.frame[SOURCE_ROW].tolist() == [7]


def test_v2_generation_with_pand_headers() -> None:
    result = read_bulk(V2)
    frame = result.frame
    assert list(frame.columns) == OUTPUT_COLUMNS
    assert result.metadata["generation"] == "v2"
    assert frame[SOURCE_ROW].tolist() == [2, 3, 4, 5]  # no preamble: header is line 1
    assert result.drift.renamed["geldig_tot"] == "Meting_geldig_tot"
    assert result.drift.renamed["energie_index"] == "Pand_energieindex"
    assert result.drift.renamed["bag_vbo_id"] == "Pand_bagverblijfsobjectid"
    assert result.drift.renamed["huisnummertoevoeging"] == "Pand_huisnummer_toev"
    assert result.drift.unknown == ["Extra_kolom"]
    assert sorted(result.drift.missing_optional) == ["bouwjaar", "huisletter"]
    assert any("Extra_kolom" in w for w in result.warnings)
    # Pand_huisnummer_toev holds letter and addition together.
    assert frame["huisletter"].tolist()[:2] == ["A", "A"]
    assert frame["huisletter"].isna().tolist() == [False, False, True, True]
    assert frame["huisnummertoevoeging"].tolist()[1:3] == ["2", "HS"]
    assert frame["huisnummertoevoeging"].isna().tolist() == [True, False, False, True]
    # Three date forms in one file.
    assert frame.loc[0, "opnamedatum"] == pd.Timestamp("2021-03-01")
    assert frame.loc[0, "registratiedatum"] == pd.Timestamp("2021-03-15")
    assert frame.loc[0, "geldig_tot"] == pd.Timestamp("2031-03-15")
    assert frame.loc[0, "postcode"] == "2011AB"
    assert frame.loc[0, "energie_index"] == pytest.approx(1.12)
    assert frame.loc[1, "primaire_fossiele_energie"] == pytest.approx(171.25)
    assert frame["bouwjaar"].isna().all()
    # No preamble: the publication date comes from the file name, with a warning.
    assert result.metadata["publicatiedatum"] == "2021-04-01"
    assert result.metadata["laatst_verwerkte_mutatievolgnummer"] is None
    assert any("bestandsnaam" in w for w in result.warnings)


def test_v2_address_filter_uses_the_split_letter() -> None:
    result = read_bulk(V2, address_keys={"2011AB|22|A|2", "2011AB|24||HS"})
    assert result.frame[SOURCE_ROW].tolist() == [3, 4]


def test_v2_with_separate_letter_column_and_older_index_name(tmp_path: Path) -> None:
    header = (
        "Pand_registratiedatum;Pand_opnamedatum;Meting_geldig_tot;Pand_postcode;Pand_huisnummer;"
        "Pand_huisletter;Pand_huisnummertoevoeging;Pand_bagverblijfsobjectid;Pand_energieklasse;"
        "Pand_energieprestatieindex;Pand_gebouwklasse;Pand_bouwjaar"
    )
    rows = [
        "20190110;20190101;20290110;2011ab;8;b;-1;0392010000040001;D;1,87;Woningbouw;1958",
        "20190111;20190102;20290111;2011AB;10;;;0392010000040002;C;1,51;W;1960",
    ]
    path = tmp_path / "ep_online_2019.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = read_bulk(path, address_keys={"2011AB|8|B|1"})
    frame = result.frame
    assert frame[SOURCE_ROW].tolist() == [2]
    assert frame.loc[0, "huisletter"] == "B"
    assert frame.loc[0, "huisnummertoevoeging"] == "1"
    assert frame.loc[0, "energie_index"] == pytest.approx(1.87)
    assert frame.loc[0, "gebouwklasse"] == "W"
    assert frame.loc[0, "bouwjaar"] == 1958
    assert result.drift.renamed["energie_index"] == "Pand_energieprestatieindex"
    assert result.drift.renamed["huisletter"] == "Pand_huisletter"
    assert result.metadata["generation"] == "v2"
    assert result.metadata["huisletter_uit_toevoeging"] is False


def test_file_without_preamble_is_accepted() -> None:
    result = read_bulk(FIXTURES / "zonder_preambule.csv")
    assert result.frame[SOURCE_ROW].tolist() == [2, 3]
    assert result.metadata["publicatiedatum"] is None
    assert result.frame["publicatiedatum"].isna().all()
    assert result.metadata["header_row"] == 1
    assert "preambule mist PublicatieDatum en LaatstVerwerkteMutatievolgnummer" in result.warnings


def test_bag_ids_without_leading_zeros_are_padded_and_counted() -> None:
    result = read_bulk(FIXTURES / "bag_zonder_voorloopnul.csv")
    assert result.frame["bag_vbo_id"].tolist()[:4] == [
        "0392010000012345",
        "0392010000012345",
        "0392010000012399",
        "0003630100006543",
    ]
    assert any(w.startswith("3 BAG-id") for w in result.warnings)
    filtered = read_bulk(FIXTURES / "bag_zonder_voorloopnul.csv", bag_ids={"0392010000012345"})
    assert filtered.frame[SOURCE_ROW].tolist() == [4, 5]
    assert filtered.frame["bag_vbo_id"].tolist() == ["0392010000012345"] * 2


def test_blank_lines_do_not_shift_line_numbers() -> None:
    result = read_bulk(FIXTURES / "blank_lines.csv")
    assert result.frame[SOURCE_ROW].tolist() == [4, 5, 7, 8, 9, 11]
    assert result.metadata["rows_scanned"] == 6
    assert any("lege regel" in w for w in result.warnings)


def test_unknown_extra_column_only_warns(tmp_path: Path) -> None:
    lines = V4.read_bytes().decode("utf-8-sig").splitlines()
    lines[2] += ";NieuweKolom"
    lines[3:] = [line + ";x" for line in lines[3:]]
    path = tmp_path / "v20251201_v4.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    result = read_bulk(path)
    assert len(result.frame) == 6
    assert result.drift.unknown == ["NieuweKolom"]
    assert result.metadata["drift"]["unknown"] == ["NieuweKolom"]
    assert any("NieuweKolom" in w for w in result.warnings)


def test_display_name_is_used_for_rows_and_errors() -> None:
    result = read_bulk(V4, display_name="ep_online/v20251101_v4.csv", bag_ids={"0392010000020000"})
    assert result.frame[SOURCE_FILE].tolist() == ["ep_online/v20251101_v4.csv"]
    assert result.source_file == "ep_online/v20251101_v4.csv"
    with pytest.raises(SourceError) as caught:
        read_bulk(FIXTURES / "bad_date.csv", display_name="ep_online/bad.csv")
    assert caught.value.file == "ep_online/bad.csv"


@pytest.mark.parametrize(
    ("fixture", "error", "row", "column", "value"),
    [
        ("missing_required.csv", SchemaError, 3, "GeldigTot", None),
        ("bad_date.csv", SourceError, 5, "Registratiedatum", "20231345"),
        ("bad_number.csv", SourceError, 4, "EnergieIndex", "1,4,5"),
        ("unknown_label.csv", SourceError, 6, "Energieklasse", "H"),
        ("wrong_separator.csv", SchemaError, 3, None, None),
        ("empty.csv", SchemaError, 1, None, None),
        ("duplicate_header.csv", SchemaError, 3, "postcode", None),
        ("ragged.csv", SourceError, 6, None, None),
        ("truncated_v4_csv.zip", SourceError, None, None, None),
    ],
)
def test_broken_files_fail_with_file_row_column_and_value(
    fixture: str, error: type[SourceError], row: int | None, column: str | None, value: str | None
) -> None:
    with pytest.raises(error) as caught:
        read_bulk(FIXTURES / fixture)
    exc = caught.value
    assert exc.file == fixture
    assert str(exc).startswith(fixture)
    assert exc.row == row
    assert exc.column == column
    if value is not None:
        assert exc.value == value


def test_missing_required_column_names_the_aliases() -> None:
    with pytest.raises(SchemaError) as caught:
        read_bulk(FIXTURES / "missing_required.csv")
    assert "Meting_geldig_tot" in (caught.value.expected or "")
    assert "verplichte kolom ontbreekt: GeldigTot" in str(caught.value)


def test_wrong_separator_says_which_separator() -> None:
    with pytest.raises(SchemaError, match="','"):
        read_bulk(FIXTURES / "wrong_separator.csv")


def test_non_utf8_text_in_a_used_column_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(V4.read_bytes().replace(b"Vrijstaande", b"Vrijst\xe9ande"))  # line 8
    with pytest.raises(SourceError, match="UTF-8") as caught:
        read_bulk(path)
    assert caught.value.row == 8


def test_missing_file() -> None:
    with pytest.raises(SourceError, match="niet gevonden"):
        read_bulk(FIXTURES / "bestaat_niet.csv")


# ------------------------------------------------------------------------------------------
# zip archives
# ------------------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def test_zip_with_two_csv_members_is_refused(tmp_path: Path) -> None:
    data = V4.read_bytes()
    path = _zip(tmp_path / "twee.zip", {"a.csv": data, "b.csv": data})
    with pytest.raises(SourceError, match="precies één CSV"):
        read_bulk(path)


def test_zip_without_csv_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "leeg.zip", {"lees_mij.txt": b"geen csv"})
    with pytest.raises(SourceError, match="gevonden: geen"):
        read_bulk(path)


def test_zip_slip_path_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "slip.zip", {"../../etc/v20251101_v4.csv": V4.read_bytes()})
    with pytest.raises(SourceError, match="onveilig pad"):
        read_bulk(path)


def test_zip_member_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ep_online, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(SourceError, match="te groot"):
        read_bulk(V4_ZIP)


def test_corrupt_zip_member_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "v20251101_v4_csv.zip", {"v20251101_v4.csv": V4.read_bytes()}, compression=zipfile.ZIP_STORED)
    data = path.read_bytes()
    assert data.count(b"Vrijstaande woning") == 1
    path.write_bytes(data.replace(b"Vrijstaande woning", b"Vrijstaande wonink"))  # CRC no longer matches
    with pytest.raises(SourceError, match="beschadigd"):
        read_bulk(path)


def test_zip_with_extra_non_csv_member_warns(tmp_path: Path) -> None:
    path = _zip(tmp_path / "v20251101_v4_csv.zip", {"v20251101_v4.csv": V4.read_bytes(), "leesmij.txt": b"x"})
    result = read_bulk(path, bag_ids={"0392010000020000"})
    assert result.frame[SOURCE_ROW].tolist() == [8]
    assert any("leesmij.txt" in w for w in result.warnings)


def test_filters_accept_generators_and_series_with_gaps() -> None:
    result = read_bulk(
        V4,
        bag_ids=(bag for bag in ["0392010000020000", None]),
        address_keys=pd.Series(["2011AB|14|A|2HG", None], dtype="str"),
    )
    assert result.frame[SOURCE_ROW].tolist() == [6, 8]
    assert result.metadata["filter"] == {"bag_ids": 1, "address_keys": 1}


def test_trailing_separator_on_every_line_is_tolerated(tmp_path: Path) -> None:
    lines = V4.read_bytes().decode("utf-8-sig").splitlines()
    lines[2:] = [line + ";" for line in lines[2:]]
    path = tmp_path / "v20251101_v4.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    result = read_bulk(path, bag_ids={"0392010000012399"})
    assert result.frame[SOURCE_ROW].tolist() == [6]
    assert result.frame.loc[0, "primaire_fossiele_energie"] == pytest.approx(180.0)


def test_the_filter_values_as_pandas_text_arrays_normalise_as_python_values_do():
    """raw_ep_online passes the stock's ids as pandas text arrays (straight to Arrow); a list of the
    same values must give the same filter, odd spellings included."""
    from sources.ep_online import _normalise_wanted_bag, _normalise_wanted_key

    bag = ["0363010000000001", " 0363010000000002 ", "363010000000003", "363010000000004.0", None, "abc", "0363010000000001"]
    keys = ["2011AB|1||", " 2011ab |2| a |", None, "2011AB|1||"]
    as_array = pd.Series(bag, dtype="str").dropna().unique()
    assert sorted(_normalise_wanted_bag(as_array).to_pylist()) == sorted(_normalise_wanted_bag(bag).to_pylist()) == [
        "0363010000000001", "0363010000000002", "0363010000000003", "0363010000000004", "abc"]
    assert sorted(_normalise_wanted_key(pd.Series(keys, dtype="str").dropna().unique()).to_pylist()) == sorted(
        _normalise_wanted_key(keys).to_pylist()) == ["2011AB|1||", "2011AB|2|A|"]


# --------------------------------------------------------------------------------------------------
# The scan's filter short-cuts (no regex for clean ids and for six-character postcodes that are not
# wanted) keep exactly the rows the contract names: normalised BAG id in the set, or normalised
# address key in the set. Held to the typed frame of the unfiltered read, on odd spellings.
# --------------------------------------------------------------------------------------------------

_BAG_SPELLINGS = [
    "0363010000000001", "0363010000000002", "363010000000003", " 0363010000000004", "0363010000000005 ",
    "", "036301000001", " 363010000000001", "0000000000000000", "363010000000009 ",
]
_POSTCODE_SPELLINGS = ["2011AB", "2011ab", "2011 AB", " 2011AB", "2011AB ", "2011A ", "0123AB", "2012CD", "2011\tAB", ""]


@pytest.mark.parametrize("seed", range(6))
def test_the_filter_keeps_exactly_the_rows_whose_normalised_id_or_address_is_wanted(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    header = V4.read_text(encoding="utf-8-sig").splitlines()[:3]
    columns = header[2].split(";")
    lines = []
    for _ in range(200):
        row = [""] * len(columns)
        values = {
            "Postcode": _POSTCODE_SPELLINGS[rng.integers(len(_POSTCODE_SPELLINGS))],
            "Huisnummer": str(rng.choice(["1", "2", " 3", "12"])),
            "Huisletter": str(rng.choice(["", "a", "B", " c "])),
            "Huisnummertoevoeging": str(rng.choice(["", "2hg", " 1 ", "-3"])),
            "BAGVerblijfsobjectID": _BAG_SPELLINGS[rng.integers(len(_BAG_SPELLINGS))],
            "Registratiedatum": "20200101", "GeldigTot": "20300101", "Energieklasse": "C",
        }
        for name, value in values.items():
            row[columns.index(name)] = value
        lines.append(";".join(row))
    path = tmp_path / "v20251101_v4.csv"
    path.write_text("\ufeff" + "\n".join([*header, *lines]) + "\n", encoding="utf-8")

    everything = read_bulk(path).frame
    keys = address_key(everything["postcode"], everything["huisnummer"], everything["huisletter"],
                       everything["huisnummertoevoeging"])
    bag_ids = ["0363010000000001", "363010000000003", "0363010000000004", "abc", "0000036301000001"]
    wanted_keys = sorted({k for k in keys.dropna().unique() if rng.random() < 0.5} | {"2011AB|99||"})
    normal_ids = ["0363010000000001", "0363010000000003", "0363010000000004", "0000036301000001"]
    expected = everything[everything["bag_vbo_id"].isin(normal_ids) | keys.isin(wanted_keys)][SOURCE_ROW].tolist()
    assert expected, "the generated file must keep some rows"
    assert read_bulk(path, bag_ids=bag_ids, address_keys=wanted_keys).frame[SOURCE_ROW].tolist() == expected
    by_bag = everything[everything["bag_vbo_id"].isin(normal_ids)]
    assert read_bulk(path, bag_ids=bag_ids).frame[SOURCE_ROW].tolist() == by_bag[SOURCE_ROW].tolist()
    by_key = everything[keys.isin(wanted_keys)]
    assert read_bulk(path, address_keys=wanted_keys).frame[SOURCE_ROW].tolist() == by_key[SOURCE_ROW].tolist()
