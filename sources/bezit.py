"""Corporation stock lists (bezitslijsten): one export per corporation per peildatum.

Files land as `bezit/<slug>/bezitslijst_<slug>_<jjjj-mm-dd>.csv|xlsx`. Headers, code values and the
number format differ per corporation and are described in `mappings/bezit/<slug>.yaml`; this module
maps every export onto the contract of docs/data-contracts.md §4 (`raw_bezit`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from sources.errors import ReadResult, SchemaDrift, SourceError
from sources.formats import SOURCE_FILE, SOURCE_ROW, date_in_file_name, map_columns, read_delimited, read_xlsx
from sources.mapping import (
    BEZIT_COLUMNS,
    BEZIT_OUTPUT_ORDER,
    BezitMapping,
    Conversion,
    MappingError,
    check_unique,
    contract_dtypes,
    convert_columns,
    fail_at,
    found_headers,
    load_bezit_mapping,
)

__all__ = [
    "BEZIT_DTYPES",
    "BezitMapping",
    "discover_bezitslijsten",
    "load_bezit_mapping",
    "peildatum_from_name",
    "read_bezitslijst",
    "read_bezitslijsten",
]

FILE_NAME = re.compile(
    r"^bezitslijst_(?P<slug>[a-z0-9_]+?)_(?P<datum>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(?P<ext>csv|xlsx)$", re.IGNORECASE
)
CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}

#: Output columns and dtypes of `read_bezitslijst` (the `_source_*` columns come last).
BEZIT_DTYPES: dict[str, str] = {
    "corporatie": "str",
    "peildatum": "datetime64[ns]",
    **contract_dtypes(BEZIT_COLUMNS),
    SOURCE_FILE: "str",
    SOURCE_ROW: "Int64",
}


def peildatum_from_name(path: str | Path, *, display_name: str | None = None) -> tuple[str, pd.Timestamp]:
    """(slug, peildatum) from `bezitslijst_<slug>_<jjjj-mm-dd>.<ext>`; SourceError when absent."""
    path = Path(path)
    name = display_name or path.name
    match = FILE_NAME.match(path.name)
    if match is None:
        raise SourceError(
            name,
            "bestandsnaam bevat geen peildatum",
            value=path.name,
            expected="bezitslijst_<slug>_<jjjj-mm-dd>.csv of .xlsx",
        )
    return match["slug"].lower(), date_in_file_name(match["datum"], name)


def _display_name(path: Path, display_name: str | None) -> str:
    """Name relative to the landing folder when the file sits in `bezit/<slug>/`, else the name."""
    if display_name:
        return display_name
    if path.parent.parent.name == "bezit":
        return f"bezit/{path.parent.name}/{path.name}"
    return path.name


def _file_format(path: Path, name: str, declared: str | None) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        found = "csv"
    elif suffix in XLSX_SUFFIXES:
        found = "xlsx"
    else:
        raise SourceError(name, f"bestandsformaat {suffix or '(geen extensie)'} wordt niet ondersteund", expected=".csv of .xlsx")
    if declared is not None and declared != found:
        raise SourceError(
            name,
            f"bestand is {found}, de mapping beschrijft {declared}",
            expected=f"een .{declared}-bestand, of pas de mapping aan",
        )
    return found


@dataclass
class _Parsed:
    """A stock list read and mapped onto contract names, not yet typed."""

    name: str
    stamp: pd.Timestamp
    file_format: str
    frame: pd.DataFrame
    drift: SchemaDrift
    headers: dict[str, str]
    warnings: list[str]


def read_bezitslijst(
    path: str | Path,
    mapping: BezitMapping | str | Path,
    *,
    peildatum: date | datetime | str | None = None,
    display_name: str | None = None,
) -> ReadResult:
    """Read one stock list onto the `raw_bezit` contract (docs/data-contracts.md §4).

    `mapping` is a loaded mapping or the path of its YAML file. The peildatum comes from the file
    name unless given. Raises SourceError (file, row, column, value, expected form) for a file that
    does not fit: missing required column, unparseable value, unknown code, negative rent,
    duplicate VHE id. Unknown and missing optional columns are reported in `ReadResult.drift`.
    """
    if not isinstance(mapping, BezitMapping):
        mapping = load_bezit_mapping(mapping)
    return _typed_alone(_parse(Path(path), mapping, peildatum, display_name), mapping)


def read_bezitslijsten(paths: Sequence[Path], mapping: BezitMapping, display_names: Sequence[str]) -> list[ReadResult]:
    """`read_bezitslijst` for several stock lists of one corporation, with the same results.

    Typing a column costs a few dozen pandas operations whatever its length, so a national delivery
    (1,500 lists of a few thousand rows) spent about half its reading time on that fixed cost. Lists
    with the same headers are typed together and split back, each with its own counts and warnings
    (padded and placeholder BAG ids are noticed per row). A batch that raises is typed again list by
    list, so every error names its own file and row exactly as a single read would. Errors come in
    file order: the first failing list's, after the lists before it were read.
    """
    parsed: list[_Parsed] = []
    failure: Exception | None = None
    for path, name in zip(paths, display_names, strict=True):
        try:
            parsed.append(_parse(Path(path), mapping, None, name))
        except SourceError as exc:
            failure = exc  # raised once the lists before it are read, as reading one by one would
            break
    results: list[ReadResult] = []
    for _, run in itertools.groupby(parsed, key=lambda p: (p.headers, list(p.frame.columns))):
        results += _convert_together(list(run), mapping)
    if failure is not None:
        raise failure
    return results


def _convert_together(group: list[_Parsed], mapping: BezitMapping) -> list[ReadResult]:
    if len(group) > 1:
        frames = [p.frame for p in group]
        try:
            conversion = _convert(pd.concat(frames, ignore_index=True), group[0], mapping)
        except Exception:  # noqa: BLE001  # typed one by one below, which names the file that failed
            pass
        else:
            results, offset = [], 0
            for part, frame in zip(group, frames, strict=True):
                # each list's own columns, counts and warnings, as typing it alone gives
                rows = conversion.rows(offset, offset + len(frame), frame.index)
                offset += len(frame)
                results.append(_finish(part, mapping, rows))
            return results
    return [_typed_alone(part, mapping) for part in group]


def _typed_alone(parsed: _Parsed, mapping: BezitMapping) -> ReadResult:
    conversion = _convert(parsed.frame, parsed, mapping)
    return _finish(parsed, mapping, conversion)


def _parse(path: Path, mapping: BezitMapping, peildatum: date | datetime | str | None, display_name: str | None) -> _Parsed:
    name = _display_name(path, display_name)
    file_format = _file_format(path, name, mapping.bestand.formaat)
    warnings: list[str] = []

    if peildatum is None:
        slug, stamp = peildatum_from_name(path, display_name=name)
        if slug != mapping.slug:
            raise SourceError(
                name,
                f"bestandsnaam hoort bij corporatie {slug!r}, de mapping bij {mapping.slug!r}",
                expected=f"bezitslijst_{mapping.slug}_<jjjj-mm-dd>.{file_format}",
            )
    else:
        try:
            stamp = pd.Timestamp(peildatum).normalize()
        except (ValueError, TypeError) as exc:
            raise SourceError(name, "peildatum is geen datum", value=peildatum, expected="jjjj-mm-dd") from exc
        match = FILE_NAME.match(path.name)
        if match and match["datum"] != f"{stamp:%Y-%m-%d}":
            warnings.append(
                f"peildatum {stamp:%Y-%m-%d} opgegeven; de bestandsnaam noemt {match['datum']}"
            )

    bestand = mapping.bestand
    if file_format == "csv":
        raw = read_delimited(
            path, separator=bestand.scheidingsteken, display_name=name, skip_lines=bestand.kopregel - 1
        )
    else:
        raw = read_xlsx(
            path, display_name=name, decimal=bestand.decimaal, sheet=bestand.werkblad, header_row=bestand.kopregel
        )
    if raw.empty:
        raise SourceError(name, "bestand bevat geen rijen onder de kopregel", row=bestand.kopregel + 1)

    required = [spec.name for spec in BEZIT_COLUMNS if spec.required]
    headers = found_headers([str(c) for c in raw.columns], mapping)
    frame, drift = map_columns(raw, mapping.kolommen, required=required, file=name, header_row=bestand.kopregel)
    return _Parsed(name, stamp, file_format, frame, drift, headers, warnings)


def _convert(frame: pd.DataFrame, parsed: _Parsed, mapping: BezitMapping) -> Conversion:
    return convert_columns(frame, BEZIT_COLUMNS, mapping, mapping.bestand, file=parsed.name, headers=parsed.headers)


def _finish(parsed: _Parsed, mapping: BezitMapping, conversion: Conversion) -> ReadResult:
    name, frame, headers, drift, stamp = parsed.name, parsed.frame, parsed.headers, parsed.drift, parsed.stamp
    warnings = [*parsed.warnings, *conversion.warnings]

    out = pd.DataFrame(index=frame.index)
    out["corporatie"] = pd.Series(mapping.corporatie, index=frame.index, dtype="str")
    out["peildatum"] = pd.Series(stamp, index=frame.index, dtype="datetime64[ns]")
    for spec in BEZIT_COLUMNS:
        out[spec.name] = conversion.columns[spec.name]
    out[SOURCE_FILE] = pd.Series(name, index=frame.index, dtype="str")
    out[SOURCE_ROW] = frame[SOURCE_ROW].astype("Int64")

    check_unique(out, ["vhe_id"], file=name, headers=headers, describe="vhe_id")
    _consistency(out, name, headers, warnings)
    if conversion.bag_ids_padded:
        warnings.append(
            f"{conversion.bag_ids_padded} BAG-id('s) misten voorloopnullen en zijn aangevuld tot 16 cijfers"
        )
    if not drift.is_empty:
        if drift.unknown:
            warnings.append(f"onbekende kolommen genegeerd: {', '.join(sorted(drift.unknown))}")
        if drift.missing_optional:
            warnings.append(f"kolommen uit de mapping ontbreken: {', '.join(sorted(drift.missing_optional))}")

    out = out.reset_index(drop=True)
    assert list(out.columns) == [*BEZIT_OUTPUT_ORDER, SOURCE_FILE, SOURCE_ROW]
    return ReadResult(
        frame=out,
        source_file=name,
        warnings=warnings,
        drift=drift,
        metadata={
            "corporatie": mapping.corporatie,
            "slug": mapping.slug,
            "peildatum": f"{stamp:%Y-%m-%d}",
            "formaat": parsed.file_format,
            "mapping": mapping.source,
            "rijen": len(out),
            "bag_ids_aangevuld": conversion.bag_ids_padded,
        },
    )


def _consistency(out: pd.DataFrame, name: str, headers: dict[str, str], warnings: list[str]) -> None:
    """Cross-column rules: errors for what makes stock KPIs wrong, warnings for what a steward checks."""
    begin, end = out["in_exploitatie_datum"], out["uit_exploitatie_datum"]
    fail_at(
        name, begin.notna() & end.notna() & (end < begin), out, "uit_exploitatie_datum",
        "uit-exploitatiedatum ligt vóór de in-exploitatiedatum", headers=headers,
        expected="uit_exploitatie_datum >= in_exploitatie_datum",
    )
    reason_without_date = out["uit_exploitatie_reden"].notna() & end.isna()
    if reason_without_date.any():
        rows = ", ".join(str(r) for r in out.loc[reason_without_date, SOURCE_ROW].head(5))
        warnings.append(f"{int(reason_without_date.sum())} eenheid/eenheden met reden maar zonder uit-exploitatiedatum (rij {rows})")
    later = end.notna() & (end > out["peildatum"])
    if later.any():
        rows = ", ".join(str(r) for r in out.loc[later, SOURCE_ROW].head(5))
        warnings.append(f"{int(later.sum())} uit-exploitatiedatum(s) na de peildatum (rij {rows})")
    shared_bag = out["bag_vbo_id"].notna() & out.duplicated(subset=["bag_vbo_id"], keep=False)
    if shared_bag.any():
        rows = ", ".join(str(r) for r in out.loc[shared_bag, SOURCE_ROW].head(6))
        warnings.append(f"{int(shared_bag.sum())} rijen delen een BAG-id met een andere eenheid (rij {rows})")


def _refuse_outside(path: Path, root: Path, shown: str) -> None:
    """A corporation folder or stock list that is a symlink out of the landing folder is refused."""
    target = path.resolve()
    if root not in target.parents:
        raise SourceError(
            shown,
            f"verwijst naar {target}, buiten de landingsmap {root}; geweigerd",
            expected="bestanden en mappen die echt in de landingsmap staan (geen snelkoppeling naar elders)",
        )


def discover_bezitslijsten(landing_dir: str | Path, mappings_dir: str | Path) -> list[tuple[Path, BezitMapping]]:
    """Every `bezit/<slug>/bezitslijst_*` file under the landing folder, paired with its mapping.

    `landing_dir` is the landing folder (holding `bezit/`) or its `bezit` folder itself.

    Sorted by slug, then file name (so by peildatum). A corporation folder without
    `mappings_dir/<slug>.yaml` is an error naming the folder and the expected mapping path, as is a
    mapping whose slug is not the folder name, a stock list outside a corporation folder, or a stock
    list that is not .csv/.xlsx. Hidden folders and files (and Excel's `~$` lock files) are skipped.
    """
    landing_dir = Path(landing_dir)
    root = landing_dir / "bezit"
    if not root.is_dir() and landing_dir.name == "bezit":
        root = landing_dir  # called with the landing folder's `bezit` folder itself
    mappings_dir = Path(mappings_dir)
    if not root.is_dir():
        return []
    stray = sorted(p.name for p in root.iterdir() if p.is_file() and p.name.lower().startswith("bezitslijst_"))
    if stray:
        raise SourceError(
            f"bezit/{stray[0]}",
            "bezitslijst staat niet in een corporatiemap",
            expected=f"bezit/<slug>/{stray[0]}",
        )
    found: list[tuple[Path, BezitMapping]] = []
    inside = root.resolve()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        _refuse_outside(folder, inside, f"bezit/{folder.name}")
        files = sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p.name.lower().startswith("bezitslijst_") and not p.name.startswith((".", "~$"))
        )
        for file in files:
            _refuse_outside(file, inside, f"bezit/{folder.name}/{file.name}")
        mapping_path = mappings_dir / f"{folder.name}.yaml"
        if not mapping_path.is_file():
            raise MappingError(
                f"bezit/{folder.name}",
                "corporatiemap zonder mapping",
                expected=f"mappingbestand {mapping_path}",
            )
        mapping = load_bezit_mapping(mapping_path)
        if mapping.slug != folder.name:
            raise MappingError(
                mapping_path,
                f"slug {mapping.slug!r} in de mapping past niet bij de map bezit/{folder.name}",
                expected=f"slug: {folder.name}",
            )
        for file in files:
            if file.suffix.lower() not in CSV_SUFFIXES | XLSX_SUFFIXES:
                raise SourceError(
                    f"bezit/{folder.name}/{file.name}",
                    f"bestandsformaat {file.suffix or '(geen extensie)'} wordt niet ondersteund",
                    expected=".csv of .xlsx",
                )
            found.append((file, mapping))
    return found


# The mappings of the stock lists being read, per process: raw_bezit parses a national delivery in
# worker processes, which get the mappings once (use_mappings) instead of with every file.
_MAPPINGS: dict[Path, BezitMapping | str | Path] = {}


def use_mappings(mappings: dict[Path, BezitMapping | str | Path]) -> None:
    _MAPPINGS.clear()
    _MAPPINGS.update(mappings)


def read_mapped_bezitslijsten(paths: list[Path], display_names: list[str]) -> list[ReadResult]:
    """`read_bezitslijsten` for lists of one corporation, with the mapping given to `use_mappings`."""
    mapping = _MAPPINGS[paths[0]]
    if not isinstance(mapping, BezitMapping):
        mapping = load_bezit_mapping(mapping)
    return read_bezitslijsten(paths, mapping, display_names)
