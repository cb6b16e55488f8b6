"""EP-online total file (RVO energy-label register): scan the national file, keep our certificates.

The monthly total file (`vYYYYMMDD_v4_csv.zip`, 5-6 million certificates, ~1.5 GB of CSV) is never
loaded into pandas. The header and the two preamble lines are read in Python; the body is scanned by
in-process DuckDB (`read_csv ... WITH ORDINALITY`, all columns as text), filtered there against the
BAG ids and address keys we hold (registered as a table, joined as a semi-join), and only the kept
certificates become a pandas DataFrame, which is then typed with the shared Dutch-format parsers.

Published format (v4): UTF-8 with BOM, `;`, decimal comma, dates `jjjjmmdd`, and two preamble lines

    PublicatieDatum;01-11-2025
    LaatstVerwerkteMutatievolgnummer;19345219

before the header, so the first data line is line 4. Older (v2, 2021-2024) files use `Pand_*`
headers; one alias table maps every generation onto the contract of docs/data-contracts.md §1.
"""

from __future__ import annotations

import csv
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sources.errors import ReadResult, SchemaDrift, SchemaError, SourceError
from sources.formats import (
    MAX_ZIP_RATIO,
    SOURCE_FILE,
    SOURCE_ROW,
    address_key,
    normalise_bag_id,
    normalise_header,
    normalise_postcode,
    normalise_toevoeging,
    parse_code,
    parse_date,
    parse_integer,
    parse_number,
)

__all__ = [
    "ALIASES",
    "CERTIFICATE_KEY",
    "CONTRACT_COLUMNS",
    "ENERGIEKLASSEN",
    "MAX_COMPRESSION_RATIO",
    "MAX_MEMBER_BYTES",
    "MUTATION_FILE",
    "OUTPUT_COLUMNS",
    "REQUIRED",
    "TOTAL_FILE",
    "apply_mutations",
    "file_date",
    "read_bulk",
    "read_mutations",
    "type_certificates",
]

# Largest CSV member we extract from a zip (the real national file is ~1.5 GB). Guards against
# zip bombs; tests lower it.
MAX_MEMBER_BYTES = 8 * 1024**3
# ... and the most a member may unpack to relative to its compressed size (the RVO file: about 5).
MAX_COMPRESSION_RATIO = MAX_ZIP_RATIO
_RATIO_MIN_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024
_HEAD_BYTES = 256 * 1024

SEPARATOR = ";"
DATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%d-%m-%Y")

# Ordered from best to worst; `A+++++` exists for utility buildings only.
ENERGIEKLASSEN = ("A+++++", "A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")

CONTRACT_COLUMNS = [
    "bag_vbo_id",
    "postcode",
    "huisnummer",
    "huisletter",
    "huisnummertoevoeging",
    "opnamedatum",
    "registratiedatum",
    "geldig_tot",
    "energieklasse",
    "gebouwklasse",
    "gebouwtype",
    "berekeningstype",
    "status",
    "energie_index",
    "primaire_fossiele_energie",
    "bouwjaar",
    "publicatiedatum",
]
OUTPUT_COLUMNS = [*CONTRACT_COLUMNS, SOURCE_FILE, SOURCE_ROW]

# Contract column -> header names of every generation: the v4 name first, then older aliases.
# Matching ignores case, blanks and underscores, so `GeldigTot`, `Geldig_tot` and `geldig tot` are one.
ALIASES: dict[str, tuple[str, ...]] = {
    "bag_vbo_id": ("BAGVerblijfsobjectID", "Pand_bagverblijfsobjectid"),
    "postcode": ("Postcode", "Pand_postcode"),
    "huisnummer": ("Huisnummer", "Pand_huisnummer"),
    "huisletter": ("Huisletter", "Pand_huisletter"),
    "huisnummertoevoeging": ("Huisnummertoevoeging", "Pand_huisnummertoevoeging", "Pand_huisnummer_toev"),
    "opnamedatum": ("Opnamedatum", "Pand_opnamedatum"),
    "registratiedatum": ("Registratiedatum", "Pand_registratiedatum"),
    "geldig_tot": ("GeldigTot", "Meting_geldig_tot", "Pand_geldig_tot"),
    "energieklasse": ("Energieklasse", "Pand_energieklasse"),
    "gebouwklasse": ("Gebouwklasse", "Pand_gebouwklasse", "Pand_cert_type"),
    "gebouwtype": ("Gebouwtype", "Pand_gebouwtype"),
    "berekeningstype": ("Berekeningstype", "Pand_berekeningstype", "Pand_berekingstype"),
    "status": ("Status", "Pand_status"),
    "energie_index": ("EnergieIndex", "Pand_energieindex", "Pand_energieprestatieindex"),
    "primaire_fossiele_energie": ("PrimaireFossieleEnergie", "Pand_primaire_fossiele_energie"),
    "bouwjaar": ("Bouwjaar", "Pand_bouwjaar"),
}

# The file's required columns; the BAG id and the address are both needed for the two-step join.
REQUIRED = ("bag_vbo_id", "postcode", "huisnummer", "registratiedatum", "geldig_tot", "energieklasse")

# Known columns we do not carry (never reported as drift). `Certificaathouder` is dropped on purpose.
KNOWN_UNUSED: tuple[str, ...] = (
    # v4
    "Detailaanduiding", "BAGLigplaatsID", "BAGStandplaatsID", "BAGPandIDs", "SoortOpname",
    "OpBasisVanReferentiegebouw", "Certificaathouder", "Gebouwsubtype", "SBICode", "Projectnaam",
    "Projectobject", "GebruiksoppervlakteThermischeZone", "Compactheid", "EnergieIndexEMGForfaitair",
    "Energiebehoefte", "Warmtebehoefte", "PrimaireFossieleEnergieEMGForfaitair",
    "AandeelHernieuwbareEnergie", "AandeelHernieuwbareEnergieEMGForfaitair", "Temperatuuroverschrijding",
    "BerekendeCO2Emissie", "BerekendeEnergieverbruik", "EisEnergiebehoefte", "EisPrimaireFossieleEnergie",
    "EisAandeelHernieuwbareEnergie", "EisTemperatuuroverschrijding",
    # v2 and older
    "Pand_opnametype", "Pand_energielabel_is_prive", "Pand_is_op_basis_van_referentie_gebouw",
    "Pand_detailaanduiding", "Pand_bagligplaatsid", "Pand_bagstandplaatsid", "Pand_bagpandid",
    "Pand_bagpandids", "Pand_gebouwsubtype", "Pand_projectnaam", "Pand_projectobject", "Pand_SBIcode",
    "Pand_gebruiksoppervlakte", "Pand_gebruiksoppervlakte_thermische_zone", "Pand_energiebehoefte",
    "Pand_eis_energiebehoefte", "Pand_eis_primaire_fossiele_energie",
    "Pand_primaire_fossiele_energie_EMG_forfaitair", "Pand_aandeel_hernieuwbare_energie",
    "Pand_eis_aandeel_hernieuwbare_energie", "Pand_aandeel_hernieuwbare_energie_EMG_forfaitair",
    "Pand_temperatuuroverschrijding", "Pand_eis_temperatuuroverschrijding", "Pand_warmtebehoefte",
    "Pand_energieindex_met_EMG_forfaitair", "Pand_certificaathouder", "Pand_plaats", "Pand_gebouwcode",
    "Afmeldnummer",
)

