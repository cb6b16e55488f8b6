"""stg_leefbaarometer: Leefbaarometer 3.0 scores with class names and gemeente names."""


from collections.abc import Iterator

import dagster as dg
import pandas as pd

from assets.common import column_schema
from assets.quality import check_spec, validated
from assets.resources import DataQuality, WarehouseResource
from sources.leefbaarometer import KLASSE_NAMEN
from sources.reference import load_gemeenten


@dg.asset(
    description="Leefbaarometer 3.0 per buurt/wijk/gemeente en meetjaar, met klasse (1-9) en klassenaam; afgeleide klassen gemarkeerd.",
    group_name="staging",
    kinds={"pandas", "python"},
    owners=["team:woningmarkt"],
    check_specs=[check_spec("stg_leefbaarometer")],
)
def stg_leefbaarometer(
    context: dg.AssetExecutionContext,
    raw_leefbaarometer: pd.DataFrame,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    frame = raw_leefbaarometer.copy(deep=False)  # copy-on-write (pandas 3)
    gemeenten = load_gemeenten()
    names = dict(zip(gemeenten["gemeente_code"], gemeenten["gemeente_naam"], strict=True))
    frame["gemeente_naam"] = frame["gemeente_code"].map(names).fillna(frame["gemeente_code"])
    frame["klasse_naam"] = frame["klasse"].map(KLASSE_NAMEN)
    yield from validated(
        context,
        frame,
        "stg_leefbaarometer",
        warehouse=warehouse,
        data_quality=data_quality,
        metadata={
            "dagster/column_schema": column_schema(frame),
            "klassen_afgeleid": bool(frame["klasse_afgeleid"].any()) if len(frame) else False,
        },
    )
