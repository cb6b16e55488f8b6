"""Four more corporation exports, the Woonzicht allocation flavour, mapping-file features
(`kopregel`, `werkblad`, `adres_volledig`, the "" value key) and the XLSX template examples.

The stock-list fixtures are made by tests/fixtures/bezit_extra/make_fixtures.py; each imitates a
different ERP export (see the header comment of its mapping). None is a real delivery.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sources.bezit import BEZIT_DTYPES, discover_bezitslijsten, read_bezitslijst
from sources.errors import ReadResult, SchemaError, SourceError
from sources.mapping import MappingError, load_bezit_mapping, load_export_mapping
from sources.woonservice import (
    TOEWIJZINGEN_DTYPES,
    WONINGZOEKENDEN_DTYPES,
    read_toewijzingen,
    read_woningzoekenden,
)

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = ROOT / "mappings" / "bezit"
WOONZICHT = ROOT / "mappings" / "woonservice" / "woonzicht.yaml"
TEMPLATES = ROOT / "docs" / "templates"
EXTRA = Path(__file__).resolve().parent / "fixtures" / "bezit_extra"
FILES = {
    "woonforte": "bezitslijst_woonforte_2025-01-01.csv",
    "habeko_wonen": "bezitslijst_habeko_wonen_2024-12-31.xlsx",
    "uwoon": "bezitslijst_uwoon_2025-01-01.csv",
    "omnia_wonen": "bezitslijst_omnia_wonen_2025-01-01.csv",
}


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}


def ts(*days: str | None) -> list[object]:
    """Timestamps; None stays None (compare with `values`)."""
    return [None if d is None else pd.Timestamp(d) for d in days]


def values(series: pd.Series) -> list[object]:
    """Comparable list: every kind of missing becomes None."""
    return [None if v is None or v is pd.NA or (not isinstance(v, str) and pd.isna(v)) else v for v in series]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing folder holding the four fixtures as `bezit/<slug>/<file>`."""
    root = tmp_path_factory.mktemp("landing")
    for slug, name in FILES.items():
        target = root / "bezit" / slug / name
        target.parent.mkdir(parents=True)
        shutil.copy(EXTRA / slug / name, target)
    return root


@pytest.fixture(scope="module")
def results(landing: Path) -> dict[str, ReadResult]:
    found = discover_bezitslijsten(landing, MAPPINGS)
    return {mapping.slug: read_bezitslijst(path, mapping) for path, mapping in found}


def test_discovery_pairs_each_file_with_its_mapping(landing: Path) -> None:
    found = discover_bezitslijsten(landing, MAPPINGS)
    assert [(p.name, m.slug, m.corporatie) for p, m in found] == [
        (FILES["habeko_wonen"], "habeko_wonen", "Habeko Wonen"),
        (FILES["omnia_wonen"], "omnia_wonen", "Omnia Wonen"),
        (FILES["uwoon"], "uwoon", "Uwoon"),
        (FILES["woonforte"], "woonforte", "Woonforte"),
    ]


def test_slugs_are_in_the_reference_table() -> None:
    listed = pd.read_csv(ROOT / "reference" / "corporaties.csv", dtype="str")
    names = dict(zip(listed["slug"], listed["corporatie"], strict=True))
    for slug in FILES:
        mapping = load_bezit_mapping(MAPPINGS / f"{slug}.yaml")
        assert names[slug] == mapping.corporatie


def test_every_result_has_the_contract_dtypes(results: dict[str, ReadResult]) -> None:
    assert set(results) == set(FILES)
    for result in results.values():
        assert dtypes(result.frame) == BEZIT_DTYPES


# --- Woonforte: SAP RE-FX style CSV ----------------------------------------------------------------


