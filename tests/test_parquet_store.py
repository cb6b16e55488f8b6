"""The asset store's split of a range run's frame into one Parquet file per gemeente partition."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from assets.partitions import GEMEENTE_PARTITIES
from pipelines.io import ParquetStore

GEMEENTEN = GEMEENTE_PARTITIES.get_partition_keys()


def _output(store: ParquetStore, frame: pd.DataFrame, keys: list[str]) -> None:
    context = dg.build_output_context(
        asset_key=dg.AssetKey("kpi_x"),
        asset_partitions_def=GEMEENTE_PARTITIES,
        asset_partition_key_range=dg.PartitionKeyRange(keys[0], keys[-1]),
    )
    store.handle_output(context, frame)


def _chunked(frame: pd.DataFrame, pieces: int) -> pd.DataFrame:
    """A frame as a KPI builds it: concatenated from pieces (Arrow columns in many chunks)."""
    size = -(-len(frame) // pieces)
    return pd.concat([frame.iloc[i : i + size] for i in range(0, len(frame), size)], ignore_index=True)


def test_a_range_is_split_per_gemeente_in_frame_order_with_empty_files_for_gemeenten_without_rows(tmp_path):
    keys = GEMEENTEN[:4]
    # interleaved gemeenten, the third one without rows; values that show the order within a gemeente
    codes = [keys[0], keys[1], keys[0], keys[3], keys[1], keys[0], keys[3]]
    frame = _chunked(pd.DataFrame({
        "gemeente_code": pd.Series(codes, dtype="str"),
        "indicator": pd.Series(["a", "b", "c", "d", "e", "f", "g"], dtype="str"),
        "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, float("nan")],
    }), pieces=3)
    store = ParquetStore(str(tmp_path))
    _output(store, frame, keys)

    def written(key: str) -> pd.DataFrame:
        return pd.read_parquet(store.path_for(dg.AssetKey("kpi_x"), key))

    assert written(keys[0])["indicator"].tolist() == ["a", "c", "f"]
    assert written(keys[0])["value"].tolist() == [1.0, 3.0, 6.0]
    assert written(keys[1])["indicator"].tolist() == ["b", "e"]
    assert written(keys[3])["indicator"].tolist() == ["d", "g"]
    empty = written(keys[2])
    assert empty.empty and list(empty.columns) == list(frame.columns)
    assert empty.dtypes.equals(written(keys[0]).dtypes)
    for key in keys:  # each file on its own RangeIndex, as a per-gemeente run writes it
        assert written(key).index.equals(pd.RangeIndex(len(written(key))))


def test_rows_of_a_gemeente_outside_the_range_are_refused_and_nothing_is_written(tmp_path):
    keys = GEMEENTEN[:2]
    outside = GEMEENTEN[5]
    frame = pd.DataFrame({"gemeente_code": pd.Series([keys[0], outside], dtype="str"), "value": [1.0, 2.0]})
    store = ParquetStore(str(tmp_path))
    with pytest.raises(ValueError, match=outside):
        _output(store, frame, keys)
    assert not any(tmp_path.rglob("*.parquet"))
