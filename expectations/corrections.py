"""Steward corrections: a versioned CSV applied to a staged dataset before validation.

Columns: dataset, sleutel, kolom, nieuwe_waarde, reden, auteur, datum. `sleutel` names the row by
its business key as the quarantine shows it, e.g. `toewijzing_id=T2024-00012` or
`corporatie=Ymere;peildatum=2024-12-31;vhe_id=300123`. An empty nieuwe_waarde makes the cell empty.
Every correction is audited with its outcome; one that matches no row is reported, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sources.errors import SourceError
from sources.formats import parse_bool, parse_date, parse_number

REQUIRED = ["dataset", "sleutel", "kolom", "nieuwe_waarde", "reden", "auteur", "datum"]
TOEGEPAST = "toegepast"
GEEN_RIJ = "geen rij gevonden"


def key_strings(frame: pd.DataFrame, key_columns: Sequence[str]) -> pd.Series:
    """The business key of each row as the steward writes it: 'col=value;col=value'."""
    parts = []
    for column in key_columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d")
        else:
            text = values.astype("str")
        parts.append(column + "=" + text.fillna(""))
    key = parts[0]
    for part in parts[1:]:
        key = key + ";" + part
    return key


def load_corrections(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=REQUIRED)
    frame = pd.read_csv(path, dtype="str", keep_default_na=False)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise SourceError(path.name, f"correctiebestand mist kolom(men) {missing}", row=1, expected=", ".join(REQUIRED))
    for position, row in enumerate(frame.itertuples(index=False), start=2):
        for column in ("dataset", "sleutel", "kolom", "reden", "auteur", "datum"):
            if not str(getattr(row, column)).strip():
                raise SourceError(path.name, "verplicht veld is leeg", row=position, column=column)
        if "=" not in row.sleutel:
            raise SourceError(path.name, "sleutel niet herkend", row=position, column="sleutel", value=row.sleutel,
                              expected="kolom=waarde;kolom=waarde")
    frame["_rij"] = range(2, len(frame) + 2)
    return frame


def _convert(value: str, template: pd.Series, file: str, column: str) -> object:
    if value == "":
        return None
    one = pd.DataFrame({column: [value]})
    if pd.api.types.is_datetime64_any_dtype(template):
        return parse_date(one, column, file=file).iloc[0]
    if pd.api.types.is_bool_dtype(template):
        return bool(parse_bool(one, column, file=file).iloc[0])
    if pd.api.types.is_numeric_dtype(template):
        decimal = "," if "," in value else "."
        number = parse_number(one, column, file=file, decimal=decimal, thousands=None)
        return number.iloc[0]
    return value


def apply_corrections(
    frame: pd.DataFrame, dataset: str, corrections: pd.DataFrame, key_columns: Sequence[str], *, file: str = "correcties.csv"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply this dataset's corrections; returns the corrected frame and one audit row per correction."""
    mine = corrections[corrections["dataset"] == dataset]
    audit: list[dict[str, object]] = []
    if mine.empty:
        return frame, pd.DataFrame(audit)
    frame = frame.copy()
    keys = key_strings(frame, key_columns)
    for row in mine.itertuples(index=False):
        record: dict[str, object] = {
            "dataset": dataset, "sleutel": row.sleutel, "kolom": row.kolom, "nieuwe_waarde": row.nieuwe_waarde,
            "reden": row.reden, "auteur": row.auteur, "datum": row.datum, "rijen_geraakt": 0, "oude_waarde": None,
        }
        wanted = ";".join(sorted(p.strip() for p in row.sleutel.split(";")))
        normalised = keys.map(lambda k: ";".join(sorted(k.split(";"))))
        hits = normalised == wanted
        if row.kolom not in frame.columns or row.kolom.startswith("_"):
            record["status"] = f"kolom '{row.kolom}' bestaat niet in {dataset}"
        elif not hits.any():
            record["status"] = GEEN_RIJ
        else:
            try:
                value = _convert(row.nieuwe_waarde, frame[row.kolom], file, row.kolom)
            except SourceError as error:
                record["status"] = f"nieuwe waarde ongeldig: {error.message}; {error.expected or ''}".strip("; ")
            else:
                record["oude_waarde"] = str(frame.loc[hits, row.kolom].iloc[0])
                frame.loc[hits, row.kolom] = value
                record["rijen_geraakt"] = int(hits.sum())
                record["status"] = TOEGEPAST
        audit.append(record)
    return frame, pd.DataFrame(audit)