_PREAMBLE_KEYS = {
    "publicatiedatum": "publicatiedatum",
    "laatstverwerktemutatievolgnummer": "laatst_verwerkte_mutatievolgnummer",
}
# Older files write huisletter and toevoeging in one field.
_COMBINED_TOEVOEGING = {"pandhuisnummertoev"}
_GEBOUWKLASSE_WORDS = {"woningbouw": "W", "woning": "W", "utiliteitsbouw": "U", "utiliteit": "U"}
_DUCKDB_LINE = re.compile(r"Line:\s*(\d+)")


def _compact(name: object) -> str:
    """Header key for alias matching: case, blanks, underscores and BOMs ignored."""
    return normalise_header(name).replace(" ", "")


_ALIAS_LOOKUP: dict[str, tuple[str, int]] = {
    _compact(alias): (contract, position)
    for contract, aliases in ALIASES.items()
    for position, alias in enumerate(aliases)
}
_KNOWN_UNUSED = {_compact(name) for name in KNOWN_UNUSED}


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------


def read_bulk(
    path: str | Path,
    *,
    bag_ids: Iterable[str] | None = None,
    address_keys: Iterable[str] | None = None,
    display_name: str | None = None,
) -> ReadResult:
    """Read an EP-online total file (`.csv`, or a `.zip` holding exactly one `.csv`).

    Keeps the certificates whose BAG verblijfsobject id is in `bag_ids` OR whose normalised address
    key (`formats.address_key`: 'POSTCODE|huisnummer|HUISLETTER|TOEVOEGING') is in `address_keys`.
    With both None every certificate is kept; an empty collection matches nothing.
    Returns the contract of docs/data-contracts.md §1 plus `_source_file` / `_source_row`.
    """
    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise SourceError(name, "bestand niet gevonden")
    wanted_bag = None if bag_ids is None else _normalise_wanted_bag(bag_ids)
    wanted_key = None if address_keys is None else _normalise_wanted_key(address_keys)
    if _is_zip(path):
        with tempfile.TemporaryDirectory(prefix="ep_online_") as tmp:
            csv_path, member, lines, extra = _extract_single_csv(path, name, Path(tmp))
            result = _read_csv(csv_path, name, lines, bag_ids=wanted_bag, address_keys=wanted_key)
        result.metadata["zip_member"] = member
        for other in extra:
            result.warnings.append(f"zip-bestand bevat naast {member!r} ook {other!r}; genegeerd")
        return result
    # The line count (Python, one core) runs while DuckDB scans: the scan keeps file order and so
    # runs on one thread, leaving the other core free.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ep_online_regels") as pool:
        return _read_csv(path, name, pool.submit(_count_lines_of, path), bag_ids=wanted_bag, address_keys=wanted_key)


# --------------------------------------------------------------------------------------------
# zip handling
# --------------------------------------------------------------------------------------------


