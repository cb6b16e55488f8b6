"""Reading delivered files the way Dutch exports are written.

Encodings (UTF-8 with or without BOM, cp1252), `;`/`,`/tab separators, decimal comma with a
thousands dot, `€` in amounts, dates as dd-mm-jjjj, and free-form addresses. Every parser takes the
file name and the source row numbers so the first bad cell is reported exactly.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sources.errors import SchemaDrift, SchemaError, SourceError

# Python's whitespace (str.strip(), re's \s). Spelled out as literal characters, a pattern built on
# it runs in Arrow's RE2 engine, whose \s is narrower: pandas sends every \s pattern to Python's re,
# cell by cell, which was a third of the reading time of a national stock list.
# Written out, not derived from str.isspace() over every code point (42 ms at each import, in every
# step process); tests/test_delimited_fast_path.py checks it against Python's own set.
_PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
WHITESPACE_RUN = f"[{_PY_WHITESPACE}]+"

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"

ENCODINGS = ("utf-8-sig", "cp1252")
SEPARATORS = (";", ",", "\t", "|")
DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")
TRUE_WORDS = {"ja", "j", "yes", "y", "true", "waar", "1", "x", "wel"}
FALSE_WORDS = {"nee", "n", "no", "false", "onwaar", "0", "niet", "geen"}
MAX_TEXT_BYTES = 512 * 1024 * 1024
# Zip archives (XLSX workbooks, EP-online downloads): a member that unpacks to more than this many
# times its compressed size is refused as a likely zip bomb; real exports stay near 10 to 1. Small
# members (XML boilerplate) may compress better without harm.
MAX_ZIP_RATIO = 100
_RATIO_MIN_BYTES = 1024 * 1024
MAX_XLSX_COLUMNS = 1024
MAX_XLSX_ROWS = 1_048_576  # Excel's own limit
MAX_EXACT_INTEGER = 2**53  # largest integer a float64 holds exactly


def date_in_file_name(text: str, file: str) -> pd.Timestamp:
    """The jjjj-mm-dd date a delivery's file name carries (its peildatum); it must exist."""
    try:
        return pd.Timestamp(datetime.datetime.strptime(text, "%Y-%m-%d"))
    except ValueError:
        raise SourceError(
            file, "peildatum in de bestandsnaam is geen bestaande datum", value=text, expected="jjjj-mm-dd"
        ) from None