def test_woonforte_sap_export(results: dict[str, ReadResult]) -> None:
    result = results["woonforte"]
    frame = result.frame
    assert result.source_file == "bezit/woonforte/bezitslijst_woonforte_2025-01-01.csv"
    assert frame["_source_row"].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    assert frame["peildatum"].unique().tolist() == [pd.Timestamp("2025-01-01")]
    assert frame["vhe_id"].tolist()[:2] == ["000010010001", "000010010002"]  # SAP's leading zeros kept
    assert frame["complex_id"].tolist()[:3] == ["1001", "1001", "1002"]
    # the 15-digit BAG id is padded; an empty one stays empty
    assert values(frame["bag_vbo_id"])[:4] == ["0484010000123456", "0484010000123457", "0484010000200001", None]
    assert result.metadata["bag_ids_aangevuld"] == 1
    assert "1 BAG-id('s) misten voorloopnullen" in " ".join(result.warnings)
    assert frame["postcode"].tolist()[:3] == ["2406AB", "2406AB", "2404CD"]
    # HOUSE_NUM1 is free-form: '12', '12a', '7-2', '7', '3 bis'
    assert frame["huisnummer"].tolist()[:5] == [12, 12, 7, 7, 3]
    assert values(frame["huisletter"])[:5] == [None, "A", None, None, None]
    assert values(frame["huisnummertoevoeging"])[:5] == [None, None, "2", None, "BIS"]
    # bare CBS digits, also with the leading zeros stripped ('484', '48401', '4840101')
    assert frame["gemeente_code"].unique().tolist() == ["GM0484"]
    assert frame["wijk_code"].tolist()[:2] == ["WK048401", "WK048401"]
    assert frame["buurt_code"].tolist()[:2] == ["BU04840101", "BU04840101"]
    assert frame["eenheidsoort"].tolist() == ["WOO", "WOO", "WOO", "PP", "WOO", "WOO", "WOO", "BOG"]
    assert values(frame["woningtype"]) == ["EGW", "MGW", "MGW", None, "EGW", "EGW", "MGW", None]
    assert frame["oppervlakte_m2"].tolist() == [92.4, 71.0, 55.5, 12.0, 110.0, 85.0, 65.0, 250.0]
    assert frame["netto_kale_huur"].tolist() == [612.34, 1051.2, 879.66, 45.0, 720.0, 650.0, 540.25, 2500.0]
    assert frame["wws_punten"].tolist()[:3] == [148.0, 131.5, 145.0]
    # 'X' = ja and an empty checkbox = nee, in every row (no missing flags)
    assert frame["daeb"].tolist() == [True, False, True, False, True, True, True, False]
    assert frame["monument"].tolist() == [False, False, False, False, True, False, False, False]
    assert frame["vve"].tolist() == [False, True, True, False, False, False, True, False]
    assert frame["sloop_renovatie_gepland"].tolist() == [False] * 6 + [True, False]
    assert values(frame["energielabel"]) == ["B", "A", "A++", None, "E", "D", "F", "C"]
    assert values(frame["zonnepanelen_aantal"]) == [10, 0, None, None, None, None, None, 24]
    assert values(frame["zonnepanelen_wp"]) == [350.0, None, None, None, None, None, None, 400.0]
    # 00.00.0000 = no date, 31.12.9999 = open end
    assert values(frame["in_exploitatie_datum"])[3:6] == ts("2024-06-15", None, "1980-01-01")
    assert values(frame["uit_exploitatie_datum"]) == [None] * 5 + [pd.Timestamp("2024-09-30"), None, None]
    assert values(frame["uit_exploitatie_reden"]) == [None] * 5 + ["verkoop", None, None]
    assert frame["herkomst"].tolist() == ["bestaand", "bestaand", "nieuwbouw", "nieuwbouw"] + ["bestaand"] * 3 + [
        "aankoop"
    ]
    # BUKRS is not in the contract; FLAECHE is the older header of FLAECHE_VVO
    assert result.drift.unknown == ["BUKRS"]
    assert result.drift.renamed == {"oppervlakte_m2": "FLAECHE"}


def test_empty_checkbox_means_nee_only_when_the_column_is_delivered(tmp_path: Path) -> None:
    source = EXTRA / "woonforte" / FILES["woonforte"]
    text = source.read_text(encoding="utf-8-sig").replace("ZZMONUMENT", "ZZMONUMENT_OUD")
    path = tmp_path / FILES["woonforte"]
    path.write_text(text, encoding="utf-8")
    result = read_bezitslijst(path, MAPPINGS / "woonforte.yaml")
    assert result.frame["monument"].isna().all()  # column absent: unknown, not 'nee'
    assert result.frame["daeb"].notna().all()
    assert result.drift.missing_optional == ["monument"]


def test_sap_open_end_date_without_the_sentinel_mapping_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "woonforte.yaml"
    mapping.write_text(
        (MAPPINGS / "woonforte.yaml").read_text(encoding="utf-8").replace(
            "  uit_exploitatie_datum: *sapdatum\n", ""
        ),
        encoding="utf-8",
    )
    with pytest.raises(SourceError) as info:
        read_bezitslijst(EXTRA / "woonforte" / FILES["woonforte"], mapping)
    assert (info.value.row, info.value.column, info.value.value) == (2, "VALIDTO", "31.12.9999")
    assert "bereik" in info.value.message