def _is_zip(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _unsafe_member(filename: str) -> bool:
    text = filename.replace("\\", "/")
    pure = PurePosixPath(text)
    return pure.is_absolute() or ".." in pure.parts or bool(re.match(r"^[A-Za-z]:", text))


def _extract_single_csv(path: Path, name: str, target_dir: Path) -> tuple[Path, str, _LineCounter, list[str]]:
    """Stream the one CSV member to `target_dir`, counting lines on the way."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise SourceError(
            name, f"geen leesbaar zip-bestand: afgebroken of beschadigd ({exc})", expected="volledige download"
        ) from exc
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        for info in infos:
            if _unsafe_member(info.filename):
                raise SourceError(
                    name, "zip-bestand bevat een onveilig pad", value=info.filename, expected="bestandsnaam zonder map"
                )
        csvs = [info for info in infos if info.filename.lower().endswith(".csv")]
        if len(csvs) != 1:
            found = ", ".join(info.filename for info in csvs) or "geen"
            raise SourceError(
                name,
                f"zip-bestand moet precies één CSV-bestand bevatten, gevonden: {found}",
                expected="één .csv in het zip-bestand",
            )
        info = csvs[0]
        extra = [other.filename for other in infos if other is not info]
        if info.flag_bits & 0x1:
            raise SourceError(name, "CSV in het zip-bestand is versleuteld", value=info.filename)
        if info.file_size > MAX_MEMBER_BYTES:
            raise SourceError(
                name,
                "CSV in het zip-bestand is te groot",
                value=info.filename,
                expected=f"<= {MAX_MEMBER_BYTES} bytes uitgepakt",
            )
        # zipfile never unpacks more than the declared size, so the declared ratio is the real bound.
        if info.file_size > _RATIO_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise SourceError(
                name,
                f"CSV in het zip-bestand is verdacht sterk gecomprimeerd (pakt "
                f"{info.file_size / max(info.compress_size, 1):.0f} keer zo groot uit): mogelijk een zip-bom",
                value=info.filename,
                expected=f"hoogstens {MAX_COMPRESSION_RATIO:g} keer zo groot uitgepakt (het RVO-bestand: ongeveer 5)",
            )
        target = target_dir / "ep_online.csv"
        counter = _LineCounter()
        written = 0
        try:
            with archive.open(info) as source, target.open("wb") as sink:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > MAX_MEMBER_BYTES:  # the header may lie about the size
                        raise SourceError(
                            name,
                            "CSV in het zip-bestand is te groot",
                            value=info.filename,
                            expected=f"<= {MAX_MEMBER_BYTES} bytes uitgepakt",
                        )
                    counter.feed(chunk)
                    sink.write(chunk)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, NotImplementedError) as exc:
            raise SourceError(
                name,
                f"zip-bestand is afgebroken of beschadigd ({type(exc).__name__}: {exc})",
                value=info.filename,
                expected="volledige download",
            ) from exc
    return target, info.filename, counter, extra


# --------------------------------------------------------------------------------------------
# line bookkeeping: DuckDB skips blank lines, a steward needs the editor's line numbers
# --------------------------------------------------------------------------------------------


class _LineCounter:
    """Counts lines and remembers blank lines of a byte stream fed in chunks."""

    def __init__(self) -> None:
        self.newlines = 0
        self.blank: list[int] = []
        self.size = 0
        self._tail = b""
        self._last = b""
        # First line that ends inside a quoted field: DuckDB reads on into the next line, so every
        # later record would be given the wrong line number. The RVO file never does this.
        self.quoted_newline: int | None = None
        self._line = b""  # the unfinished last line of the chunks seen so far
        self._lines_done = 0
        self._quotes_unknown = False

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.size == 0 and (chunk.startswith(b"\n") or chunk.startswith(b"\r\n")):
            self.blank.append(1)
        data = self._tail + chunk
        offset = len(self._tail)
        ends: list[int] = []
        for pattern in (b"\n\n", b"\n\r\n"):
            start = 0
            while (pos := data.find(pattern, start)) != -1:
                end = pos + len(pattern) - 1  # the newline that closes the blank line
                if end >= offset:
                    ends.append(end)
                start = pos + 1
        if ends:
            count = self.newlines
            previous = offset
            for end in sorted(ends):
                count += data.count(b"\n", previous, end)
                previous = end
                self.blank.append(count + 1)
        self.newlines += chunk.count(b"\n")
        self.size += len(chunk)
        self._tail = data[-2:]
        self._last = chunk[-1:]
        self._check_quotes(chunk)

    def _check_quotes(self, chunk: bytes) -> None:
        if self.quoted_newline is not None or self._quotes_unknown:
            return
        data = self._line + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._line = data
            if len(self._line) > 8 * _CHUNK:  # no line is this long; DuckDB refuses it anyway
                self._quotes_unknown = True
            return
        complete, self._line = data[: cut + 1], data[cut + 1 :]
        if b'"' in complete:  # the usual file has no quotes at all: one scan per chunk
            # Only a line with an odd number of quotes can end inside a quoted field (or hold a stray
            # quote): count quotes per line in numpy, check those few lines byte by byte.
            raw = np.frombuffer(complete, dtype=np.uint8)
            ends = np.flatnonzero(raw == 0x0A)
            quotes = np.flatnonzero(raw == 0x22)
            per_line = np.diff(np.searchsorted(quotes, ends), prepend=0)
            starts = np.concatenate(([0], ends[:-1] + 1))
            for index in np.flatnonzero(per_line % 2):
                if _ends_inside_quotes(complete[starts[index] : ends[index]]):
                    self.quoted_newline = self._lines_done + int(index) + 1
                    return
        self._lines_done += complete.count(b"\n")

    @property
    def total_lines(self) -> int:
        return self.newlines + (1 if self.size and self._last != b"\n" else 0)


def _ends_inside_quotes(line: bytes) -> bool:
    """Whether a ';'-separated line ends inside a quoted field (a quote only opens at a field start)."""
    inside = False
    field_start = True
    i = 0
    while i < len(line):
        byte = line[i]
        if inside:
            if byte == 0x22:
                if line[i + 1 : i + 2] == b'"':
                    i += 1  # an escaped quote
                else:
                    inside = False
        elif byte == 0x22 and field_start:
            inside = True
        field_start = not inside and byte == 0x3B
        i += 1
    return inside


def _count_lines_of(path: Path) -> _LineCounter:
    counter = _LineCounter()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            counter.feed(chunk)
    return counter


def _record_lines(ordinality: np.ndarray, header_line: int, blank_after_header: list[int]) -> np.ndarray:
    """Record number k (1-based, blank lines skipped) -> line number in the file."""
    blanks = np.asarray(sorted(blank_after_header), dtype="int64")
    records_before = blanks - header_line - np.arange(len(blanks)) - 1
    shift = np.searchsorted(records_before, ordinality, side="left")
    return ordinality + header_line + shift


# --------------------------------------------------------------------------------------------
# header and preamble
# --------------------------------------------------------------------------------------------


def _read_head(path: Path, name: str) -> tuple[dict[str, Any], int, list[str], int]:
    """Parse the preamble and header in Python.

    Returns (preamble values, header line number, header names, number of trailing empty header cells).
    """
    with path.open("rb") as handle:
        raw = handle.read(_HEAD_BYTES)
        at_eof = not handle.read(1)
    if not raw.strip(b"\xef\xbb\xbf \t\r\n"):
        raise SchemaError(name, "bestand is leeg of heeft geen kopregel", row=1)
    if b"\x00" in raw[:4096]:
        raise SourceError(name, "bestand is binair of UTF-16", expected="UTF-8 tekst met ';' als scheidingsteken")
    if not at_eof:
        cut = raw.rfind(b"\n")
        if cut < 0:
            raise SchemaError(name, "geen regeleinde in de eerste 256 kB", row=1)
        raw = raw[: cut + 1]
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    # Decode line by line: only the preamble and header are read here, DuckDB checks the rest.
    raw_lines = raw.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    lines: list[str] = []
    for number, raw_line in enumerate(raw_lines[:50], start=1):
        try:
            lines.append(raw_line.rstrip(b"\r").decode("utf-8"))
        except UnicodeDecodeError as exc:
            if any(line.strip() and not _is_preamble_line(line) for line in lines):
                break  # the header is already read; a bad data line is DuckDB's to report
            raise SourceError(
                name, "tekstcodering is geen UTF-8", row=number, expected="UTF-8 (met of zonder BOM)"
            ) from exc
    preamble: dict[str, Any] = {"publicatiedatum": None, "laatst_verwerkte_mutatievolgnummer": None}
    index = 0
    while index < len(lines):
        line = lines[index].replace("\ufeff", "")
        if not line.strip():
            index += 1  # blank lines before the header count as lines but carry nothing
            continue
        if not _is_preamble_line(line):
            break
        fields = re.split(r"[;,\t|]", line)
        key = _compact(fields[0])
        value = fields[1].strip() if len(fields) > 1 else ""
        preamble[_PREAMBLE_KEYS[key]] = _parse_preamble_value(key, value, name, row=index + 1, label=fields[0])
        index += 1
    if index >= len(lines):
        raise SchemaError(name, "bestand heeft geen kopregel na de preambule", row=index + 1)
    header_line = index + 1
    header_text = lines[index].replace("\ufeff", "")
    trailing = 0
    if SEPARATOR not in header_text:
        counts = {sep: header_text.count(sep) for sep in (",", "\t", "|")}
        other = max(counts, key=lambda s: counts[s])
        if counts[other]:
            raise SchemaError(
                name,
                f"kopregel gebruikt {other!r} als scheidingsteken in plaats van ';' (bestand opnieuw opgeslagen?)",
                row=header_line,
                value=header_text[:80],
                expected="het RVO-formaat met ';' als scheidingsteken",
            )
    header = [cell.replace("\ufeff", "").strip() for cell in next(csv.reader([header_text], delimiter=SEPARATOR))]
    while len(header) > 1 and header[-1] == "":
        header.pop()  # a stray ';' at the end of the header; rows then end with ';' too
        trailing += 1
    seen: dict[str, str] = {}
    for column in header:
        if not column:
            raise SchemaError(name, "kopregel bevat een kolom zonder naam", row=header_line)
        key = _compact(column)
        if key in seen:
            raise SchemaError(
                name,
                f"kolomnaam komt twee keer voor in de kopregel (ook als {seen[key]!r})",
                row=header_line,
                column=column,
            )
        seen[key] = column
    return preamble, header_line, header, trailing


def _is_preamble_line(line: str) -> bool:
    fields = re.split(r"[;,\t|]", line.replace("\ufeff", ""))
    return len(fields) <= 3 and _compact(fields[0]) in _PREAMBLE_KEYS


def _parse_preamble_value(key: str, value: str, name: str, *, row: int, label: str) -> Any:
    if key == "publicatiedatum":
        for fmt in ("%d-%m-%Y", "%Y-%m-%d", "%Y%m%d"):
            parsed = pd.to_datetime(value, format=fmt, errors="coerce")
            if not pd.isna(parsed):
                return pd.Timestamp(parsed).normalize()
        raise SourceError(name, "geen geldige publicatiedatum", row=row, column=label, value=value, expected="dd-mm-jjjj")
    if not re.fullmatch(r"\d+", value):
        raise SourceError(name, "geen geldig mutatievolgnummer", row=row, column=label, value=value, expected="geheel getal")
    return int(value)


def _resolve_columns(header: list[str], name: str, header_line: int) -> tuple[dict[str, int], SchemaDrift, str, list[str]]:
    """Map header positions onto contract columns; fail on missing required columns."""
    positions: dict[str, int] = {}
    drift = SchemaDrift()
    warnings: list[str] = []
    older = False
    for position, column in enumerate(header):
        key = _compact(column)
        hit = _ALIAS_LOOKUP.get(key)
        if hit is not None:
            contract, alias_rank = hit
            if contract in positions:
                warnings.append(
                    f"kolom {column!r} is een tweede kop voor {contract} (al gevonden als "
                    f"{header[positions[contract]]!r}); genegeerd"
                )
                continue
            positions[contract] = position
            if alias_rank > 0:
                drift.renamed[contract] = column
            if key.startswith("pand") or key.startswith("meting"):
                older = True
        elif key not in _KNOWN_UNUSED:
            drift.unknown.append(column)
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        wanted = "; ".join(f"{ALIASES[c][0]} (of {' / '.join(ALIASES[c][1:])})" for c in missing)
        raise SchemaError(
            name,
            f"verplichte kolom ontbreekt: {', '.join(ALIASES[c][0] for c in missing)}",
            row=header_line,
            column=ALIASES[missing[0]][0],
            expected=f"{wanted}; gevonden: {', '.join(header)}",
        )
    drift.missing_optional = [c for c in ALIASES if c not in positions]
    if drift.unknown:
        warnings.append(f"onbekende kolommen genegeerd: {', '.join(drift.unknown)}")
    return positions, drift, ("v2" if older else "v4"), warnings


# --------------------------------------------------------------------------------------------
# DuckDB scan
# --------------------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


_COMBINED_MATCH = r"\s*[A-Za-z]\s*([-/\s].*)?"


def _sql_letter_addition(col: dict[str, str], combined: bool) -> tuple[str, str]:
    """SQL for huisletter and toevoeging as formats.address_key expects them (upper case, trimmed)."""
    letter = f"upper(trim(coalesce({col['huisletter']}, '')))" if "huisletter" in col else "''"
    if "huisnummertoevoeging" not in col:
        return letter, "''"
    t = f"coalesce({col['huisnummertoevoeging']}, '')"
    if combined:
        # Older files write letter and addition in one field ('A', 'A-2', 'A 2hg'): split them.
        match = f"regexp_full_match({t}, '{_COMBINED_MATCH}')"
        letter = f"CASE WHEN {match} THEN upper(regexp_extract({t}, '^\\s*([A-Za-z])', 1)) ELSE '' END"
        t = f"CASE WHEN {match} THEN regexp_replace({t}, '^\\s*[A-Za-z]', '') ELSE {t} END"
    addition = f"regexp_replace(upper(trim({t})), '^[-/\\s]+', '')"
    return letter, addition


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _normalise_wanted_bag(values: Iterable[str]) -> pa.Array:
    """The BAG ids to keep, as 16 digits (ids of 12-15 digits lost their leading zeros)."""

    def normalise(value: object) -> str:
        text = str(value).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if re.fullmatch(r"\d{12,16}", text):
            text = text.zfill(16)
        return text

    return _normalised_set(values, r"^[0-9]{16}$", normalise)


def _normalise_wanted_key(values: Iterable[str]) -> pa.Array:
    """The address keys to keep, in formats.address_key form (parts trimmed, upper case)."""
    return _normalised_set(
        values, r"^[0-9A-Z|/.\-]*$", lambda value: "|".join(part.strip().upper() for part in str(value).split("|"))
    )


def _normalised_set(values: Iterable[object], already: str, normalise: Callable[[object], str]) -> pa.Array:
    """Distinct `normalise(value)` of the non-missing values (in no particular order: they only filter).

    A national stock holds ~2.3 million ids and keys, nearly all already in normal form: the texts
    matching the regex `already` (for which `normalise` is the identity) are taken as they are, in
    Arrow, and only the others go through `normalise` one by one. The result stays an Arrow array:
    as a Python list the two national sets held ~0.9 GB of str objects through the whole scan.
    """
    others: list[object] = []
    if isinstance(values, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)) and values.dtype == "str":
        # pandas text (Arrow-backed in pandas 3): straight to Arrow, no Python string per value
        array = pc.drop_null(pa.chunked_array([pa.array(values)]).combine_chunks().cast(pa.string()))
    else:
        items = values if isinstance(values, (list, tuple, set, frozenset)) else list(values)
        texts = [value for value in items if type(value) is str]
        others = [value for value in items if type(value) is not str] if len(texts) != len(items) else []
        array = pa.array(texts, pa.string())
    normal = pc.match_substring_regex(array, already)
    out = pc.unique(pc.filter(array, normal))
    rest = {normalise(value) for value in [*pc.filter(array, pc.invert(normal)).to_pylist(), *others]
            if not _missing(value)}
    if rest:
        out = pc.unique(pa.concat_arrays([out, pa.array(sorted(rest), pa.string())]))
    return out


def _scan(
    csv_path: Path,
    name: str,
    header: list[str],
    header_line: int,
    positions: dict[str, int],
    trailing: int,
    *,
    bag_ids: pa.Array | None,
    address_keys: pa.Array | None,
    combined: bool,
) -> pd.DataFrame:
    """Scan the file in DuckDB and return the kept rows as text, one column per contract column."""
    import duckdb

    raw_columns = {f"c{i}": "VARCHAR" for i in range(len(header) + trailing)}
    columns_literal = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in raw_columns) + "}"
    col = {contract: f"c{position}" for contract, position in positions.items()}
    selected = ", ".join(f"{col[c]} AS {_sql_ident(c)}" for c in positions)
    scan = (
        f"read_csv({_sql_text(str(csv_path))}, skip={header_line}, header=false, delim=';', quote='\"', "
        f"escape='\"', auto_detect=false, columns={columns_literal}, strict_mode=true, "
        f"null_padding=false, ignore_errors=false, encoding='utf-8') WITH ORDINALITY"
    )
    conditions: list[str] = []
    con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")  # the national file takes seconds: no bar in the logs
    try:
        if bag_ids is not None:
            # The scan's BAG id is normalised to 16 digits or NULL, so only 16-digit ids can match.
            bag_ids = pc.filter(bag_ids, pc.match_substring_regex(bag_ids, "^[0-9]{16}$"))
            con.register("wanted_bag", pa.table({"k": bag_ids}))
            b = col["bag_vbo_id"]
            bag_expr = f"CASE WHEN regexp_full_match(trim({b}), '[0-9]{{12,16}}') THEN lpad(trim({b}), 16, '0') END"
            # A 16-character id without blanks at its ends normalises to itself or to nothing (and a
            # non-digit one matches no wanted id): the regex only for the few others. On every row it
            # was a third of the national scan. One IN per row: DuckDB evaluates a subquery for all rows.
            conditions.append(
                f"(CASE WHEN length({b}) = 16 AND trim({b}) = {b} THEN {b} ELSE {bag_expr} END) "
                "IN (SELECT k FROM wanted_bag)"
            )
        if address_keys is not None:
            # Keys with an invalid postcode are never built below: left out, so that a six-character
            # postcode (valid only as written, no room for blanks) needs no regex, only upper case.
            address_keys = pc.filter(address_keys, pc.match_substring_regex(address_keys, "^[1-9][0-9]{3}[A-Z]{2}\\|"))
            con.register("wanted_key", pa.table({"k": address_keys}))
            p, h = col["postcode"], col["huisnummer"]
            letter, addition = _sql_letter_addition(col, combined)
            number = f"TRY_CAST(trim({h}) AS BIGINT)"
            rest = f"'|' || CAST({number} AS VARCHAR) || '|' || {letter} || '|' || {addition}"
            key_expr = (
                f"CASE WHEN {number} IS NULL THEN NULL "
                f"WHEN length({p}) = 6 THEN upper({p}) || {rest} "
                f"WHEN regexp_full_match(coalesce({p}, ''), '\\s*[1-9][0-9]{{3}}\\s*[A-Za-z]{{2}}\\s*') "
                f"THEN upper(regexp_replace({p}, '\\s', '', 'g')) || {rest} END"
            )
            conditions.append(f"{key_expr} IN (SELECT k FROM wanted_key)")
        inner_columns = ", ".join(sorted(set(col.values()), key=lambda c: int(c[1:])))
        source = f"(SELECT {inner_columns}, ordinality AS _ordinality FROM {scan}) AS scan"
        where = f"WHERE {' OR '.join(conditions)}" if conditions else ""
        if len(conditions) == 2:
            # The address key (three regexes per row) only for rows whose BAG id is not wanted: half
            # the national file; the same rows are kept.
            source = f"(SELECT *, {conditions[0]} AS _by_bag FROM {source}) AS marked"
            where = f"WHERE _by_bag OR (CASE WHEN _by_bag IS NOT TRUE THEN {key_expr} END) IN (SELECT k FROM wanted_key)"
        # No ORDER BY: sorting ~3 million kept rows of text in DuckDB and converting them with .df()
        # cost half the national load and ~4 GB of memory (bench/README.md). The rows come back as
        # Arrow and are put in file order below, on the ordinality alone, when they are not already.
        sql = f"SELECT {selected}, _ordinality FROM {source} {where}"
        try:
            table = con.execute(sql).to_arrow_table()
        except duckdb.Error as exc:
            message = str(exc)
            match = _DUCKDB_LINE.search(message)
            first = message.split("\n", 1)[0]
            if "not utf-8" in message.lower() or "invalid unicode" in message.lower():
                raise SourceError(
                    name, "tekstcodering is geen UTF-8", row=int(match.group(1)) if match else None,
                    expected="UTF-8 (met of zonder BOM)",
                ) from exc
            if "Expected Number of Columns" in message:
                found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
                detail = f" ({found.group(2)} velden, de kopregel {found.group(1)})" if found else ""
                raise SourceError(
                    name,
                    f"rij heeft een ander aantal velden dan de kopregel{detail}",
                    row=int(match.group(1)) if match else None,
                    expected=f"{len(header) + trailing} velden gescheiden door ';'",
                ) from exc
            raise SourceError(
                name, f"CSV niet leesbaar: {first}", row=int(match.group(1)) if match else None
            ) from exc
    finally:
        con.close()
    ordinality = table.column("_ordinality").to_numpy()
    if len(ordinality) > 1 and not bool(np.all(ordinality[1:] > ordinality[:-1])):
        table = table.take(pa.array(np.argsort(ordinality, kind="stable")))
    return table.to_pandas()


# --------------------------------------------------------------------------------------------
# typing the kept rows
# --------------------------------------------------------------------------------------------


def _read_csv(
    csv_path: Path,
    name: str,
    counted: _LineCounter | Future[_LineCounter],
    *,
    bag_ids: pa.Array | None,
    address_keys: pa.Array | None,
) -> ReadResult:
    preamble, header_line, header, trailing = _read_head(csv_path, name)
    positions, drift, generation, warnings = _resolve_columns(header, name, header_line)

    publicatiedatum = preamble["publicatiedatum"]
    absent = [
        label
        for label, key in (
            ("PublicatieDatum", "publicatiedatum"),
            ("LaatstVerwerkteMutatievolgnummer", "laatst_verwerkte_mutatievolgnummer"),
        )
        if preamble[key] is None
    ]
    if absent:
        warnings.append(f"preambule mist {' en '.join(absent)}")
        from_name = re.search(r"[vd](\d{8})", Path(name).name)
        if publicatiedatum is None and from_name:
            parsed = pd.to_datetime(from_name.group(1), format="%Y%m%d", errors="coerce")
            if not pd.isna(parsed):
                publicatiedatum = pd.Timestamp(parsed)
                warnings.append(f"publicatiedatum {publicatiedatum.date().isoformat()} afgeleid uit de bestandsnaam")

    headers = {contract: header[position] for contract, position in positions.items()}
    combined = (
        "huisletter" not in headers
        and "huisnummertoevoeging" in headers
        and _compact(headers["huisnummertoevoeging"]) in _COMBINED_TOEVOEGING
    )
    scan_error: SourceError | None = None
    try:
        text = _scan(
            csv_path,
            name,
            header,
            header_line,
            positions,
            trailing,
            bag_ids=bag_ids,
            address_keys=address_keys,
            combined=combined,
        )
    except SourceError as exc:  # reported after the line checks: a quoted line break explains it better
        scan_error = exc
    lines = counted.result() if isinstance(counted, Future) else counted
    if lines.quoted_newline is not None and lines.quoted_newline > header_line:
        raise SourceError(
            name,
            "regeleinde binnen een veld tussen aanhalingstekens: het certificaat loopt door op de volgende regel",
            row=lines.quoted_newline,
            expected="één certificaat per regel (het RVO-formaat), aanhalingstekens gesloten op dezelfde regel",
        )
    blank_after = [line for line in lines.blank if line > header_line]
    rows_scanned = max(lines.total_lines - header_line - len(blank_after), 0)
    if rows_scanned == 0:  # fine for a quiet day's mutation file; a total file like this is a broken download
        warnings.append("bestand bevat geen certificaten onder de kopregel (alleen preambule en kopregel)")
    if blank_after:
        warnings.append(f"{len(blank_after)} lege regel(s) overgeslagen (eerste: regel {blank_after[0]})")

    if scan_error is not None:
        raise scan_error
    if combined:
        warnings.append(
            f"huisletter gesplitst uit de gecombineerde kolom {headers['huisnummertoevoeging']!r} "
            "(een losse letter vooraan is de huisletter)"
        )
    # Parse under the delivered header names, so each error names the column the steward sees.
    raw = pd.DataFrame(index=pd.RangeIndex(len(text)))
    for contract in positions:
        raw[headers[contract]] = text[contract].astype("str")
    ordinality = text["_ordinality"].to_numpy(dtype="int64")
    raw[SOURCE_ROW] = pd.array(_record_lines(ordinality, header_line, blank_after), dtype="Int64")
    raw[SOURCE_FILE] = name

    out, typing_warnings = _type_frame(raw, headers, name, publicatiedatum, combined=combined)
    warnings.extend(typing_warnings)

    metadata: dict[str, Any] = {
        "publicatiedatum": publicatiedatum.date().isoformat() if publicatiedatum is not None else None,
        "laatst_verwerkte_mutatievolgnummer": preamble["laatst_verwerkte_mutatievolgnummer"],
        "generation": generation,
        "rows_scanned": int(rows_scanned),
        "rows_kept": len(out),
        "header_row": header_line,
        "filter": {
            "bag_ids": None if bag_ids is None else len(bag_ids),
            "address_keys": None if address_keys is None else len(address_keys),
        },
        "columns": headers,
        "huisletter_uit_toevoeging": combined,
        "drift": drift.as_dict(),
    }
    return ReadResult(frame=out, source_file=name, warnings=warnings, drift=drift, metadata=metadata)


@contextmanager
def _expected(expected: str) -> Iterator[None]:
    """Re-raise a shared parser's error with the form this file really uses."""
    try:
        yield
    except SchemaError:
        raise
    except SourceError as exc:
        raise SourceError(
            exc.file, exc.message, row=exc.row, column=exc.column, value=exc.value, expected=expected
        ) from exc


def _text(series: pd.Series, *, upper: bool = False) -> pd.Series:
    text = series.astype("str").str.strip()
    if upper:
        text = text.str.upper()
    return text.replace("", np.nan).astype("str")


def _per_value(raw: pd.DataFrame, column: str, parse: Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
    """`parse(frame)` of an element-wise parser, run once per distinct value of `column`.

    The national file repeats its values (~3 million kept rows, but ~150,000 postcodes, ~7,000 dates,
    12 classes), and the shared parsers work on pandas strings: typing each distinct value once took
    the national load from ~60 to a few seconds (bench/README.md). The distinct values are parsed in
    order of first appearance, each with the row number of its first appearance, so the first bad
    value the parser meets is the file's first bad row: errors name the same row, column and value as
    on the whole column.
    """
    codes, _ = pd.factorize(raw[column], use_na_sentinel=False)
    if len(codes) == 0:
        return parse(raw)
    first = np.flatnonzero(np.r_[True, codes[1:] > np.maximum.accumulate(codes)[:-1]])
    if len(first) * 2 > len(codes):  # mostly distinct values: nothing to gain
        return parse(raw)
    distinct = raw[[column, SOURCE_ROW]].iloc[first].reset_index(drop=True)
    parsed = parse(distinct)
    return pd.Series(parsed.array.take(codes), index=raw.index, name=parsed.name)


def _dates(header: str, name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: parse_date(frame, header, file=name, formats=DATE_FORMATS)


def _texts(header: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: _text(frame[header])


def _numbers(header: str, name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: parse_number(frame, header, file=name, decimal=",", thousands=None)


def _type_frame(
    raw: pd.DataFrame,
    headers: dict[str, str],
    name: str,
    publicatiedatum: pd.Timestamp | None,
    *,
    combined: bool,
) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    out = pd.DataFrame(index=raw.index)

    def missing_text() -> pd.Series:
        return pd.Series(np.nan, index=raw.index, dtype="str")

    def column(contract: str) -> str | None:
        return headers.get(contract)

    bag_header = headers["bag_vbo_id"]
    bag, padded_rows = normalise_bag_id(raw[bag_header], file=name, frame=raw, column=bag_header)
    padded = int(padded_rows.sum())
    out["bag_vbo_id"] = bag.astype("str")
    if padded:
        warnings.append(f"{padded} BAG-id('s) zonder voorloopnullen aangevuld tot 16 cijfers ({bag_header})")

    postcode_header = headers["postcode"]
    postcode_raw = raw[postcode_header]
    postcode = _per_value(raw, postcode_header, lambda f: normalise_postcode(f[postcode_header]))
    bad_postcode = _per_value(
        raw, postcode_header, lambda f: f[postcode_header].notna() & (f[postcode_header].astype("str").str.strip() != "")
    ) & postcode.isna()
    if bad_postcode.any():
        first = int(raw.loc[bad_postcode, SOURCE_ROW].iloc[0])
        warnings.append(
            f"{int(bad_postcode.sum())} ongeldige postcode(s) leeg gelaten (eerste: rij {first}, "
            f"waarde {postcode_raw[bad_postcode].iloc[0]!r})"
        )
    out["postcode"] = postcode.astype("str")
    huisnummer = headers["huisnummer"]
    out["huisnummer"] = _per_value(raw, huisnummer, lambda f: parse_integer(f, huisnummer, file=name))
    letter = column("huisletter")
    out["huisletter"] = _per_value(raw, letter, lambda f: _text(f[letter], upper=True)) if letter else missing_text()
    addition = column("huisnummertoevoeging")
    if addition and combined:
        value = raw[addition].astype("str")
        split = value.str.fullmatch(_COMBINED_MATCH).fillna(False).astype(bool)
        out["huisletter"] = (
            value.str.extract(r"^\s*([A-Za-z])", expand=False).str.upper().where(split, np.nan).astype("str")
        )
        rest = value.str.replace(r"^\s*[A-Za-z]", "", regex=True)
        out["huisnummertoevoeging"] = normalise_toevoeging(rest.where(split, value))
    elif addition:
        out["huisnummertoevoeging"] = _per_value(raw, addition, lambda f: normalise_toevoeging(f[addition]))
    else:
        out["huisnummertoevoeging"] = missing_text()

    for contract in ("opnamedatum", "registratiedatum", "geldig_tot"):
        header = column(contract)
        if header:
            with _expected("datum als jjjjmmdd, jjjj-mm-dd of dd-mm-jjjj"):
                out[contract] = _per_value(raw, header, _dates(header, name)).astype("datetime64[ns]")
        else:
            out[contract] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")

    klasse = headers["energieklasse"]
    out["energieklasse"] = _per_value(
        raw, klasse, lambda f: parse_code(f, klasse, file=name, allowed=ENERGIEKLASSEN)
    ).astype("str")
    gebouwklasse = column("gebouwklasse")
    out["gebouwklasse"] = (
        _per_value(
            raw,
            gebouwklasse,
            lambda f: parse_code(f, gebouwklasse, file=name, values=_GEBOUWKLASSE_WORDS, allowed=("W", "U")),
        ).astype("str")
        if gebouwklasse
        else missing_text()
    )
    for contract in ("gebouwtype", "berekeningstype", "status"):
        header = column(contract)
        out[contract] = _per_value(raw, header, _texts(header)) if header else missing_text()
    for contract in ("energie_index", "primaire_fossiele_energie"):
        header = column(contract)
        if header:
            with _expected("getal met decimale komma, zoals 152,3 of -3,2"):
                out[contract] = _per_value(raw, header, _numbers(header, name))
        else:
            out[contract] = pd.Series(np.nan, index=raw.index, dtype="float64")
    bouwjaar = column("bouwjaar")
    out["bouwjaar"] = (
        _per_value(raw, bouwjaar, lambda f: parse_integer(f, bouwjaar, file=name))
        if bouwjaar
        else pd.Series(pd.NA, index=raw.index, dtype="Int64")
    )
    stamp = publicatiedatum if publicatiedatum is not None else pd.NaT
    out["publicatiedatum"] = pd.Series(stamp, index=raw.index, dtype="datetime64[ns]")
    out[SOURCE_FILE] = pd.Series(name, index=raw.index, dtype="str")
    out[SOURCE_ROW] = raw[SOURCE_ROW].astype("Int64")
    return out[OUTPUT_COLUMNS].reset_index(drop=True), warnings


# --------------------------------------------------------------------------------------------
# daily mutation files and the API's records: same contract, same typing
# --------------------------------------------------------------------------------------------
#
# ASSUMPTION (not verified against a real delivery): the daily mutation files `dYYYYMMDD_v4.zip`
# have the v4 CSV layout of the total file (UTF-8 with BOM, two preamble lines, ';', decimal comma,
# the same header), and hold every certificate registered or changed that day as a full row. There is
# no mutation-type column, so a mutation either adds a certificate or replaces one with the same key
# (see `apply_mutations`); withdrawals cannot be recognised and are not modelled.

TOTAL_FILE = re.compile(r"^v(\d{8})_v\d+(?:_csv)?\.(?:zip|csv)$", re.IGNORECASE)
MUTATION_FILE = re.compile(r"^d(\d{8})_v\d+(?:_csv)?\.(?:zip|csv)$", re.IGNORECASE)


def file_date(name: str | Path) -> date | None:
    """The date in an EP-online file name: `v20251101_v4_csv.zip` or `d20251102_v4.zip` -> that date."""
    base = Path(name).name
    match = TOTAL_FILE.match(base) or MUTATION_FILE.match(base)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None


def read_mutations(
    path: str | Path,
    *,
    bag_ids: Iterable[str] | None = None,
    address_keys: Iterable[str] | None = None,
    display_name: str | None = None,
) -> ReadResult:
    """Read a daily mutation file (`dYYYYMMDD_v4.zip`) onto the contract of `read_bulk`.

    Same filters and errors as `read_bulk`. `publicatiedatum` is the preamble date, or the date in the
    file name when the preamble is missing; `apply_mutations` orders the files by it.
    """
    name = display_name or Path(path).name
    result = read_bulk(path, bag_ids=bag_ids, address_keys=address_keys, display_name=name)
    day = file_date(name)
    result.metadata["bestandssoort"] = "mutatiebestand"
    result.metadata["mutatiedatum"] = day.isoformat() if day else None
    if not MUTATION_FILE.match(Path(name).name):
        result.warnings.append(f"bestandsnaam {Path(name).name!r} volgt niet het patroon dJJJJMMDD_v4.zip")
    published = result.metadata.get("publicatiedatum")
    if day is not None and published is not None and published < day.isoformat():
        result.warnings.append(
            f"publicatiedatum {published} in de preambule ligt vóór de datum {day.isoformat()} in de bestandsnaam"
        )
    return result


# Certificate identity. The v4 file has no certificate number, so a certificate is identified by
# the object (BAG verblijfsobject id; the normalised address when the id is empty on either side),
# its registratiedatum and its opnamedatum. Energieklasse is deliberately NOT part of the key: a
# corrected class for the same registration must replace the earlier row, not add a second label.
CERTIFICATE_KEY = ("bag_vbo_id|adres", "registratiedatum", "opnamedatum")
_SORT_COLUMNS = (
    "bag_vbo_id",
    "postcode",
    "huisnummer",
    "huisletter",
    "huisnummertoevoeging",
    "registratiedatum",
    "opnamedatum",
    "publicatiedatum",
    SOURCE_FILE,
    SOURCE_ROW,
)


def _day_text(series: pd.Series) -> pd.Series:
    days = pd.to_datetime(series, errors="coerce")
    return days.dt.strftime("%Y-%m-%d").fillna("").astype("str")


def _certificate_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row: the certificate key through the BAG id and through the address (missing when absent)."""
    bag = frame["bag_vbo_id"].astype("str").str.strip().replace("", None).astype("str")
    address = address_key(
        frame["postcode"], frame["huisnummer"], frame["huisletter"], frame["huisnummertoevoeging"]
    ).astype("str")
    when = _day_text(frame["registratiedatum"]) + "|" + _day_text(frame["opnamedatum"])
    return pd.DataFrame(
        {
            "bag": "bag:" + bag + "|" + when,
            "adres": "adres:" + address + "|" + when,
            "has_bag": bag.notna().to_numpy(dtype=bool),
        },
        index=frame.index,
    )


def _replaced_by(earlier: pd.DataFrame, batch: pd.DataFrame) -> pd.Series:
    """Rows of `earlier` that a row of `batch` replaces (same certificate key)."""
    old, new = _certificate_keys(earlier), _certificate_keys(batch)
    new_bag = set(new.loc[new["has_bag"], "bag"].dropna())
    new_address_any = set(new["adres"].dropna())
    new_address_without_bag = set(new.loc[~new["has_bag"], "adres"].dropna())
    by_bag = old["has_bag"] & old["bag"].isin(new_bag)
    # Without a BAG id on one side, the address decides.
    by_address = (~old["has_bag"] & old["adres"].isin(new_address_any)) | (
        old["has_bag"] & old["adres"].isin(new_address_without_bag)
    )
    return (by_bag | by_address).fillna(False).astype(bool)


def _part(series: pd.Series, *, upper: bool = False) -> pd.Series:
    # Not `_text`: an empty postcode still builds an address key ('|12||'), so '' must stay a value.
    text = series.astype("str").str.strip()
    return text.str.upper() if upper else text


def _sharing_an_object(frame: pd.DataFrame, batch: pd.DataFrame) -> np.ndarray:
    """Rows of `frame` with the BAG id or the postcode of a row of `batch`: the only rows a certificate
    key of `batch` can equal (both key kinds contain one of the two). Keys are built for those alone:
    for all ~3 million national certificates, with Python sets of them, one daily file took ~100 s."""
    bags = _part(batch["bag_vbo_id"]).dropna().unique()
    postcodes = _part(batch["postcode"], upper=True).dropna().unique()
    shared = _part(frame["bag_vbo_id"]).isin(bags) | _part(frame["postcode"], upper=True).isin(postcodes)
    return shared.to_numpy(dtype=bool, na_value=False)


def _last_per_key(batch: pd.DataFrame) -> pd.DataFrame:
    """Within one mutation file a repeated certificate counts once: the last row wins."""
    keys = _certificate_keys(batch)
    identity = keys["bag"].where(keys["has_bag"], keys["adres"])
    identity = identity.fillna(pd.Series([f"rij:{i}" for i in range(len(batch))], index=batch.index, dtype="str"))
    return batch[~identity.duplicated(keep="last")]


def apply_mutations(total: pd.DataFrame, mutations: list[pd.DataFrame], published_after: date) -> pd.DataFrame:
    """Bring the total file's certificates up to date with the daily mutation files.

    `total` and every frame in `mutations` have the `read_bulk` contract. Mutation rows whose
    `publicatiedatum` is on or before `published_after` (the total file's publicatiedatum) are already
    in the total and are skipped. The rest are applied file by file in date order (publicatiedatum,
    then file name): a mutation row replaces every earlier row with the same certificate key
    (object, registratiedatum, opnamedatum; see CERTIFICATE_KEY), and is appended otherwise. History is
    kept: a new certificate for an object does not remove its older ones. Rows of the total are never
    removed except by a replacement. Within one file the last row of a repeated key wins.

    Returns a new frame sorted by object, registratiedatum, opnamedatum and source; `attrs["mutaties"]`
    counts files applied, rows replaced and rows added.
    """
    cutoff = pd.Timestamp(published_after)
    pending: list[pd.DataFrame] = []
    skipped = 0
    for frame in mutations:
        if frame is None or frame.empty:
            continue
        stamps = pd.to_datetime(frame["publicatiedatum"], errors="coerce")
        if stamps.isna().any():
            where = frame.loc[stamps.isna(), SOURCE_FILE].iloc[0] if SOURCE_FILE in frame else "?"
            raise ValueError(f"mutatie zonder publicatiedatum (bestand {where}); kan de volgorde niet bepalen")
        newer = stamps.dt.normalize() > cutoff
        skipped += int((~newer).sum())
        if newer.any():
            pending.append(frame[newer])

    result = total.copy()
    replaced = added = files = 0
    if pending:
        rows = pd.concat(pending, ignore_index=True)
        order = [c for c in ("publicatiedatum", SOURCE_FILE, SOURCE_ROW) if c in rows.columns]
        rows = rows.sort_values(order, kind="mergesort", na_position="last")
        batch_keys = [c for c in ("publicatiedatum", SOURCE_FILE) if c in rows.columns]
        for _, batch in rows.groupby(batch_keys, sort=False, dropna=False):
            batch = _last_per_key(batch)
            # Whether a row is replaced depends on that row and the batch only: judged on the rows
            # that can share a key, the same rows go, and the same batch rows find a partner.
            candidates = _sharing_an_object(result, batch)
            nearby = result[candidates]
            gone = np.zeros(len(result), dtype=bool)
            gone[np.flatnonzero(candidates)[_replaced_by(nearby, batch).to_numpy(dtype=bool)]] = True
            replaced += int(gone.sum())
            added += int((~_replaced_by(batch, nearby)).sum())  # the relation is symmetric
            result = pd.concat([result[~gone], batch], ignore_index=True)
            files += 1

    by = [c for c in _SORT_COLUMNS if c in result.columns]
    result = result.sort_values(by, kind="mergesort", na_position="last").reset_index(drop=True)
    result.attrs["mutaties"] = {
        "bestanden_toegepast": files,
        "rijen_vervangen": replaced,
        "rijen_toegevoegd": added,
        "rijen_overgeslagen": skipped,
    }
    return result


def type_certificates(
    raw: pd.DataFrame, headers: dict[str, str], name: str, publicatiedatum: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Type text columns named as delivered (`headers`: contract column -> column in `raw`) onto the
    contract, with the same parsers and errors as `read_bulk`. `raw` needs a `_source_row` column.
    Used by the API client, whose records are first written as the file would write them."""
    return _type_frame(raw, headers, name, publicatiedatum, combined=False)
