"""The gemeente partitions of the KPI, monitor and publication layers.

Sources are delivered per region or nationally, so raw and staging stay unpartitioned: one load, one
validation. From the KPIs on, every gemeente is its own partition: a national run fans out per
gemeente, a gemeente whose computation fails does not hold back the others, and its published slice
(the rows with its gemeente_code) is replaced on its own.

The partitions are the gemeenten of the deployment's reference table (reference/gemeenten.csv, or
the directory in PRESTATIEMONITOR_REFERENCE_DIR): the configured municipalities.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import dagster as dg
import pandas as pd
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from sources.reference import load_gemeenten

#: Metadata key on an AssetIn: the column of the upstream frame that holds the gemeente to select on.
GEMEENTE_KOLOM = "gemeente_kolom"


def configured_gemeenten() -> list[str]:
    codes = load_gemeenten()["gemeente_code"].dropna().astype("str").str.strip()
    if codes.duplicated().any():
        raise ValueError(f"reference/gemeenten.csv: gemeentecode dubbel: {sorted(codes[codes.duplicated()].unique())}")
    return sorted(codes)


GEMEENTE_PARTITIES = dg.StaticPartitionsDefinition(configured_gemeenten())


def gemeente_in(asset: str, column: str | None = "gemeente_code") -> dg.AssetIn:
    """An unpartitioned upstream read by a gemeente-partitioned asset. With a column, only the rows of
    the run's gemeenten are loaded (the IO manager pushes the filter into the Parquet read); without
    one, the whole frame (e.g. lettings joined to seekers of any gemeente)."""
    return dg.AssetIn(asset, metadata={GEMEENTE_KOLOM: column} if column else None)


def gemeenten_of(context: dg.AssetExecutionContext) -> list[str]:
    """The gemeenten this run computes: one in a per-gemeente run, several in a range run."""
    return list(context.partition_keys)


def alleen(frame: pd.DataFrame, gemeenten: Iterable[str], column: str = "gemeente_code") -> pd.DataFrame:
    """The rows of these gemeenten, in their original order."""
    wanted = set(gemeenten)
    return frame[frame[column].astype("str").isin(wanted)].reset_index(drop=True)


def range_tags(gemeenten: Sequence[str]) -> dict[str, str]:
    """The tags of one run over the gemeente partitions from the first to the last of `gemeenten`
    (in partition order): Dagster's partition-range run."""
    return {ASSET_PARTITION_RANGE_START_TAG: gemeenten[0], ASSET_PARTITION_RANGE_END_TAG: gemeenten[-1]}


def gemeenten_of_range(tags: Mapping[str, str]) -> list[str] | None:
    """The gemeenten of a range run, from its tags (None: not a range run)."""
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if not (start and end):
        return None
    return list(GEMEENTE_PARTITIES.get_partition_keys_in_range(dg.PartitionKeyRange(start, end)))


def run_partition_keys(step_context: object) -> Sequence[str] | None:
    """The gemeenten of the run a step belongs to (None for an unpartitioned run)."""
    if getattr(step_context, "has_partition_key", False):
        return [step_context.partition_key]  # type: ignore[attr-defined]
    if getattr(step_context, "has_partition_key_range", False):
        key_range = step_context.partition_key_range  # type: ignore[attr-defined]
        return GEMEENTE_PARTITIES.get_partition_keys_in_range(key_range)
    return None