# --- Habeko Wonen: XLSX report with a title block on sheet 'Bezit' ---------------------------------


def test_habeko_xlsx_report(results: dict[str, ReadResult]) -> None:
    result = results["habeko_wonen"]
    frame = result.frame
    assert frame["_source_row"].tolist() == [5, 6, 7, 8, 9]  # Excel rows below the header on row 4
    assert frame["peildatum"].unique().tolist() == [pd.Timestamp("2024-12-31")]
    assert frame["vhe_id"].tolist() == ["50101", "50102", "50103", "50190", "50201"]
    assert values(frame["bag_vbo_id"]) == [
        "0484010000600001", "0484010000600002", "0484010000600003", None, "0484010000700001",
    ]  # fmt: skip
    assert result.metadata["bag_ids_aangevuld"] == 4
    assert frame["postcode"].tolist() == ["2771AB", "2771AB", "2771CD", "2771CD", "2391EF"]
    assert frame["huisnummer"].tolist() == [3, 5, 11, 11, 2]
    assert values(frame["huisletter"]) == [None, "A", None, None, None]
    assert values(frame["huisnummertoevoeging"]) == [None, "2", None, "G", None]
    assert frame["gemeente_code"].tolist() == ["GM0484"] * 5  # also 'Alphen a/d Rijn'
    assert values(frame["wijk_code"]) == ["WK048410", "WK048410", None, None, "WK048420"]
    assert frame["eenheidsoort"].tolist() == ["WOO", "WOO", "WOO", "PP", "WOO"]
    assert values(frame["woningtype"]) == ["EGW", "MGW", "EGW", None, "MGW"]
    assert frame["bouwjaar"].tolist() == [1957, 1957, 1932, 1932, 2023]
    assert frame["oppervlakte_m2"].tolist() == [84.5, 66.0, 101.0, 14.0, 52.0]
    assert frame["netto_kale_huur"].tolist() == [598.12, 1050.0, 701.0, 52.5, 880.0]  # '€ 1.050,00' as text
    assert frame["daeb"].tolist() == [True, False, True, False, True]
    assert frame["monument"].tolist() == [False, False, True, False, False]
    assert frame["vve"].tolist() == [False, True, False, False, True]
    assert frame["sloop_renovatie_gepland"].tolist() == [False, False, False, False, True]  # TRUE/FALSE cells
    assert values(frame["energielabel"]) == ["C", None, None, None, "A+++"]  # 'Geen label', 'Onbekend'
    assert values(frame["zonnepanelen_aantal"]) == [8, None, None, None, 6]
    assert values(frame["zonnepanelen_wp"]) == [375.0, None, None, None, 410.0]
    assert frame["in_exploitatie_datum"].tolist() == ts("1958-05-01", "1958-05-01", "1990-01-01", "1990-01-01", "2023-09-01")
    assert values(frame["uit_exploitatie_datum"]) == [None, None, pd.Timestamp("2024-06-30"), None, None]
    assert values(frame["uit_exploitatie_reden"]) == [None, None, "verkoop", None, None]
    assert frame["herkomst"].tolist() == ["bestaand", "bestaand", "bestaand", "aankoop", "nieuwbouw"]
    assert result.drift.is_empty


@pytest.mark.parametrize(("inserted", "message"), [(1, "rij 5 lijkt de kopregel"), (2, "gevonden: Peildatum: 31-12-2024")])
def test_habeko_header_moved_down(tmp_path: Path, inserted: int, message: str) -> None:
    """More title lines above the header: the load fails on row 4 and says what it found."""
    from openpyxl import load_workbook

    book = load_workbook(EXTRA / "habeko_wonen" / FILES["habeko_wonen"])
    book["Bezit"].insert_rows(1, amount=inserted)
    path = tmp_path / FILES["habeko_wonen"]
    book.save(path)
    with pytest.raises(SchemaError) as info:
        read_bezitslijst(path, MAPPINGS / "habeko_wonen.yaml")
    assert info.value.row == 4
    assert message in str(info.value)


