"""Fuzz every reader with Hypothesis: a delivered file either loads cleanly or is refused with the
project's own typed error (sources.errors.SourceError and subclasses) that names the file, and the
row and the column when a cell is to blame. Never another exception type, never silent garbage.

The generators start from the real sample files (data/sample/landing, tests/fixtures): a few rows of
each, rendered again with another encoding, separator, header order or spelling, quoting and line
ending; with a column dropped or duplicated; with hostile cell values (empty, blanks, huge numbers,
NaN/inf as text, dates out of range, the wrong decimal mark, control characters, very long strings,
values of another column); or as corrupted or arbitrary bytes. So most examples get deep into the
parsers instead of failing at the first byte.

What "clean" means, checked on every file that loads:
- the columns and dtypes are those of the untouched file (which the plain tests below pin to the
  documented contracts), `_source_file` is the file, `_source_row` the line the row starts on;
- numbers are finite, dates lie in 1900..2200, and a non-empty delivered cell never silently
  becomes empty (unless the mapping says so), a text cell arrives as delivered;
- a file that differs only in encoding, separator, header order or spelling, quoting or line ending
  gives exactly the frame of the original (so a shuffled header can never shift values into the
  wrong column); rows and cells that were not touched are unchanged.

Runs are reproducible (derandomize, no example database): 50 examples per reader and per YAML file in
CI. `HYPOTHESIS_PROFILE=long` raises that to 600 (random, with the example database) for a local
hunt; `FUZZ_EXAMPLES=n` sets the number directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from sources import agreements, bezit, ep_online, formats, leefbaarometer, planlijst, reference, woonservice
from sources import mapping as mappings
from sources.errors import ReadResult, SchemaError, SourceError
from sources.formats import SOURCE_FILE, SOURCE_ROW, normalise_header

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "landing"
FIXTURES = ROOT / "tests" / "fixtures"
MAPPINGS = ROOT / "mappings"

# --------------------------------------------------------------------------------------------------
# profiles: fast and reproducible in CI, raised locally with HYPOTHESIS_PROFILE=long
# --------------------------------------------------------------------------------------------------

_HEALTH = list(HealthCheck)
_PROFILES = {
    "ci": {"max_examples": 50, "derandomize": True, "database": None},
    "long": {"max_examples": 600, "derandomize": False},
}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
_CHOSEN = dict(_PROFILES.get(PROFILE, _PROFILES["ci"]))
if os.environ.get("FUZZ_EXAMPLES"):
    _CHOSEN["max_examples"] = int(os.environ["FUZZ_EXAMPLES"])
FUZZ = settings(deadline=None, suppress_health_check=_HEALTH, print_blob=True, **_CHOSEN)
MAX_EXAMPLES: int = _CHOSEN["max_examples"]

# The readers never touch the warehouse: CI's second pass (every warehouse on PostgreSQL) would only
# repeat the same examples, so they run in the DuckDB pass (and on every developer's machine).
pytestmark = pytest.mark.skipif(
    os.environ.get("PRESTATIEMONITOR_TEST_WAREHOUSE", "").strip().lower() == "postgres",
    reason="readers gebruiken geen warehouse: gefuzzd in de DuckDB-ronde",
)

# --------------------------------------------------------------------------------------------------
# bases: a few rows of a real file, as a table
# --------------------------------------------------------------------------------------------------

Reader = Callable[[Path, str], tuple[pd.DataFrame, list[str]]]


@dataclass(frozen=True)
class Base:
    """A real file cut down to a few rows, plus what its reader promises about it."""

    id: str
    file_name: str  # the name the file is written under (readers take gemeente/peildatum from it)
    read: Reader
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    sep: str
    encoding: str
    preamble: tuple[tuple[str, ...], ...] = ()
    trailing: bool = False  # a stray separator at the end of every line (as delivered)
    fixed_sep: bool = False  # the reader or mapping requires this separator
    utf8_only: bool = False
    zip_name: str | None = None  # also delivered as a zip holding the CSV
    exact_name: bool = True  # the error names exactly the display name (else: ends with the file name)
    to_contract: dict[str, str] = field(default_factory=dict)  # normalised header -> contract column
    required: frozenset[str] = frozenset()  # contract columns that must be filled
    text_columns: frozenset[str] = frozenset()  # contract columns delivered as plain text
    value_maps: dict[str, dict[str, str | None]] = field(default_factory=dict)
    derived: dict[str, frozenset[str]] = field(default_factory=dict)  # contract column -> outputs it feeds
    xlsx: bool = False  # rows are Excel cells (numbers, dates, booleans, text); written as a workbook
    sheet_name: str = "Blad1"
    title_rows: tuple[tuple[Any, ...], ...] = ()  # rows above the header (a report title)
    sheets_before: tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...] = ()  # e.g. an explanation sheet

    def contract_of(self, header: str) -> str | None:
        return self.to_contract.get(normalise_header(header))

    def outputs_of(self, header: str) -> frozenset[str]:
        contract = self.contract_of(header)
        if contract is None:
            return frozenset()
        return self.derived.get(contract, frozenset()) | {contract}


def _fullest_rows(rows: list[list[str]], count: int) -> list[list[str]]:
    """The `count` rows with the most filled cells, in file order: examples start deep in the parsers."""
    ranked = sorted(range(len(rows)), key=lambda i: (-sum(bool(c.strip()) for c in rows[i]), i))
    return [rows[i] for i in sorted(ranked[:count])]


def _table(raw: bytes, *, sep: str, encoding: str, skip: int = 0, count: int = 4) -> dict[str, Any]:
    text = raw.decode(encoding)
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    preamble = [tuple(line) for line in lines[:skip]]
    header = list(lines[skip])
    body = [list(line) for line in lines[skip + 1 :] if any(cell.strip() for cell in line)]
    trailing = bool(header) and header[-1] == ""
    if trailing:
        header = header[:-1]
        body = [row[: len(header)] for row in body]
    return {
        "preamble": tuple(preamble),
        "header": tuple(header),
        "rows": tuple(tuple(r) for r in _fullest_rows(body, count)),
        "sep": sep,
        "trailing": trailing,
    }


def _zip_member(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        [member] = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
        return archive.read(member)


def _result(read: Callable[..., Any]) -> Reader:
    def run(path: Path, name: str) -> tuple[pd.DataFrame, list[str]]:
        out = read(path, name)
        if isinstance(out, ReadResult):
            return out.frame, list(out.warnings)
        if isinstance(out, reference.ReferenceTable):
            return out.frame, []
        return out, []

    return run


def _identity(columns: Sequence[str], **aliases: str) -> dict[str, str]:
    out = {normalise_header(c): c for c in columns}
    out.update({normalise_header(k): v for k, v in aliases.items()})
    return out


def _from_mapping(section: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for contract in section.kolommen:
        for header in section.headers(contract):
            out[normalise_header(header)] = contract
    return out


def _specs_text(specs: Sequence[mappings.ColumnSpec]) -> frozenset[str]:
    return frozenset(s.name for s in specs if s.kind == "text")


def _specs_required(specs: Sequence[mappings.ColumnSpec]) -> frozenset[str]:
    return frozenset(s.name for s in specs if s.required)


_ADDRESS_PARTS = frozenset({"huisnummer", "huisletter", "huisnummertoevoeging"})


def _ep_bases() -> list[Base]:
    to_contract = {ep_online._compact(a): c for c, names in ep_online.ALIASES.items() for a in names}
    to_contract = {normalise_header(a): c for c, names in ep_online.ALIASES.items() for a in names}
    common = {
        "sep": ";",
        "encoding": "utf-8-sig",
        "fixed_sep": True,
        "utf8_only": True,
        "exact_name": True,
        "to_contract": to_contract,
        "required": frozenset(ep_online.REQUIRED),
        "text_columns": frozenset({"gebouwtype", "berekeningstype", "status"}),
        "derived": {"huisnummertoevoeging": frozenset({"huisletter"})},
    }
    bulk = _table(_zip_member(SAMPLE / "ep_online" / "v20251101_v4_csv.zip"), sep=";", encoding="utf-8-sig", skip=2)
    mutations = _table(_zip_member(SAMPLE / "ep_online" / "d20251102_v4.zip"), sep=";", encoding="utf-8-sig", skip=2)
    return [
        Base(
            id="ep_online_totaal",
            file_name="v20251101_v4.csv",
            zip_name="v20251101_v4_csv.zip",
            read=_result(lambda p, n: ep_online.read_bulk(p, display_name=n)),
            **{**bulk, **common},
        ),
        Base(
            id="ep_online_mutaties",
            file_name="d20251102_v4.csv",
            zip_name="d20251102_v4.zip",
            read=_result(lambda p, n: ep_online.read_mutations(p, display_name=n)),
            **{**mutations, **common},
        ),
    ]


def _woonservice_bases() -> list[Base]:
    out = []
    template = mappings.template_export_mapping()
    woningnet = mappings.load_export_mapping(MAPPINGS / "woonservice" / "woningnet.yaml")
    for dataset, specs, reader in (
        ("toewijzingen", mappings.TOEWIJZINGEN_COLUMNS, woonservice.read_toewijzingen),
        ("woningzoekenden", mappings.WONINGZOEKENDEN_COLUMNS, woonservice.read_woningzoekenden),
    ):
        sample = SAMPLE / "woonservice" / f"{dataset}_2021-2025.csv"
        out.append(
            Base(
                id=f"{dataset}_template",
                file_name=sample.name,
                read=_result(lambda p, n, reader=reader: reader(p, display_name=n)),
                encoding="utf-8",
                to_contract=_from_mapping(getattr(template, dataset)),
                required=_specs_required(specs),
                text_columns=_specs_text(specs),
                **_table(sample.read_bytes(), sep=";", encoding="utf-8-sig", count=5),
            )
        )
        fixture = FIXTURES / "woonservice" / f"{dataset}_woningnet.csv"
        section = getattr(woningnet, dataset)
        out.append(
            Base(
                id=f"{dataset}_woningnet",
                file_name=fixture.name,
                read=_result(
                    lambda p, n, reader=reader: reader(p, mapping=MAPPINGS / "woonservice" / "woningnet.yaml", display_name=n)
                ),
                encoding="utf-8-sig",
                fixed_sep=True,
                to_contract=_from_mapping(section),
                required=_specs_required(specs),
                text_columns=_specs_text(specs),
                value_maps=section.waarden,
                derived={"huisnummer_volledig": _ADDRESS_PARTS, "adres_volledig": _ADDRESS_PARTS},
                **_table(fixture.read_bytes(), sep=";", encoding="utf-8-sig", count=5),
            )
        )
    return out


_BEZIT_SAMPLES = {
    "uwoon": "bezitslijst_uwoon_2024-12-31.csv",
    "woonforte": "bezitslijst_woonforte_2020-12-31.csv",
    "omnia_wonen": "bezitslijst_omnia_wonen_2024-12-31.csv",
    "ymere": "bezitslijst_ymere_2024-12-31.csv",
    "elan_wonen": "bezitslijst_elan_wonen_2024-12-31.csv",
}


def _encoding_of(raw: bytes) -> str:
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _bezit_bases() -> list[Base]:
    out = []
    for slug, file_name in _BEZIT_SAMPLES.items():
        mapping_path = MAPPINGS / "bezit" / f"{slug}.yaml"
        mapping = mappings.load_bezit_mapping(mapping_path)
        raw = (SAMPLE / "bezit" / slug / file_name).read_bytes()
        encoding = _encoding_of(raw)
        sep = mapping.bestand.scheidingsteken or ";"
        out.append(
            Base(
                id=f"bezit_{slug}",
                file_name=file_name,
                read=_result(lambda p, n, m=mapping: bezit.read_bezitslijst(p, m, display_name=n)),
                encoding="cp1252" if encoding == "cp1252" else "utf-8",
                fixed_sep=mapping.bestand.scheidingsteken is not None,
                to_contract=_from_mapping(mapping),
                required=_specs_required(mappings.BEZIT_COLUMNS),
                text_columns=_specs_text(mappings.BEZIT_COLUMNS),
                value_maps=mapping.waarden,
                derived={"huisnummer_volledig": _ADDRESS_PARTS, "adres_volledig": _ADDRESS_PARTS},
                **_table(raw, sep=sep, encoding=encoding, count=5),
            )
        )
    return out


def _leefbaarometer_bases() -> list[Base]:
    out = []
    for level, key, name in (("wijken", "wk_code", "wk_naam"), ("buurten", "bu_code", "bu_naam")):
        file_name = f"Leefbaarometer-scores {level} 2002-2024.csv"
        raw = (SAMPLE / "leefbaarometer" / file_name).read_bytes()
        out.append(
            Base(
                id=f"leefbaarometer_{level}",
                file_name=file_name,
                read=_result(lambda p, n: leefbaarometer.read_scores(p, display_name=n)),
                encoding="utf-8",
                to_contract=_identity(
                    ["jaar", "kscore", *leefbaarometer.SCORES], **{key: "gebied_code", name: "gebied_naam"}
                ),
                required=frozenset({"gebied_code", "jaar", "lbm", "afw"}),
                text_columns=frozenset({"gebied_naam"}),
                derived={
                    "gebied_code": frozenset({"gemeente_code"}),
                    "afw": frozenset({"klasse", "klasse_afgeleid"}),
                    "kscore": frozenset({"klasse", "klasse_afgeleid"}),
                },
                **_table(raw, sep=",", encoding="utf-8", count=5),
            )
        )
    return out


def _planlijst_bases() -> list[Base]:
    file_name = "planlijst_GM0392_2025-07-01.csv"
    raw = (SAMPLE / "planlijst" / file_name).read_bytes()
    aliases = {
        normalise_header(h): c
        for c, names in planlijst.PLANLIJST_ALIASES.items()
        for h in ([names] if isinstance(names, str) else names)
    }
    return [
        Base(
            id="planlijst",
            file_name=file_name,
            read=_result(lambda p, n: planlijst.read_planlijst(p, display_name=n)),
            encoding="utf-8",
            to_contract=aliases,
            required=frozenset(planlijst.REQUIRED),
            text_columns=frozenset({"project_id", "projectnaam"}),
            derived={segment: frozenset({"woningen_totaal"}) for segment in planlijst.SEGMENTEN},
            **_table(raw, sep=";", encoding="utf-8-sig", count=5),
        )
    ]


def _reference_bases() -> list[Base]:
    out = []
    for name in ("huurgrenzen", "inkomensgrenzen"):
        path = ROOT / "reference" / f"{name}.csv"
        out.append(
            Base(
                id=f"reference_{name}",
                file_name=path.name,
                read=_result(lambda p, n: reference.load_reference_table(p.stem, p.parent)),
                encoding="utf-8",
                exact_name=False,
                to_contract=_identity(["year", "valid_from", "valid_to", "threshold", "value", "source", "confidence"]),
                required=frozenset({"year", "valid_from", "valid_to", "threshold", "value", "confidence"}),
                text_columns=frozenset({"threshold", "source"}),
                **_table(path.read_bytes(), sep=",", encoding="utf-8", count=5),
            )
        )
    for name, loader, columns in (
        ("gemeenten", reference.load_gemeenten, ("gemeente_code", "gemeente_naam")),
        ("corporaties", reference.load_corporaties, ("slug", "corporatie")),
    ):
        path = ROOT / "reference" / f"{name}.csv"
        out.append(
            Base(
                id=f"reference_{name}",
                file_name=path.name,
                read=_result(lambda p, n, loader=loader: loader(p.parent)),
                encoding="utf-8",
                exact_name=False,
                to_contract=_identity(columns),
                required=frozenset(columns),
                text_columns=frozenset(columns[1:]),
                **_table(path.read_bytes(), sep=",", encoding="utf-8", count=5),
            )
        )
    path = ROOT / "reference" / "leefbaarometer_klassen.csv"
    out.append(
        Base(
            id="reference_leefbaarometer_klassen",
            file_name=path.name,
            read=_result(lambda p, n: leefbaarometer.load_klassegrenzen(p)),
            encoding="utf-8",
            exact_name=False,
            to_contract=_identity(["klasse", "naam", "afw_ondergrens", "afw_bovengrens", "bron", "confidence"]),
            required=frozenset({"klasse", "confidence"}),
            text_columns=frozenset({"naam", "bron"}),
            **_table(path.read_bytes(), sep=",", encoding="utf-8", count=20),
        )
    )
    return out


def _xlsx_table(path: Path, *, sheet: str | None = None, header_row: int = 1, count: int = 5) -> dict[str, Any]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        chosen = book[sheet] if sheet else book.worksheets[0]
        before = []
        for other in book.worksheets:
            if other.title == chosen.title:
                break
            before.append((other.title, tuple(tuple(r) for r in other.iter_rows(values_only=True))))
        rows = [tuple(r) for r in chosen.iter_rows(values_only=True)]
    finally:
        book.close()
    header = [str(h) for h in rows[header_row - 1] if h is not None]
    body = [list(r[: len(header)]) for r in rows[header_row:] if any(c is not None for c in r)]
    as_text = [["" if c is None else str(c) for c in r] for r in body]
    chosen_rows = [body[as_text.index(r)] for r in _fullest_rows(as_text, count)]
    return {
        "header": tuple(header),
        "rows": tuple(tuple(r) for r in chosen_rows),
        "title_rows": tuple(tuple(c for c in r[: len(header)]) for r in rows[: header_row - 1]),
        "sheets_before": tuple(before),
        "sheet_name": chosen.title,
        "sep": "",
        "encoding": "",
        "xlsx": True,
    }


def _xlsx_bases() -> list[Base]:
    habeko = mappings.load_bezit_mapping(MAPPINGS / "bezit" / "habeko_wonen.yaml")
    template = mappings.template_export_mapping()
    csv_template = _table(
        (SAMPLE / "woonservice" / "toewijzingen_2021-2025.csv").read_bytes(), sep=";", encoding="utf-8-sig", count=5
    )
    planlijst_aliases = {
        normalise_header(h): c
        for c, names in planlijst.PLANLIJST_ALIASES.items()
        for h in ([names] if isinstance(names, str) else names)
    }
    return [
        Base(
            id="bezit_habeko_wonen_xlsx",
            file_name="bezitslijst_habeko_wonen_2020-12-31.xlsx",
            read=_result(lambda p, n: bezit.read_bezitslijst(p, habeko, display_name=n)),
            to_contract=_from_mapping(habeko),
            required=_specs_required(mappings.BEZIT_COLUMNS),
            text_columns=_specs_text(mappings.BEZIT_COLUMNS),
            value_maps=habeko.waarden,
            **_xlsx_table(
                SAMPLE / "bezit" / "habeko_wonen" / "bezitslijst_habeko_wonen_2020-12-31.xlsx", sheet="Bezit", header_row=4
            ),
        ),
        Base(
            id="planlijst_xlsx",
            file_name="planlijst_GM0397_2025-07-01.xlsx",
            read=_result(lambda p, n: planlijst.read_planlijst(p, display_name=n)),
            to_contract=planlijst_aliases,
            required=frozenset(planlijst.REQUIRED),
            text_columns=frozenset({"project_id", "projectnaam"}),
            derived={segment: frozenset({"woningen_totaal"}) for segment in planlijst.SEGMENTEN},
            **_xlsx_table(SAMPLE / "planlijst" / "planlijst_GM0397_2025-07-01.xlsx"),
        ),
        Base(
            id="toewijzingen_template_xlsx",
            file_name="toewijzingen_2021-2025.xlsx",
            read=_result(lambda p, n: woonservice.read_toewijzingen(p, display_name=n)),
            to_contract=_from_mapping(template.toewijzingen),
            required=_specs_required(mappings.TOEWIJZINGEN_COLUMNS),
            text_columns=_specs_text(mappings.TOEWIJZINGEN_COLUMNS),
            header=csv_template["header"],
            rows=csv_template["rows"],
            sep="",
            encoding="",
            xlsx=True,
        ),
    ]


@cache
def bases() -> dict[str, Base]:
    every = [
        *_ep_bases(),
        *_woonservice_bases(),
        *_bezit_bases(),
        *_leefbaarometer_bases(),
        *_planlijst_bases(),
        *_reference_bases(),
        *_xlsx_bases(),
    ]
    return {b.id: b for b in every}


BASE_IDS = [
    "ep_online_totaal",
    "ep_online_mutaties",
    "toewijzingen_template",
    "toewijzingen_woningnet",
    "woningzoekenden_template",
    "woningzoekenden_woningnet",
    *(f"bezit_{slug}" for slug in _BEZIT_SAMPLES),
    "leefbaarometer_wijken",
    "leefbaarometer_buurten",
    "planlijst",
    "reference_huurgrenzen",
    "reference_inkomensgrenzen",
    "reference_gemeenten",
    "reference_corporaties",
    "reference_leefbaarometer_klassen",
    "bezit_habeko_wonen_xlsx",
    "planlijst_xlsx",
    "toewijzingen_template_xlsx",
]

# --------------------------------------------------------------------------------------------------
# rendering a table as a delivered file
# --------------------------------------------------------------------------------------------------

SEPARATORS = (";", ",", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")


@dataclass
class Rendered:
    data: bytes
    starts: list[int]  # line each data row starts on (1-based, as editors count)
    encoding: str


def render(
    base: Base,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    sep: str,
    encoding: str,
    newline: str = "\n",
    quote_all: bool = False,
) -> Rendered:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        delimiter=sep,
        quotechar='"',
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator=newline,
    )
    for line in base.preamble:
        buffer.write(sep.join(line) + newline)
    tail = [""] if base.trailing else []
    writer.writerow([*header, *tail])
    starts = []
    for row in rows:
        starts.append(buffer.getvalue().count("\n") + 1)
        writer.writerow([*row, *tail])
    text = buffer.getvalue()
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        encoding = "utf-8"
        data = text.encode(encoding)
    return Rendered(data=data, starts=starts, encoding=encoding)


def render_xlsx(base: Base, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Rendered:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, sheet_rows in base.sheets_before:
        other = book.create_sheet(title)
        for row in sheet_rows:
            other.append(list(row))
    sheet = book.create_sheet(base.sheet_name)
    for row in base.title_rows:
        sheet.append(list(row))
    sheet.append(list(header))
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    first = len(base.title_rows) + 2
    return Rendered(data=_fixed_time(buffer.getvalue()), starts=list(range(first, first + len(rows))), encoding="")


def _fixed_time(workbook: bytes) -> bytes:
    """The same workbook bytes on every run (openpyxl stamps the save time): corruptions stay reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def write_zip(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(member, date_time=(2025, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# hostile values and variants
# --------------------------------------------------------------------------------------------------

HOSTILE_VALUES = (
    "", " ", "   ", "\t", "\u00a0", "NaN", "nan", "NA", "inf", "-inf", "Infinity", "1e400", "1e308", "1E5",
    "-0", "0", "00", "-1", "-999999", "99999999999999999999999", "9" * 40, "0.5", "1,5", "1.5", "1.234,56",
    "1,234.56", "12,5,1", "12.5.1", "€ -5", "€", "5-", "+7", "½", "٣", "²", "31-12-9999", "31.12.9999",
    "31-02-2024", "00-00-0000", "1899-12-31", "2999-01-01", "0001-01-01", "01-01-1677", "19000101",
    "99991231", "20251301", "2024-02-30", "45292", "2024-01-01T00:00:00", "NULL", "null", "None", "#N/B",
    "#VALUE!", "=1+1", "=cmd|' /C calc'!A0", "@SUM(A1)", "ja", "nee", "X", "J", "waar", "\x00", "a\x07b",
    "\x1b[31mrood", "\x7f", "regel\neinde", "regel\r\neinde", 'aanhalings"teken', '"', "a;b", "a,b", "a\tb",
    "a|b", "é", "\u202egnirts", "\ufeff", "\u2028", "𝟘𝟙", "GM0392", "GM9999", "gm0392", "WK039201",
    "BU03920101", "2011AB", "2011 ab", "0392010000012345", "392010000012345", "0" * 16, "12A-2", "7 bis",
    "A" * 300, "Z" * 140_000,
)  # fmt: skip

XLSX_HOSTILE: tuple[Any, ...] = (
    None, float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 10**30, -(10**30), 2**53 + 1, -1, 0, 0.1, 1.5,
    True, False, dt.datetime(1900, 1, 1), dt.datetime(1899, 12, 31), dt.datetime(9999, 12, 31),
    dt.datetime(2262, 1, 1), dt.date(2024, 2, 29), dt.time(8, 30), dt.timedelta(days=3), "=1+1", "=A1", "=1/0",
    "=NOW()", '=HYPERLINK("http://voorbeeld.invalid","klik")', "=cmd|' /C calc'!A0", "#N/B", "#DEEL/0!",
)  # fmt: skip

ROW_LEVEL = ("velden", "geen geldige csv", "csv niet leesbaar", "regel")
FILE_LEVEL = ("binair", "codering", "kopregel", "leeg", "stuurteken")


@dataclass
class Variant:
    kind: str  # "table", "corrupt" or "bytes"
    data: bytes
    zipped: bool = False
    encoding: str | None = None
    sep: str | None = None
    header: list[str] = field(default_factory=list)
    source_columns: list[int] = field(default_factory=list)  # per delivered column: the base column
    renamed: bool = False
    dropped: str | None = None
    duplicated: str | None = None
    edits: dict[tuple[int, str], str] = field(default_factory=dict)  # (row, base header) -> value
    extra_rows: int = 0
    starts: list[int] = field(default_factory=list)
    blank_rows: frozenset[int] = frozenset()  # rows whose every cell is blank (readers skip them)

    @property
    def same_content(self) -> bool:
        return self.kind == "table" and not (self.dropped or self.duplicated or self.edits or self.extra_rows)


def _blank(cell: Any) -> bool:
    """Empty as delivered. openpyxl writes NaN and infinity as an empty cell (<v/>)."""
    if isinstance(cell, float) and not np.isfinite(cell):
        return True
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _respell(header: str, how: int) -> str:
    return [header.upper(), header.lower(), f"  {header} ", header.replace(" ", "_"), header.replace("_", " ")][how]


@st.composite
def variants(draw: st.DrawFn, base: Base) -> Variant:
    kind = draw(st.sampled_from(("table",) * 7 + ("corrupt",) * 2 + ("bytes",)))
    if kind == "bytes":
        data = draw(st.one_of(st.binary(max_size=400), st.binary(min_size=1, max_size=8).map(lambda b: b * 300)))
        return Variant(kind="bytes", data=data, zipped=bool(base.zip_name) and draw(st.booleans()))

    n = len(base.header)
    columns = list(range(n))
    if draw(st.booleans()):
        columns = list(draw(st.permutations(columns)))
    header = [base.header[i] for i in columns]
    renamed = False
    if draw(st.integers(0, 4)) == 0:
        position = draw(st.integers(0, n - 1))
        header[position] = _respell(header[position], draw(st.integers(0, 4)))
        renamed = normalise_header(header[position]) == normalise_header(base.header[columns[position]])
        if not renamed:
            header[position] = base.header[columns[position]]
    dropped = duplicated = None
    if draw(st.integers(0, 5)) == 0:
        position = draw(st.integers(0, len(columns) - 1))
        dropped = header.pop(position)
        columns.pop(position)
    if draw(st.integers(0, 7)) == 0:
        position = draw(st.integers(0, len(columns) - 1))
        duplicated = header[position]
        columns.insert(position + 1, columns[position])
        header.insert(position + 1, draw(st.sampled_from([duplicated, duplicated.upper(), f"{duplicated} "])))

    rows = [list(r) for r in base.rows]
    pool = sorted({cell for row in base.rows for cell in row if cell is not None}, key=repr)
    values = st.one_of(
        st.sampled_from(HOSTILE_VALUES),
        st.sampled_from(pool),
        st.text(max_size=12),
        st.integers(-(10**20), 10**20).map(str),
        st.floats().map(str),
        st.builds(
            dt.date.strftime,
            st.dates(min_value=dt.date(1, 1, 1)),
            st.sampled_from(["%d-%m-%Y", "%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y"]),
        ),
    )
    if base.xlsx:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        values = st.one_of(st.sampled_from(XLSX_HOSTILE), values).filter(
            lambda v: not (isinstance(v, str) and (ILLEGAL_CHARACTERS_RE.search(v) or len(v) > 32767))
        )
    edits: dict[tuple[int, str], Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, n - 1))
        value = draw(values)
        rows[row][column] = value
        edits[(row, base.header[column])] = value
    extra_rows = 0
    if draw(st.integers(0, 7)) == 0:
        rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
        extra_rows = 1
    delivered = [[row[i] for i in columns] for row in rows]
    if base.xlsx:
        sep = encoding = ""
        try:
            rendered = render_xlsx(base, header, delivered)
        except Exception:  # a value openpyxl cannot write (no real workbook holds it either)
            assume(False)
            raise
    else:
        sep = draw(st.sampled_from((base.sep,) * 4 + SEPARATORS))
        encoding = draw(st.sampled_from((base.encoding,) * 4 + ENCODINGS))
        rendered = render(
            base,
            header,
            delivered,
            sep=sep,
            encoding=encoding,
            newline=draw(st.sampled_from(("\n", "\r\n"))),
            quote_all=draw(st.booleans()),
        )
    data = rendered.data
    if kind == "corrupt":
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            action = draw(st.sampled_from(("insert", "replace", "delete", "truncate")))
            chunk = draw(st.binary(min_size=1, max_size=6))
            if action == "insert":
                data = data[:at] + chunk + data[at:]
            elif action == "replace":
                data = data[:at] + chunk + data[at + len(chunk) :]
            elif action == "delete":
                data = data[:at] + data[at + len(chunk) :]
            else:
                data = data[:at]
    return Variant(
        kind=kind,
        data=data,
        zipped=bool(base.zip_name) and draw(st.integers(0, 2)) == 0,
        encoding=rendered.encoding,
        sep=sep,
        header=header,
        source_columns=columns,
        renamed=renamed,
        dropped=dropped,
        duplicated=duplicated,
        edits=edits,
        extra_rows=extra_rows,
        starts=rendered.starts,
        blank_rows=frozenset(k for k, row in enumerate(delivered) if all(_blank(c) for c in row)),
    )


# --------------------------------------------------------------------------------------------------
# the property
# --------------------------------------------------------------------------------------------------


def write_variant(base: Base, variant: Variant, folder: Path) -> tuple[Path, str]:
    for old in folder.iterdir():
        old.unlink()
    if variant.zipped and base.zip_name:
        path = folder / base.zip_name
        path.write_bytes(write_zip(base.file_name, variant.data))
    else:
        path = folder / base.file_name
        path.write_bytes(variant.data)
    return path, path.name


@cache
def base_frame(base_id: str, folder: Path) -> pd.DataFrame:
    base = bases()[base_id]
    if base.xlsx:
        rendered = render_xlsx(base, base.header, base.rows)
    else:
        rendered = render(base, base.header, base.rows, sep=base.sep, encoding=base.encoding)
    path = folder / base.file_name
    path.write_bytes(rendered.data)
    try:
        return base.read(path, path.name)[0]
    finally:
        path.unlink()


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


def _maps_to_null(base: Base, contract: str, value: str) -> bool:
    values = base.value_maps.get(contract) or {}
    key = re.sub(r"\s+", " ", str(value).strip()).casefold()
    for delivered, target in values.items():
        if re.sub(r"\s+", " ", str(delivered).strip()).casefold() == key and target in (None, ""):
            return True
    return False


def check_error(base: Base, variant: Variant, name: str, error: SourceError) -> None:
    note(f"fout: {error}")
    if base.exact_name:
        assert error.file == name, f"de fout noemt {error.file!r}, niet het bestand {name!r}: {error}"
    else:
        assert Path(error.file).name == Path(name).name or error.file.endswith(base.file_name), str(error)
    assert str(error).startswith(error.file)
    assert error.message.strip()
    if error.row is not None:
        assert error.row >= 1
    clean_structure = (
        variant.kind == "table"
        and not variant.dropped
        and not variant.duplicated
        and (variant.sep == base.sep or not base.fixed_sep)
        and variant.encoding != "utf-16"
        and not (base.utf8_only and variant.encoding == "cp1252")
    )
    if clean_structure and variant.edits and not isinstance(error, SchemaError):
        # Only cells were changed: the error is about a cell (row and column), or about a row that
        # no longer parses (row), or the file as a whole (binary, encoding).
        message = error.message.lower()
        if not any(word in message for word in FILE_LEVEL):
            assert error.row is not None, f"celfout zonder rij: {error}"
            if not any(word in message for word in ROW_LEVEL):
                assert error.column, f"celfout zonder kolom: {error}"
                named = {c.strip() for c in error.column.split(",")}
                delivered = {h.strip() for h in variant.header}
                assert named <= delivered, f"kolom {error.column!r} staat niet in de kopregel: {error}"
    valid_file = variant.same_content and variant.encoding in (base.encoding, "utf-8", "utf-8-sig")
    if clean_structure and valid_file and not (base.fixed_sep and variant.sep != base.sep):
        raise AssertionError(f"een geldig bestand (andere volgorde/spelling/quoting) werd geweigerd: {error}")


def check_frame(
    base: Base, variant: Variant, name: str, frame: pd.DataFrame, warnings: list[str], expected: pd.DataFrame
) -> None:
    assert list(frame.columns) == list(expected.columns), "kolommen wijken af van het contract"
    assert frame.dtypes.astype(str).to_dict() == expected.dtypes.astype(str).to_dict(), "dtypes wijken af"
    if SOURCE_FILE in frame.columns:
        assert (frame[SOURCE_FILE] == name).all() if base.exact_name else True
    for column in frame.columns:
        series = frame[column]
        if series.dtype == "float64":
            values = series.dropna().to_numpy()
            assert np.isfinite(values).all(), f"{column}: niet-eindig getal geladen"
        if str(series.dtype).startswith("datetime64"):
            values = series.dropna()
            assert ((values >= pd.Timestamp("1900-01-01")) & (values <= pd.Timestamp("2200-12-31"))).all(), (
                f"{column}: datum buiten 1900..2200 geladen: {values.min()} .. {values.max()}"
            )
    if variant.kind != "table":
        return
    if SOURCE_ROW in frame.columns:
        rows = frame[SOURCE_ROW].tolist()
        assert len(set(rows)) == len(rows), "dubbele rijnummers"
        line_of = {line: k for k, line in enumerate(variant.starts)}
        assert set(rows) <= set(line_of), f"rijnummers {rows} zijn niet de regels {variant.starts} van de rijen"
        positions = [line_of[r] for r in rows]
    else:
        positions = [k for k in range(len(base.rows) + variant.extra_rows) if k not in variant.blank_rows]
        assert len(positions) == len(frame), "rijen verloren of erbij"
    if variant.same_content:
        assert len(frame) == len(expected), "rijen verloren of erbij bij alleen een andere opmaak"
    comparable = [c for c in frame.columns if c not in (SOURCE_FILE, SOURCE_ROW)]
    touched_outputs: set[str] = set()
    if variant.dropped:
        touched_outputs |= base.outputs_of(variant.dropped)
        contract = base.contract_of(variant.dropped)
        assert contract not in base.required, f"verplichte kolom {variant.dropped!r} weggelaten en toch geladen"
        if contract in frame.columns and not any(
            base.contract_of(h) == contract for h in variant.header
        ):
            assert frame[contract].isna().all(), f"{contract}: waarden zonder kolom"
    base_count = len(base.rows)
    for out_row, k in enumerate(positions):
        if k >= base_count:
            continue  # a duplicated row appended at the end
        edited = {h: v for (r, h), v in variant.edits.items() if r == k}
        skip = set(touched_outputs)
        for header in edited:
            skip |= base.outputs_of(header)
        columns = [c for c in comparable if c not in skip]
        got = frame.iloc[out_row][columns]
        want = expected.iloc[k][columns]
        for column in columns:
            a, b = got[column], want[column]
            same = (_is_missing(a) and _is_missing(b)) or (not _is_missing(a) and not _is_missing(b) and a == b)
            assert same, f"rij {k}, kolom {column}: {a!r} in plaats van {b!r} (verschoven of vervuild)"
        for header, value in edited.items():
            contract = base.contract_of(header)
            if contract is None or contract not in frame.columns or header not in variant.header:
                continue
            if any(
                base.contract_of(h) == contract and normalise_header(h) != normalise_header(header)
                for h in variant.header
            ):
                continue
            loaded = frame.iloc[out_row][contract]
            filled = not _blank(value)
            if filled and _is_missing(loaded) and not _maps_to_null(base, contract, value):
                said = any("leeg gelaten" in w for w in warnings)
                if not said and not re.fullmatch(r"0+(\.0)?", str(value).strip()):  # '0': "no BAG id"
                    raise AssertionError(f"rij {k}, kolom {header!r}: {value!r} stilletjes leeg geladen")
            text = isinstance(value, str) and not (base.xlsx and value.startswith("="))
            if contract in base.text_columns and filled and text and contract not in base.value_maps:
                assert loaded == value.strip(), f"rij {k}, kolom {header!r}: {value!r} geladen als {loaded!r}"


def run_reader(base: Base, variant: Variant, folder: Path, expected: pd.DataFrame) -> str:
    path, name = write_variant(base, variant, folder)
    note(
        f"{variant.kind}: enc={variant.encoding} sep={variant.sep!r} zip={variant.zipped} "
        f"kop={variant.header} weg={variant.dropped} dubbel={variant.duplicated} edits={variant.edits} "
        f"extra={variant.extra_rows}"
    )
    try:
        frame, warnings = base.read(path, name)
    except SourceError as error:
        check_error(base, variant, name, error)
        return "error"
    except Exception as error:  # anything but the project's typed error is a reader bug
        raise AssertionError(f"{base.id}: ruwe {type(error).__name__} in plaats van SourceError: {error}") from error
    if variant.kind == "table" and variant.duplicated is not None:
        raise AssertionError(f"kolom {variant.duplicated!r} twee keer in de kopregel en toch geladen")
    check_frame(base, variant, name, frame, warnings, expected)
    return "loaded"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _documented_contract(base_id: str) -> dict[str, str] | list[str] | None:
    """The output columns (with dtypes where the reader publishes them) the contract documents."""
    if base_id.startswith("toewijzingen"):
        return woonservice.TOEWIJZINGEN_DTYPES
    if base_id.startswith("woningzoekenden"):
        return woonservice.WONINGZOEKENDEN_DTYPES
    if base_id.startswith("bezit"):
        return bezit.BEZIT_DTYPES
    if base_id.startswith("planlijst"):
        return planlijst.PLANLIJST_DTYPES
    if base_id.startswith("ep_online"):
        return ep_online.OUTPUT_COLUMNS
    if base_id.startswith("leefbaarometer"):
        return leefbaarometer.OUTPUT_COLUMNS
    if base_id in ("reference_huurgrenzen", "reference_inkomensgrenzen"):
        return list(reference.TABLE_COLUMNS)
    return None


@pytest.mark.parametrize("base_id", BASE_IDS)
def test_untouched_base_loads_on_its_contract(base_id: str, folder: Path) -> None:
    """The cut-down real file loads, on the documented contract: the fuzz examples start from a clean
    file, and 'the same columns and dtypes as the untouched file' means 'as the contract says'."""
    frame = base_frame(base_id, folder)
    assert len(frame) == len(bases()[base_id].rows)
    contract = _documented_contract(base_id)
    if isinstance(contract, dict):
        assert {c: str(t) for c, t in frame.dtypes.items()} == {c: str(pd.Series(dtype=t).dtype) for c, t in contract.items()}
        assert list(frame.columns) == list(contract)
    elif contract is not None:
        assert list(frame.columns) == list(contract)


@pytest.mark.parametrize("base_id", BASE_IDS)
@FUZZ
@given(data=st.data())
def test_reader_loads_cleanly_or_raises_typed_error(base_id: str, folder: Path, data: st.DataObject) -> None:
    base = bases()[base_id]
    expected = base_frame(base_id, folder)
    variant = data.draw(variants(base), label="variant")
    run_reader(base, variant, folder, expected)


# --------------------------------------------------------------------------------------------------
# YAML: agreements and mappings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YamlBase:
    id: str
    path: Path
    load: Callable[[Path], Any]
    error: type[SourceError]


YAML_BASES = {
    b.id: b
    for b in (
        YamlBase("afspraken_heemstede", ROOT / "agreements" / "heemstede-2024-2027.yaml",
                 agreements.load_agreement_file, agreements.AgreementError),
        YamlBase("afspraken_haarlem", ROOT / "agreements" / "haarlem-2022-2025.yaml",
                 agreements.load_agreement_file, agreements.AgreementError),
        YamlBase("mapping_bezit_woonforte", MAPPINGS / "bezit" / "woonforte.yaml",
                 mappings.load_bezit_mapping, mappings.MappingError),
        YamlBase("mapping_bezit_habeko_wonen", MAPPINGS / "bezit" / "habeko_wonen.yaml",
                 mappings.load_bezit_mapping, mappings.MappingError),
        YamlBase("mapping_woonservice_woningnet", MAPPINGS / "woonservice" / "woningnet.yaml",
                 mappings.load_export_mapping, mappings.MappingError),
    )
}  # fmt: skip

YAML_HOSTILE: tuple[Any, ...] = (
    None, "", " ", "0", "-1", "1e400", "nan", ".inf", "4.179", "2024-13-45", "31-12-9999", "GM٠٣٩٢", "GM9999",
    'x"; DROP SCHEMA kpi CASCADE; --', "kpi.kpi_zon; DELETE FROM kpi.kpi_zon", "../../etc/passwd", "/etc/passwd",
    "C:\\Windows\\win.ini", "\x00", "a\x07b", "\u202egnirts", "Z" * 20_000, [], {}, ["a", "b"], {"a": "b"},
    {"onbekend": 1}, [[["diep"]]], True, 12, -5, 3.5,
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


@dataclass
class YamlVariant:
    kind: str
    data: bytes
    change: str = ""
    same_content: bool = False


@st.composite
def yaml_variants(draw: st.DrawFn, base: YamlBase) -> YamlVariant:
    import copy

    text = base.path.read_text(encoding="utf-8")
    kind = draw(st.sampled_from(("tree",) * 6 + ("corrupt",) * 2 + ("bytes",)))
    if kind == "bytes":
        return YamlVariant("bytes", draw(st.binary(max_size=600)))
    if kind == "corrupt":
        data = text.encode("utf-8")
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            chunk = draw(st.one_of(st.binary(min_size=1, max_size=4), st.sampled_from(
                [b":", b"- ", b"\n  ", b"&a", b"*a", b"{", b"[", b"'", b'"', b"\t", b"!!python/object:os.system"])))
            if draw(st.booleans()):
                data = data[:at] + chunk + data[at:]
            else:
                data = data[:at] + data[at + len(chunk) :]
        return YamlVariant("corrupt", data)
    tree = yaml.load(text, Loader=mappings._MappingLoader)  # noqa: S506 (the project's safe loader)
    tree = copy.deepcopy(tree)
    change = "geen"
    action = draw(st.sampled_from(("replace", "replace", "delete", "add", "reorder", "none")))
    paths = [p for p in _paths(tree) if p]
    path = draw(st.sampled_from(paths))
    parent = _at(tree, path[:-1])
    if action == "replace":
        value = draw(st.one_of(st.sampled_from(YAML_HOSTILE), st.text(max_size=10), st.integers().map(str)))
        parent[path[-1]] = value
        change = f"{path} -> {value!r}"[:200]
    elif action == "delete":
        del parent[path[-1]]
        change = f"{path} weg"
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["onbekend", "x-extra", "Kolommen", "kolommen ", 'a"b']))] = "waarde"
        change = f"{path[:-1]} + sleutel"
    elif action == "reorder":
        node = _at(tree, path) if isinstance(_at(tree, path), dict) else parent
        if isinstance(node, dict):
            items = list(node.items())
            order = draw(st.permutations(range(len(items))))
            node.clear()
            node.update(items[i] for i in order)
        change = "volgorde"
    dumped = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=10_000)
    encoding = draw(st.sampled_from(("utf-8",) * 5 + ("utf-8-sig", "cp1252", "utf-16")))
    try:
        data = dumped.encode(encoding)
    except UnicodeEncodeError:
        encoding, data = "utf-8", dumped.encode("utf-8")
    same = action in ("reorder", "none") and encoding in ("utf-8", "utf-8-sig")
    return YamlVariant("tree", data, change=f"{change} ({encoding})", same_content=same)


