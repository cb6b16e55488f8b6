"""Shared pieces of the fault tests (test_faults, test_idempotency, test_concurrency), and their
subprocess entry point.

In-process helpers:

- :func:`table_checksums`: per table of a warehouse a sha256 over all columns of the sorted rows
  (values by ``repr``, so 1 and 1.0 differ), the row count and the number of distinct natural keys.
- :func:`baseline` (the ``sample_baseline`` fixture): ONE undisturbed whole-graph run on the sample,
  shared by every test of the session (also across pytest-xdist workers, under a file lock): its
  landing copy, IO storage (the nightly's staging and every gemeente's KPI values), its Dagster
  instance (SQLite: runs, materializations, check evaluations) and the checksums of what it
  published. A test that needs "yesterday's run" as its starting point copies these
  (:meth:`Baseline.workspace`, :meth:`Baseline.published`, :meth:`Baseline.instance`) instead of
  repeating the half-minute whole-graph run; a test about the run itself still makes its own.
- :func:`publication_run`: the warehouse_publicatie step alone over a range of gemeenten, as a
  re-execution after a crash runs it.

Subprocess commands (``python -m tests.fault_runner ...``, cwd = the project):

- ``baseline DIR``: make the session's baseline in the session directory DIR (started by
  tests/conftest.py when the whole suite runs, so it is under way while the first tests run).

- ``publish BASE URL [--ballast-rows N]``: the publication run over every gemeente on the workspace
  files in BASE into URL. With ballast, a large extra table (schema ``proef``) is written LAST in
  the same transaction, so the write takes long enough for a test to kill the process while it is
  under way; the ballast lives only in this runner, production code has no hook.
- ``race URL GEMEENTE ROWS HOLD DIR``: Warehouse.publish of a synthetic slice of kpi_zon and
  kpi_energielabels for GEMEENTE plus the unsliced kpi_catalog, started when DIR/go appears; prints
  JSON with timestamps taken from SQLAlchemy engine events (connect attempts, lock, commit). With
  every row written and the commit not yet sent it sleeps HOLD seconds, as a longer publication
  would, so that the other process surely arrives while this one holds the warehouse.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import sqlalchemy as sa

from assets.kpi import KPI_TABLES
from assets.monitor.stoplight import AGREEMENT_KEY, HISTORIE, STOPLIGHT
from assets.partitions import GEMEENTE_PARTITIES
from assets.partitions import range_tags as partition_range_tags
from assets.resources import WarehouseResource
from pipelines.definitions import all_assets, all_checks
from tests import pipeline_helpers
from tests.pipeline_helpers import Workspace, failed_steps
from warehouse import TableSpec, Warehouse
from warehouse import testing as scratch

SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}
BALLAST = TableSpec("ballast", [("i", "integer"), ("d", "double")], schema="proef")
PUBLICATIE = "kpi.publicatie"


def natural_keys() -> dict[str, list[str]]:
    """Per published table the columns that identify a row (what a duplicate would repeat)."""
    keys = {
        f"kpi.{t.name}": [c.name for c in t.columns[:3]] + [d.name for d in t.dimensions] + ["indicator", "definition_id"]
        for t in KPI_TABLES
    }
    keys[f"{STOPLIGHT.schema}.{STOPLIGHT.name}"] = [*AGREEMENT_KEY, "as_of"]
    keys[f"{HISTORIE.schema}.{HISTORIE.name}"] = [*AGREEMENT_KEY, "as_of"]
    keys["kpi.kpi_catalog"] = ["tabel", "kolom"]
    keys[PUBLICATIE] = ["gemeente_code", "tabel", "run_id"]
    return keys


def relations(url: str) -> list[tuple[str, str, str]]:
    """(schema, name, BASE TABLE | VIEW) of every user relation in the warehouse."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY 1, 2"
            )).fetchall()
    finally:
        engine.dispose()
    return [(str(s), str(n), str(t)) for s, n, t in rows if s not in SYSTEM_SCHEMAS]