def test_habeko_sheet_renamed(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(EXTRA / "habeko_wonen" / FILES["habeko_wonen"])
    book["Bezit"].title = "Blad1"
    path = tmp_path / FILES["habeko_wonen"]
    book.save(path)
    with pytest.raises(SourceError) as info:
        read_bezitslijst(path, MAPPINGS / "habeko_wonen.yaml")
    assert info.value.file == FILES["habeko_wonen"]
    assert "werkblad 'Bezit' ontbreekt" in str(info.value) and "Toelichting, Blad1" in str(info.value)


# --- Uwoon: tab-separated cp1252 ------------------------------------------------------------------


def test_uwoon_tab_cp1252(results: dict[str, ReadResult]) -> None:
    result = results["uwoon"]
    frame = result.frame
    assert frame["_source_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert frame["vhe_id"].tolist() == ["1000123", "1000124", "1000200", "1000300", "1000401", "1000500"]
    assert values(frame["bag_vbo_id"]) == [
        "0243010000012345", "0243010000012346", "0243010000020000", None, "0243010000030001", "0243010000030100",
    ]  # fmt: skip
    assert result.metadata["bag_ids_aangevuld"] == 1
    assert frame["postcode"].tolist() == ["3844AB", "3849CD", "3841BE", "3841BE", "3843EF", "3843EF"]
    assert values(frame["huisletter"]) == [None, "B", None, None, None, None]
    assert values(frame["huisnummertoevoeging"]) == [None, "1", None, "G1", None, "A"]
    assert frame["gemeente_code"].tolist() == ["GM0243"] * 6  # HARDERWIJK, HIERDEN, Harderwijk
    assert frame["buurt_code"].tolist()[:2] == ["BU02430101", "BU02430501"]
    assert frame["eenheidsoort"].tolist() == ["WOO", "WOO", "BOG", "PP", "WOO", "WOO"]
    assert values(frame["woningtype"]) == ["EGW", "MGW", None, None, "MGW", "MGW"]
    assert frame["oppervlakte_m2"].tolist() == [89.5, 70.0, 140.0, 15.0, 62.0, 50.0]
    assert frame["netto_kale_huur"].tolist() == [655.1, 1234.56, 1500.0, 60.0, 498.0, 879.66]
    assert frame["daeb"].tolist() == [True, False, False, False, True, True]
    assert frame["monument"].tolist() == [False, False, True, False, False, False]
    assert values(frame["energielabel"]) == ["B", "A+", "G", None, "F", "A++"]  # 'a+' upper-cased
    assert values(frame["zonnepanelen_aantal"]) == [12, None, None, None, None, 8]
    assert values(frame["zonnepanelen_wp"]) == [330.0, None, None, None, None, 400.0]
    assert frame["in_exploitatie_datum"].tolist()[:3] == ts("1978-01-01", "1978-01-01", "1995-06-01")  # jjjjmmdd
    assert values(frame["uit_exploitatie_datum"]) == [None] * 4 + [pd.Timestamp("2024-10-31"), None]
    assert values(frame["uit_exploitatie_reden"]) == [None] * 4 + ["sloop", None]
    assert frame["herkomst"].tolist() == ["bestaand", "bestaand", "aankoop", "aankoop", "bestaand", "nieuwbouw"]
    assert result.drift.unknown == ["Clusternaam"]
    assert "onbekende kolommen genegeerd: Clusternaam" in result.warnings


def test_uwoon_refuses_a_thousands_mark(tmp_path: Path) -> None:
    source = EXTRA / "uwoon" / FILES["uwoon"]
    path = tmp_path / FILES["uwoon"]
    path.write_bytes(source.read_bytes().replace(b"\t1234,56\t", b"\t1.234,56\t"))
    with pytest.raises(SourceError) as info:
        read_bezitslijst(path, MAPPINGS / "uwoon.yaml")
    assert (info.value.row, info.value.column, info.value.value) == (3, "Netto huur", "1.234,56")


# --- Omnia Wonen: '|', ISO timestamps, combined address, kWp ---------------------------------------


def test_omnia_combined_address_and_kwp(results: dict[str, ReadResult]) -> None:
    result = results["omnia_wonen"]
    frame = result.frame
    assert frame["_source_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert values(frame["bag_vbo_id"])[3:5] == ["0243010000400004", None]  # 'NULL'
    # 'Stationsplein 12 A', '1e Molenweg 4-2', 'Oosterdorpsstraat 7 bis', 'Van Maerlantstraat 3a',
    # 'Stationsplein 12 P3', 'Kantoorlaan 101 C 3'
    assert frame["huisnummer"].tolist() == [12, 4, 7, 3, 12, 101]
    assert values(frame["huisletter"]) == ["A", None, None, "A", "P", "C"]
    assert values(frame["huisnummertoevoeging"]) == [None, "2", "BIS", None, "3", "3"]
    assert frame["postcode"].tolist() == ["3861AB", "3861AC", "3871AD", "3842BC", "3861AB", "3862KL"]
    assert frame["gemeente_code"].tolist() == ["GM0267", "GM0267", "GM0267", "GM0243", "GM0267", "GM0267"]
    assert values(frame["wijk_code"])[3:5] == ["WK024302", None]
    assert frame["eenheidsoort"].tolist() == ["WOO", "WOO", "WOO", "WOO", "PP", "WOO"]
    assert values(frame["woningtype"]) == ["MGW", "MGW", "EGW", "EGW", None, "MGW"]
    assert values(frame["kamers"]) == [3, 2, 5, 4, None, 2]
    assert frame["oppervlakte_m2"].tolist() == [75.5, 58.0, 112.0, 95.0, 12.0, 45.25]
    assert frame["netto_kale_huur"].tolist() == [702.45, 610.0, 799.99, 660.0, 35.0, 880.5]
    assert frame["daeb"].tolist() == [True, True, True, True, False, True]
    assert frame["monument"].tolist() == [False, False, True, False, False, False]
    assert values(frame["energielabel"]) == ["A", "B", "D", "C", None, "A++++"]
    assert values(frame["zonnepanelen_kwp"]) == [2.4, None, 3.675, None, None, 1.2]
    assert frame["zonnepanelen_aantal"].isna().all() and frame["zonnepanelen_wp"].isna().all()
    assert frame["in_exploitatie_datum"].tolist() == ts(
        "1999-07-01", "1999-07-01", "1985-01-01", "1972-05-01", "1999-07-01", "2024-10-01"
    )
    assert values(frame["uit_exploitatie_datum"]) == [None, None, None, pd.Timestamp("2024-08-15"), None, None]
    assert values(frame["uit_exploitatie_reden"]) == [None, None, None, "verkoop", None, None]
    assert frame["herkomst"].tolist() == ["bestaand", "bestaand", "aankoop", "bestaand", "bestaand", "transformatie"]
    assert result.drift.is_empty and result.warnings == []


def test_omnia_address_without_a_house_number(tmp_path: Path) -> None:
    source = EXTRA / "omnia_wonen" / FILES["omnia_wonen"]
    path = tmp_path / FILES["omnia_wonen"]
    path.write_text(source.read_text(encoding="utf-8").replace("1e Molenweg 4-2", "Molenweg"), encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_bezitslijst(path, MAPPINGS / "omnia_wonen.yaml")
    err = info.value
    assert (err.row, err.column, err.value) == (3, "Straat huisnummer toevoeging", "Molenweg")
    assert "adres niet te splitsen" in err.message and "contractkolom adres_volledig" in err.message


# --- mapping-file features -------------------------------------------------------------------------

BASE = """corporatie: Proef
slug: proef
bestand: {formaat: csv}
kolommen:
  vhe_id: VHE
  gemeente_code: Gemeente
"""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BASE.replace("{formaat: csv}", "{formaat: csv, werkblad: Bezit}"), "werkblad hoort bij formaat xlsx"),
        (BASE.replace("{formaat: csv}", "{formaat: xlsx, kopregel: 0}"), "bestand.kopregel"),
        (BASE.replace("{formaat: csv}", "{formaat: xlsx, werkblad: ''}"), "bestand.werkblad"),
        (BASE + "  adres_volledig: Adres\n  huisnummer: Nr\n", "'adres_volledig' en 'huisnummer'"),
        (BASE + "  adres_volledig: Adres\n  huisnummer_volledig: Huisnr\n", "huisnummer_volledig"),
    ],
)
def test_mapping_refuses_bad_layout_keys(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "proef.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_bezit_mapping(path)
    assert fragment in str(info.value)


def test_csv_with_title_lines_above_the_header(tmp_path: Path) -> None:
    mapping = tmp_path / "proef.yaml"
    mapping.write_text(BASE.replace("{formaat: csv}", "{formaat: csv, kopregel: 3}"), encoding="utf-8")
    path = tmp_path / "bezitslijst_proef_2025-01-01.csv"
    path.write_text("Bezitslijst Proef\nPeildatum 01-01-2025\nVHE;Gemeente\nV1;GM0392\n\nV2;392\n", encoding="utf-8")
    result = read_bezitslijst(path, load_bezit_mapping(mapping))
    assert result.frame["vhe_id"].tolist() == ["V1", "V2"]
    assert result.frame["_source_row"].tolist() == [4, 6]
    header_only = tmp_path / "bezitslijst_proef_2025-02-01.csv"
    header_only.write_text("Titel\n\nVHE;Gemeente\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_bezitslijst(header_only, load_bezit_mapping(mapping))
    assert info.value.row == 4 and "geen rijen" in info.value.message


def test_shipped_bezit_mappings_describe_their_files() -> None:
    layouts = {
        slug: load_bezit_mapping(MAPPINGS / f"{slug}.yaml").bestand
        for slug in ("woonforte", "habeko_wonen", "uwoon", "omnia_wonen")
    }
    assert (layouts["woonforte"].formaat, layouts["woonforte"].scheidingsteken) == ("csv", ";")
    assert (layouts["habeko_wonen"].werkblad, layouts["habeko_wonen"].kopregel) == ("Bezit", 4)
    assert (layouts["uwoon"].scheidingsteken, layouts["uwoon"].duizendtal) == ("\t", None)
    assert (layouts["omnia_wonen"].scheidingsteken, layouts["omnia_wonen"].decimaal) == ("|", ".")
    woonforte = load_bezit_mapping(MAPPINGS / "woonforte.yaml")
    assert woonforte.waarden["daeb"] == {"X": "ja", "": "nee"}
    assert woonforte.waarden["eenheidsoort"]["01"] == "WOO"  # '01' stays text
    assert woonforte.waarden["uit_exploitatie_datum"] == {"00.00.0000": None, "31.12.9999": None}


# --- Woonzicht / Huren Noord-Veluwe: XLSX with named sheets and a title row -------------------------

WZT_TW_HEADER = [
    "Verhuurnummer", "Ingangsdatum contract", "Gemeente woning", "Kern", "CBS-buurt", "Corporatie",
    "Objectnummer", "BAG-nummer", "Postcode", "Adres", "Kale huur", "Woningsoort", "Aantal kamers",
    "Wijze van toewijzen", "Voorrang", "Soort urgentie", "Reacties", "Inschrijfdatum", "Zoekduur (mnd)",
    "Inkomen huishouden", "Aantal personen", "Leeftijd", "Vorige woongemeente", "Passend",
    "Type woningzoekende", "Inschrijfnummer",
]  # fmt: skip
D = dt.datetime
WZT_TW_ROWS: list[list[object]] = [
    [24001, D(2024, 2, 1), "Harderwijk", "Harderwijk", "BU02430101", "Uwoon", "1000123", 243010000012345,
     "3844AB", "Drielandenweg 14", 655.1, "Tussenwoning", 4, "Inschrijfduur", "Geen", None, 54,
     D(2012, 5, 3), 40, 31250, 3, 38, "Harderwijk", "Passend", "Doorstromer", "NV-0001"],
    [24002, D(2024, 3, 15), "Nijkerk", "Hoevelaken", None, "Omnia Wonen", "OW-0003", "0267010000200003",
     "3871 AD", "Oosterdorpsstraat 7 bis", "€ 712,50", "Appartement", 2, "Loting", "Lokale binding", None, 212,
     D(2023, 1, 9), 6.5, 24100.5, 1, 22, "Nijkerk", "Passend", "Starter", "NV-0002"],
    [24003, D(2024, 4, 2), "Ermelo", "Ermelo", None, "Uwoon", None, None,
     "3851AA", "Stationsstraat 3 A", 598.0, "Benedenwoning", 3, "Bemiddeling", "Urgentie", "Statushouder", None,
     D(2024, 1, 15), 2, 19000, 4, 31, "Putten", "N.v.t.", "Starter", "NV-0003"],
    [24004, D(2024, 5, 20), "Harderwijk", "Hierden", None, "Uwoon", "1000500", "0243010000030100",
     "3843EF", "Hierderweg 105-A", 879.66, "Appartement", 2, "Direct te huur", None, None, 3,
     D(2019, 11, 30), 12, 45000, 2, 67, "Harderwijk", "Niet passend", "Doorstromer", "NV-0004"],
]  # fmt: skip
WZT_WZ_HEADER = [
    "Inschrijfnummer", "Periode vanaf", "Periode tot en met", "Woongemeente", "Woonplaats", "Inkomensgroep",
    "Personen", "Leeftijdsgroep", "Inschrijfdatum", "Aantal reacties", "Reacties eigen gemeente", "Gehuisvest",
    "Gehuisvest via", "Gemeente nieuwe woning",
]  # fmt: skip
WZT_WZ_ROWS: list[list[object]] = [
    ["NV-0001", D(2024, 1, 1), D(2024, 12, 31), "Harderwijk", "Harderwijk", "Tot DAEB-grens", 3, "35 - 54 jaar",
     D(2012, 5, 3), 18, 18, "Ja", "Inschrijfduur", "Harderwijk"],
    ["NV-0002", D(2024, 1, 1), D(2024, 12, 31), "Nijkerk", "Hoevelaken", "Tot huurtoeslaggrens", 1,
     "18 - 22 jaar", D(2023, 1, 9), 40, 25, "Ja", "Loting", "Nijkerk"],
    ["NV-0005", D(2024, 1, 1), D(2024, 12, 31), "Elburg", "Doornspijk", "Middeninkomen", 2, "75 jaar en ouder",
     D(2020, 6, 1), 0, 0, "Nee", None, None],
]  # fmt: skip


def write_woonzicht(path: Path, sheet: str, header: list[str], rows: list[list[object]], title: str) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = sheet
    book.active.append([title])
    book.active.append([])
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_woonzicht_mapping_loads() -> None:
    mapping = load_export_mapping(WOONZICHT)
    assert mapping.bestand_for("toewijzingen").werkblad == "Verhuringen"
    assert mapping.bestand_for("woningzoekenden").werkblad == "Woningzoekenden"
    assert mapping.bestand_for("toewijzingen").kopregel == 3
    assert mapping.toewijzingen is not None and mapping.toewijzingen.waarden["woongemeente_code"]["Putten"] == "GM0273"


def test_woonzicht_toewijzingen(tmp_path: Path) -> None:
    path = write_woonzicht(
        tmp_path / "toewijzingen_woonzicht_2024.xlsx", "Verhuringen", WZT_TW_HEADER, WZT_TW_ROWS,
        "Verhuringen Huren Noord-Veluwe 01-01-2024 t/m 31-12-2024",
    )
    result = read_toewijzingen(path, mapping=WOONZICHT)
    frame = result.frame
    assert dtypes(frame) == TOEWIJZINGEN_DTYPES
    assert frame["_source_row"].tolist() == [4, 5, 6, 7]
    assert frame["toewijzing_id"].tolist() == ["24001", "24002", "24003", "24004"]
    assert frame["toewijzingsdatum"].tolist() == ts("2024-02-01", "2024-03-15", "2024-04-02", "2024-05-20")
    assert frame["gemeente_code"].tolist() == ["GM0243", "GM0267", "GM0233", "GM0243"]
    assert frame["kern"].tolist() == ["Harderwijk", "Hoevelaken", "Ermelo", "Hierden"]
    assert values(frame["buurt_code"]) == ["BU02430101", None, None, None]
    assert values(frame["bag_vbo_id"]) == ["0243010000012345", "0267010000200003", None, "0243010000030100"]
    assert result.metadata["bag_ids_aangevuld"] == 1
    assert frame["postcode"].tolist() == ["3844AB", "3871AD", "3851AA", "3843EF"]
    assert frame["huisnummer"].tolist() == [14, 7, 3, 105]
    assert values(frame["huisletter"]) == [None, None, "A", "A"]  # '105-A': a letter after a dash
    assert values(frame["huisnummertoevoeging"]) == [None, "BIS", None, None]
    assert frame["netto_kale_huur"].tolist() == [655.1, 712.5, 598.0, 879.66]
    assert frame["woningtype"].tolist() == ["EGW", "MGW", "MGW", "MGW"]
    assert frame["publicatiemodel"].tolist() == ["AAN", "LOT", "DIR", "EER"]
    assert values(frame["voorrang"]) == [None, "BIN", "URG", None]
    assert values(frame["voorrang_detail"]) == [None, None, "STA", None]
    assert values(frame["aantal_reacties"]) == [54, 212, None, 3]
    assert frame["inschrijfdatum"].tolist() == ts("2012-05-03", "2023-01-09", "2024-01-15", "2019-11-30")
    assert frame["zoekduur_maanden"].tolist() == [40.0, 6.5, 2.0, 12.0]
    assert frame["huishoudinkomen"].tolist() == [31250.0, 24100.5, 19000.0, 45000.0]
    assert frame["huishoudgrootte"].tolist() == [3, 1, 4, 2]
    assert frame["woongemeente_code"].tolist() == ["GM0243", "GM0267", "GM0273", "GM0243"]
    assert frame["passendheid"].tolist() == ["PAS", "PAS", "NVT", "NIE"]
    assert frame["doorstromer"].tolist() == [True, False, False, True]
    assert frame["woningzoekende_id"].tolist() == ["NV-0001", "NV-0002", "NV-0003", "NV-0004"]
    assert result.drift.is_empty


def test_woonzicht_woningzoekenden(tmp_path: Path) -> None:
    path = write_woonzicht(
        tmp_path / "woningzoekenden_woonzicht_2024.xlsx", "Woningzoekenden", WZT_WZ_HEADER, WZT_WZ_ROWS,
        "Woningzoekenden Huren Noord-Veluwe 2024",
    )
    result = read_woningzoekenden(path, mapping=WOONZICHT)
    frame = result.frame
    assert dtypes(frame) == WONINGZOEKENDEN_DTYPES
    assert frame["_source_row"].tolist() == [4, 5, 6]
    assert frame["woongemeente_code"].tolist() == ["GM0243", "GM0267", "GM0230"]
    assert frame["woonkern"].tolist() == ["Harderwijk", "Hoevelaken", "Doornspijk"]
    assert frame["inkomensklasse"].tolist() == ["secundair", "primair", "midden"]
    assert frame["huishoudinkomen"].isna().all()  # not in this export
    assert frame["leeftijdsklasse"].tolist() == ["35-54", "18-22", "75+"]
    assert frame["aantal_reacties"].tolist() == [18, 40, 0]
    assert frame["aantal_reacties_woongemeente"].tolist() == [18, 25, 0]
    assert frame["gehuisvest"].tolist() == [True, True, False]
    assert values(frame["gehuisvest_via"]) == ["aanbod", "loting", None]
    assert values(frame["gehuisvest_gemeente_code"]) == ["GM0243", "GM0267", None]
    assert result.metadata["periodes"] == ["2024-01-01..2024-12-31"]


def test_woonzicht_file_on_the_wrong_sheet(tmp_path: Path) -> None:
    path = write_woonzicht(tmp_path / "toewijzingen.xlsx", "Blad1", WZT_TW_HEADER, WZT_TW_ROWS, "Titel")
    with pytest.raises(SourceError) as info:
        read_toewijzingen(path, mapping=WOONZICHT)
    assert info.value.file == "toewijzingen.xlsx" and "werkblad 'Verhuringen' ontbreekt" in str(info.value)


def test_woonzicht_unknown_word(tmp_path: Path) -> None:
    rows = [list(r) for r in WZT_TW_ROWS]
    rows[2][13] = "Spoedzoeker"
    path = write_woonzicht(tmp_path / "toewijzingen.xlsx", "Verhuringen", WZT_TW_HEADER, rows, "Titel")
    with pytest.raises(SourceError) as info:
        read_toewijzingen(path, mapping=WOONZICHT)
    assert (info.value.row, info.value.column, info.value.value) == (6, "Wijze van toewijzen", "Spoedzoeker")


# --- XLSX versions of the import-template examples --------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "reader"), [("toewijzingen", read_toewijzingen), ("woningzoekenden", read_woningzoekenden)]
)
def test_template_xlsx_reads_as_the_csv(dataset: str, reader: Callable[..., ReadResult]) -> None:
    from_csv = reader(TEMPLATES / f"{dataset}_voorbeeld.csv", display_name="voorbeeld")
    from_xlsx = reader(TEMPLATES / f"{dataset}_voorbeeld.xlsx", display_name="voorbeeld")
    pd.testing.assert_frame_equal(from_xlsx.frame, from_csv.frame)
    assert from_xlsx.warnings == from_csv.warnings
    assert from_xlsx.drift.as_dict() == from_csv.drift.as_dict()
    assert from_xlsx.metadata["formaat"] == "xlsx" and from_xlsx.metadata["bag_ids_aangevuld"] == 0


# --- the generators reproduce the committed files ----------------------------------------------------


def _load(path: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stock_list_fixtures_are_reproducible(tmp_path: Path) -> None:
    make = _load(EXTRA / "make_fixtures.py")
    for write in ("write_woonforte", "write_habeko", "write_uwoon", "write_omnia"):
        made = getattr(make, write)(tmp_path)
        committed = EXTRA / made.relative_to(tmp_path)
        assert made.read_bytes() == committed.read_bytes(), f"{committed.name}: draai make_fixtures.py"


def test_template_xlsx_examples_are_reproducible(tmp_path: Path) -> None:
    make = _load(TEMPLATES / "make_xlsx.py")
    for dataset in ("toewijzingen", "woningzoekenden"):
        made = make.write_example(f"{dataset}_voorbeeld.csv", f"{dataset}_voorbeeld.xlsx", dataset, tmp_path)
        assert made.read_bytes() == (TEMPLATES / made.name).read_bytes(), f"{made.name}: draai docs/templates/make_xlsx.py"