@cache
def yaml_base_result(base_id: str) -> Any:
    base = YAML_BASES[base_id]
    return base.load(base.path)


@pytest.mark.parametrize("base_id", sorted(YAML_BASES))
@FUZZ
@given(data=st.data())
def test_yaml_loads_cleanly_or_raises_typed_error(base_id: str, folder: Path, data: st.DataObject) -> None:
    """Agreements and mapping files: a valid file loads as the original, anything else is refused with
    the loader's own error naming the file (and the key, or the YAML line and column)."""
    base = YAML_BASES[base_id]
    expected = yaml_base_result(base_id)
    variant = data.draw(yaml_variants(base), label="variant")
    note(f"{variant.kind}: {variant.change}")
    for old in folder.iterdir():
        old.unlink()
    path = folder / base.path.name
    path.write_bytes(variant.data)
    try:
        loaded = base.load(path)
    except SourceError as error:
        note(f"fout: {error}")
        assert isinstance(error, base.error), f"{type(error).__name__} in plaats van {base.error.__name__}: {error}"
        assert Path(error.file).name == path.name, str(error)
        assert str(error).startswith(error.file)
        if variant.kind == "tree" and "YAML" not in error.message and "UTF-8" not in error.message:
            located = getattr(error, "field_path", None) or error.value
            assert located, f"de fout noemt geen sleutel: {error}"
        assert not variant.same_content, f"een geldig bestand (andere sleutelvolgorde) werd geweigerd: {error}"
        return
    except Exception as error:
        raise AssertionError(f"{base.id}: ruwe {type(error).__name__} in plaats van {base.error.__name__}: {error}") from error
    assert type(loaded) is type(expected)
    if variant.same_content:
        assert loaded.model_dump() == expected.model_dump()


