"""stg_toewijzingen and stg_woningzoekenden: lettings and seekers, typed and joined to gemeente names.

Household income, age and composition are personal data (AVG): they stay in these staging assets;
every published KPI table is an aggregate with small-cell suppression.
"""


from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from assets.common import column_schema
from assets.quality import check_spec, validated
from assets.resources import DataQuality, WarehouseResource
from sources.reference import load_gemeenten

STAGING: dict[str, Any] = {"group_name": "staging", "kinds": {"pandas", "python"}, "owners": ["team:woningmarkt"]}


def _names() -> dict[str, str]:
    gemeenten = load_gemeenten()
    return dict(zip(gemeenten["gemeente_code"], gemeenten["gemeente_naam"], strict=True))


def stage_toewijzingen(raw: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    frame = raw.copy()
    frame["gemeente_naam"] = frame["gemeente_code"].map(names).fillna(frame["gemeente_code"])
    frame["jaar"] = frame["toewijzingsdatum"].dt.year.astype("Int64")
    frame["kwartaal"] = frame["toewijzingsdatum"].dt.quarter.astype("Int64")
    return frame


def stage_woningzoekenden(raw: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    frame = raw.copy()
    frame["woongemeente_naam"] = frame["woongemeente_code"].map(names).fillna(frame["woongemeente_code"])
    frame["jaar"] = frame["periode_begin"].dt.year.astype("Int64")
    frame["actief"] = (frame["aantal_reacties"].fillna(0) >= 1).astype("bool")
    return frame


@dg.asset(
    description="Toewijzingen, getypeerd, met gemeentenaam, jaar en kwartaal. Bevat persoonsgegevens: niet publiceren.",
    check_specs=[check_spec("stg_toewijzingen")],
    **STAGING,
)
def stg_toewijzingen(
    context: dg.AssetExecutionContext,
    raw_toewijzingen: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    frame = stage_toewijzingen(raw_toewijzingen, _names())
    yield from validated(
        context, frame, "stg_toewijzingen", warehouse=warehouse, data_quality=data_quality,
        metadata={"dagster/column_schema": column_schema(frame)},
    )


@dg.asset(
    description="Woningzoekenden per verslagperiode, met woongemeentenaam, jaar en actief (>= 1 reactie). Bevat persoonsgegevens: niet publiceren.",
    check_specs=[check_spec("stg_woningzoekenden")],
    **STAGING,
)
def stg_woningzoekenden(
    context: dg.AssetExecutionContext,
    raw_woningzoekenden: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    frame = stage_woningzoekenden(raw_woningzoekenden, _names())
    yield from validated(
        context, frame, "stg_woningzoekenden", warehouse=warehouse, data_quality=data_quality,
        metadata={"dagster/column_schema": column_schema(frame)},
    )