def normalise_header(name: object) -> str:
    """Header comparison ignores case, surrounding blanks, BOMs and runs of blanks/underscores."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s_]+", " ", text)


# A UTF-8 multi-byte sequence (2, 3 or 4 bytes). Windows-1252 text practically never contains one.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


# Control characters other than tab, newline and carriage return: text files hold none, binary many.
_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode_bytes(raw: bytes, file: str | Path) -> str:
    """UTF-8 (with or without BOM) first, then cp1252; anything else is refused.

    A file that is UTF-8 in one place and Windows-1252 in another (two exports pasted together, or
    one line edited in another program) is refused with the line of the first non-UTF-8 byte:
    reading it as cp1252 would silently garble every UTF-8 character ('é' -> 'Ã©').
    """
    sample = raw[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\x00" in raw[:4096] or controls > max(8, len(sample) // 100):
        raise SourceError(file, "bestand is binair of UTF-16; lever het aan als UTF-8 of Windows-1252 tekst")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    utf8 = _UTF8_MULTIBYTE.search(raw)
    if raw.startswith(b"\xef\xbb\xbf") or utf8:
        where = f"regel {_line_of(raw, utf8.start())}" if utf8 else "de BOM aan het begin"
        raise SourceError(
            file,
            f"gemengde tekstcodering: {where} is UTF-8, deze regel niet",
            row=_line_of(raw, first_bad),
            value=f"byte 0x{raw[first_bad]:02X}",
            expected="het hele bestand in één codering: UTF-8 of Windows-1252 (cp1252)",
        )
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise SourceError(
            file,
            "tekstcodering niet herkend",
            row=_line_of(raw, exc.start),
            value=f"byte 0x{raw[exc.start]:02X}",
            expected="UTF-8 of Windows-1252 (cp1252)",
        ) from None


def detect_separator(header_line: str, file: str | Path, *, row: int = 1) -> str:
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    if counts[best] == 0:
        raise SchemaError(
            file,
            "geen scheidingsteken gevonden in de kopregel",
            row=row,
            value=header_line[:80],
            expected="kolommen gescheiden door ';', ',' of tab",
        )
    return best


def read_delimited(
    path: str | Path,
    *,
    skip_lines: int = 0,
    separator: str | None = None,
    display_name: str | None = None,
) -> pd.DataFrame:
    """Read a delimited text file as strings, with `_source_file` and `_source_row` columns.

    `skip_lines` are preamble lines before the header. The returned row numbers count them.
    """
    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise SourceError(name, "bestand niet gevonden")
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise SourceError(name, "bestand is te groot om als tabel in te lezen", expected="< 512 MB")
    text = decode_bytes(path.read_bytes(), name)
    return parse_delimited_text(text, name, skip_lines=skip_lines, separator=separator)


def parse_delimited_text(
    text: str, name: str, *, skip_lines: int = 0, separator: str | None = None
) -> pd.DataFrame:
    """Parse delimited text (already decoded) into a frame of strings with source row numbers.

    Row numbers are physical line numbers, so a quoted cell that spans two lines does not shift the
    numbers of the rows after it. Trailing empty header cells and trailing empty fields (a stray
    separator at the end of each line, as some exports write) are ignored. When the header has no
    stray separator, a row with more fields than the header is accepted only if every row has them:
    one row with an extra (empty) field while the others have none holds a separator too many, and
    its values would have shifted one column.
    """
    stream = io.StringIO(text, newline="")
    for _ in range(skip_lines):
        stream.readline()
    body = stream.read()
    first_line = _FIRST_LINE.match(body).group()  # type: ignore[union-attr]  # matches every string
    if not first_line.strip():
        raise SchemaError(name, "bestand is leeg of heeft geen kopregel", row=skip_lines + 1)
    sep = separator or detect_separator(first_line, name, row=skip_lines + 1)
    if separator is not None and separator not in first_line:
        others = [s for s in SEPARATORS if s != separator and s in first_line]
        if others:
            raise SchemaError(
                name,
                f"scheidingsteken {separator!r} niet gevonden in de kopregel; de kopregel gebruikt {others[0]!r}",
                row=skip_lines + 1,
                value=first_line[:80],
                expected=f"kolommen gescheiden door {separator!r}",
            )
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep, quotechar='"')
    try:
        header_raw = next(reader)
    except csv.Error as exc:  # e.g. an unclosed quote that swallows the file into one huge field
        raise SchemaError(name, f"kopregel is geen geldige CSV{_csv_problem(exc)}", row=skip_lines + 1) from exc
    header = [h.replace("\ufeff", "").strip() for h in header_raw]
    while header and header[-1] == "":
        header.pop()
    header_has_stray = len(header_raw) > len(header)
    _check_header(header, name, header_row=skip_lines + 1)
    fast = _parse_plain_rows(body, sep, header, header_raw, first_row=skip_lines + 2)
    if fast is not None:
        fast[SOURCE_FILE] = name
        fast[SOURCE_ROW] = fast.pop(_LINE)
        return fast
    records: list[list[str]] = []
    row_numbers: list[int] = []
    longer: list[tuple[int, int]] = []  # (line, field count) of rows longer than the header
    exact = 0
    while True:
        start_line = skip_lines + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SourceError(name, f"rij is geen geldige CSV{_csv_problem(exc)}", row=start_line) from exc
        if not row or all(not cell.strip() for cell in row):
            continue  # blank lines are not records
        delivered = len(row)
        while len(row) > len(header) and not row[-1].strip():
            row = row[:-1]
        if len(row) != len(header):
            raise SourceError(
                name,
                f"rij heeft {len(row)} velden, de kopregel {len(header)}",
                row=start_line,
                expected=f"{len(header)} velden gescheiden door {sep!r}",
            )
        if delivered > len(header):
            longer.append((start_line, delivered))
        else:
            exact += 1
        records.append([cell.strip() for cell in row])
        row_numbers.append(start_line)
    if longer and exact and not header_has_stray:
        line, delivered = longer[0]
        raise SourceError(
            name,
            f"rij heeft {delivered} velden, de kopregel {len(header)}: een scheidingsteken te veel in de rij "
            "(de andere rijen hebben geen extra veld)",
            row=line,
            expected=f"{len(header)} velden gescheiden door {sep!r}",
        )
    frame = pd.DataFrame(records, columns=header, dtype="str")
    frame = frame.replace("", np.nan)
    frame[SOURCE_FILE] = name
    frame[SOURCE_ROW] = pd.array(row_numbers, dtype="Int64")
    return frame


_LINE = "__regel"
_FIRST_LINE_END = re.compile(r"\r\n|\r|\n")
# The first line as str.splitlines() cuts it (it also breaks at \v, \f, \x1c-\x1e, \x85, \u2028/9).
_FIRST_LINE = re.compile("[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*")


def _parse_plain_rows(
    body: str, sep: str, header: list[str], header_raw: list[str], *, first_row: int
) -> pd.DataFrame | None:
    """The common case in Arrow's multi-threaded CSV reader: no quotes at all (so one physical line is
    one record and row numbers are line positions) and every line with as many fields as the header.
    Anything else (quotes, NUL bytes, a field count that differs, a stray separator in the header, a
    one-column file) returns None and is read row by row, which names the offending row. The frame is
    the one the row-by-row path builds: cells stripped, empty cells missing, blank and all-empty
    lines skipped; row numbers in column _LINE."""
    import pyarrow.csv as pacsv

    if len(header) < 2 or len(header_raw) != len(header) or '"' in body or "\x00" in body:
        return None
    end = _FIRST_LINE_END.search(body)
    if end is None:
        return None
    data = body[end.end():]
    if not data.strip():
        return None
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return None
    columns = [pc.utf8_trim(table.column(n), characters=_PY_WHITESPACE) for n in names]
    filled = [pc.not_equal(c, "") for c in columns]
    keep = filled[0]
    for mask in filled[1:]:
        keep = pc.or_(keep, mask)
    lines = pa.array(np.arange(first_row, first_row + table.num_rows, dtype="int64"))
    frame = pd.DataFrame(
        {
            i: pd.array(pc.filter(pc.if_else(mask, column, pa.scalar(None, pa.string())), keep), dtype="str")
            for i, (column, mask) in enumerate(zip(columns, filled, strict=True))
        }
    )
    frame.columns = pd.Index(header)
    frame[_LINE] = pd.array(pc.filter(lines, keep).to_numpy(), dtype="Int64")
    return frame


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return (
            f": een veld is langer dan {csv.field_size_limit()} tekens "
            "(vaak een aanhalingsteken dat niet wordt gesloten)"
        )
    return f" ({exc})"


def check_zip_limits(path: str | Path, name: str, *, max_bytes: int, max_ratio: float | None = None) -> None:
    """Refuse a zip bomb before anything is unpacked: members that unpack to more than `max_bytes`
    together, or a member that is compressed suspiciously well (more than `max_ratio` to 1; real
    exports stay near 10 to 1). A file that is no readable zip is left to the caller to report.

    zipfile never unpacks more than a member's declared size (a lie ends in a CRC error), so the
    declared sizes are what the limits are checked against.
    """
    ratio_limit = MAX_ZIP_RATIO if max_ratio is None else max_ratio
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise SourceError(
            name,
            "zip-bestand is uitgepakt te groot",
            value=f"{total} bytes uitgepakt",
            expected=f"<= {max_bytes} bytes uitgepakt",
        )
    for info in infos:
        if info.file_size > _RATIO_MIN_BYTES and info.file_size > ratio_limit * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise SourceError(
                name,
                f"zip-bestand is verdacht sterk gecomprimeerd ({info.filename!r} pakt {ratio:.0f} keer zo groot uit): "
                "mogelijk een zip-bom",
                value=info.filename,
                expected=f"hoogstens {ratio_limit:g} keer zo groot uitgepakt",
            )


def read_xlsx(
    path: str | Path,
    *,
    sheet: str | None = None,
    display_name: str | None = None,
    decimal: str = ".",
    header_row: int = 1,
) -> pd.DataFrame:
    """Read the first (or named) sheet as strings; formulas give their cached values, never run.

    Numeric cells are written with `decimal` as decimal mark (never with thousands marks or an
    exponent), so the same number parser serves numeric cells and amounts typed as text.
    `header_row` is the Excel row number of the header (rows above it, such as a report title, are
    skipped); `_source_row` is the Excel row number.

    Hostile workbooks: a zip bomb is refused before unpacking (`check_zip_limits`); macros (VBA) and
    external links are never loaded; a formula is never evaluated: its value as Excel saved it is
    read, and a formula without a saved value (a file written by a tool, never calculated) is refused
    with its row and column rather than read as an empty cell. Rows are read no wider than the header,
    so a sheet that claims 16,384 columns cannot blow up memory.
    """
    from openpyxl import load_workbook

    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise SourceError(name, "bestand niet gevonden")
    check_zip_limits(path, name, max_bytes=MAX_TEXT_BYTES)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False, keep_vba=False)
    except Exception as exc:  # openpyxl raises several types for a broken zip/xml
        raise SourceError(name, f"geen leesbaar XLSX-bestand ({type(exc).__name__}: {exc})") from exc
    try:
        if sheet and sheet not in workbook.sheetnames:
            raise SourceError(
                name, f"werkblad {sheet!r} ontbreekt", value=sheet, expected="een van: " + ", ".join(workbook.sheetnames)
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        if not hasattr(worksheet, "iter_rows"):
            raise SourceError(name, f"werkblad {worksheet.title!r} is een grafiekblad, geen tabel")
        # read_only workbooks parse the sheet XML lazily: a damaged sheet fails here, not on opening.
        top = [
            _trimmed(row)
            for row in worksheet.iter_rows(
                max_row=max(header_row, 50), max_col=MAX_XLSX_COLUMNS, values_only=True
            )
        ]
        width = len(top[header_row - 1]) if len(top) >= header_row else 0
        body: list[tuple[object, ...]] = []
        if width:
            for row in worksheet.iter_rows(min_row=header_row + 1, max_col=width, values_only=True):
                body.append(row)
                if len(body) > MAX_XLSX_ROWS:
                    raise SourceError(
                        name, "werkblad heeft meer rijen dan Excel toestaat", expected=f"<= {MAX_XLSX_ROWS} rijen"
                    )
        formulas = _formulas(path, workbook, worksheet, header_row, width)
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(name, f"werkblad niet leesbaar ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()
    if len(top) < header_row or not _filled(top[header_row - 1]):
        # Point at the row that looks like the header (two or more filled cells), if any.
        guess = next((i + 1 for i, row in enumerate(top[:50]) if len(_filled(row)) >= 2), None)
        if guess is None:
            raise SchemaError(name, "werkblad is leeg of heeft geen kopregel", row=header_row)
        raise SchemaError(
            name,
            f"rij {header_row}, waar de kopregel hoort te staan, is leeg",
            row=header_row,
            expected=f"de kopregel op rij {header_row}; rij {guess} lijkt de kopregel (pas 'kopregel' in de mapping aan)",
        )
    header = [str(h).strip() if h is not None else "" for h in top[header_row - 1]]
    while header and header[-1] == "":
        header.pop()
    _check_header(header, name, header_row=header_row)
    for (row, column), formula in sorted(formulas.items()):
        offset = row - header_row - 1
        inside = column < len(header) and 0 <= offset < len(body) and column < len(body[offset])
        if inside and body[offset][column] is None:
            raise SourceError(
                name,
                "formule zonder opgeslagen uitkomst: het bestand is niet in Excel berekend en opgeslagen",
                row=row,
                column=header[column],
                value=formula,
                expected="open en bewaar het bestand in Excel, of lever waarden in plaats van formules",
            )
    records: list[list[object]] = []
    row_numbers: list[int] = []
    for offset, row in enumerate(body, start=header_row + 1):
        cells = list(row[: len(header)]) + [None] * max(0, len(header) - len(row))
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        records.append([_xlsx_cell_text(cell, decimal) for cell in cells])
        row_numbers.append(offset)
    frame = pd.DataFrame(records, columns=header, dtype="str")
    frame[SOURCE_FILE] = name
    frame[SOURCE_ROW] = pd.array(row_numbers, dtype="Int64")
    return frame


def _trimmed(row: Sequence[object]) -> tuple[object, ...]:
    """A row without its trailing empty cells."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return tuple(row[:end])


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


