"""Versioned reference data kept in the project: rent thresholds, income limits, gemeenten, corporations.

A KPI that needs a threshold for a year that is not in the table fails with a message naming the
threshold and the year. It never falls back to a neighbouring year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"
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


def load_reference_table(name: str, directory: Path = REFERENCE_DIR) -> ReferenceTable:
    path = directory / f"{name}.csv"
    frame = pd.read_csv(path, dtype={"threshold": "str", "source": "str", "confidence": "str"})
    frame["valid_from"] = pd.to_datetime(frame["valid_from"], format="%Y-%m-%d")
    frame["valid_to"] = pd.to_datetime(frame["valid_to"], format="%Y-%m-%d")
    frame["year"] = frame["year"].astype("int64")
    bad = ~frame["confidence"].isin(CONFIDENCE_LEVELS)
    if bad.any():
        row = int(bad.idxmax()) + 2
        raise ValueError(f"{path.name}, rij {row}: confidence moet official of unverified zijn")
    return ReferenceTable(name=name, frame=frame)


def load_huurgrenzen(directory: Path = REFERENCE_DIR) -> ReferenceTable:
    return load_reference_table("huurgrenzen", directory)


def load_inkomensgrenzen(directory: Path = REFERENCE_DIR) -> ReferenceTable:
    return load_reference_table("inkomensgrenzen", directory)


def load_gemeenten(directory: Path = REFERENCE_DIR) -> pd.DataFrame:
    return pd.read_csv(directory / "gemeenten.csv", dtype="str")


def load_corporaties(directory: Path = REFERENCE_DIR) -> pd.DataFrame:
    return pd.read_csv(directory / "corporaties.csv", dtype="str")
