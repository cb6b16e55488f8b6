"""stg_toewijzingen and stg_woningzoekenden: lettings and seekers, typed and joined to gemeente names.

Household income, age and composition are personal data (AVG): they stay in these staging assets;
every published KPI table is an aggregate with small-cell suppression. The identifiers arrive
pseudonymised by the raw assets (sources/pseudonym.py); a raw value that is not (e.g. stored before
pseudonymisation was introduced) is refused here rather than staged.
"""

import re
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from assets.common import column_schema
from assets.quality import check_spec, validated
from assets.resources import DataQuality, WarehouseResource
from sources.pseudonym import TOKEN_HEX_DIGITS, identifier_fields
from sources.reference import load_gemeenten

STAGING: dict[str, Any] = {"group_name": "staging", "kinds": {"pandas", "python"}, "owners": ["team:woningmarkt"]}


def _names() -> dict[str, str]:
    gemeenten = load_gemeenten()
    return dict(zip(gemeenten["gemeente_code"], gemeenten["gemeente_naam"], strict=True))


def not_pseudonymised(frame: pd.DataFrame, dataset: str) -> dict[str, int]:
    """Per identifier column of `dataset`: the number of filled values that are not a pseudonym token."""
    bad = {}
    for column, prefix in identifier_fields(dataset).items():
        if column not in frame.columns:
            continue
        values = frame[column].dropna().astype("str")
        count = int((~values.str.fullmatch(re.escape(prefix) + "_[0-9a-f]{" + str(TOKEN_HEX_DIGITS) + "}")).sum())
        if count:
            bad[column] = count
    return bad


def _require_pseudonymised(frame: pd.DataFrame, dataset: str, raw_asset: str) -> None:
    bad = not_pseudonymised(frame, dataset)
    if bad:
        counts = ", ".join(f"{column}: {n}" for column, n in bad.items())
        raise dg.Failure(
            description=(
                f"{raw_asset} bevat identificerende waarden die niet gepseudonimiseerd zijn ({counts}); "
                f"materialiseer {raw_asset} opnieuw"
            ),
            allow_retries=False,
        )


def stage_toewijzingen(raw: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    frame = raw.copy(deep=False)  # copy-on-write (pandas 3): only the new columns take memory
    frame["gemeente_naam"] = frame["gemeente_code"].map(names).fillna(frame["gemeente_code"])
    frame["jaar"] = frame["toewijzingsdatum"].dt.year.astype("Int64")
    frame["kwartaal"] = frame["toewijzingsdatum"].dt.quarter.astype("Int64")
    return frame


def stage_woningzoekenden(raw: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    frame = raw.copy(deep=False)  # copy-on-write (pandas 3): only the new columns take memory
    frame["woongemeente_naam"] = frame["woongemeente_code"].map(names).fillna(frame["woongemeente_code"])
    frame["jaar"] = frame["periode_begin"].dt.year.astype("Int64")
    frame["actief"] = (frame["aantal_reacties"].fillna(0) >= 1).astype("bool")
    return frame


@dg.asset(
    description=(
        "Toewijzingen, getypeerd, met gemeentenaam, jaar en kwartaal; identificatie gepseudonimiseerd. "
        "Bevat persoonsgegevens: niet publiceren."
    ),
    check_specs=[check_spec("stg_toewijzingen")],
    **STAGING,
)
def stg_toewijzingen(
    context: dg.AssetExecutionContext,
    raw_toewijzingen: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    _require_pseudonymised(raw_toewijzingen, "toewijzingen", "raw_toewijzingen")
    frame = stage_toewijzingen(raw_toewijzingen, _names())
    yield from validated(
        context, frame, "stg_toewijzingen", warehouse=warehouse, data_quality=data_quality,
        metadata={"dagster/column_schema": column_schema(frame)},
    )


@dg.asset(
    description=(
        "Woningzoekenden per verslagperiode, met woongemeentenaam, jaar en actief (>= 1 reactie); "
        "identificatie gepseudonimiseerd. Bevat persoonsgegevens: niet publiceren."
    ),
    check_specs=[check_spec("stg_woningzoekenden")],
    **STAGING,
)
def stg_woningzoekenden(
    context: dg.AssetExecutionContext,
    raw_woningzoekenden: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    _require_pseudonymised(raw_woningzoekenden, "woningzoekenden", "raw_woningzoekenden")
    frame = stage_woningzoekenden(raw_woningzoekenden, _names())
    yield from validated(
        context, frame, "stg_woningzoekenden", warehouse=warehouse, data_quality=data_quality,
        metadata={"dagster/column_schema": column_schema(frame)},
    )