def _formulas(path: Path, workbook: object, worksheet: object, header_row: int, width: int) -> dict[tuple[int, int], str]:
    """(Excel row, 0-based column) -> formula text of the formula cells below the header.

    Only when the sheet's XML holds a formula at all (a cheap scan); then the sheet is read once more
    without cached values, which is where openpyxl shows the formulas. Nothing is evaluated.
    """
    from openpyxl import load_workbook

    if not width:
        return {}
    archive = getattr(workbook, "_archive", None)
    part = getattr(worksheet, "_worksheet_path", None)
    if archive is not None and part:
        with archive.open(part) as xml:
            tail = b""
            found = False
            while chunk := xml.read(1 << 20):
                if _FORMULA_TAG.search(tail + chunk):
                    found = True
                    break
                tail = chunk[-64:]
        if not found:
            return {}
    formulas: dict[tuple[int, int], str] = {}
    raw_book = load_workbook(path, read_only=True, data_only=False, keep_links=False, keep_vba=False)
    try:
        raw_sheet = raw_book[getattr(worksheet, "title", "")]
        for number, row in enumerate(
            raw_sheet.iter_rows(min_row=header_row + 1, max_col=width, values_only=True), start=header_row + 1
        ):
            for column, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    formulas[(number, column)] = value
            if number - header_row > MAX_XLSX_ROWS:
                break
    finally:
        raw_book.close()
    return formulas


