"""Corporation stock lists: mapping files, the three corporation formats, broken files, discovery."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from sources.bezit import BEZIT_DTYPES, discover_bezitslijsten, peildatum_from_name, read_bezitslijst
from sources.errors import SchemaError, SourceError
from sources.mapping import BezitMapping, MappingError, load_bezit_mapping

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = ROOT / "mappings" / "bezit"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bezit"
ELAN_FIXTURE = FIXTURES / "elan_wonen" / "bezitslijst_elan_wonen_2025-01-01.csv"
YMERE_FIXTURE = FIXTURES / "ymere" / "bezitslijst_ymere_2024-12-31.csv"
ELAN_NAME = "bezit/elan_wonen/bezitslijst_elan_wonen_2025-01-01.csv"


@pytest.fixture(scope="module")
def elan() -> BezitMapping:
    return load_bezit_mapping(MAPPINGS / "elan_wonen.yaml")


@pytest.fixture(scope="module")
def pre() -> BezitMapping:
    return load_bezit_mapping(MAPPINGS / "pre_wonen.yaml")


@pytest.fixture(scope="module")
def ymere() -> BezitMapping:
    return load_bezit_mapping(MAPPINGS / "ymere.yaml")


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}


def na(value: object) -> bool:
    return value is None or value is pd.NA or bool(pd.isna(value))


# --- mapping files ---------------------------------------------------------------------------------


def test_shipped_mappings_load(elan: BezitMapping, pre: BezitMapping, ymere: BezitMapping) -> None:
    assert (elan.slug, elan.corporatie, elan.bestand.formaat) == ("elan_wonen", "Elan Wonen", "csv")
    assert (elan.bestand.scheidingsteken, elan.bestand.decimaal, elan.bestand.duizendtal) == (";", ",", ".")
    assert (pre.corporatie, pre.bestand.formaat, pre.bestand.decimaal, pre.bestand.duizendtal) == (
        "Pré Wonen",
        "xlsx",
        ".",
        None,
    )
    # 'N' and 'J' stay text (YAML 1.1 would make booleans of some such keys).
    assert pre.waarden["monument"] == {"J": "ja", "N": "nee"}
    assert (ymere.bestand.scheidingsteken, ymere.bestand.duizendtal) == (",", None)
    assert ymere.source is not None and ymere.source.endswith("ymere.yaml")


def write_mapping(tmp_path: Path, text: str, name: str = "proef.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BASE_MAPPING = """corporatie: Proef
slug: proef
bestand: {formaat: csv, scheidingsteken: ";"}
kolommen:
  vhe_id: VHE
  gemeente_code: Gemeente
