"""Joins of national size in DuckDB, results as row positions into the pandas frames.

pandas factorises every string key of a merge in Python-facing code and copies every column through
each intermediate frame: matching 3 million EP-online certificates to 2.3 million units cost ~20 s
and several GB (bench/README.md, benchmark 1). DuckDB joins the same keys in parallel, vectorised
C++. Only the key columns go to DuckDB; it answers with row positions, and the caller builds its
output with `take`, so every column keeps its exact pandas dtype and nothing is converted twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: The position column every registered frame gets: its row's place in the frame (0-based).
POS = "_pos"


def positions(sql: str, frames: Mapping[str, tuple[pd.DataFrame, Sequence[str]]]) -> dict[str, np.ndarray]:
    """Run `sql` over the named frames (each with the listed columns plus `_pos`) in DuckDB.

    Returns the result's columns as numpy arrays: integer position columns as int64, with -1 where
    the query gives NULL (an outer join without a partner).
    """
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    try:
        for name, (frame, columns) in frames.items():
            table = pa.Table.from_pandas(frame[list(columns)], preserve_index=False)
            table = table.append_column(POS, pa.array(np.arange(len(frame), dtype=np.int64)))
            con.register(name, table)
        result = con.execute(sql).to_arrow_table()
    finally:
        con.close()
    out: dict[str, np.ndarray] = {}
    for name in result.column_names:
        column = result.column(name)
        if pa.types.is_integer(column.type):
            out[name] = column.fill_null(-1).to_numpy().astype(np.int64, copy=False)
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    return out


def take(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The rows of `frame` at `rows` (-1: a row of missing values), on a fresh RangeIndex."""
    if len(rows) == 0 or rows.min() >= 0:
        return frame.take(rows).reset_index(drop=True)
    columns = {
        name: pd.api.extensions.take(frame[name].array, rows, allow_fill=True) for name in frame.columns
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))
