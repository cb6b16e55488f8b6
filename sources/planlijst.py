"""The municipal new-build plan list (planlijst): one file per gemeente per peildatum, twice a year.

Our own template (docs/data-contracts.md, section "Planlijst nieuwbouw"): the header holds the
contract names below (matched case-insensitively, blanks and underscores alike), `;` CSV with decimal
comma or XLSX (first sheet, header on row 1). One row per project. The gemeente and the peildatum
come from the file name `planlijst_<GM####>_<jjjj-mm-dd>.csv|xlsx`; every row's gemeente_code must
be that gemeente.

Strict: a missing required column or value, an unparseable number, a negative count, an unknown
fase, an opleverjaar outside its range, a wijk of another gemeente, a delivered project without its
year (or a year without fase 'opgeleverd'), more social homes below the aftoppingsgrens than social
homes, a project without homes, or a project_id twice fail the load with file, row, column (the
header as delivered), value and the expected form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from sources.errors import ReadResult, SourceError
from sources.formats import (
    SOURCE_FILE,
    SOURCE_ROW,
    date_in_file_name,
    map_columns,
    normalise_cbs_code,
    normalise_header,
    parse_integer,
    parse_number,
    read_delimited,
    read_xlsx,
)
from sources.mapping import GEMEENTE_CODE, WIJK_CODE, cell_errors, check_unique, fail_at

__all__ = [
    "FASEN",
    "PLANLIJST_ALIASES",
    "PLANLIJST_DTYPES",
    "SEGMENTEN",
    "peildatum_from_name",
    "read_planlijst",
]

FILE_NAME = re.compile(
    r"^planlijst_(?P<gemeente>GM[0-9]{4})_(?P<datum>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(?P<ext>csv|txt|xlsx|xlsm)$", re.IGNORECASE
)
CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}

#: Project phases, in the order a project passes them.
FASEN: tuple[str, ...] = ("initiatief", "planvorming", "vergunning", "in aanbouw", "opgeleverd")
OPGELEVERD = "opgeleverd"
#: The five segments a plan list counts homes in (integers >= 0, every cell filled; 0 when none).
SEGMENTEN: tuple[str, ...] = ("sociale_huur", "middenhuur", "middeldure_koop", "vrije_sector_huur", "vrije_sector_koop")
#: Earliest accepted opleverjaar; the latest: expected <= peiljaar + 30, delivered <= peiljaar.
JAAR_MIN = 2000
JAAR_VOORUIT = 30

#: Contract column -> accepted headers (the first is the template's; later ones are reported as renamed).
PLANLIJST_ALIASES: dict[str, str | list[str]] = {
    "project_id": "project_id",
    "projectnaam": "projectnaam",
    "gemeente_code": "gemeente_code",
    "wijk_code": "wijk_code",
    "fase": "fase",
    "opleverjaar_verwacht": "opleverjaar_verwacht",
    "opleverjaar_gerealiseerd": "opleverjaar_gerealiseerd",
    "sociale_huur": "sociale_huur",
    "middenhuur": "middenhuur",
    "middeldure_koop": ["middeldure_koop", "betaalbare_koop"],
    "vrije_sector_huur": "vrije_sector_huur",
    "vrije_sector_koop": "vrije_sector_koop",
    "huur_sociaal_gemiddeld": "huur_sociaal_gemiddeld",
    "m2_gemiddeld": "m2_gemiddeld",
    "aantal_sociaal_onder_aftoppingsgrens": "aantal_sociaal_onder_aftoppingsgrens",
}
REQUIRED: tuple[str, ...] = (
    "project_id", "projectnaam", "gemeente_code", "fase", "opleverjaar_verwacht", *SEGMENTEN,
)

#: Output columns and dtypes of `read_planlijst` (woningen_totaal is derived: the sum of the segments).
PLANLIJST_DTYPES: dict[str, str] = {
    "peildatum": "datetime64[ns]",
    "gemeente_code": "str",
    "project_id": "str",
    "projectnaam": "str",
    "wijk_code": "str",
    "fase": "str",
    "opleverjaar_verwacht": "Int64",
    "opleverjaar_gerealiseerd": "Int64",
    **{segment: "Int64" for segment in SEGMENTEN},
    "woningen_totaal": "Int64",
    "huur_sociaal_gemiddeld": "float64",
    "m2_gemiddeld": "float64",
    "aantal_sociaal_onder_aftoppingsgrens": "Int64",
    SOURCE_FILE: "str",
    SOURCE_ROW: "Int64",
}


def peildatum_from_name(path: str | Path, *, display_name: str | None = None) -> tuple[str, pd.Timestamp]:
    """(gemeente_code, peildatum) from `planlijst_<GM####>_<jjjj-mm-dd>.<ext>`; SourceError when absent."""
    path = Path(path)
    name = display_name or path.name
    match = FILE_NAME.match(path.name)
    if match is None:
        raise SourceError(
            name,
            "bestandsnaam bevat geen gemeentecode en peildatum",
            value=path.name,
            expected="planlijst_<GM####>_<jjjj-mm-dd>.csv of .xlsx, bijv. planlijst_GM0392_2025-07-01.csv",
        )
    return match["gemeente"].upper(), date_in_file_name(match["datum"], name)


def _display_name(path: Path, display_name: str | None) -> str:
    """Name relative to the landing folder when the file sits in `planlijst/`, else the name."""
    if display_name:
        return display_name
    if path.parent.name == "planlijst":
        return f"planlijst/{path.name}"
    return path.name


def _delivered_headers(columns: Sequence[str], aliases: Mapping[str, str | list[str]]) -> dict[str, str]:
    """Contract column -> header as delivered (what a steward looks for in the file)."""
    by_normal = {normalise_header(c): c for c in columns if not c.startswith("_source")}
    found: dict[str, str] = {}
    for contract, names in aliases.items():
        for candidate in [names] if isinstance(names, str) else names:
            hit = by_normal.get(normalise_header(candidate))
            if hit is not None:
                found[contract] = hit
                break
    return found


def _rows(mask: pd.Series, frame: pd.DataFrame, limit: int = 5) -> str:
    return ", ".join(str(r) for r in frame.loc[mask, SOURCE_ROW].head(limit))


def read_planlijst(path: str | Path, *, display_name: str | None = None) -> ReadResult:
    """Read one plan list (CSV or XLSX, our template) onto the `raw_planlijst` contract.

    The gemeente and peildatum come from the file name. Raises SourceError naming file, row, column,
    value and the expected form for every broken cell or rule (see the module docstring).
    """
    path = Path(path)
    name = _display_name(path, display_name)
    gemeente, peildatum = peildatum_from_name(path, display_name=name)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        file_format = "csv"
        raw = read_delimited(path, display_name=name)
    elif suffix in XLSX_SUFFIXES:
        file_format = "xlsx"
        raw = read_xlsx(path, display_name=name, decimal=",")
    else:  # pragma: no cover - the file-name pattern admits only these suffixes
        raise SourceError(name, f"bestandsformaat {suffix} wordt niet ondersteund", expected=".csv of .xlsx")
    if raw.empty:
        raise SourceError(name, "bestand bevat geen rijen onder de kopregel", row=2)

    headers = _delivered_headers([str(c) for c in raw.columns], PLANLIJST_ALIASES)
    frame, drift = map_columns(raw, PLANLIJST_ALIASES, required=REQUIRED, file=name)
    rows = frame[SOURCE_ROW]
    warnings: list[str] = []

    def label(column: str) -> str:
        return headers.get(column, column)

    for column in REQUIRED:
        fail_at(
            name, frame[column].isna(), frame, column,
            "verplichte waarde ontbreekt" + ("; vul 0 in als het project geen woningen in dit segment heeft"
                                             if column in SEGMENTEN else ""),
            headers=headers, show_value=False,
        )

    out = pd.DataFrame(index=frame.index)
    out["peildatum"] = pd.Series(peildatum, index=frame.index, dtype="datetime64[ns]")

    # Codes: the gemeente must be the one in the file name, a wijk must lie in it.
    codes = normalise_cbs_code(frame["gemeente_code"], "GM", 4)
    bad = ~codes.str.fullmatch(GEMEENTE_CODE.pattern).fillna(False).astype(bool)
    fail_at(name, bad, frame, "gemeente_code", "geen geldige gemeentecode", headers=headers,
            expected="code zoals GM0392")
    fail_at(
        name, codes != gemeente, frame, "gemeente_code",
        f"gemeente wijkt af van de gemeente in de bestandsnaam ({gemeente})", headers=headers,
        expected=f"{gemeente} in elke rij, of lever per gemeente een eigen planlijst",
    )
    out["gemeente_code"] = codes.astype("str")
    out["project_id"] = frame["project_id"].astype("str").str.strip().astype("str")
    out["projectnaam"] = frame["projectnaam"].astype("str").str.strip().astype("str")
    wijk = normalise_cbs_code(frame["wijk_code"], "WK", 6)
    fail_at(
        name, wijk.notna() & ~wijk.str.fullmatch(WIJK_CODE.pattern).fillna(False).astype(bool), frame, "wijk_code",
        "geen geldige wijkcode", headers=headers, expected="code zoals WK039204",
    )
    fail_at(
        name, wijk.notna() & ~wijk.str.startswith("WK" + gemeente[2:]).fillna(False).astype(bool), frame, "wijk_code",
        f"wijk ligt niet in gemeente {gemeente}", headers=headers, expected=f"wijkcode WK{gemeente[2:]}NN",
    )
    out["wijk_code"] = wijk.astype("str")

    fase = frame["fase"].astype("str").str.strip().str.lower().str.replace(r"[\s_\-]+", " ", regex=True)
    fail_at(
        name, ~fase.isin(list(FASEN)), frame, "fase", "onbekende fase", headers=headers,
        expected=", ".join(FASEN),
    )
    out["fase"] = fase.astype("str")

    def integer(column: str, minimum: int | None = 0) -> pd.Series:
        with cell_errors(column, headers, frame[column], rows):
            return parse_integer(frame, column, file=name, minimum=minimum)

    def number(column: str) -> pd.Series:
        with cell_errors(column, headers, frame[column], rows):
            return parse_number(frame, column, file=name, minimum=0)

    peiljaar = peildatum.year
    for column, latest in (("opleverjaar_verwacht", peiljaar + JAAR_VOORUIT), ("opleverjaar_gerealiseerd", peiljaar)):
        years = integer(column, minimum=None)
        fail_at(
            name, years.notna() & ((years < JAAR_MIN) | (years > latest)), frame, column,
            "opleverjaar buiten het geldige bereik", headers=headers,
            expected=f"een jaar van {JAAR_MIN} t/m {latest}"
            + (" (niet na het jaar van de peildatum)" if column == "opleverjaar_gerealiseerd" else ""),
        )
        out[column] = years
    for segment in SEGMENTEN:
        out[segment] = integer(segment)
    out["woningen_totaal"] = out[list(SEGMENTEN)].sum(axis=1).astype("Int64")
    out["huur_sociaal_gemiddeld"] = number("huur_sociaal_gemiddeld")
    out["m2_gemiddeld"] = number("m2_gemiddeld")
    out["aantal_sociaal_onder_aftoppingsgrens"] = integer("aantal_sociaal_onder_aftoppingsgrens")
    out[SOURCE_FILE] = pd.Series(name, index=frame.index, dtype="str")
    out[SOURCE_ROW] = rows.astype("Int64")

    # Rules across columns.
    delivered = out["fase"] == OPGELEVERD
    fail_at(
        name, delivered & out["opleverjaar_gerealiseerd"].isna(), out, "opleverjaar_gerealiseerd",
        "opleverjaar_gerealiseerd ontbreekt bij fase 'opgeleverd'", headers=headers, show_value=False,
        expected="het jaar van oplevering",
    )
    fail_at(
        name, ~delivered & out["opleverjaar_gerealiseerd"].notna(), out, "opleverjaar_gerealiseerd",
        "opleverjaar_gerealiseerd ingevuld terwijl de fase niet 'opgeleverd' is", headers=headers,
        expected="fase 'opgeleverd', of opleverjaar_gerealiseerd leeg",
    )
    empty = out["woningen_totaal"] == 0
    if empty.any():
        first = empty[empty].index[0]
        raise SourceError(
            name,
            "project zonder woningen: alle segmenten zijn 0",
            row=int(out.at[first, SOURCE_ROW]),
            column=", ".join(label(s) for s in SEGMENTEN),
            expected="minstens één woning in een segment (een vervallen project hoort niet op de planlijst)",
        )
    onder = out["aantal_sociaal_onder_aftoppingsgrens"]
    fail_at(
        name, onder.notna() & (onder > out["sociale_huur"]), out, "aantal_sociaal_onder_aftoppingsgrens",
        "meer sociale huurwoningen onder de aftoppingsgrens dan sociale huurwoningen", headers=headers,
        expected="aantal_sociaal_onder_aftoppingsgrens <= sociale_huur",
    )
    check_unique(out, ["project_id"], file=name, headers=headers, describe="project_id")

    rent_without_social = out["huur_sociaal_gemiddeld"].notna() & (out["sociale_huur"] == 0)
    if rent_without_social.any():
        warnings.append(
            f"{int(rent_without_social.sum())} project(en) met huur_sociaal_gemiddeld maar zonder sociale huur "
            f"(rij {_rows(rent_without_social, out)})"
        )
    late = ~delivered & (out["opleverjaar_verwacht"] < peiljaar)
    if late.any():
        warnings.append(
            f"{int(late.sum())} project(en) niet opgeleverd met een verwacht opleverjaar vóór {peiljaar} "
            f"(rij {_rows(late, out)})"
        )
    if drift.unknown:
        warnings.append(f"onbekende kolommen genegeerd: {', '.join(sorted(drift.unknown))}")
    if drift.renamed:
        warnings.append(
            "kolommen onder een andere naam gevonden: "
            + ", ".join(f"{header} -> {contract}" for contract, header in sorted(drift.renamed.items()))
        )

    out = out.reset_index(drop=True)
    out = out.astype(PLANLIJST_DTYPES)
    assert list(out.columns) == list(PLANLIJST_DTYPES)
    return ReadResult(
        frame=out,
        source_file=name,
        warnings=warnings,
        drift=drift,
        metadata={
            "dataset": "planlijst",
            "gemeente_code": gemeente,
            "peildatum": f"{peildatum:%Y-%m-%d}",
            "formaat": file_format,
            "projecten": len(out),
            "woningen": int(out["woningen_totaal"].sum()),
        },
    )
