"""Versioned reference data kept in the project: rent thresholds, income limits, gemeenten, corporations.

A KPI that needs a threshold for a year that is not in the table fails with a message naming the
threshold and the year. It never falls back to a neighbouring year. The files are read with the shared
readers of sources.formats: a damaged file fails with a SourceError naming file, row and column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import pandas as pd

from sources.errors import SchemaError, SourceError
from sources.formats import (
    SOURCE_ROW,
    delivered_columns,
    normalise_header,
    parse_date,
    parse_integer,
    parse_number,
    read_delimited,
)

# The project's own tables by default; a deployment (or the national benchmark) points elsewhere.
REFERENCE_DIR = Path(os.environ.get("PRESTATIEMONITOR_REFERENCE_DIR") or Path(__file__).resolve().parent.parent / "reference")
CONFIDENCE_LEVELS = {"official", "unverified"}


class MissingReferenceError(LookupError):
    """A KPI asked for a threshold the reference table does not hold."""


@dataclass(frozen=True)
class ReferenceTable:
    """Rows of (year, valid_from, valid_to, threshold, value, source, confidence)."""

    name: str
    frame: pd.DataFrame

    def value(self, threshold: str, year: int) -> float:
        """The threshold in force on 1 January of `year` (or the year's only entry)."""
        rows = self.frame[(self.frame["threshold"] == threshold) & (self.frame["year"] == year)]
        if rows.empty:
            known = sorted(self.frame.loc[self.frame["threshold"] == threshold, "year"].unique().tolist())
            raise MissingReferenceError(
                f"{self.name}: geen waarde voor '{threshold}' in {year}; bekende jaren: {known or 'geen'}. "
                f"Voeg de waarde uit een officiële bron toe aan reference/{self.name}.csv."
            )
        first = rows.sort_values("valid_from").iloc[0]
        return float(first["value"])

    def value_at(self, threshold: str, day: date) -> float:
        stamp = pd.Timestamp(day)
        rows = self.frame[
            (self.frame["threshold"] == threshold)
            & (self.frame["valid_from"] <= stamp)
            & (self.frame["valid_to"] >= stamp)
        ]
        if rows.empty:
            raise MissingReferenceError(
                f"{self.name}: geen waarde voor '{threshold}' geldig op {stamp.date().isoformat()}."
            )
        return float(rows.sort_values("valid_from").iloc[-1]["value"])

    def confidence(self, threshold: str, year: int) -> str:
        rows = self.frame[(self.frame["threshold"] == threshold) & (self.frame["year"] == year)]
        return str(rows.iloc[0]["confidence"]) if not rows.empty else "missing"


T = TypeVar("T")
TABLE_COLUMNS = ("year", "valid_from", "valid_to", "threshold", "value", "source", "confidence")
_SLUG = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


def _first_bad(name: str, frame: pd.DataFrame, mask: pd.Series, column: str, message: str, expected: str) -> None:
    """SourceError for the first row where `mask` holds, naming file, row, column and value."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    index = mask[mask].index[0]
    value = frame.at[index, column]
    raise SourceError(
        name,
        message,
        row=int(frame.at[index, SOURCE_ROW]),
        column=column,
        value=None if pd.isna(value) else value,
        expected=expected,
    )


def _read_reference_csv(
    path: Path, columns: tuple[str, ...], required: tuple[str, ...], build: Callable[[pd.DataFrame, str], T]
) -> T:
    """Read the CSV as text columns named as `columns` (matched like every reader: case and blanks
    ignored) and type it with `build(raw, file name)`.

    Refuses (SourceError naming file, row and the column as the file spells it) a missing column, an
    empty required cell, or whatever `build` refuses.
    """
    name = path.name
    raw = read_delimited(path, display_name=name)
    present = {normalise_header(c): c for c in raw.columns if not str(c).startswith("_source")}
    missing = [c for c in columns if normalise_header(c) not in present]
    if missing:
        raise SchemaError(
            name, f"kolom(men) ontbreken: {', '.join(missing)}", row=1, column=missing[0], expected=", ".join(columns)
        )
    raw = raw.rename(columns={present[normalise_header(c)]: c for c in columns})
    with delivered_columns({c: present[normalise_header(c)] for c in columns}):
        for column in required:
            _first_bad(name, raw, raw[column].isna(), column, "verplichte waarde ontbreekt", "een waarde in elke rij")
        return build(raw, name)


def _check_unique(name: str, frame: pd.DataFrame, keys: list[str]) -> None:
    duplicated = frame.duplicated(subset=keys, keep="first")
    _first_bad(name, frame, duplicated, keys[0], f"{' + '.join(keys)} komt twee keer voor", f"unieke {' + '.join(keys)}")


def _threshold_frame(raw: pd.DataFrame, file: str) -> pd.DataFrame:
    frame = pd.DataFrame(index=raw.index)
    frame["year"] = parse_integer(raw, "year", file=file, minimum=1900, maximum=2200).astype("int64")
    for column in ("valid_from", "valid_to"):
        frame[column] = parse_date(raw, column, file=file, formats=("%Y-%m-%d",)).astype("datetime64[us]")
    frame["threshold"] = raw["threshold"].astype("str")
    frame["value"] = parse_number(raw, "value", file=file, decimal=".", thousands=None)
    frame["source"] = raw["source"].astype("str")
    frame["confidence"] = raw["confidence"].astype("str")
    _first_bad(
        file, raw, ~frame["confidence"].isin(CONFIDENCE_LEVELS), "confidence",
        "confidence moet official of unverified zijn", "official of unverified",
    )
    _first_bad(
        file, raw, frame["valid_to"] < frame["valid_from"], "valid_to",
        "valid_to ligt vóór valid_from", "valid_to >= valid_from",
    )
    _check_unique(file, frame.assign(**{SOURCE_ROW: raw[SOURCE_ROW]}), ["threshold", "valid_from"])
    return frame.reset_index(drop=True)


def load_reference_table(name: str, directory: Path = REFERENCE_DIR) -> ReferenceTable:
    """reference/<name>.csv: one row per threshold and period; SourceError names file, row and column."""
    required = ("year", "valid_from", "valid_to", "threshold", "value", "confidence")
    frame = _read_reference_csv(directory / f"{name}.csv", TABLE_COLUMNS, required, _threshold_frame)
    return ReferenceTable(name=name, frame=frame)


def load_huurgrenzen(directory: Path = REFERENCE_DIR) -> ReferenceTable:
    return load_reference_table("huurgrenzen", directory)


def load_inkomensgrenzen(directory: Path = REFERENCE_DIR) -> ReferenceTable:
    return load_reference_table("inkomensgrenzen", directory)


def _code_list(
    path: Path, columns: tuple[str, str], pattern: re.Pattern[str], example: str
) -> pd.DataFrame:
    """A two-column code list (code, name): both filled, the code well-formed and unique."""
    code, label = columns

    def build(raw: pd.DataFrame, file: str) -> pd.DataFrame:
        codes = raw[code].astype("str")
        _first_bad(
            file, raw, ~codes.str.fullmatch(pattern.pattern).fillna(False).astype(bool), code,
            f"geen geldige {code}", f"code zoals {example}",
        )
        _check_unique(file, raw, [code])
        return pd.DataFrame({code: codes, label: raw[label].astype("str")}).reset_index(drop=True)

    return _read_reference_csv(path, columns, columns, build)


def load_gemeenten(directory: Path = REFERENCE_DIR) -> pd.DataFrame:
    """reference/gemeenten.csv: gemeente_code (GM + 4 digits, unique) and gemeente_naam."""
    return _code_list(directory / "gemeenten.csv", ("gemeente_code", "gemeente_naam"), re.compile(r"GM[0-9]{4}"), "GM0392")


def load_corporaties(directory: Path = REFERENCE_DIR) -> pd.DataFrame:
    """reference/corporaties.csv: slug (as the landing folder bezit/<slug>/, unique) and corporatie."""
    return _code_list(directory / "corporaties.csv", ("slug", "corporatie"), _SLUG, "elan_wonen")
