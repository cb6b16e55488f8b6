"""Every reader against a corpus of broken files (tests/fixtures/broken, made by make_corpus.py).

One table: the file, the reader call, and what must happen. Either the load fails with a
`sources.errors.SourceError` (or subclass) that names the file and, where a cell or line is to blame,
the row and the column; or the file loads and a warning says what was odd. Anything else (a raw
KeyError, ValueError, UnicodeError, csv.Error, ParseError, ...) fails the test. The test ids carry
the case number and the total count: `case 012/108 ep_online/utf16.csv`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sources.bezit import read_bezitslijst
from sources.ep_online import read_bulk
from sources.errors import ReadResult, SchemaError, SourceError
from sources.leefbaarometer import read_scores
from sources.woonservice import read_toewijzingen, read_woningzoekenden

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "fixtures" / "broken"
WOONSERVICE = ROOT / "mappings" / "woonservice"
BEZIT = ROOT / "mappings" / "bezit"


@dataclass(frozen=True)
class Fails:
    """The load must raise `kind` naming the file, with this row, column and message fragment."""

    row: int | None
    column: str | None
    text: str
    kind: type[SourceError] = SourceError
    value: object = None  # checked when not None


@dataclass(frozen=True)
class Loads:
    """The file must load with `rows` rows and a warning containing `warning`."""

    rows: int
    warning: str


Reader = Callable[[Path], ReadResult]


def _bezit(path: Path) -> ReadResult:
    # files sit in broken/bezit/<slug>/: the mapping follows from the folder, the peildatum is given
    return read_bezitslijst(path, BEZIT / f"{path.parent.name}.yaml", peildatum="2025-01-01")


READERS: dict[str, Reader] = {
    "read_bulk": lambda p: read_bulk(p),
    "read_scores": lambda p: read_scores(p),
    "read_toewijzingen": lambda p: read_toewijzingen(p),
    "read_toewijzingen(woningnet)": lambda p: read_toewijzingen(p, mapping=WOONSERVICE / "woningnet.yaml"),
    "read_toewijzingen(woonzicht)": lambda p: read_toewijzingen(p, mapping=WOONSERVICE / "woonzicht.yaml"),
    "read_woningzoekenden": lambda p: read_woningzoekenden(p),
    "read_woningzoekenden(woningnet)": lambda p: read_woningzoekenden(p, mapping=WOONSERVICE / "woningnet.yaml"),
    "read_bezitslijst": _bezit,
}

ENC = "binair of UTF-16"
GARBLED = "gemengde tekstcodering"
NO_ROWS = "geen rijen onder de kopregel"

# (file under tests/fixtures/broken, reader, expected outcome)
CASES: list[tuple[str, str, Fails | Loads]] = [
    # --- EP-online total file ---------------------------------------------------------------------
    ("ep_online/truncated_v4_csv.zip", "read_bulk", Fails(None, None, "afgebroken of beschadigd")),
    ("ep_online/not_a_zip_v4_csv.zip", "read_bulk", Fails(None, None, "geen leesbaar zip-bestand")),
    ("ep_online/zip_two_csv_v4_csv.zip", "read_bulk", Fails(None, None, "precies één CSV-bestand")),
    ("ep_online/utf16.csv", "read_bulk", Fails(None, None, ENC)),
    ("ep_online/random_bytes.csv", "read_bulk", Fails(None, None, ENC)),
    ("ep_online/cp1252_row.csv", "read_bulk", Fails(5, None, "tekstcodering is geen UTF-8")),
    ("ep_online/missing_required.csv", "read_bulk", Fails(3, "Energieklasse", "verplichte kolom ontbreekt", SchemaError)),
    ("ep_online/extra_columns.csv", "read_bulk", Loads(3, "onbekende kolommen genegeerd: Opmerking, InterneCode")),
    ("ep_online/duplicated_header.csv", "read_bulk", Fails(3, "Postcode", "twee keer", SchemaError)),
    ("ep_online/empty.csv", "read_bulk", Fails(1, None, "leeg", SchemaError)),
    ("ep_online/preamble_only.csv", "read_bulk", Fails(3, None, "geen kopregel na de preambule", SchemaError)),
    ("ep_online/header_only.csv", "read_bulk", Loads(0, "geen certificaten onder de kopregel")),
    ("ep_online/bad_date.csv", "read_bulk", Fails(5, "Registratiedatum", "geen geldige datum", value="20231350")),
    ("ep_online/bad_preamble_date.csv", "read_bulk", Fails(1, "PublicatieDatum", "publicatiedatum", value="31-13-2025")),
    ("ep_online/bad_number.csv", "read_bulk", Fails(5, "PrimaireFossieleEnergie", "geen geldig getal", value="152,3,1")),
    ("ep_online/unknown_label.csv", "read_bulk", Fails(6, "Energieklasse", "onbekende code", value="H")),
    ("ep_online/bag_zonder_voorloopnul.csv", "read_bulk", Loads(3, "zonder voorloopnullen aangevuld tot 16 cijfers")),
    ("ep_online/wrong_separator.csv", "read_bulk", Fails(3, None, "',' als scheidingsteken", SchemaError)),
    ("ep_online/ragged.csv", "read_bulk", Fails(5, None, "18 velden, de kopregel 17")),
    # --- Leefbaarometer 3.0 -----------------------------------------------------------------------
    ("leefbaarometer/utf16.csv", "read_scores", Fails(None, None, ENC)),
    ("leefbaarometer/random_bytes.csv", "read_scores", Fails(None, None, ENC)),
    ("leefbaarometer/mixed_encoding.csv", "read_scores", Fails(5, None, GARBLED, value="byte 0x96")),
    ("leefbaarometer/missing_required.csv", "read_scores", Fails(1, None, "ontbreken: afw", SchemaError)),
    ("leefbaarometer/no_key.csv", "read_scores", Fails(1, None, "geen sleutelkolom", SchemaError)),
    ("leefbaarometer/extra_columns.csv", "read_scores", Loads(3, "onbekende kolommen genegeerd: opmerking")),
    ("leefbaarometer/duplicated_header.csv", "read_scores", Fails(1, "lbm", "twee keer", SchemaError)),
    ("leefbaarometer/empty.csv", "read_scores", Fails(1, None, "leeg", SchemaError)),
    ("leefbaarometer/header_only.csv", "read_scores", Fails(2, None, NO_ROWS)),
    ("leefbaarometer/bad_year.csv", "read_scores", Fails(3, "jaar", "geen geldig getal", value="2O24")),
    ("leefbaarometer/year_2_0_series.csv", "read_scores", Fails(2, "jaar", "2.0-reeks", value="2010")),
    ("leefbaarometer/bad_number.csv", "read_scores", Fails(4, "lbm", "geen geldig getal", value="4.10.00")),
    ("leefbaarometer/unknown_class.csv", "read_scores", Fails(3, "kscore", "geen geldige klasse", value="10")),
    ("leefbaarometer/bad_code.csv", "read_scores", Fails(4, "bu_code", "geen geldige buurtcode", value="BU039201")),
    ("leefbaarometer/duplicate_area_year.csv", "read_scores", Fails(5, "bu_code", "twee keer voor in 2024")),
    ("leefbaarometer/dimension_sum_off.csv", "read_scores", Loads(3, "wijkt meer dan 0.01 af van afw in 1 rij(en)")),
    ("leefbaarometer/wrong_separator.csv", "read_scores", Fails(2, None, "17 velden, de kopregel 10")),
    ("leefbaarometer/ragged.csv", "read_scores", Fails(3, None, "11 velden, de kopregel 10")),
    # --- Woonservice: toewijzingen ----------------------------------------------------------------
    ("toewijzingen/utf16.csv", "read_toewijzingen", Fails(None, None, ENC)),
    ("toewijzingen/random_bytes.csv", "read_toewijzingen", Fails(None, None, ENC)),
    ("toewijzingen/mixed_encoding.csv", "read_toewijzingen", Fails(4, None, "regel 3 is UTF-8", value="byte 0xE9")),
    ("toewijzingen/dos_cp850.csv", "read_toewijzingen", Fails(3, None, "tekstcodering niet herkend", value="byte 0x81")),
    ("toewijzingen/missing_required.csv", "read_toewijzingen", Fails(1, None, "ontbreken: publicatiemodel", SchemaError)),
    (
        "toewijzingen/extra_columns.csv", "read_toewijzingen",
        Loads(3, "onbekende kolommen genegeerd: intern_nummer, opmerking_corporatie"),
    ),
    ("toewijzingen/duplicated_header.csv", "read_toewijzingen", Fails(1, "corporatie", "twee keer", SchemaError)),
    ("toewijzingen/empty.csv", "read_toewijzingen", Fails(1, None, "leeg", SchemaError)),
    ("toewijzingen/header_only.csv", "read_toewijzingen", Fails(2, None, NO_ROWS)),
    (
        "toewijzingen/bad_date.csv", "read_toewijzingen",
        Fails(3, "toewijzingsdatum", "geen geldige datum", value="31-02-2024"),
    ),
    (
        "toewijzingen/excel_serial_date.csv", "read_toewijzingen",
        Fails(4, "inschrijfdatum", "geen geldige datum", value="45292"),
    ),
    ("toewijzingen/bad_number.csv", "read_toewijzingen", Fails(2, "netto_kale_huur", "geen geldig getal", value="612.34")),
    (
        "toewijzingen/negative_rent.csv", "read_toewijzingen",
        Fails(3, "netto_kale_huur", "negatieve waarde", value="-598,50"),
    ),
    ("toewijzingen/huge_count.csv", "read_toewijzingen", Fails(3, "aantal_reacties", "getal is te groot")),
    ("toewijzingen/unknown_code.csv", "read_toewijzingen", Fails(4, "publicatiemodel", "onbekende code", value="SPOED")),
    ("toewijzingen/bag_zonder_voorloopnul.csv", "read_toewijzingen", Loads(3, "1 BAG-id('s) misten voorloopnullen")),
    (
        "toewijzingen/bag_scientific.csv", "read_toewijzingen",
        Fails(3, "bag_vbo_id", "geen geldig BAG-id", value="3,9701E+14"),
    ),
    (
        "toewijzingen/wrong_separator.csv", "read_toewijzingen(woningnet)",
        Fails(1, None, "scheidingsteken ';' niet gevonden", SchemaError),
    ),
    ("toewijzingen/ragged.csv", "read_toewijzingen", Fails(3, None, "30 velden, de kopregel 29")),
    ("toewijzingen/unclosed_quote_header.csv", "read_toewijzingen", Fails(1, None, "kopregel is geen geldige CSV", SchemaError)),
    ("toewijzingen/truncated.xlsx", "read_toewijzingen", Fails(None, None, "geen leesbaar XLSX-bestand")),
    ("toewijzingen/damaged_sheet.xlsx", "read_toewijzingen", Fails(None, None, "werkblad niet leesbaar")),
    ("toewijzingen/portal_foutpagina.xlsx", "read_toewijzingen", Fails(None, None, "geen leesbaar XLSX-bestand")),
    ("toewijzingen/xlsx_named_csv.csv", "read_toewijzingen", Fails(None, None, ENC)),
    (
        "toewijzingen/time_instead_of_date.xlsx", "read_toewijzingen",
        Fails(3, "toewijzingsdatum", "geen geldige datum", value="08:30:00"),
    ),
    (
        "toewijzingen/woonzicht_wrong_sheet.xlsx", "read_toewijzingen(woonzicht)",
        Fails(None, None, "werkblad 'Verhuringen' ontbreekt"),
    ),
    ("toewijzingen/woonzicht_header_only.xlsx", "read_toewijzingen(woonzicht)", Fails(4, None, NO_ROWS)),
    # --- Woonservice: woningzoekenden -------------------------------------------------------------
    ("woningzoekenden/utf16.csv", "read_woningzoekenden", Fails(None, None, ENC)),
    ("woningzoekenden/random_bytes.csv", "read_woningzoekenden", Fails(None, None, ENC)),
    ("woningzoekenden/missing_required.csv", "read_woningzoekenden", Fails(1, None, "ontbreken: gehuisvest", SchemaError)),
    ("woningzoekenden/extra_columns.csv", "read_woningzoekenden", Loads(3, "onbekende kolommen genegeerd: postcode")),
    ("woningzoekenden/duplicated_header.csv", "read_woningzoekenden", Fails(1, "Woonkern", "twee keer", SchemaError)),
    ("woningzoekenden/empty.csv", "read_woningzoekenden", Fails(1, None, "leeg", SchemaError)),
    ("woningzoekenden/header_only.csv", "read_woningzoekenden", Fails(2, None, NO_ROWS)),
    (
        "woningzoekenden/bad_date.csv", "read_woningzoekenden",
        Fails(3, "periode_begin", "geen geldige datum", value="2024-02-30"),
    ),
    ("woningzoekenden/bad_number.csv", "read_woningzoekenden", Fails(4, "aantal_reacties", "geen geldig getal", value="veel")),
    ("woningzoekenden/negative_count.csv", "read_woningzoekenden", Fails(2, "aantal_reacties", "negatieve waarde", value="-3")),
    ("woningzoekenden/unknown_code.csv", "read_woningzoekenden", Fails(4, "inkomensklasse", "onbekende code", value="modaal")),
    ("woningzoekenden/bad_bool.csv", "read_woningzoekenden", Fails(3, "gehuisvest", "geen ja/nee-waarde", value="misschien")),
    (
        "woningzoekenden/wrong_separator.csv", "read_woningzoekenden(woningnet)",
        Fails(1, None, "de kopregel gebruikt ','", SchemaError),
    ),
    ("woningzoekenden/ragged.csv", "read_woningzoekenden", Fails(4, None, "een scheidingsteken te veel in de rij")),
    (
        "woningzoekenden/period_end_before_begin.csv", "read_woningzoekenden",
        Fails(3, "periode_einde", "vóór periode_begin", value="31-12-2023"),
    ),
    # --- stock lists ------------------------------------------------------------------------------
    ("bezit/uwoon/utf16.csv", "read_bezitslijst", Fails(None, None, ENC)),
    ("bezit/uwoon/random_bytes.csv", "read_bezitslijst", Fails(None, None, ENC)),
    ("bezit/uwoon/dos_cp850.csv", "read_bezitslijst", Fails(6, None, "tekstcodering niet herkend", value="byte 0x81")),
    ("bezit/uwoon/mixed_encoding.csv", "read_bezitslijst", Fails(1, None, "regel 4 is UTF-8", value="byte 0xB2")),
    ("bezit/uwoon/missing_required.csv", "read_bezitslijst", Fails(1, None, "ontbreken: vhe_id", SchemaError)),
    (
        "bezit/uwoon/extra_columns.csv", "read_bezitslijst",
        Loads(6, "onbekende kolommen genegeerd: Clusternaam, Huurprijsbeleid, Peildatum export"),
    ),
    ("bezit/uwoon/duplicated_header.csv", "read_bezitslijst", Fails(1, "Punten", "twee keer", SchemaError)),
    ("bezit/uwoon/empty.csv", "read_bezitslijst", Fails(1, None, "leeg", SchemaError)),
    ("bezit/uwoon/header_only.csv", "read_bezitslijst", Fails(2, None, NO_ROWS)),
    ("bezit/uwoon/bag_zonder_voorloopnul.csv", "read_bezitslijst", Loads(6, "2 BAG-id('s) misten voorloopnullen")),
    ("bezit/uwoon/bag_scientific.csv", "read_bezitslijst", Fails(3, "BAG-VBO", "geen geldig BAG-id", value="2,4301E+14")),
    ("bezit/uwoon/huge_integer.csv", "read_bezitslijst", Fails(2, "Aantal PV", "getal is te groot")),
    ("bezit/uwoon/unknown_gemeente.csv", "read_bezitslijst", Fails(3, "Gemeente", "geen geldige gemeentecode", value="ERMELO")),
    ("bezit/uwoon/duplicate_vhe.csv", "read_bezitslijst", Fails(6, "Eenheidnr", "rij 3 en rij 6")),
    ("bezit/uwoon/wrong_separator.csv", "read_bezitslijst", Fails(1, None, "de kopregel gebruikt ';'", SchemaError)),
    ("bezit/uwoon/ragged.csv", "read_bezitslijst", Fails(5, None, "30 velden, de kopregel 29")),
    ("bezit/woonforte/bad_date.csv", "read_bezitslijst", Fails(4, "VALIDFROM", "geen geldige datum", value="31.06.2024")),
    ("bezit/woonforte/sap_trailing_minus.csv", "read_bezitslijst", Fails(8, "NETTOKALT", "geen geldig getal", value="540,25-")),
    ("bezit/woonforte/negative_rent.csv", "read_bezitslijst", Fails(8, "NETTOKALT", "negatieve waarde", value="-540,25")),
    ("bezit/woonforte/unknown_label.csv", "read_bezitslijst", Fails(6, "ZZLABEL", "onbekende code", value="H")),
    ("bezit/woonforte/unknown_usage_key.csv", "read_bezitslijst", Fails(9, "SNUNR", "onbekende code", value="07")),
    ("bezit/woonforte/sold_before_start.csv", "read_bezitslijst", Fails(7, "VALIDTO", "vóór de in-exploitatiedatum")),
    (
        "bezit/omnia_wonen/null_in_unmapped_column.csv", "read_bezitslijst",
        Fails(4, "Monument", "geen ja/nee-waarde", value="NULL"),
    ),
    (
        "bezit/omnia_wonen/address_without_number.csv", "read_bezitslijst",
        Fails(7, "Straat huisnummer toevoeging", "adres niet te splitsen", value="Kantoorlaan"),
    ),
    ("bezit/habeko_wonen/truncated.xlsx", "read_bezitslijst", Fails(None, None, "geen leesbaar XLSX-bestand")),
    ("bezit/habeko_wonen/damaged_sheet.xlsx", "read_bezitslijst", Fails(None, None, "werkblad niet leesbaar")),
    ("bezit/habeko_wonen/missing_sheet.xlsx", "read_bezitslijst", Fails(None, None, "werkblad 'Bezit' ontbreekt")),
    ("bezit/habeko_wonen/extra_title_line.xlsx", "read_bezitslijst", Fails(4, None, "rij 5 lijkt de kopregel", SchemaError)),
    ("bezit/habeko_wonen/excel_error_value.xlsx", "read_bezitslijst", Fails(7, "Netto huur", "geen geldig getal", value="#N/B")),
]  # fmt: skip

IDS = [f"case {n:03d}/{len(CASES)} {file}" for n, (file, _, _) in enumerate(CASES, start=1)]


def _display_name(file: str) -> str:
    """The name a reader gives the file: relative to the landing folder for stock lists."""
    return file if file.startswith("bezit/") else Path(file).name


@pytest.mark.parametrize(("file", "reader", "outcome"), CASES, ids=IDS)
def test_broken_input(file: str, reader: str, outcome: Fails | Loads) -> None:
    path = CORPUS / file
    assert path.is_file(), f"{file} ontbreekt; draai tests/fixtures/broken/make_corpus.py"
    try:
        result = READERS[reader](path)
    except SourceError as exc:
        assert isinstance(outcome, Fails), f"verwacht: laden met waarschuwing {outcome}; kreeg {exc}"
        assert isinstance(exc, outcome.kind)
        assert exc.file == _display_name(file)
        assert str(exc).startswith(_display_name(file))
        assert (exc.row, exc.column) == (outcome.row, outcome.column), str(exc)
        assert outcome.text in str(exc)
        if outcome.value is not None:
            assert exc.value == outcome.value, str(exc)
        return
    except Exception as exc:  # anything but a SourceError is a reader bug
        pytest.fail(f"{file}: ruwe {type(exc).__name__} in plaats van SourceError: {exc}")
    assert isinstance(outcome, Loads), f"verwacht: {outcome}; het bestand laadde ({len(result.frame)} rijen)"
    assert len(result.frame) == outcome.rows
    assert any(outcome.warning in warning for warning in result.warnings), result.warnings


def test_every_corpus_file_is_in_the_table() -> None:
    on_disk = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".py")
    in_table = sorted(file for file, _, _ in CASES)
    assert in_table == sorted(set(in_table)), "een bestand staat twee keer in de tabel"
    assert on_disk == in_table


def test_corpus_covers_every_source_and_kind_of_damage() -> None:
    sources = {file.split("/")[0] for file, _, _ in CASES}
    assert sources == {"ep_online", "leefbaarometer", "toewijzingen", "woningzoekenden", "bezit"}
    names = " ".join(file for file, _, _ in CASES)
    for damage in (
        "truncated", "utf16", "random_bytes", "missing_required", "extra_columns", "duplicated_header", "empty",
        "header_only", "bad_date", "bad_number", "negative_rent", "unknown_label", "bag_zonder_voorloopnul",
        "wrong_separator", "ragged",
    ):  # fmt: skip
        assert damage in names, damage
    print(f"\n{len(CASES)} broken-input cases")


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_is_reproducible(tmp_path: Path) -> None:
    """make_corpus.py regenerates exactly the committed files (so the corpus is reviewable as code)."""
    corpus = _load(CORPUS / "make_corpus.py")
    for source in ("ep_online", "leefbaarometer", "toewijzingen", "woningzoekenden", "bezit"):
        getattr(corpus, f"make_{source}")(tmp_path / source)
    made = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {file: (CORPUS / file).read_bytes() for file, _, _ in CASES}
    assert sorted(made) == sorted(committed)
    changed = [name for name in made if made[name] != committed[name]]
    assert not changed, f"opnieuw gegenereerd en anders: {changed}; draai make_corpus.py"
