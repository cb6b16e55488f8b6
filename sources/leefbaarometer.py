"""Leefbaarometer 3.0 scores (BZK open data, CC0) per buurt, wijk, gemeente, PC4 area or grid cell.

The open-data CSVs (`Leefbaarometer-scores buurten 2002-2024.csv`, `... wijken ...`, `... gemeenten
...`, `... PC4 ...`, `... grid ...`) hold one row per area per measurement year with the total score
`lbm`, its deviation `afw` from the national reference, and the five dimension contributions `won`,
`fys`, `vrz`, `soc`, `onv` that add up to `afw`. The level follows from the key column. The CSVs carry
no class; when a `kscore` column is present (as in the WFS) it is used, otherwise the class is derived
from `afw` with the boundary table `reference/leefbaarometer_klassen.csv`, and the rows say so.

Only the 3.0 series is accepted: its measurement years are fixed, anything else is refused so the
older 2.0 series (other model, other scale) is never mixed in.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sources.errors import ReadResult, SchemaError, SourceError
from sources.formats import (
    SOURCE_FILE,
    SOURCE_ROW,
    delivered_columns,
    map_columns,
    normalise_header,
    parse_integer,
    parse_number,
    read_delimited,
)

__all__ = [
    "DEFAULT_BOUNDARIES",
    "DIMENSIES",
    "KLASSE_NAMEN",
    "LEVELS",
    "MEETJAREN",
    "OUTPUT_COLUMNS",
    "klasse_uit_afw",
    "load_klassegrenzen",
    "read_scores",
]

MEETJAREN = (2002, 2008, 2012, 2014, 2016, 2018, 2020, 2022, 2024)

KLASSE_NAMEN: dict[int, str] = {
    1: "Zeer onvoldoende",
    2: "Ruim onvoldoende",
    3: "Onvoldoende",
    4: "Zwak",
    5: "Voldoende",
    6: "Ruim voldoende",
    7: "Goed",
    8: "Zeer goed",
    9: "Uitstekend",
}

DEFAULT_BOUNDARIES = Path(__file__).resolve().parent.parent / "reference" / "leefbaarometer_klassen.csv"

DIMENSIES = ("won", "fys", "vrz", "soc", "onv")
SCORES = ("lbm", "afw", *DIMENSIES)
SUM_TOLERANCE = 0.01

# niveau -> (key column, name column, code pattern). Checked from most to least specific, so a
# buurten file that also carries wk_code / gm_code is still read as buurten.
LEVELS: dict[str, tuple[str, str | None, str]] = {
    "buurt": ("bu_code", "bu_naam", r"BU[0-9]{4}[0-9A-Z]{4}"),
    "wijk": ("wk_code", "wk_naam", r"WK[0-9]{4}[0-9A-Z]{2}"),
    "gemeente": ("gm_code", "gm_naam", r"GM[0-9]{4}"),
    "pc4": ("pc4", None, r"[1-9][0-9]{3}"),
    "grid": ("grid_id", None, r"[0-9A-Za-z][0-9A-Za-z_.\-]*"),
}
_NAME_COLUMNS = tuple(n for _k, n, _p in LEVELS.values() if n)
_EXAMPLES = {
    "buurt": "BU + 4 cijfers + 4 cijfers/letters, bijv. BU03920100 of BU0363AA06",
    "wijk": "WK + 4 cijfers + 2 cijfers/letters, bijv. WK039201 of WK0363AA",
    "gemeente": "GM + 4 cijfers, bijv. GM0392",
    "pc4": "4 cijfers, bijv. 2011",
    "grid": "cel-id van letters en cijfers",
}
_GEMEENTE_FROM_CODE = {"buurt", "wijk", "gemeente"}

OUTPUT_COLUMNS = [
    "niveau",
    "gebied_code",
    "gebied_naam",
    "gemeente_code",
    "jaar",
    *SCORES,
    "klasse",
    "klasse_afgeleid",
    "indeling",
    SOURCE_FILE,
    SOURCE_ROW,
]

# BZK publishes every measurement year in ONE vintage of CBS area codes, the last year in the file
# name ("Leefbaarometer-scores buurten 2002-2024.csv": the 2024 indeling). Codes are only comparable
# within a vintage, so it is kept on every row.
_VINTAGE = re.compile(r"(?:19|20)\d{2}\s*-\s*((?:19|20)\d{2})")


def indeling_from_name(name: str) -> int | None:
    """The CBS area-code vintage from the file name, or None when the name does not give it."""
    match = _VINTAGE.search(Path(name).name)
    return int(match.group(1)) if match else None

# Columns we know and do not carry: the per-dimension classes of the WFS and parent-area codes.
_KNOWN_UNUSED = {
    normalise_header(c)
    for c in ("kwon", "kfys", "kvrz", "ksoc", "konv", "kafw", "klbm", "bu_code", "bu_naam", "wk_code",
              "wk_naam", "gm_code", "gm_naam", "pc4", "grid_id")
}
_BOUNDARY_COLUMNS = ("klasse", "naam", "afw_ondergrens", "afw_bovengrens", "bron", "confidence")
_CONFIDENCE = ("official", "unverified")


# --------------------------------------------------------------------------------------------
# class boundaries
# --------------------------------------------------------------------------------------------


def load_klassegrenzen(path: str | Path | None = None) -> pd.DataFrame:
    """The boundary table: classes 1..9 with afw lower bound (inclusive) and upper bound (exclusive).

    Class 1 has no lower bound and class 9 no upper bound; the bounds must join without gaps.
    """
    path = Path(path) if path is not None else DEFAULT_BOUNDARIES
    name = path.name
    raw = read_delimited(path, display_name=name)
    header = {normalise_header(c): c for c in raw.columns if not str(c).startswith("_source")}
    missing = [c for c in _BOUNDARY_COLUMNS if normalise_header(c) not in header]
    if missing:
        raise SchemaError(name, f"kolom(men) ontbreken: {', '.join(missing)}", row=1, column=missing[0],
                          expected=", ".join(_BOUNDARY_COLUMNS))
    raw = raw.rename(columns={header[normalise_header(c)]: c for c in _BOUNDARY_COLUMNS})
    with delivered_columns({c: header[normalise_header(c)] for c in _BOUNDARY_COLUMNS}):
        return _boundary_table(raw, name)


def _boundary_table(raw: pd.DataFrame, name: str) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "klasse": parse_integer(raw, "klasse", file=name),
            "naam": raw["naam"].astype("str").str.strip(),
            "afw_ondergrens": parse_number(raw, "afw_ondergrens", file=name, decimal=".", thousands=None),
            "afw_bovengrens": parse_number(raw, "afw_bovengrens", file=name, decimal=".", thousands=None),
            "bron": raw["bron"].astype("str"),
            "confidence": raw["confidence"].astype("str").str.strip().str.lower(),
            SOURCE_ROW: raw[SOURCE_ROW],
        }
    )
    # A bad class is a cell problem: name its row. Only a class that is missing altogether has none.
    klasse = table["klasse"]
    bad = klasse.isna() | ~klasse.isin(list(range(1, 10))).fillna(False).astype(bool) | klasse.duplicated()
    if bad.any():
        first = bad[bad].index[0]
        raise SourceError(name, "klassen moeten precies 1 t/m 9 zijn, elk één keer", row=int(table.at[first, SOURCE_ROW]),
                          column="klasse", value=raw.at[first, "klasse"], expected="1, 2, ..., 9 (elk één keer)")
    if sorted(klasse.astype(int).tolist()) != list(range(1, 10)):
        raise SourceError(name, "klassen moeten precies 1 t/m 9 zijn", column="klasse",
                          value=klasse.tolist(), expected="1, 2, ..., 9 (elk één keer)")
    table = table.sort_values("klasse").reset_index(drop=True)
    for _, row in table.iterrows():
        k = int(row["klasse"])
        where = int(row[SOURCE_ROW])
        if row["confidence"] not in _CONFIDENCE:
            raise SourceError(name, "onbekende confidence", row=where, column="confidence",
                              value=row["confidence"], expected=" of ".join(_CONFIDENCE))
        low, high = row["afw_ondergrens"], row["afw_bovengrens"]
        if (k == 1) != pd.isna(low):
            raise SourceError(name, "alleen klasse 1 heeft geen ondergrens", row=where, column="afw_ondergrens",
                              value=low)
        if (k == 9) != pd.isna(high):
            raise SourceError(name, "alleen klasse 9 heeft geen bovengrens", row=where, column="afw_bovengrens",
                              value=high)
        if not pd.isna(low) and not pd.isna(high) and not low < high:
            raise SourceError(name, "ondergrens moet kleiner zijn dan bovengrens", row=where,
                              column="afw_bovengrens", value=high, expected=f"> {low}")
        if k < 9:
            next_low = table["afw_ondergrens"].iloc[k]  # the row of class k + 1
            if abs(float(high) - float(next_low)) > 1e-12:
                raise SourceError(name, f"bovengrens van klasse {k} sluit niet aan op de ondergrens van klasse {k + 1}",
                                  row=where, column="afw_bovengrens", value=high, expected=f"{next_low}")
    return table.drop(columns=[SOURCE_ROW])


def klasse_uit_afw(afw: pd.Series, grenzen: pd.DataFrame) -> pd.Series:
    """Class 1..9 for each afw value (Int64; missing afw gives a missing class)."""
    inner = grenzen.sort_values("klasse")["afw_ondergrens"].to_numpy(dtype="float64")[1:]
    values = afw.to_numpy(dtype="float64", na_value=np.nan)
    klasse = np.searchsorted(inner, values, side="right") + 1
    out = pd.Series(klasse, index=afw.index).astype("Int64")
    return out.mask(afw.isna())


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def read_scores(
    path: str | Path,
    *,
    display_name: str | None = None,
    boundaries_path: str | Path | None = None,
) -> ReadResult:
    """Read one Leefbaarometer 3.0 open-data CSV onto the contract of docs/data-contracts.md §2."""
    path = Path(path)
    name = display_name or path.name
    raw = read_delimited(path, display_name=name)
    with delivered_columns(_labels(raw)):
        return _read_scores(path, name, raw, boundaries_path)


def _labels(raw: pd.DataFrame) -> dict[str, str]:
    """Contract and canonical column names -> the header as delivered (what errors name)."""
    delivered = {normalise_header(c): c for c in raw.columns if not str(c).startswith("_source")}
    labels: dict[str, str] = {}
    for canonical in ("jaar", "kscore", *SCORES, *(k for k, _n, _p in LEVELS.values()), *_NAME_COLUMNS):
        if normalise_header(canonical) in delivered:
            labels[canonical] = delivered[normalise_header(canonical)]
    for key, naam, _pattern in LEVELS.values():  # most specific level first, as _detect_level
        if key in labels:
            labels["gebied_code"] = labels[key]
            if naam and naam in labels:
                labels["gebied_naam"] = labels[naam]
            break
    return labels


def _read_scores(path: Path, name: str, raw: pd.DataFrame, boundaries_path: str | Path | None) -> ReadResult:
    warnings: list[str] = []

    niveau = _detect_level(raw, name)
    if raw.empty:
        raise SourceError(name, "bestand bevat geen rijen onder de kopregel", row=2)
    key, naam, pattern = LEVELS[niveau]
    aliases: dict[str, str] = {"gebied_code": key}
    if naam:
        aliases["gebied_naam"] = naam
    aliases.update({"jaar": "jaar", **{s: s for s in SCORES}, "kscore": "kscore"})
    frame, drift = map_columns(raw, aliases, required=["gebied_code", "jaar", "lbm", "afw"], file=name)
    drift.unknown = [c for c in drift.unknown if normalise_header(c) not in _KNOWN_UNUSED]
    drift.missing_optional = [c for c in drift.missing_optional if c != "kscore"]
    if drift.unknown:
        warnings.append(f"onbekende kolommen genegeerd: {', '.join(drift.unknown)}")
    if drift.missing_optional:
        warnings.append(f"kolommen ontbreken (leeg gelaten): {', '.join(drift.missing_optional)}")

    codes = _codes(frame, name, niveau, pattern, header=key)
    jaar = parse_integer(frame, "jaar", file=name)
    bad_year = jaar.notna() & ~jaar.isin(MEETJAREN)
    if bad_year.any() or jaar.isna().any():
        mask = bad_year | jaar.isna()
        first = mask[mask].index[0]
        raise SourceError(
            name,
            "geen meetjaar van de Leefbaarometer 3.0 (de 2.0-reeks wordt niet gemengd)",
            row=int(frame.at[first, SOURCE_ROW]),
            column="jaar",
            value=frame.at[first, "jaar"],
            expected=", ".join(str(y) for y in MEETJAREN),
        )

    decimal = _detect_decimal(frame, name)
    scores = {s: parse_number(frame, s, file=name, decimal=decimal, thousands=None) for s in SCORES}

    out = pd.DataFrame(index=frame.index)
    out["niveau"] = pd.Series(niveau, index=frame.index, dtype="str")
    out["gebied_code"] = codes
    if "gebied_naam" in frame.columns:
        out["gebied_naam"] = frame["gebied_naam"].astype("str").str.strip().replace("", np.nan).astype("str")
    else:
        out["gebied_naam"] = pd.Series(np.nan, index=frame.index, dtype="str")
    if niveau in _GEMEENTE_FROM_CODE:
        out["gemeente_code"] = ("GM" + codes.str.slice(2, 6)).astype("str")
    else:
        out["gemeente_code"] = pd.Series(np.nan, index=frame.index, dtype="str")
    out["jaar"] = jaar.astype("Int64")
    for s in SCORES:
        out[s] = scores[s].astype("float64")

    _check_duplicates(out, frame, name)

    grenzen_path = Path(boundaries_path) if boundaries_path is not None else DEFAULT_BOUNDARIES
    klasse, afgeleid, klasse_meta = _klassen(frame, out, name, grenzen_path)
    out["klasse"] = klasse
    out["klasse_afgeleid"] = afgeleid.astype(bool)
    if klasse_meta.get("afgeleid_rijen"):
        warnings.append(
            f"klasse afgeleid uit afw voor {klasse_meta['afgeleid_rijen']} rij(en) met de klassegrenzen "
            f"uit {klasse_meta['klassegrenzen']} (confidence: {klasse_meta['klassegrenzen_confidence']})"
        )

    sum_warning = _check_sum(out, frame)
    if sum_warning:
        warnings.append(sum_warning)

    indeling = indeling_from_name(Path(path).name)
    out["indeling"] = pd.Series(indeling, index=out.index, dtype="Int64")
    if indeling is None:
        warnings.append("indeling (jaargang van de CBS-gebiedscodes) niet af te leiden uit de bestandsnaam")
    out[SOURCE_FILE] = frame[SOURCE_FILE].astype("str")
    out[SOURCE_ROW] = frame[SOURCE_ROW].astype("Int64")
    out = out[OUTPUT_COLUMNS].reset_index(drop=True)

    metadata: dict[str, Any] = {
        "niveau": niveau,
        "sleutelkolom": key,
        "rows": len(out),
        "gebieden": int(out["gebied_code"].nunique()),
        "jaren": sorted(int(y) for y in out["jaar"].dropna().unique()),
        "decimaalteken": decimal,
        "indeling": indeling,
        **klasse_meta,
        "drift": drift.as_dict(),
    }
    return ReadResult(frame=out, source_file=name, warnings=warnings, drift=drift, metadata=metadata)


def _detect_level(raw: pd.DataFrame, name: str) -> str:
    present = {normalise_header(c) for c in raw.columns}
    for niveau, (key, _naam, _pattern) in LEVELS.items():
        if normalise_header(key) in present:
            return niveau
    raise SchemaError(
        name,
        "geen sleutelkolom gevonden; het niveau is niet te bepalen",
        row=1,
        expected=" / ".join(key for key, _n, _p in LEVELS.values()),
    )


def _codes(frame: pd.DataFrame, name: str, niveau: str, pattern: str, *, header: str) -> pd.Series:
    raw = frame["gebied_code"]
    codes = raw.astype("str").str.strip().str.upper()
    ok = codes.str.fullmatch(pattern).fillna(False).astype(bool)
    bad = ~ok
    if bad.any():
        first = bad[bad].index[0]
        raise SourceError(
            name,
            f"{niveau}code ontbreekt" if pd.isna(raw.at[first]) else f"geen geldige {niveau}code",
            row=int(frame.at[first, SOURCE_ROW]),
            column=header,
            value=raw.at[first],
            expected=_EXAMPLES[niveau],
        )
    return codes.astype("str")


_COMMA_NUMBER = re.compile(r"^\s*[-+]?[0-9]*,[0-9]+\s*$")
_POINT_NUMBER = re.compile(r"^\s*[-+]?[0-9]*\.[0-9]+([eE][-+]?[0-9]+)?\s*$")


def _detect_decimal(frame: pd.DataFrame, name: str) -> str:
    """Decimal comma or point, from the score cells; a file that mixes both is refused."""
    comma_at: tuple[int, str, object] | None = None
    point_at: tuple[int, str, object] | None = None
    for column in SCORES:
        values = frame[column].dropna().astype("str")
        if values.empty:
            continue
        comma = values.str.match(_COMMA_NUMBER)
        point = values.str.match(_POINT_NUMBER)
        if comma.any() and comma_at is None:
            index = comma[comma].index[0]
            comma_at = (int(frame.at[index, SOURCE_ROW]), column, values.at[index])
        if point.any() and point_at is None:
            index = point[point].index[0]
            point_at = (int(frame.at[index, SOURCE_ROW]), column, values.at[index])
    if comma_at and point_at:
        row, column, value = max(comma_at, point_at, key=lambda item: item[0])
        raise SourceError(
            name,
            "decimale komma en decimale punt door elkaar",
            row=row,
            column=column,
            value=value,
            expected="één decimaalteken in het hele bestand",
        )
    return "," if comma_at else "."


def _check_duplicates(out: pd.DataFrame, frame: pd.DataFrame, name: str) -> None:
    duplicated = out.duplicated(["gebied_code", "jaar"], keep="first")
    if duplicated.any():
        first = duplicated[duplicated].index[0]
        raise SourceError(
            name,
            f"gebied komt twee keer voor in {int(out.at[first, 'jaar'])}",
            row=int(frame.at[first, SOURCE_ROW]),
            column="gebied_code",
            value=out.at[first, "gebied_code"],
            expected="één rij per gebied per jaar",
        )


def _klassen(
    frame: pd.DataFrame, out: pd.DataFrame, name: str, grenzen_path: Path
) -> tuple[pd.Series, pd.Series, dict[str, Any]]:
    given = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if frame["kscore"].notna().any():
        given = parse_integer(frame, "kscore", file=name)
        bad = given.notna() & ~given.isin(list(KLASSE_NAMEN))
        if bad.any():
            first = bad[bad].index[0]
            raise SourceError(
                name, "geen geldige klasse", row=int(frame.at[first, SOURCE_ROW]), column="kscore",
                value=frame.at[first, "kscore"], expected="1 t/m 9",
            )
    todo = given.isna() & out["afw"].notna()
    meta: dict[str, Any] = {"klasse_rijen_uit_bestand": int(given.notna().sum()), "afgeleid_rijen": int(todo.sum())}
    klasse = given.copy()
    if todo.any():
        grenzen = load_klassegrenzen(grenzen_path)
        klasse[todo] = klasse_uit_afw(out.loc[todo, "afw"], grenzen)
        confidences = sorted(set(grenzen["confidence"]))
        meta["klassegrenzen"] = grenzen_path.name
        meta["klassegrenzen_confidence"] = "unverified" if "unverified" in confidences else "official"
        meta["klassegrenzen_afw"] = grenzen["afw_ondergrens"].dropna().astype(float).tolist()
    if meta["afgeleid_rijen"] and meta["klasse_rijen_uit_bestand"]:
        meta["klasse_bron"] = "gemengd: kscore uit het bestand, anders afgeleid uit afw"
    elif meta["afgeleid_rijen"]:
        meta["klasse_bron"] = "afgeleid uit afw met de klassegrenzentabel"
    elif meta["klasse_rijen_uit_bestand"]:
        meta["klasse_bron"] = "kscore uit het bestand"
    else:
        meta["klasse_bron"] = "geen (afw ontbreekt)"
    meta["klasse_afgeleid"] = bool(meta["afgeleid_rijen"])
    return klasse.astype("Int64"), todo, meta


def _check_sum(out: pd.DataFrame, frame: pd.DataFrame) -> str | None:
    """The five dimension contributions add up to afw; report rows where they do not."""
    if any(out[d].isna().all() for d in DIMENSIES):
        return None
    total = out[list(DIMENSIES)].sum(axis=1, min_count=len(DIMENSIES))
    difference = (total - out["afw"]).abs()
    off = difference > SUM_TOLERANCE
    if not off.any():
        return None
    first = off[off].index[0]
    return (
        f"won+fys+vrz+soc+onv wijkt meer dan {SUM_TOLERANCE} af van afw in {int(off.sum())} rij(en) "
        f"(eerste: rij {int(frame.at[first, SOURCE_ROW])}, {out.at[first, 'gebied_code']} "
        f"{int(out.at[first, 'jaar'])}: som {total.at[first]:.4f}, afw {out.at[first, 'afw']:.4f}; "
        f"grootste verschil {difference.max():.4f})"
    )