def _filled(row: Sequence[object]) -> list[object]:
    return [cell for cell in row if cell is not None and not (isinstance(cell, str) and not cell.strip())]


def _xlsx_cell_text(cell: object, decimal: str = ".") -> str | None:
    """Excel cells become the text the parsers expect; dates as ISO, whole floats without '.0'."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "ja" if cell else "nee"
    if isinstance(cell, (datetime.date, datetime.datetime)):
        return cell.strftime("%Y-%m-%d")
    if isinstance(cell, (datetime.time, datetime.timedelta)):
        return str(cell)  # a time of day is no date: let the parser refuse it with its row
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, float):
        return np.format_float_positional(cell, trim="-").replace(".", decimal)
    text = str(cell).strip()
    return text or None


def _check_header(header: Sequence[str], name: str, *, header_row: int) -> None:
    if not any(header):
        raise SchemaError(name, "kopregel is leeg", row=header_row)
    seen: dict[str, str] = {}
    for column in header:
        if not column:
            raise SchemaError(name, "kopregel bevat een kolom zonder naam", row=header_row)
        key = normalise_header(column)
        if key in seen:
            raise SchemaError(name, "kolomnaam komt twee keer voor in de kopregel", row=header_row, column=column)
        seen[key] = column


@contextmanager
def delivered_columns(labels: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a SourceError that names a contract column with the header as the file spells it.

    A steward searches the file for the column an error names; after `map_columns` the parsers see
    contract names ('jaar'), the file may say 'JAAR' or 'Jaar '.
    """
    try:
        yield
    except SourceError as exc:
        label = labels.get(exc.column) if exc.column is not None else None
        if label is None or label == exc.column:
            raise
        raise type(exc)(
            exc.file, exc.message, row=exc.row, column=label, value=exc.value, expected=exc.expected
        ) from exc