def table_checksums(url: str, schemas: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """{schema.table: {sha256, rows, keys}} of every base table (of `schemas`, default all user schemas).

    sha256 covers the column names and every row (all columns, values by repr, rows sorted); `keys` is
    the number of distinct natural keys (natural_keys()), None for a table without one."""
    keys = natural_keys()
    out: dict[str, dict[str, Any]] = {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            for schema, name, kind in relations(url):
                if kind != "BASE TABLE" or (schemas is not None and schema not in schemas):
                    continue
                result = connection.execute(sa.text(f'SELECT * FROM "{schema}"."{name}"'))
                columns = list(result.keys())
                rows = sorted("\x1f".join(repr(v) for v in row) for row in result.fetchall())
                digest = hashlib.sha256("\x1f".join(columns).encode())
                for row in rows:
                    digest.update(b"\n" + row.encode())
                qualified = f"{schema}.{name}"
                distinct = None
                if qualified in keys and set(keys[qualified]) <= set(columns):
                    key_columns = ", ".join(f'"{c}"' for c in keys[qualified])
                    distinct = connection.execute(sa.text(
                        f'SELECT count(*) FROM (SELECT DISTINCT {key_columns} FROM "{schema}"."{name}") AS k'
                    )).scalar()
                out[qualified] = {"sha256": digest.hexdigest(), "rows": len(rows), "keys": distinct}
    finally:
        engine.dispose()
    return out


def published_log(url: str) -> pd.DataFrame:
    warehouse = Warehouse(url)
    try:
        return warehouse.read("kpi", "publicatie")
    finally:
        warehouse.dispose()


def log_summary(log: pd.DataFrame, run_id: str) -> list[list[str]]:
    """A run's rows of kpi.publicatie without run id and time: [gemeente_code, tabel, rijen], sorted."""
    ours = log[log["run_id"] == run_id][["gemeente_code", "tabel", "rijen"]].astype("str")
    return sorted(ours.values.tolist())


# --------------------------------------------------------------------------------------------------
# The shared undisturbed run


@dataclass(frozen=True)
class Baseline:
    root: Path  # landing/, storage/, correcties.csv, instance/ of the undisturbed run
    tables: dict[str, dict[str, Any]]  # its published tables' checksums
    run_id: str
    log: list[list[str]]  # its rows of kpi.publicatie: [gemeente_code, tabel, rijen], sorted

    def workspace(self, base: Path) -> Workspace:
        """A new workspace with a copy of the baseline's landing and storage and a fresh, empty warehouse."""
        base.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.root / "storage", base / "storage")
        return Workspace(base, landing=self.root / "landing")

    def published(self, base: Path, instance: dg.DagsterInstance | None = None) -> Workspace:
        """:meth:`workspace` with the baseline's KPI and monitor tables published into its warehouse
        (the publication step over the stored values, a few seconds; the tables equal the baseline's,
        which test_idempotency holds). Its kpi.publicatie rows carry that publication's run id."""
        workspace = self.workspace(base)
        result = publication_run(workspace, instance=instance)
        if not result.success:
            raise AssertionError(f"publication of the baseline failed: {failed_steps(result)}")
        return workspace

    def instance(self, base: Path) -> dg.DagsterInstance:
        """A copy of the baseline run's Dagster instance (its run, materializations and check
        evaluations: the history the next night's run sees). The caller disposes it."""
        target = base / "instance"
        shutil.copytree(self.root / "instance", target)
        return dg.DagsterInstance.local_temp(tempdir=str(target))


def _shared_dir(tmp_path_factory: Any) -> Path:
    """The session's directory common to all xdist workers (each worker's basetemp is a child of it)."""
    base = Path(tmp_path_factory.getbasetemp())
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def baseline(tmp_path_factory: Any) -> Baseline:
    """The undisturbed whole-graph run of this session on this backend, made by the first test that
    asks (or, in a run of the whole suite, by the process tests/conftest.py starts with the session)."""
    return baseline_in(_shared_dir(tmp_path_factory))


def baseline_in(shared: Path) -> Baseline:
    """The baseline in the session directory `shared`: made there under its file lock unless done."""
    root = shared / f"fault-baseline-{scratch.backend()}"
    reference = root / "reference.json"
    with open(shared / f"fault-baseline-{scratch.backend()}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not reference.exists():
            if root.exists():
                shutil.rmtree(root)
            workspace = Workspace(root)
            (root / "instance").mkdir()
            with dg.DagsterInstance.local_temp(tempdir=str(root / "instance")) as instance:
                result = workspace.run(instance=instance)
            if not result.success:
                raise AssertionError(f"baseline run failed: {failed_steps(result)}")
            payload = {
                "tables": table_checksums(workspace.url, ("kpi", "monitor")),
                "run_id": result.run_id,
                "log": log_summary(published_log(workspace.url), result.run_id),
            }
            reference.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    payload = json.loads(reference.read_text(encoding="utf-8"))
    return Baseline(root=root, tables=payload["tables"], run_id=payload["run_id"], log=payload["log"])


def range_tags(gemeenten: list[str] | None = None) -> dict[str, str]:
    keys = sorted(gemeenten) if gemeenten else GEMEENTE_PARTITIES.get_partition_keys()
    return partition_range_tags(keys)


def publication_run(
    workspace: Workspace,
    gemeenten: list[str] | None = None,
    instance: dg.DagsterInstance | None = None,
    **resources: object,
) -> dg.ExecuteInProcessResult:
    """warehouse_publicatie alone over a contiguous range of gemeenten (default all), from the
    workspace's stored KPI values: what a re-execution of the failed step runs."""
    return dg.materialize(
        [*all_assets, *all_checks],
        resources={**workspace.resources(), **resources},
        selection=dg.AssetSelection.assets("warehouse_publicatie"),
        tags=range_tags(gemeenten),
        instance=instance,
        raise_on_error=False,
    )


def failure_messages(result: dg.ExecuteInProcessResult, step: str) -> str:
    """The error text of a failed step, with the messages of its causes (the user code's exception)."""
    texts = []
    for event in result.all_events:
        if event.is_step_failure and event.step_key == step:
            error = event.step_failure_data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause
    return "\n".join(texts)


def workspace_at(base: Path, url: str) -> Workspace:
    """A Workspace over files that already exist in `base`, writing to `url` (no new scratch warehouse)."""
    original = pipeline_helpers.scratch_url
    pipeline_helpers.scratch_url = lambda _base, name="warehouse": url  # type: ignore[assignment]
    try:
        return Workspace(base)
    finally:
        pipeline_helpers.scratch_url = original


# --------------------------------------------------------------------------------------------------
# Subprocess commands


class BallastWarehouse(Warehouse):
    """Adds a large table at the end of every publication's transaction (test-only, in this runner)."""

    def __init__(self, url: str, rows: int) -> None:
        super().__init__(url)
        self.rows = rows

    def publish(self, tables, *, slices=None):  # type: ignore[no-untyped-def,override]
        # random doubles: they do not compress, so the write takes a while and grows a DuckDB file visibly
        noise = np.random.default_rng(9).random(self.rows)
        ballast = pd.DataFrame({"i": np.arange(self.rows, dtype="int64"), "d": noise})
        print(json.dumps({"event": "publish", "t": time.time()}), flush=True)
        written = super().publish({**tables, "proef_ballast": (BALLAST, ballast)}, slices=slices)
        # publish returned: committed. The asset closes the client next (DuckDB: the checkpoint).
        print(json.dumps({"event": "committed", "t": time.time()}), flush=True)
        return written


class BallastWarehouseResource(WarehouseResource):
    ballast_rows: int

    def client(self) -> Warehouse:
        return BallastWarehouse(self.url, self.ballast_rows)


def _publish_command(args: argparse.Namespace) -> int:
    workspace = workspace_at(Path(args.base), args.url)
    ballast = BallastWarehouseResource(url=args.url, ballast_rows=args.ballast_rows) if args.ballast_rows else None
    print(json.dumps({"event": "start", "pid": os.getpid(), "t": time.time()}), flush=True)
    result = publication_run(workspace, warehouse=ballast) if ballast else publication_run(workspace)
    print(json.dumps({"event": "done", "success": result.success, "run_id": result.run_id,
                      "failed": failed_steps(result)}), flush=True)
    return 0 if result.success else 1


def race_frame(spec: TableSpec, gemeente: str, rows: int) -> pd.DataFrame:
    """`rows` synthetic rows of a sliced table for one gemeente (every column filled by its type)."""
    n = np.arange(rows)
    values: dict[str, object] = {}
    for column, logical in spec.columns:
        if column == "gemeente_code":
            values[column] = [gemeente] * rows
        elif logical == "text":
            values[column] = pd.Series(n).map(lambda i, c=column: f"{c}-{i}").tolist()
        elif logical == "integer":
            values[column] = n
        elif logical == "double":
            values[column] = n / 7.0
        elif logical == "boolean":
            values[column] = n % 2 == 0
        elif logical == "date":
            values[column] = pd.Timestamp("2025-12-31")
        else:
            values[column] = pd.Timestamp("2026-01-31 02:00:00")
    return pd.DataFrame(values)


def _race_command(args: argparse.Namespace) -> int:
    from assets.catalog import catalog_frame
    from assets.publish import CATALOG_SPEC, SPECS

    tables = {
        name: (SPECS[name], race_frame(SPECS[name], args.gemeente, args.rows)) for name in ("kpi_zon", "kpi_energielabels")
    }
    tables["kpi_catalog"] = (CATALOG_SPEC, catalog_frame())
    if os.environ.get("PRESTATIEMONITOR_FAULT_RUNNER_OWN_LOCK"):
        # Only for the test that proves the race check can fail: a lock key no other process uses.
        import warehouse as warehouse_module

        warehouse_module.PUBLISH_LOCK_KEY = os.getpid()
    warehouse = Warehouse(args.url)
    events: dict[str, Any] = {"connect_attempts": [], "connected": [], "lock_requested": None, "locked": None,
                              "commit": None}

    @sa.event.listens_for(warehouse.engine, "do_connect")
    def _attempt(*_: object) -> None:
        events["connect_attempts"].append(time.time())

    @sa.event.listens_for(warehouse.engine, "connect")
    def _connected(*_: object) -> None:
        events["connected"].append(time.time())

    @sa.event.listens_for(warehouse.engine, "before_cursor_execute")
    def _before(_conn, _cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        if "pg_advisory_xact_lock" in statement:
            events["lock_requested"] = time.time()

    @sa.event.listens_for(warehouse.engine, "after_cursor_execute")
    def _after(_conn, _cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        if "pg_advisory_xact_lock" in statement:
            events["locked"] = time.time()

    @sa.event.listens_for(warehouse.engine, "commit")
    def _commit(*_: object) -> None:
        # every row written, the commit not yet sent: a longer publication holds the warehouse here
        time.sleep(args.hold)
        events["commit"] = time.time()

    directory = Path(args.dir)
    (directory / f"ready-{args.gemeente}").touch()
    while not (directory / "go").exists():
        time.sleep(0.002)
    started = time.time()
    try:
        written = warehouse.publish(tables, slices={"gemeente_code": [args.gemeente]})
        error = None
    except Exception as exc:  # reported to the test as data
        written, error = {}, f"{type(exc).__name__}: {exc}"
    finally:
        returned = time.time()
        warehouse.dispose()
    print(json.dumps({"gemeente": args.gemeente, "started": started, "returned": returned, "released": time.time(),
                      "written": written, "error": error, **events}), flush=True)
    return 0 if error is None else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fault_runner")
    commands = parser.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish")
    publish.add_argument("base")
    publish.add_argument("url")
    publish.add_argument("--ballast-rows", type=int, default=0)
    race = commands.add_parser("race")
    race.add_argument("url")
    race.add_argument("gemeente")
    race.add_argument("rows", type=int)
    race.add_argument("hold", type=float, help="seconds the write lasts beyond writing the rows")
    race.add_argument("dir")
    early = commands.add_parser("baseline", help="make the session's baseline in DIR (tests/conftest.py)")
    early.add_argument("dir")
    args = parser.parse_args(argv)
    if args.command == "baseline":
        baseline_in(Path(args.dir))
        scratch.drop_scratch_databases()  # the checksums are taken; tests publish copies elsewhere
        return 0
    return _publish_command(args) if args.command == "publish" else _race_command(args)


if __name__ == "__main__":
    sys.exit(main())
