"""The asset store's split of a range run's frame into one Parquet file per gemeente partition."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from assets.partitions import GEMEENTE_PARTITIES
from pipelines.io import ParquetStore, _read_many

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


def _frame(codes: list[str], values: list[float | None]) -> pd.DataFrame:
    return pd.DataFrame({"gemeente_code": pd.Series(codes, dtype="str"), "value": pd.Series(values, dtype="float64")})


def test_many_partition_files_are_read_as_one_frame_in_file_order(tmp_path):
    frames = [_frame(["GM0392"] * 3, [1.0, 2.0, 3.0]), _frame([], []), _frame(["GM0397"] * 2, [4.0, None])]
    paths = []
    for number, frame in enumerate(frames):
        paths.append(tmp_path / f"{number}.parquet")
        frame.to_parquet(paths[-1], index=False)
    got = _read_many(paths)
    expected = pd.concat([frames[0], frames[2]], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("empty_first", [True, False])
def test_a_partition_written_with_an_all_missing_column_is_read_with_the_others(tmp_path, empty_first):
    """A partition whose text column was all missing and untyped (Parquet type null) next to one
    with text: read as one frame with the text kept, whichever file comes first."""
    typed = pd.DataFrame({"gemeente_code": pd.Series(["GM0392"], dtype="str"), "toelichting": pd.Series(["x"], dtype="str")})
    untyped = pd.DataFrame({"gemeente_code": pd.Series(["GM0397"], dtype="str"), "toelichting": pd.Series([None], dtype="object")})
    order = [untyped, typed] if empty_first else [typed, untyped]
    paths = []
    for number, frame in enumerate(order):
        paths.append(tmp_path / f"{number}.parquet")
        frame.to_parquet(paths[-1], index=False)
    got = _read_many(paths)
    assert got["gemeente_code"].tolist() == [f["gemeente_code"].iloc[0] for f in order]
    assert sorted(got["toelichting"].dropna().tolist()) == ["x"]
    assert got["toelichting"].isna().sum() == 1


def test_a_categorical_is_written_per_partition_with_only_its_own_values_and_read_back_as_one(tmp_path):
    """A KPI table's source_snapshot: one long value per gemeente, kept as codes. A range run's frame
    can carry categories of more gemeenten than its own (pandas then needs 16-bit codes), a single
    gemeente's run has one (8-bit codes); the files of both must scan together (the scan refused
    8- and 16-bit codes side by side)."""
    many = GEMEENTEN[:20]
    others = [f"bezit/elders_{i}.csv@{i:012x}" for i in range(200)]
    values = [f"bezit/{key}.csv@{i:012x}" for i, key in enumerate(many)]
    snapshot = pd.Categorical(values, categories=[*others, *values])
    frame = pd.DataFrame({"gemeente_code": pd.Series(many, dtype="str"), "source_snapshot": snapshot, "value": 1.0})
    store = ParquetStore(str(tmp_path))
    _output(store, frame, many)
    alone = GEMEENTEN[20]
    single = pd.DataFrame({
        "gemeente_code": pd.Series([alone], dtype="str"),
        "source_snapshot": pd.Categorical(["bezit/alone.csv@000000000000"]),
        "value": 2.0,
    })
    _output(store, single, [alone])

    first = pd.read_parquet(store.path_for(dg.AssetKey("kpi_x"), many[0]))
    assert first["source_snapshot"].cat.categories.tolist() == [values[0]]

    paths = [store.path_for(dg.AssetKey("kpi_x"), key) for key in [*many, alone]]
    read = _read_many(paths)
    assert read["source_snapshot"].astype("str").tolist() == [*values, "bezit/alone.csv@000000000000"]
    assert read["gemeente_code"].tolist() == [*many, alone]
