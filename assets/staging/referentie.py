"""stg_referentiedata: the project's versioned reference tables (rent thresholds, income limits), as an
asset so they are validated like any delivery and their lineage shows which KPIs rest on them."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from assets.common import column_schema
from assets.quality import check_spec, validated
from assets.resources import DataQuality, WarehouseResource
from sources.reference import load_reference_table

TABLES = ("huurgrenzen", "inkomensgrenzen")


def reference_frame() -> pd.DataFrame:
    frames = []
    for name in TABLES:
        table = load_reference_table(name).frame.copy()
        table.insert(0, "tabel", name)
        table["_source_file"] = f"reference/{name}.csv"
        table["_source_row"] = pd.array(range(2, len(table) + 2), dtype="Int64")
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


@dg.asset(
    description=(
        "Referentiedata uit reference/: huurgrenzen en inkomensgrenzen per jaar, met bron en betrouwbaarheid "
        "(official/unverified). Een KPI die een ontbrekend jaar nodig heeft faalt met een duidelijke melding."
    ),
    group_name="staging",
    kinds={"pandas", "csv"},
    owners=["team:woningmarkt"],
    check_specs=[check_spec("stg_referentiedata")],
)
def stg_referentiedata(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, data_quality: DataQuality
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    frame = reference_frame()
    unverified = frame[frame["confidence"] == "unverified"]
    yield from validated(
        context,
        frame,
        "stg_referentiedata",
        warehouse=warehouse,
        data_quality=data_quality,
        metadata={
            "dagster/column_schema": column_schema(frame),
            "onbevestigde_waarden": dg.MetadataValue.md(
                unverified[["tabel", "year", "threshold", "value"]].astype("str").to_markdown(index=False)
            ),
        },
    )
