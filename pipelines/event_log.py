"""Dagster's own event log storages, writing a batch of per-partition asset events in one go.

A range run over the 342 gemeenten records, per partitioned asset, 342 ASSET_MATERIALIZATION_PLANNED
events when it is created and 342 ASSET_MATERIALIZATION events when its step ends. Dagster hands
such events to `store_event_batch` (with DAGSTER_EVENT_BATCH_SIZE, which these storages and
pipelines/definitions.py set), but only dagster-postgres writes a batch at once, and only
materializations; every other batch is stored event by event: two transactions (with fsync) per
event and, on SQLite, two new database engines. The planned events alone cost ~5 s per asset
nationally, before any step runs (bench/bench_bookkeeping.py). Dagster's own way out,
DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS, writes one planned event per asset instead, but
then a failed run no longer marks its gemeenten failed (dagster-io/dagster#28113 and #29288).

These subclasses write every event and every row as Dagster's own `store_event` does (the same
rows, in the same order, one event per partition, so the failed-partition status is unchanged) and
only put a batch of them in one transaction per database. Batches of any other kind, and single
events, go to Dagster's own code. Configure them in dagster.yaml in place of Dagster's classes
(deploy/dagster.yaml; `make run`'s and the benchmarks' local instance: `local_instance_yaml`).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config
from sqlalchemy.engine import Connection

# Dagster groups events into batches only when DAGSTER_EVENT_BATCH_SIZE is set, in the process that
# writes them. The daemon creates the sensors' and schedules' runs, so it writes their planned
# events, and it never imports the code location (which also sets this): the storage turns it on in
# every process that opens the instance. A deployment's own value wins; 0 turns batching off.
EVENT_BATCH_SIZE = "1000"
PLANNED = DagsterEventType.ASSET_MATERIALIZATION_PLANNED
# Event types whose `store_event` is: insert the event row, then (index shard) its asset tags and
# its asset key's row, and that a range run writes per partition. Observations are stored the same
# way, but the project's runs write none in batches; other types (asset checks, failures, run
# events) have more side effects.
ASSET_ROW_EVENTS = {PLANNED, DagsterEventType.ASSET_MATERIALIZATION}


def turn_on_event_batching() -> None:
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


def local_instance_yaml(home: Path) -> str:
    """dagster.yaml of a local SQLite instance in `home` (`make run`, the benchmarks): Dagster's
    default storages in their default folders, with this module's event log storage."""
    return json.dumps({
        "event_log_storage": {"module": __name__, "class": BatchingSqliteEventLogStorage.__name__,
                              "config": {"base_dir": str(home / "history" / "runs")}},
        "telemetry": {"enabled": False},
    }, indent=2) + "\n"


def runs_of_one_kind(events: Sequence[EventLogEntry]) -> Iterator[list[EventLogEntry]]:
    """Consecutive events of the same run and type, in their order."""
    for _, group in itertools.groupby(events, key=lambda event: (event.run_id, event.dagster_event_type)):
        yield list(group)


def _store_asset_rows(storage: SqlEventLogStorage, conn: Connection, events: Sequence[EventLogEntry],
                      event_ids: Sequence[int]) -> None:
    """The index part of `store_event` for a batch: the asset tags of every event, and each asset
    key's row from its last event (every event overwrites it, so the last one decides)."""
    storage._store_asset_event_tags(conn, events, event_ids)
    last: dict[Any, tuple[EventLogEntry, int]] = {}
    for event, event_id in zip(events, event_ids, strict=True):
        last[event.get_dagster_event().asset_key] = (event, event_id)
    for event, event_id in last.values():
        storage._store_asset_event(conn, event, event_id)


class BatchingPostgresEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres' event log, writing a batch of planned events and their asset rows in one
    transaction (dagster-postgres batches materializations itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        turn_on_event_batching()
        super().__init__(*args, **kwargs)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> BatchingPostgresEventLogStorage:
        # dagster-postgres' own reading of the config, building this class instead of its own
        return cls(inst_data=inst_data, postgres_url=pg_url_from_config(config_value),
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True),
                   token_provider=get_token_provider_from_config(config_value))

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        for group in runs_of_one_kind(events):
            if len(group) > 1 and group[0].dagster_event_type == PLANNED:
                self._store_planned_batch(group)
            else:
                super().store_event_batch(group)  # materializations: dagster-postgres' own batch

    def _store_planned_batch(self, events: Sequence[EventLogEntry]) -> None:
        # The events and their asset rows in ONE transaction (one database): if it fails, nothing is
        # written, and Dagster's fallback (event by event) does not write any event twice.
        insert = self.prepare_insert_event_batch(events)
        with self.index_transaction() as conn:
            event_ids = [int(row[0]) for row in conn.execute(insert.returning(SqlEventLogStorageTable.c.id))]
            _store_asset_rows(self, conn, events, event_ids)


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log (a database per run plus the index shard), writing a batch of
    planned events or materializations in one transaction per database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        turn_on_event_batching()
        super().__init__(*args, **kwargs)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,  # type: ignore[override]
                          config_value: Mapping[str, Any]) -> BatchingSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        for group in runs_of_one_kind(events):
            if len(group) > 1 and group[0].dagster_event_type in ASSET_ROW_EVENTS:
                self._store_asset_batch(group)
            else:
                super().store_event_batch(group)

    def _store_asset_batch(self, events: Sequence[EventLogEntry]) -> None:
        # Two databases, two transactions, as in Dagster's store_event: should the second fail, Dagster's
        # fallback writes the batch again event by event and the run's log holds those events twice
        # (as with dagster-postgres' own materialization batch). SQLite is the local instance only.
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            for statement in statements:
                conn.execute(statement)
        # the index shard mirrors asset events, with its own ids (SqliteEventLogStorage.store_event)
        with self.index_transaction() as conn:
            event_ids = [int(conn.execute(statement).inserted_primary_key[0])  # type: ignore[index]
                         for statement in statements]
            _store_asset_rows(self, conn, events, event_ids)
