"""Benchmark: what Dagster's bookkeeping costs per partition of a range run, apart from any data work.

A range run over N gemeente partitions records, per asset it materializes, N
ASSET_MATERIALIZATION_PLANNED events when the run is created (before its first step) and N
ASSET_MATERIALIZATION events when the step ends. Nationally N is 342 and the per-gemeente layer has
8-12 partitioned assets, so this is a fixed cost of every national KPI range run whatever the data.

Measures one partitioned asset that does nothing (its IO manager stores nothing) in a range run
over N partitions, for the event log storages and settings below, each on a fresh instance:
  - sqlite: Dagster's SQLite instance;
  - postgres: dagster-postgres, when --postgres-url names a server whose role may create databases
    (e.g. deploy/dev/pg-test-cluster.sh; note that that cluster runs with fsync off, production
    does not);
  - batch: DAGSTER_EVENT_BATCH_SIZE=1000, which the project sets (0: off);
  - subset: DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true, one planned event per asset
    instead of one per partition. Not set by the project: a failed run then no longer marks its
    partitions failed (tests/test_event_batching.py shows they are marked with the project's settings);
  - batching storage: the project's event log storages (pipelines/event_log.py), which write a
    batch of planned events (and on SQLite materializations) in one transaction: deploy/dagster.yaml
    for PostgreSQL, `make run` and bench_nightly for SQLite.

Per variant: `create` (run creation, the planned events), `execute` (the run, the materializations)
and both per partition.

Run: .venv/bin/python -m bench.bench_bookkeeping [--partitions 342] [--postgres-url URL] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assets.partitions import range_tags
from bench._measure import machine, table

BATCH = "DAGSTER_EVENT_BATCH_SIZE"
SUBSET = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
VARIANTS = [  # (name, batch size, one planned event per asset, the project's event log storage)
    ("neither", "0", False, False),
    ("batch", "1000", False, False),
    ("batch + subset", "1000", True, False),
    ("batch + batching storage (the project's)", "1000", False, True),
]
STORAGE_MODULE = "pipelines.event_log"


def _job(partitions: int) -> Any:
    import dagster as dg

    keys = [f"GM{i:04d}" for i in range(partitions)]

    class NoStorage(dg.ConfigurableIOManager):
        def handle_output(self, context, obj) -> None:  # type: ignore[no-untyped-def]
            pass

        def load_input(self, context) -> None:  # type: ignore[no-untyped-def]
            return None

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(keys), backfill_policy=dg.BackfillPolicy.single_run())
    def kpi(context) -> None:  # type: ignore[no-untyped-def]  # a local string annotation Dagster cannot resolve
        context.add_output_metadata({"gemeenten": len(context.partition_keys)})

    job = dg.Definitions(assets=[kpi], resources={"io_manager": NoStorage()}).resolve_implicit_global_asset_job_def()
    return job, range_tags(keys)


@contextlib.contextmanager
def _instance(storage: str, postgres_url: str | None, batching_storage: bool) -> Iterator[Any]:
    """A fresh instance: SQLite in a temporary folder, or dagster-postgres on a new database; with
    Dagster's event log storage or the project's batching one (pipelines/event_log.py)."""
    import dagster as dg

    with tempfile.TemporaryDirectory(prefix="bench-bookkeeping-") as home:
        if storage == "sqlite":
            from pipelines.event_log import local_instance_yaml  # make run's and bench_nightly's instance

            overrides = json.loads(local_instance_yaml(Path(home))) if batching_storage else None
            with dg.instance_for_test(temp_dir=home, overrides=overrides) as instance:
                yield instance
            return
        import sqlalchemy as sa

        url = sa.engine.make_url(postgres_url or "")
        database = f"bench_bookkeeping_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
        try:
            postgres_db = {"scheme": "postgresql+psycopg2", "hostname": url.host, "port": url.port or 5432,
                           "username": url.username, "password": url.password or "", "db_name": database}
            config: dict[str, Any] = {"storage": {"postgres": {"postgres_db": postgres_db}}, "telemetry": {"enabled": False}}
            if batching_storage:
                config = {
                    "run_storage": {"module": "dagster_postgres", "class": "PostgresRunStorage",
                                    "config": {"postgres_db": postgres_db}},
                    "event_log_storage": {"module": STORAGE_MODULE, "class": "BatchingPostgresEventLogStorage",
                                          "config": {"postgres_db": postgres_db}},
                    "schedule_storage": {"module": "dagster_postgres", "class": "PostgresScheduleStorage",
                                         "config": {"postgres_db": postgres_db}},
                    "telemetry": {"enabled": False}}
            Path(home, "dagster.yaml").write_text(json.dumps(config), encoding="utf-8")
            with dg.DagsterInstance.from_config(home) as instance:
                yield instance
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()


@contextlib.contextmanager
def _settings(batch: str, subset: bool) -> Iterator[None]:
    # Dagster reads both variables at every use, so they can change within one process.
    saved = {name: os.environ.get(name) for name in (BATCH, SUBSET)}
    os.environ[BATCH] = batch
    os.environ.pop(SUBSET, None)
    if subset:
        os.environ[SUBSET] = "true"
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def measure(storage: str, partitions: int, batch: str, subset: bool, batching_storage: bool,
            postgres_url: str | None) -> dict[str, float]:
    """One range run on a fresh instance: seconds from the call to the run's start (creating the run,
    its planned events) and from its start to its end (the step, its materializations)."""
    import dagster as dg

    job, tags = _job(partitions)
    with _settings(batch, subset), _instance(storage, postgres_url, batching_storage) as instance:
        job.execute_in_process(instance=instance, tags=tags, run_config=QUIET, raise_on_error=False)  # warm: imports, schema
        started = time.time()
        result = job.execute_in_process(instance=instance, tags=tags, run_config=QUIET, raise_on_error=False)
        done = time.time()
        run_start = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_START)[0].timestamp
        materialized = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    if not result.success or len(materialized) != partitions:
        raise RuntimeError(f"{storage}, {batch}/{subset}: {len(materialized)} of {partitions} partitions materialized")
    return {"create": run_start - started, "execute": done - run_start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=342)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="SQLAlchemy URL of a role that may create databases (or BENCH_POSTGRES_URL)")
    parser.add_argument("--smoke", action="store_true", help="3 partitions, SQLite only: that it runs")
    args = parser.parse_args()
    partitions = 3 if args.smoke else args.partitions
    storages = ["sqlite"] + ([] if args.smoke or not args.postgres_url else ["postgres"])
    print(f"# Dagster bookkeeping of a range run over {partitions} partitions, one asset ({machine()})")
    rows, results = [], []
    for storage in storages:
        for name, batch, subset, batching_storage in VARIANTS:
            seconds = measure(storage, partitions, batch, subset, batching_storage, args.postgres_url)
            total = seconds["create"] + seconds["execute"]
            results.append({"storage": storage, "variant": name, "partitions": partitions, **seconds})
            rows.append([storage, name, f"{seconds['create']:.2f}", f"{seconds['execute']:.2f}", f"{total:.2f}",
                         f"{total / partitions * 1000:.1f}"])
    print(table(["storage", "settings", "create s", "execute s", "total s", "ms per partition"], rows))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