# --------------------------------------------------------------------------------------------------
# the bugs the fuzzer found, as plain regression tests
# --------------------------------------------------------------------------------------------------


def test_ep_online_record_over_two_lines_is_refused_with_its_line(tmp_path: Path) -> None:
    """A quoted field with a line break made DuckDB read on: every later row got the wrong line."""
    lines = (FIXTURES / "ep_online" / "v20251101_v4.csv").read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b";Woonlabel Haarlem;", b';"Woonlabel\nHaarlem";')
    path = tmp_path / "v20251101_v4.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(SourceError, match="regeleinde binnen een veld") as caught:
        ep_online.read_bulk(path)
    assert caught.value.row == 6


def test_ep_online_quotes_on_one_line_are_fine(tmp_path: Path) -> None:
    lines = (FIXTURES / "ep_online" / "v20251101_v4.csv").read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b";Woonlabel Haarlem;", b';"Woonlabel; ""Haarlem""";')
    path = tmp_path / "v20251101_v4.csv"
    path.write_bytes(b"\n".join(lines))
    assert ep_online.read_bulk(path).frame[SOURCE_ROW].tolist() == [4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("digits", ["٣", "𝟘𝟙", "۱۲"])
def test_digits_of_other_scripts_are_no_numbers_or_codes(digits: str) -> None:
    """'٣' passed the number pattern (\\d) and became NaN: a filled cell silently loaded as empty."""
    frame = pd.DataFrame({"x": [digits], SOURCE_ROW: [2]})
    with pytest.raises(SourceError, match="geen geldig getal"):
        formats.parse_number(frame, "x", file="f.csv")
    assert not mappings.GEMEENTE_CODE.fullmatch(f"GM{digits * 4}"[:6])
    assert formats.normalise_postcode(pd.Series([f"{digits * 4}AB"])).isna().all()


def test_leefbaarometer_score_in_other_script_digits_is_refused(tmp_path: Path) -> None:
    base = bases()["leefbaarometer_wijken"]
    rows = [list(r) for r in base.rows]
    rows[1][base.header.index("lbm")] = "٣"
    path = tmp_path / base.file_name
    path.write_bytes(render(base, base.header, rows, sep=",", encoding="utf-8").data)
    with pytest.raises(SourceError, match="geen geldig getal") as caught:
        leefbaarometer.read_scores(path)
    assert (caught.value.row, caught.value.column) == (3, "lbm")


@pytest.mark.parametrize("name", ["huurgrenzen", "gemeenten", "corporaties"])
@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02" * 50, b"a,b\n1,2\n", "é".encode("utf-16")])
def test_broken_reference_file_raises_a_source_error(tmp_path: Path, name: str, content: bytes) -> None:
    """pd.read_csv raised EmptyDataError, ParserError, KeyError or UnicodeDecodeError."""
    (tmp_path / f"{name}.csv").write_bytes(content)
    loader = {
        "huurgrenzen": reference.load_huurgrenzen,
        "gemeenten": reference.load_gemeenten,
        "corporaties": reference.load_corporaties,
    }[name]
    with pytest.raises(SourceError) as caught:
        loader(tmp_path)
    assert caught.value.file == f"{name}.csv"


def test_reference_error_names_the_column_as_delivered(tmp_path: Path) -> None:
    text = (ROOT / "reference" / "inkomensgrenzen.csv").read_text(encoding="utf-8")
    header, first, *rest = text.splitlines()
    first = first.replace("2019-01-01", "01-01-2019", 1)
    (tmp_path / "inkomensgrenzen.csv").write_text("\n".join([header.upper(), first, *rest]) + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match="geen geldige datum") as caught:
        reference.load_inkomensgrenzen(tmp_path)
    assert (caught.value.row, caught.value.column, caught.value.value) == (2, "VALID_FROM", "01-01-2019")


def test_reference_gemeente_code_is_checked(tmp_path: Path) -> None:
    (tmp_path / "gemeenten.csv").write_text("gemeente_code,gemeente_naam\nGM0392,Haarlem\nGM392,Haarlem\n")
    with pytest.raises(SourceError, match="geen geldige gemeente_code") as caught:
        reference.load_gemeenten(tmp_path)
    assert (caught.value.row, caught.value.column) == (3, "gemeente_code")


def test_boundary_table_without_a_class_names_the_row(tmp_path: Path) -> None:
    lines = (ROOT / "reference" / "leefbaarometer_klassen.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = "," + lines[3].split(",", 1)[1]
    path = tmp_path / "klassen.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match="klassen moeten precies 1 t/m 9") as caught:
        leefbaarometer.load_klassegrenzen(path)
    assert (caught.value.row, caught.value.column) == (4, "klasse")


def test_leefbaarometer_errors_name_the_header_as_delivered(tmp_path: Path) -> None:
    base = bases()["leefbaarometer_wijken"]
    header = [h.upper() if h in ("wk_code", "jaar") else h for h in base.header]
    rows = [list(r) for r in base.rows]
    rows[2][base.header.index("jaar")] = "2013"
    path = tmp_path / base.file_name
    path.write_bytes(render(base, header, rows, sep=",", encoding="utf-8").data)
    with pytest.raises(SourceError, match="meetjaar") as caught:
        leefbaarometer.read_scores(path)
    assert (caught.value.row, caught.value.column) == (4, "JAAR")
    rows = [list(r) for r in base.rows]
    rows[0][base.header.index("wk_code")] = ""
    path.write_bytes(render(base, header, rows, sep=",", encoding="utf-8").data)
    with pytest.raises(SourceError, match="wijkcode ontbreekt") as caught:
        leefbaarometer.read_scores(path)
    assert (caught.value.row, caught.value.column) == (2, "WK_CODE")


def test_mixed_decimal_marks_name_the_column(tmp_path: Path) -> None:
    base = bases()["leefbaarometer_wijken"]
    rows = [list(r) for r in base.rows]
    rows[3][base.header.index("won")] = "0,25"
    path = tmp_path / base.file_name
    path.write_bytes(render(base, base.header, rows, sep=";", encoding="utf-8").data)
    with pytest.raises(SourceError, match="decimale komma en decimale punt") as caught:
        leefbaarometer.read_scores(path)
    assert (caught.value.row, caught.value.column) == (5, "won")


def test_mapping_error_about_the_whole_section_names_its_key(tmp_path: Path) -> None:
    text = (MAPPINGS / "bezit" / "woonforte.yaml").read_text(encoding="utf-8").replace("  vhe_id: SMENR\n", "")
    path = tmp_path / "woonforte.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(mappings.MappingError, match="verplichte contractkolom") as caught:
        mappings.load_bezit_mapping(path)
    assert caught.value.value == "kolommen"


def test_overlong_csv_field_is_explained_in_dutch(tmp_path: Path) -> None:
    path = tmp_path / "toewijzingen_2025.csv"
    path.write_text('toewijzing_id;kern\nT-1;"' + "x" * 200_000 + '"\n', encoding="utf-8")
    with pytest.raises(SourceError, match="een veld is langer dan 131072 tekens") as caught:
        formats.read_delimited(path)
    assert caught.value.row == 2


def test_fuzz_case_count() -> None:
    """The number of bad-input cases one CI run tries (reported in the closing note of issue 9)."""
    fuzz = (len(BASE_IDS) + len(YAML_BASES)) * MAX_EXAMPLES
    print(f"\n{fuzz} fuzz-voorbeelden per run ({len(BASE_IDS)} lezers, {len(YAML_BASES)} YAML-bestanden)")
    families = {b.split("_")[0] for b in BASE_IDS} | {b.split("_")[0] for b in YAML_BASES}
    assert families == {
        "ep", "toewijzingen", "woningzoekenden", "bezit", "leefbaarometer", "planlijst", "reference", "afspraken",
        "mapping",
    }
