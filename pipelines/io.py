"""Where assets keep their values between steps: one Parquet file per asset (per partition).

Raw and staging values contain personal data; they stay in this local store and never reach the
warehouse. Files are written to a temporary name and renamed, so a killed run never leaves a
half-written value for the next step to read.
"""

from __future__ import annotations

import os

import dagster as dg
import pandas as pd
from upath import UPath


class _ParquetStore(dg.UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: object, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: verwacht een DataFrame, kreeg {type(obj).__name__}")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        obj.to_parquet(str(partial), index=False)
        os.replace(str(partial), str(path))

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        return pd.read_parquet(str(path))


class ParquetIOManager(dg.ConfigurableIOManagerFactory):
    """Stores every asset value as Parquet under base_path."""

    base_path: str

    def create_io_manager(self, context: dg.InitResourceContext) -> _ParquetStore:
        return _ParquetStore(base_path=UPath(self.base_path))