def map_columns(
    frame: pd.DataFrame,
    aliases: Mapping[str, str | Sequence[str]],
    *,
    required: Iterable[str],
    file: str,
    header_row: int = 1,
) -> tuple[pd.DataFrame, SchemaDrift]:
    """Rename delivered headers to contract names through an alias table (case-insensitive).

    Missing required columns fail with the headers that were found; unknown columns are reported
    as drift and dropped; a contract column found under a non-primary alias is reported as renamed.
    """
    by_normal = {normalise_header(c): c for c in frame.columns if not str(c).startswith("_source")}
    renames: dict[str, str] = {}
    drift = SchemaDrift()
    for contract, names in aliases.items():
        candidates = [names] if isinstance(names, str) else list(names)
        for position, candidate in enumerate(candidates):
            found = by_normal.get(normalise_header(candidate))
            if found is not None and found not in renames:
                renames[found] = contract
                if position > 0:
                    drift.renamed[contract] = found
                break
    present = set(renames.values())
    missing_required = [c for c in required if c not in present]
    if missing_required:
        def _headers(contract: str) -> str:
            names = aliases.get(contract, contract)
            return names if isinstance(names, str) else " / ".join(names)

        expected = "; ".join(f"{c} (kop: {_headers(c)})" for c in missing_required)
        raise SchemaError(
            file,
            f"verplichte kolom(men) ontbreken: {', '.join(missing_required)}",
            row=header_row,
            expected=expected + f"; gevonden: {', '.join(by_normal.values())}",
        )
    drift.missing_optional = [c for c in aliases if c not in present]
    drift.unknown = [c for c in by_normal.values() if c not in renames]
    kept = [*renames, SOURCE_FILE, SOURCE_ROW]
    out = frame[[c for c in kept if c in frame.columns]].rename(columns=renames)
    for contract in drift.missing_optional:
        out[contract] = pd.Series(pd.NA, index=out.index, dtype="str")
    return out, drift


def _first_bad(mask: pd.Series, frame: pd.DataFrame, raw: pd.Series) -> tuple[int | None, object]:
    index = mask[mask].index[0]
    row = frame.at[index, SOURCE_ROW] if SOURCE_ROW in frame.columns else None
    return (int(row) if row is not None and not pd.isna(row) else None), raw.at[index]


_NUMBER_JUNK = re.compile(r"[€\s\u00a0]|EUR", re.IGNORECASE)