"""


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("onbekend: 1\n", "onbekende sleutel 'onbekend'"),
        ("waarden:\n  woningtype: {Flat: MGW}\n", "'woningtype' staat niet in kolommen"),
    ],
)
def test_mapping_refuses_unknown_keys(tmp_path: Path, extra: str, fragment: str) -> None:
    path = write_mapping(tmp_path, BASE_MAPPING + extra)
    with pytest.raises(MappingError) as info:
        load_bezit_mapping(path)
    assert info.value.file == str(path)
    assert fragment in str(info.value)


def test_mapping_refuses_unknown_contract_column(tmp_path: Path) -> None:
    path = write_mapping(tmp_path, BASE_MAPPING + "  huur: Huur\n")
    with pytest.raises(MappingError) as info:
        load_bezit_mapping(path)
    assert str(path) in str(info.value)
    assert "onbekende contractkolom 'huur'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BASE_MAPPING.replace("  vhe_id: VHE\n", ""), "vhe_id"),
        (BASE_MAPPING + "  eenheidsoort: Soort\nwaarden:\n  eenheidsoort: {Garage: GAR}\n", "geen geldige code"),
        (BASE_MAPPING + "waarden:\n  gemeente_code: {Haarlem: 392}\n", "geen gemeentecode"),
        (BASE_MAPPING + "  daeb: Segment\nwaarden:\n  daeb: {D: misschien}\n", "ja/nee"),
        (BASE_MAPPING + "  huisnummer: Nr\n  huisnummer_volledig: Huisnr\n", "huisnummer_volledig"),
        (BASE_MAPPING + "  complex_id: VHE\n", "hoort bij zowel"),
        (BASE_MAPPING.replace("formaat: csv", "formaat: xls"), "bestand.formaat"),
        (BASE_MAPPING.replace("slug: proef", "slug: Proef Wonen"), "slug"),
        (BASE_MAPPING + "bestand: {formaat: csv}\n", "twee keer"),
        ("- alleen\n- een lijst\n", "YAML-mapping"),
        ("corporatie: [onafgesloten\n", "geen geldige YAML"),
    ],
)
def test_mapping_errors_name_the_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = write_mapping(tmp_path, text)
    with pytest.raises(MappingError) as info:
        load_bezit_mapping(path)
    assert info.value.file == str(path)
    assert fragment in str(info.value)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="niet gevonden"):
        load_bezit_mapping(tmp_path / "bestaat_niet.yaml")


def test_thousands_default_follows_decimal(tmp_path: Path) -> None:
    comma = load_bezit_mapping(write_mapping(tmp_path, BASE_MAPPING))
    assert (comma.bestand.decimaal, comma.bestand.duizendtal) == (",", ".")
    point = load_bezit_mapping(write_mapping(tmp_path, BASE_MAPPING.replace('";"}', '";", decimaal: "."}')))
    assert point.bestand.duizendtal is None


# --- Elan Wonen: CSV ';' cp1252, decimal comma, gemeente by name ------------------------------------


def test_elan_csv(elan: BezitMapping) -> None:
    result = read_bezitslijst(ELAN_FIXTURE, elan)
    frame = result.frame
    assert dtypes(frame) == BEZIT_DTYPES
    assert result.source_file == ELAN_NAME
    assert frame["_source_file"].tolist() == [ELAN_NAME] * 3
    assert frame["_source_row"].tolist() == [2, 3, 4]
    assert frame["corporatie"].tolist() == ["Elan Wonen"] * 3
    assert frame["peildatum"].tolist() == [pd.Timestamp("2025-01-01")] * 3
    assert frame["vhe_id"].tolist() == ["E-10001", "E-10002", "E-10003"]
    assert frame["bag_vbo_id"].tolist()[:2] == ["0392010000012345", "0397010000000077"]
    assert na(frame.at[2, "bag_vbo_id"])
    assert frame["postcode"].tolist() == ["2011AB", "2101BC", "2011AB"]
    assert frame["huisnummer"].tolist() == [12, 3, 12]
    assert frame.at[0, "huisletter"] == "A" and na(frame.at[1, "huisletter"])
    assert frame.at[1, "huisnummertoevoeging"] == "2"
    assert frame["gemeente_code"].tolist() == ["GM0392", "GM0397", "GM0392"]  # 'haarlem' too
    assert frame["eenheidsoort"].tolist() == ["WOO", "WOO", "PP"]
    assert frame["woningtype"].tolist()[:2] == ["EGW", "MGW"]
    assert frame["bouwjaar"].tolist() == [1932, 2024, 1932]
    assert frame["oppervlakte_m2"].tolist() == [85.5, 72.0, 12.5]
    assert frame["netto_kale_huur"].tolist() == [612.34, 1234.56, 45.0]
    assert frame["daeb"].tolist() == [True, False, False]
    assert frame["monument"].tolist() == [True, False, False]
    assert frame["vve"].tolist() == [False, True, False]
    assert frame["sloop_renovatie_gepland"].isna().all()
    assert frame["energielabel"].tolist()[:2] == ["E", "A++"]
    assert frame["zonnepanelen_aantal"].tolist() == [0, 10, pd.NA]
    assert frame.at[1, "zonnepanelen_wp"] == 350.0
    assert frame["in_exploitatie_datum"].tolist() == [pd.Timestamp(d) for d in ("1990-01-01", "2024-06-15", "1990-01-01")]
    assert frame.at[2, "uit_exploitatie_datum"] == pd.Timestamp("2024-09-30")
    assert frame.at[2, "uit_exploitatie_reden"] == "verkoop"
    assert frame["herkomst"].tolist() == ["bestaand", "nieuwbouw", "bestaand"]
    assert result.drift.unknown == ["Opmerking"]
    assert result.drift.missing_optional == ["sloop_renovatie_gepland"]
    assert result.metadata["peildatum"] == "2025-01-01" and result.metadata["rijen"] == 3


def test_elan_utf8_reads_the_same_as_cp1252(tmp_path: Path, elan: BezitMapping) -> None:
    path = tmp_path / "bezit" / "elan_wonen" / ELAN_FIXTURE.name
    path.parent.mkdir(parents=True)
    path.write_bytes(ELAN_FIXTURE.read_bytes().decode("cp1252").encode("utf-8"))
    pd.testing.assert_frame_equal(read_bezitslijst(path, elan).frame, read_bezitslijst(ELAN_FIXTURE, elan).frame)


# --- Pré Wonen: XLSX, Excel dates, free-form house numbers, kWp ------------------------------------

PRE_HEADER = [
    "Eenheidnummer", "Complex", "Verblijfsobject-ID", "PC", "Huisnr", "Gemeentecode", "Wijk", "Buurt",
    "Soort eenheid", "EGW/MGW", "Bouwjaar", "Kamers", "m2 VVO", "Punten", "Kale huur", "Segment",
    "Rijksmonument", "VvE-lid", "Sloop gepland", "Label", "kWp PV", "Startdatum exploitatie",
    "Einddatum exploitatie", "Reden einde", "Herkomst",
]  # fmt: skip
PRE_ROWS: list[list[object]] = [
    ["P-2001", "C7", 392010000054321, "2101 BC", "12A", "GM0392", "WK039203", "BU03920301", "WOO", "EGW",
     1936, 4, 88.5, 151, 598.5, "D", "J", "N", "N", "C", 3.5, dt.datetime(1995, 1, 1), None, None, "B"],
    ["P-2002", "C7", "0392010000054322", "2101BC", "12-2", 392, None, None, "WOO", "MGW",
     1936, 3, 61, 130.25, 512.1, "D", "N", "J", "N", "d", None, dt.datetime(1995, 1, 1), None, None, "B"],
    ["P-2003", "C9", None, "2102 AA", "7 bis", "GM0392", None, None, "WOO", "MGW",
     2023, 2, 45, 120, 980, "ND", "N", "N", "J", "A+++", 1.2, dt.datetime(2023, 6, 1), dt.datetime(2024, 12, 31),
     "LB", "NB"],
]  # fmt: skip


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def pre_file(tmp_path: Path, rows: list[list[object]] | None = None, header: list[str] | None = None) -> Path:
    path = tmp_path / "bezit" / "pre_wonen" / "bezitslijst_pre_wonen_2025-01-01.xlsx"
    return write_xlsx(path, header or PRE_HEADER, PRE_ROWS if rows is None else rows)


def test_pre_wonen_xlsx(tmp_path: Path, pre: BezitMapping) -> None:
    result = read_bezitslijst(pre_file(tmp_path), pre)
    frame = result.frame
    assert dtypes(frame) == BEZIT_DTYPES
    assert result.source_file == "bezit/pre_wonen/bezitslijst_pre_wonen_2025-01-01.xlsx"
    assert frame["_source_row"].tolist() == [2, 3, 4]
    assert frame["corporatie"].tolist() == ["Pré Wonen"] * 3
    assert frame["bag_vbo_id"].tolist()[:2] == ["0392010000054321", "0392010000054322"]
    assert result.metadata["bag_ids_aangevuld"] == 1
    assert any("1 BAG-id" in w for w in result.warnings)
    assert frame["postcode"].tolist() == ["2101BC", "2101BC", "2102AA"]
    # free-form 'Huisnr': '12A', '12-2', '7 bis'
    assert frame["huisnummer"].tolist() == [12, 12, 7]
    assert frame.at[0, "huisletter"] == "A" and na(frame.at[1, "huisletter"]) and na(frame.at[2, "huisletter"])
    assert na(frame.at[0, "huisnummertoevoeging"])
    assert frame["huisnummertoevoeging"].tolist()[1:] == ["2", "BIS"]
    assert frame["gemeente_code"].tolist() == ["GM0392"] * 3  # numeric 392 too
    assert frame["woningtype"].tolist() == ["EGW", "MGW", "MGW"]
    assert frame["bouwjaar"].tolist() == [1936, 1936, 2023]
    assert frame["oppervlakte_m2"].tolist() == [88.5, 61.0, 45.0]
    assert frame["wws_punten"].tolist() == [151.0, 130.25, 120.0]
    assert frame["netto_kale_huur"].tolist() == [598.5, 512.1, 980.0]
    assert frame["daeb"].tolist() == [True, True, False]
    assert frame["monument"].tolist() == [True, False, False]
    assert frame["vve"].tolist() == [False, True, False]
    assert frame["sloop_renovatie_gepland"].tolist() == [False, False, True]
    assert frame["energielabel"].tolist() == ["C", "D", "A+++"]
    assert frame.at[0, "zonnepanelen_kwp"] == 3.5 and frame.at[2, "zonnepanelen_kwp"] == 1.2
    assert na(frame.at[1, "zonnepanelen_kwp"])
    assert frame["zonnepanelen_aantal"].isna().all() and frame["zonnepanelen_wp"].isna().all()
    assert frame["in_exploitatie_datum"].tolist() == [pd.Timestamp(d) for d in ("1995-01-01", "1995-01-01", "2023-06-01")]
    assert frame.at[2, "uit_exploitatie_datum"] == pd.Timestamp("2024-12-31")
    assert frame.at[2, "uit_exploitatie_reden"] == "liberalisatie"
    assert frame["herkomst"].tolist() == ["bestaand", "bestaand", "nieuwbouw"]
    assert result.drift.is_empty


def test_pre_wonen_unreadable_house_number(tmp_path: Path, pre: BezitMapping) -> None:
    rows = [list(r) for r in PRE_ROWS]
    rows[1][4] = "achter de kerk"
    with pytest.raises(SourceError) as info:
        read_bezitslijst(pre_file(tmp_path, rows), pre)
    err = info.value
    assert (err.row, err.column, err.value) == (3, "Huisnr", "achter de kerk")
    assert err.file == "bezit/pre_wonen/bezitslijst_pre_wonen_2025-01-01.xlsx"


def test_pre_wonen_unknown_single_letter_code(tmp_path: Path, pre: BezitMapping) -> None:
    rows = [list(r) for r in PRE_ROWS]
    rows[2][23] = "XX"
    with pytest.raises(SourceError) as info:
        read_bezitslijst(pre_file(tmp_path, rows), pre)
    assert (info.value.row, info.value.column, info.value.value) == (4, "Reden einde", "XX")
    assert "verkoop" in str(info.value)


# --- Ymere: CSV ',' UTF-8 BOM, ISO dates, 1/0 flags, a 15-digit BAG id -----------------------------


def test_ymere_csv(ymere: BezitMapping) -> None:
    result = read_bezitslijst(YMERE_FIXTURE, ymere)
    frame = result.frame
    assert dtypes(frame) == BEZIT_DTYPES
    assert frame["vhe_id"].tolist() == ["Y-1", "Y-2", "Y-3"]
    assert frame["complex_id"].tolist() == ["CL-7", "CL-8", "CL-9, Noord"]
    assert frame["bag_vbo_id"].tolist() == ["0363010000123456", "0363010000654321", "0363010000999999"]
    assert result.metadata["bag_ids_aangevuld"] == 2
    assert "2 BAG-id('s) misten voorloopnullen" in " ".join(result.warnings)
    assert frame["postcode"].tolist() == ["1012AB", "1013CD", "1014EF"]
    assert frame.at[0, "huisnummertoevoeging"] == "1 HOOG" and frame.at[1, "huisletter"] == "B"
    assert frame["gemeente_code"].tolist() == ["GM0363"] * 3  # '0363' gets its prefix
    assert frame["wijk_code"].tolist()[:2] == ["WK036300", "WK036301"]
    assert frame["eenheidsoort"].tolist() == ["WOO", "WOO", "BOG"]
    assert frame["oppervlakte_m2"].tolist() == [48.5, 110.0, 250.75]
    assert frame["wws_punten"].tolist()[:2] == [121.25, 201.0]
    assert frame["netto_kale_huur"].tolist() == [752.1, 1100.0, 2500.5]
    assert frame["daeb"].tolist() == [True, False, False]
    assert frame["sloop_renovatie_gepland"].tolist() == [False, False, True]
    assert frame["energielabel"].tolist() == ["C", "A+++", "G"]
    assert frame["zonnepanelen_aantal"].tolist() == [0, 12, pd.NA]
    assert frame.at[1, "zonnepanelen_wp"] == 400.0
    assert frame.at[1, "uit_exploitatie_datum"] == pd.Timestamp("2024-11-30")
    assert frame.at[1, "uit_exploitatie_reden"] == "verkoop"
    assert frame["herkomst"].tolist() == ["bestaand", "nieuwbouw", "bestaand"]
    assert frame["peildatum"].tolist() == [pd.Timestamp("2024-12-31")] * 3


def test_ymere_comma_decimal_refused(tmp_path: Path, ymere: BezitMapping) -> None:
    text = YMERE_FIXTURE.read_text(encoding="utf-8-sig").replace(",752.10,", ',"752,10",')
    path = tmp_path / YMERE_FIXTURE.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_bezitslijst(path, ymere)
    assert (info.value.file, info.value.row, info.value.column, info.value.value) == (
        YMERE_FIXTURE.name,
        2,
        "net_rent",
        "752,10",
    )


# --- peildatum -------------------------------------------------------------------------------------


def test_peildatum_from_name() -> None:
    assert peildatum_from_name("bezitslijst_elan_wonen_2025-01-01.csv") == ("elan_wonen", pd.Timestamp("2025-01-01"))
    assert peildatum_from_name("BEZITSLIJST_ymere_2024-12-31.XLSX")[1] == pd.Timestamp("2024-12-31")


@pytest.mark.parametrize("name", ["bezitslijst_elan_wonen.csv", "elan_2025-01-01.csv", "bezitslijst_elan_wonen_2025-02-30.csv"])
def test_file_name_without_valid_date(tmp_path: Path, elan: BezitMapping, name: str) -> None:
    path = tmp_path / name
    shutil.copy(ELAN_FIXTURE, path)
    with pytest.raises(SourceError) as info:
        read_bezitslijst(path, elan)
    assert info.value.file == name
    assert "peildatum" in info.value.message


def test_explicit_peildatum(tmp_path: Path, elan: BezitMapping) -> None:
    path = tmp_path / "export_elan.csv"
    shutil.copy(ELAN_FIXTURE, path)
    result = read_bezitslijst(path, elan, peildatum=dt.date(2024, 12, 31), display_name="bezit/elan_wonen/x.csv")
    assert result.frame["peildatum"].tolist() == [pd.Timestamp("2024-12-31")] * 3
    assert result.frame["_source_file"].iloc[0] == "bezit/elan_wonen/x.csv"
    named = read_bezitslijst(ELAN_FIXTURE, elan, peildatum="2024-12-31")
    assert any("bestandsnaam noemt 2025-01-01" in w for w in named.warnings)


def test_file_of_another_corporation(tmp_path: Path, ymere: BezitMapping) -> None:
    with pytest.raises(SourceError, match="elan_wonen"):
        read_bezitslijst(ELAN_FIXTURE, ymere)


def test_format_mismatch(tmp_path: Path, elan: BezitMapping) -> None:
    path = pre_file(tmp_path).rename(tmp_path / "bezitslijst_elan_wonen_2025-01-01.xlsx")
    with pytest.raises(SourceError, match="mapping beschrijft csv"):
        read_bezitslijst(path, elan)


# --- broken Elan files -----------------------------------------------------------------------------

ELAN_TEXT = ELAN_FIXTURE.read_bytes().decode("cp1252")


def elan_file(tmp_path: Path, change: Callable[[str], str], encoding: str = "cp1252") -> Path:
    path = tmp_path / "bezit" / "elan_wonen" / ELAN_FIXTURE.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(change(ELAN_TEXT).encode(encoding))
    return path


def read_elan_error(tmp_path: Path, elan: BezitMapping, change: Callable[[str], str]) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_bezitslijst(elan_file(tmp_path, change), elan)
    assert info.value.file == ELAN_NAME
    return info.value


def test_missing_required_column(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("VHE-nummer", "Eenheid"))
    assert isinstance(err, SchemaError)
    assert err.row == 1
    assert "vhe_id" in err.message and "VHE-nummer" in str(err)


def test_wrong_separator(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace(";", ","))
    assert isinstance(err, SchemaError)
    assert err.row == 1
    assert "';'" in str(err) and "','" in str(err)


def test_unparseable_date(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("15-06-2024", "31-06-2024"))
    assert (err.row, err.column, err.value) == (3, "In exploitatie", "31-06-2024")
    assert "contractkolom in_exploitatie_datum" in err.message


def test_date_outside_sane_range(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("15-06-2024", "15-06-2204"))
    assert (err.row, err.column, err.value) == (3, "In exploitatie", "15-06-2204")


def test_unparseable_number(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace(";12,5;", ";12.5;"))
    assert (err.row, err.column, err.value) == (4, "Oppervlakte (m²)", "12.5")


def test_negative_rent(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("1.234,56", "-1.234,56"))
    assert (err.row, err.column, err.value) == (3, "Netto kale huur", "-1.234,56")
    assert "negatieve" in err.message


def test_unknown_code(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("Parkeerplaats", "Garagebox"))
    assert (err.row, err.column, err.value) == (4, "Eenheidsoort", "Garagebox")
    assert "WOO" in (err.expected or "")


def test_unknown_gemeente_name(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace(";Heemstede;", ";Zandvoort;"))
    assert (err.row, err.column, err.value) == (3, "Gemeente", "Zandvoort")
    assert "GM0392" in (err.expected or "")


def test_unknown_energy_label(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace(";A++;", ";H;"))
    assert (err.row, err.column, err.value) == (3, "Energielabel", "H")


def test_missing_required_value(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("E-10002;", ";"))
    assert (err.row, err.column) == (3, "VHE-nummer")
    assert "ontbreekt" in err.message


def test_bad_bag_id(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("0397010000000077", "0397-01-77"))
    assert (err.row, err.column, err.value) == (3, "BAG VBO-id", "0397-01-77")


def test_bad_postcode(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("2101 BC", "2101"))
    assert (err.row, err.column, err.value) == (3, "Postcode", "2101")


def test_duplicated_header(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("Opmerking", "postcode"))
    assert isinstance(err, SchemaError)
    assert (err.row, err.column) == (1, "postcode")


def test_duplicate_vhe_id_names_both_rows(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("E-10003", "E-10001"))
    assert (err.row, err.column) == (4, "VHE-nummer")
    assert "rij 2 en rij 4" in err.message and "E-10001" in err.message


def test_empty_file(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: "")
    assert isinstance(err, SchemaError) and err.row == 1


def test_header_only(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.splitlines()[0] + "\r\n")
    assert err.row == 2 and "geen rijen" in err.message


def test_short_row(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace(";Bestaand;gevel café-zijde", ""))
    assert err.row == 2 and "velden" in err.message


def test_sold_before_started(tmp_path: Path, elan: BezitMapping) -> None:
    err = read_elan_error(tmp_path, elan, lambda t: t.replace("30-09-2024", "30-09-1980"))
    assert (err.row, err.column) == (4, "Uit exploitatie")


# --- discovery -------------------------------------------------------------------------------------


def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    for fixture in (ELAN_FIXTURE, YMERE_FIXTURE):
        target = root / "bezit" / fixture.parent.name / fixture.name
        target.parent.mkdir(parents=True)
        shutil.copy(fixture, target)
    (root / "bezit" / "elan_wonen" / "bezitslijst_elan_wonen_2024-01-01.csv").write_bytes(ELAN_FIXTURE.read_bytes())
    (root / "bezit" / "elan_wonen" / "~$bezitslijst_elan_wonen_2025-01-01.xlsx").write_bytes(b"lock")
    (root / "bezit" / "elan_wonen" / "LEESMIJ.txt").write_text("geen bezitslijst")
    pre_file(root)
    return root


def test_discover(tmp_path: Path) -> None:
    found = discover_bezitslijsten(landing(tmp_path), MAPPINGS)
    assert [(p.name, m.slug) for p, m in found] == [
        ("bezitslijst_elan_wonen_2024-01-01.csv", "elan_wonen"),
        ("bezitslijst_elan_wonen_2025-01-01.csv", "elan_wonen"),
        ("bezitslijst_pre_wonen_2025-01-01.xlsx", "pre_wonen"),
        ("bezitslijst_ymere_2024-12-31.csv", "ymere"),
    ]
    frames = [read_bezitslijst(path, mapping).frame for path, mapping in found]
    assert sum(len(f) for f in frames) == 12
    assert all(dtypes(f) == BEZIT_DTYPES for f in frames)


def test_discover_accepts_the_bezit_folder_itself(tmp_path: Path) -> None:
    root = landing(tmp_path)
    assert discover_bezitslijsten(root / "bezit", MAPPINGS) == discover_bezitslijsten(root, MAPPINGS)


def test_discover_without_bezit_folder(tmp_path: Path) -> None:
    assert discover_bezitslijsten(tmp_path, MAPPINGS) == []


def test_discover_folder_without_mapping(tmp_path: Path) -> None:
    root = landing(tmp_path)
    (root / "bezit" / "nieuwe_corporatie").mkdir()  # a corporation without a mapping
    with pytest.raises(MappingError) as info:
        discover_bezitslijsten(root, MAPPINGS)
    assert info.value.file == "bezit/nieuwe_corporatie"
    assert str(MAPPINGS / "nieuwe_corporatie.yaml") in str(info.value)


def test_discover_slug_must_match_folder(tmp_path: Path) -> None:
    root = landing(tmp_path)
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    (mappings / "ymere.yaml").write_text((MAPPINGS / "ymere.yaml").read_text().replace("slug: ymere", "slug: ymere_nl"))
    with pytest.raises(MappingError, match="ymere_nl"):
        discover_bezitslijsten(root, mappings)


def test_discover_stray_and_unsupported_files(tmp_path: Path) -> None:
    root = landing(tmp_path)
    stray = root / "bezit" / "bezitslijst_ymere_2025-01-01.csv"
    stray.write_text("x")
    with pytest.raises(SourceError, match="corporatiemap"):
        discover_bezitslijsten(root, MAPPINGS)
    stray.unlink()
    (root / "bezit" / "ymere" / "bezitslijst_ymere_2025-01-01.xls").write_text("x")
    with pytest.raises(SourceError, match=r"\.xls"):
        discover_bezitslijsten(root, MAPPINGS)


def test_zero_bag_id_is_unknown_not_an_error(tmp_path: Path, ymere: BezitMapping) -> None:
    text = YMERE_FIXTURE.read_text(encoding="utf-8-sig").replace(",363010000999999,", ",0,")
    path = tmp_path / YMERE_FIXTURE.name
    path.write_text(text, encoding="utf-8")
    result = read_bezitslijst(path, ymere)
    assert na(result.frame.at[2, "bag_vbo_id"])
    assert result.metadata["bag_ids_aangevuld"] == 1
    assert any("waren 0" in w for w in result.warnings)
