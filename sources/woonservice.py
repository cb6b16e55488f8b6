"""Allocation-system exports (Woonservice, WoningNet, ...): lettings and house seekers.

Our own import template (headers = contract names, decimal comma, dd-mm-jjjj) needs no mapping;
other exports are mapped through `mappings/woonservice/<flavour>.yaml`, one file with a
`toewijzingen:` and a `woningzoekenden:` section. Output: the contracts of docs/data-contracts.md
§3.1 (`toewijzingen`) and §3.2 (`woningzoekenden`).

Household income, age and composition are personal data (AVG): they stay in the staging layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from sources.errors import ReadResult, SourceError
from sources.formats import SOURCE_FILE, SOURCE_ROW, map_columns, read_delimited, read_xlsx
from sources.mapping import (
    TOEWIJZINGEN_COLUMNS,
    WONINGZOEKENDEN_COLUMNS,
    ColumnSpec,
    ExportMapping,
    check_unique,
    contract_dtypes,
    convert_columns,
    fail_at,
    found_headers,
    load_export_mapping,
    template_export_mapping,
)

__all__ = [
    "TOEWIJZINGEN_DTYPES",
    "WONINGZOEKENDEN_DTYPES",
    "ExportMapping",
    "load_export_mapping",
    "read_toewijzingen",
    "read_woningzoekenden",
    "template_export_mapping",
]

Section = Literal["toewijzingen", "woningzoekenden"]
CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}

#: Output columns and dtypes of `read_toewijzingen` (the `_source_*` columns come last).
TOEWIJZINGEN_DTYPES: dict[str, str] = {
    **contract_dtypes(TOEWIJZINGEN_COLUMNS),
    SOURCE_FILE: "str",
    SOURCE_ROW: "Int64",
}
#: Output columns and dtypes of `read_woningzoekenden`.
WONINGZOEKENDEN_DTYPES: dict[str, str] = {
    **contract_dtypes(WONINGZOEKENDEN_COLUMNS),
    SOURCE_FILE: "str",
    SOURCE_ROW: "Int64",
}


def read_toewijzingen(
    path: str | Path,
    *,
    mapping: ExportMapping | str | Path | None = None,
    display_name: str | None = None,
) -> ReadResult:
    """Read a lettings export (CSV or XLSX) onto the contract of docs/data-contracts.md §3.1.

    `mapping=None` reads our own template. Raises SourceError with file, row, column, value and the
    expected form for a missing required column or value, an unparseable date or amount, an unknown
    code, a negative amount or count, a date outside 1900..next year, or a duplicate toewijzing_id.
    """
    result, out, headers = _read(path, "toewijzingen", TOEWIJZINGEN_COLUMNS, mapping, display_name)
    name = result.source_file
    check_unique(out, ["toewijzing_id"], file=name, headers=headers, describe="toewijzing_id")
    registered_later = out["inschrijfdatum"].notna() & (out["inschrijfdatum"] > out["toewijzingsdatum"])
    if registered_later.any():
        rows = ", ".join(str(r) for r in out.loc[registered_later, SOURCE_ROW].head(5))
        result.warnings.append(
            f"{int(registered_later.sum())} toewijzing(en) met een inschrijfdatum na de toewijzingsdatum (rij {rows})"
        )
    detail_only = out["voorrang_detail"].notna() & out["voorrang"].isna()
    if detail_only.any():
        rows = ", ".join(str(r) for r in out.loc[detail_only, SOURCE_ROW].head(5))
        result.warnings.append(f"{int(detail_only.sum())} toewijzing(en) met voorrang_detail zonder voorrang (rij {rows})")
    result.metadata["periode"] = _span(out["toewijzingsdatum"])
    return result


def read_woningzoekenden(
    path: str | Path,
    *,
    mapping: ExportMapping | str | Path | None = None,
    display_name: str | None = None,
) -> ReadResult:
    """Read a house-seekers export (CSV or XLSX) onto the contract of docs/data-contracts.md §3.2.

    Besides the per-cell rules of `read_toewijzingen`: periode_einde >= periode_begin,
    aantal_reacties_woongemeente <= aantal_reacties, gehuisvest_via only when gehuisvest, and
    (woningzoekende_id, periode_begin) unique.
    """
    result, out, headers = _read(path, "woningzoekenden", WONINGZOEKENDEN_COLUMNS, mapping, display_name)
    name = result.source_file
    fail_at(
        name, out["periode_einde"] < out["periode_begin"], out, "periode_einde",
        "periode_einde ligt vóór periode_begin", headers=headers, expected="periode_einde >= periode_begin",
    )
    fail_at(
        name,
        out["aantal_reacties_woongemeente"].notna() & (out["aantal_reacties_woongemeente"] > out["aantal_reacties"]),
        out, "aantal_reacties_woongemeente",
        "meer reacties in de eigen woongemeente dan reacties in totaal", headers=headers,
        expected="aantal_reacties_woongemeente <= aantal_reacties",
    )
    fail_at(
        name, out["gehuisvest_via"].notna() & ~out["gehuisvest"].fillna(False).astype(bool), out, "gehuisvest_via",
        "gehuisvest_via ingevuld terwijl gehuisvest 'nee' of leeg is", headers=headers,
        expected="gehuisvest = ja, of gehuisvest_via leeg",
    )
    check_unique(
        out, ["woningzoekende_id", "periode_begin"], file=name, headers=headers,
        describe="woningzoekende_id + periode_begin",
    )
    housed_elsewhere = out["gehuisvest_gemeente_code"].notna() & ~out["gehuisvest"].fillna(False).astype(bool)
    if housed_elsewhere.any():
        rows = ", ".join(str(r) for r in out.loc[housed_elsewhere, SOURCE_ROW].head(5))
        result.warnings.append(
            f"{int(housed_elsewhere.sum())} woningzoekende(n) met gehuisvest_gemeente_code maar niet gehuisvest (rij {rows})"
        )
    # From the distinct periods: a timestamp formatted per row was half the read of a national export.
    periods = out[["periode_begin", "periode_einde"]].drop_duplicates()
    result.metadata["periodes"] = sorted(
        {f"{b:%Y-%m-%d}..{e:%Y-%m-%d}" for b, e in zip(periods["periode_begin"], periods["periode_einde"], strict=True)}
    )
    return result


def _span(dates: pd.Series) -> str | None:
    if dates.dropna().empty:
        return None
    return f"{dates.min():%Y-%m-%d}..{dates.max():%Y-%m-%d}"


def _display_name(path: Path, display_name: str | None) -> str:
    """Name relative to the landing folder when the file sits in `woonservice/`, else the name."""
    if display_name:
        return display_name
    if path.parent.name == "woonservice":
        return f"woonservice/{path.name}"
    return path.name


def _read(
    path: str | Path,
    section: Section,
    specs: tuple[ColumnSpec, ...],
    mapping: ExportMapping | str | Path | None,
    display_name: str | None,
) -> tuple[ReadResult, pd.DataFrame, dict[str, str]]:
    path = Path(path)
    if mapping is None:
        mapping = template_export_mapping()
    elif not isinstance(mapping, ExportMapping):
        mapping = load_export_mapping(mapping)
    name = _display_name(path, display_name)
    part = getattr(mapping, section)
    if part is None:
        raise SourceError(
            mapping.source or mapping.naam, f"mapping {mapping.naam!r} heeft geen sectie {section!r}"
        )
    bestand = mapping.bestand_for(section)

    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        file_format = "csv"
    elif suffix in XLSX_SUFFIXES:
        file_format = "xlsx"
    else:
        raise SourceError(name, f"bestandsformaat {suffix or '(geen extensie)'} wordt niet ondersteund", expected=".csv of .xlsx")
    if bestand.formaat is not None and bestand.formaat != file_format:
        raise SourceError(
            name, f"bestand is {file_format}, de mapping beschrijft {bestand.formaat}",
            expected=f"een .{bestand.formaat}-bestand, of pas de mapping aan",
        )
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

    required = [spec.name for spec in specs if spec.required]
    headers = found_headers([str(c) for c in raw.columns], part)
    frame, drift = map_columns(raw, part.kolommen, required=required, file=name, header_row=bestand.kopregel)
    conversion = convert_columns(frame, specs, part, bestand, file=name, headers=headers)

    out = pd.DataFrame(index=frame.index)
    for spec in specs:
        out[spec.name] = conversion.columns[spec.name]
    out[SOURCE_FILE] = pd.Series(name, index=frame.index, dtype="str")
    out[SOURCE_ROW] = frame[SOURCE_ROW].astype("Int64")
    out = out.reset_index(drop=True)

    warnings = list(conversion.warnings)
    if conversion.bag_ids_padded:
        warnings.append(
            f"{conversion.bag_ids_padded} BAG-id('s) misten voorloopnullen en zijn aangevuld tot 16 cijfers"
        )
    if drift.unknown:
        warnings.append(f"onbekende kolommen genegeerd: {', '.join(sorted(drift.unknown))}")
    if drift.missing_optional:
        warnings.append(f"kolommen uit de mapping ontbreken: {', '.join(sorted(drift.missing_optional))}")
    result = ReadResult(
        frame=out,
        source_file=name,
        warnings=warnings,
        drift=drift,
        metadata={
            "dataset": section,
            "mapping": mapping.source or mapping.naam,
            "formaat": file_format,
            "rijen": len(out),
            "bag_ids_aangevuld": conversion.bag_ids_padded,
        },
    )
    return result, out, headers