def _to_float(text: pd.Series) -> pd.Series:
    """float64 of text cells that all match parse_number's plain-number pattern (or are missing).

    Arrow's cast parses them vectorised and correctly rounded, ~15x faster than pd.to_numeric's
    per-cell parse of Arrow-backed text (5 s of a national month-by-month lettings load); should a
    cell still be refused, pandas parses the column as before."""
    try:
        array = pa.array(text, from_pandas=True)
        return pd.Series(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.to_numeric(text, errors="coerce").astype("float64")


def parse_number(
    frame: pd.DataFrame,
    column: str,
    *,
    file: str,
    decimal: str = ",",
    thousands: str | None = ".",
    minimum: float | None = None,
    maximum: float | None = None,
) -> pd.Series:
    """Dutch amounts: '€ 1.234,56', '-12,5', '700'. Returns float64 with NaN for empty cells.

    Strict about the declared convention: a thousands mark must group three digits, and any other
    mark is refused, so '12.5' in a decimal-comma file is an error rather than 125 or 12.5.
    A `thousands` equal to `decimal` means no thousands mark.
    """
    if thousands == decimal:
        thousands = None  # parse_number(..., decimal=".") with the default thousands: no thousands mark
    raw = frame[column]
    present = raw.notna() & (raw.astype("str").str.strip() != "")
    text = raw.astype("str").where(present, None)
    dec = re.escape(decimal)
    # [0-9], not \d: \d also matches other scripts' digits ('٣'), which to_numeric turns into NaN.
    number = rf"[+-]?(?:[0-9]+(?:{dec}[0-9]+)?|{dec}[0-9]+)"
    # Most cells are plain numbers already ('974,78'); only the others go through the removal of
    # currency signs, spaces and thousands marks, which pandas runs cell by cell in Python (the
    # look-behind and the case-insensitive pattern have no vectorised form). A plain number holds
    # none of those characters, so it is what that removal would have left.
    other = present & ~text.str.fullmatch(number).fillna(False).astype(bool)
    cleaned = text
    bad = pd.Series(False, index=text.index)
    if other.any():
        rest = text[other].str.replace(_NUMBER_JUNK, "", regex=True)
        if thousands:
            # Only strip a thousands mark that really groups digits, so '12.5' in a comma file is refused.
            rest = rest.str.replace(rf"(?<=[0-9]){re.escape(thousands)}(?=[0-9]{{3}}(?:[^0-9]|$))", "", regex=True)
        well_formed = rest.str.fullmatch(number).fillna(False).astype(bool)
        bad = other & ~well_formed.reindex(text.index, fill_value=True)
        cleaned = text.where(~other, rest)
    if bad.any():
        row, value = _first_bad(bad, frame, raw)
        sample = "1.234,56" if decimal == "," else ("1,234.56" if thousands == "," else "1234.56")
        raise SourceError(file, "geen geldig getal", row=row, column=column, value=value, expected=f"getal zoals {sample}")
    if decimal != ".":
        cleaned = cleaned.str.replace(decimal, ".", regex=False)
    numbers = _to_float(cleaned.where(present, None))
    if minimum is not None:
        low = numbers < minimum
        if low.any():
            row, value = _first_bad(low, frame, raw)
            message = "negatieve waarde niet toegestaan" if minimum == 0 else "waarde is te laag"
            raise SourceError(file, message, row=row, column=column, value=value, expected=f">= {minimum:g}")
    if maximum is not None:
        high = numbers > maximum
        if high.any():
            row, value = _first_bad(high, frame, raw)
            raise SourceError(file, "waarde is te hoog", row=row, column=column, value=value, expected=f"<= {maximum:g}")
    return numbers


def parse_integer(
    frame: pd.DataFrame,
    column: str,
    *,
    file: str,
    minimum: int | None = None,
    maximum: int | None = None,
    decimal: str = ",",
    thousands: str | None = ".",
) -> pd.Series:
    numbers = parse_number(
        frame, column, file=file, decimal=decimal, thousands=thousands, minimum=minimum, maximum=maximum
    )
    fractional = numbers.notna() & (numbers != numbers.round())
    if fractional.any():
        row, value = _first_bad(fractional, frame, frame[column])
        raise SourceError(file, "geen geheel getal", row=row, column=column, value=value, expected="geheel getal")
    huge = numbers.notna() & (numbers.abs() > MAX_EXACT_INTEGER)
    if huge.any():  # would not fit Int64 (and is no count, year or house number anyway)
        row, value = _first_bad(huge, frame, frame[column])
        raise SourceError(
            file, "getal is te groot", row=row, column=column, value=value, expected=f"<= {MAX_EXACT_INTEGER}"
        )
    return numbers.astype("Int64")


def parse_date(
    frame: pd.DataFrame,
    column: str,
    *,
    file: str,
    formats: Sequence[str] = DATE_FORMATS,
) -> pd.Series:
    """Dates in any of the accepted formats; per cell the first format that fits wins."""
    raw = frame[column]
    text = raw.astype("str").where(raw.notna(), None).str.strip()
    result = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    todo = text.notna() & (text != "")
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        hit = parsed.notna()
        # pandas 3 keeps years beyond 1677..2262 at second resolution; they do not fit datetime64[ns].
        beyond = hit & ((parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max))
        if beyond.any():
            row, value = _first_bad(beyond.reindex(frame.index, fill_value=False), frame, raw)
            raise SourceError(
                file, "datum buiten het geldige bereik", row=row, column=column, value=value,
                expected="een jaar tussen 1678 en 2261",
            )
        result.loc[parsed.index[hit]] = parsed[hit].astype("datetime64[ns]")
        todo.loc[parsed.index[hit]] = False
    if todo.any():
        row, value = _first_bad(todo, frame, raw)
        raise SourceError(file, "geen geldige datum", row=row, column=column, value=value, expected="datum als dd-mm-jjjj")
    return result.dt.normalize()


def parse_bool(frame: pd.DataFrame, column: str, *, file: str) -> pd.Series:
    raw = frame[column]
    text = raw.astype("str").where(raw.notna(), None).str.strip().str.lower()
    result = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    result[text.isin(TRUE_WORDS)] = True
    result[text.isin(FALSE_WORDS)] = False
    bad = text.notna() & (text != "") & result.isna()
    if bad.any():
        row, value = _first_bad(bad, frame, raw)
        raise SourceError(file, "geen ja/nee-waarde", row=row, column=column, value=value, expected="ja/nee, J/N, 1/0")
    return result


def parse_code(
    frame: pd.DataFrame,
    column: str,
    *,
    file: str,
    allowed: Iterable[str] | None = None,
    values: Mapping[str, str] | None = None,
    upper: bool = True,
) -> pd.Series:
    """Code columns: trimmed, optionally mapped (case-insensitive) and checked against a code list."""
    raw = frame[column]
    text = raw.astype("str").where(raw.notna(), None).str.strip()
    if values:
        lookup = {str(k).strip().lower(): v for k, v in values.items()}
        mapped = text.str.lower().map(lookup)
        text = mapped.where(mapped.notna(), text.str.upper() if upper else text)
    elif upper:
        text = text.str.upper()
    text = text.replace("", None).astype("str")
    if allowed is not None:
        allowed_set = set(allowed)
        bad = text.notna() & ~text.isin(allowed_set)
        if bad.any():
            row, value = _first_bad(bad, frame, raw)
            raise SourceError(
                file, "onbekende code", row=row, column=column, value=value, expected=", ".join(sorted(allowed_set))
            )
    return text


_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")


def normalise_postcode(series: pd.Series) -> pd.Series:
    """'1234 ab' -> '1234AB'; anything that is not a Dutch postcode becomes missing."""
    text = series.astype("str").where(series.notna(), None)
    # Most postcodes are written as '1234AB' already; only the others need the (Python) pattern.
    written_out = text.str.fullmatch("[1-9][0-9]{3}[A-Z]{2}").fillna(False).astype(bool)
    other = text.notna() & ~written_out
    if not other.any():
        return text
    parts = text[other].str.extract(_POSTCODE)
    return text.where(written_out, (parts[0] + parts[1].str.upper()).reindex(text.index)).astype("str")


_HOUSE = re.compile(r"^\s*([0-9]+)\s*[-/ ]?\s*([A-Za-z](?![A-Za-z]))?\s*[-/ ]?\s*(.*?)\s*$")


def split_huisnummer(series: pd.Series) -> pd.DataFrame:
    """Free-form house numbers as stock lists write them: '12', '12A', '12-A', '12 a 3', '12-2hg', '7 bis'.

    Returns huisnummer (Int64), huisletter (single letter, upper case) and huisnummertoevoeging.
    """
    text = series.astype("str").where(series.notna(), None)
    parts = text.str.extract(_HOUSE)
    digits = parts[0].where(parts[0].str.len() <= 9)  # longer is no house number (and overflows Int64)
    number = _to_float(digits).astype("Int64")  # at most 9 digits: exact as a float
    letter = parts[1].str.upper().replace("", None).astype("str")
    addition = parts[2].str.upper().replace("", None).astype("str")
    return pd.DataFrame({"huisnummer": number, "huisletter": letter, "huisnummertoevoeging": addition})


# 'Stationsplein 12 A' -> street 'Stationsplein', house part '12 A'. The street must hold a letter
# and the house part is the first blank-separated token that starts with a digit after it, so
# '1e Oosterparkstraat 12-2' and "'s-Gravenweg 7 bis" split right. A street name that itself ends
# in a number ('Laan 1940-1945 12') cannot be told apart and splits at its first number.
_ADRES = re.compile(r"^\s*(?P<straat>\S*[^\W\d_][^\s]*(?:\s+\D\S*)*?)\s+(?P<huis>[0-9].*?)\s*$")


def split_adres(series: pd.Series) -> pd.DataFrame:
    """A combined 'straat huisnummer toevoeging' cell: 'Stationsplein 12 A', 'Kerkstraat 7-2'.

    Returns straat (text) plus the three columns of `split_huisnummer`; a cell without a street
    followed by a house number gives a missing huisnummer (the caller reports it).
    """
    text = series.astype("str").where(series.notna(), None)
    parts = text.str.extract(_ADRES)
    house = split_huisnummer(parts["huis"])
    house.insert(0, "straat", parts["straat"].str.strip().replace("", None).astype("str"))
    return house


def normalise_toevoeging(series: pd.Series) -> pd.Series:
    text = series.astype("str").where(series.notna(), None).str.strip().str.upper()
    return text.str.replace(r"^[-/\s]+", "", regex=True).replace("", None).astype("str")


def map_values(series: pd.Series, values: Mapping[str, str | None] | None) -> pd.Series:
    """Replace delivered values by contract values (case- and blank-insensitive); others pass through.

    A value mapped to None or '' becomes missing. Returns a 'str' series.
    """
    text = series.astype("str").where(series.notna(), None).str.strip()
    if not values:
        return text.replace("", None).astype("str")
    lookup = {_value_key(k): ("" if v is None else str(v)) for k, v in values.items()}
    keys = text.str.replace(WHITESPACE_RUN, " ", regex=True).str.casefold()
    known = keys.isin(list(lookup))
    out = text.where(~known, keys.map(lookup))
    return out.replace("", None).astype("str")


def _value_key(value: object) -> str:
    return re.sub(r"\s+", " ", str(value).strip()).casefold()


def normalise_cbs_code(series: pd.Series, prefix: str, digits: int) -> pd.Series:
    """CBS area codes: strip (CBS pads with blanks), upper-case, and add the prefix to bare digits.

    'gm0392 ' -> 'GM0392', '392' -> 'GM0392' (prefix 'GM', 4 digits), '03920101' -> 'BU03920101'.
    Whether the result is valid is for the caller to check.
    """
    text = series.astype("str").where(series.notna(), None).str.strip().str.upper()
    text = text.str.replace(WHITESPACE_RUN, "", regex=True)
    bare = text.str.fullmatch(rf"[0-9]{{1,{digits}}}").fillna(False).astype(bool)
    text = text.where(~bare, prefix + text.str.zfill(digits))
    return text.replace("", None).astype("str")


def normalise_bag_id(series: pd.Series, *, file: str, frame: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """BAG ids are 16 digits. Excel drops leading zeros ('392010000012345'): pad those, and return
    which rows were padded (a boolean series), so a caller can count them per file.

    Anything else that is not digits is refused with its row.
    """
    text = series.astype("str").where(series.notna(), None).str.strip()
    text = text.str.replace(r"\.0$", "", regex=True)
    not_digits = text.notna() & ~text.str.fullmatch(r"[0-9]{1,16}").fillna(False).astype(bool)
    if not_digits.any():
        row, value = _first_bad(not_digits, frame, series)
        raise SourceError(file, "geen geldig BAG-id", row=row, column=column, value=value, expected="16 cijfers")
    short = text.notna() & (text.str.len() < 16)
    too_short = short & (text.str.len() < 12)
    if too_short.any():
        row, value = _first_bad(too_short, frame, series)
        raise SourceError(file, "BAG-id is te kort", row=row, column=column, value=value, expected="16 cijfers")
    padded = text.where(~short, text.str.zfill(16)).astype("str")
    return padded, short.fillna(False).astype(bool)


def address_key(postcode: pd.Series, huisnummer: pd.Series, huisletter: pd.Series, toevoeging: pd.Series) -> pd.Series:
    """One comparable string per address: '2011AB|12|A|2HG'. Missing parts are empty."""
    def part(s: pd.Series) -> pd.Series:
        return s.astype("str").fillna("").str.upper().str.strip()

    number = huisnummer.astype("Int64").astype("str").fillna("")
    key = part(postcode) + "|" + number + "|" + part(huisletter) + "|" + part(toevoeging)
    return key.where(postcode.notna() & huisnummer.notna(), None).astype("str")
