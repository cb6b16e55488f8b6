"""Faults at warehouse-write time (issue 9): a run killed with SIGKILL in the middle of the publication,
and a warehouse that is unreachable, read-only or held by another process when the publication writes.

Every case ends with the warehouse compared, table by table (sha256 over all columns of the sorted
rows), with what it held before: nothing half-applied. The publication runs in a process of its own
(tests/fault_runner.py) with a large extra table written last in its transaction, so that the test can
see the write under way from outside and SIGKILL it then; after the kill the next run must finish and
equal the session's undisturbed run (another workspace and warehouse). The kill mid-write runs on this
run's backend (DuckDB, or PostgreSQL in CI's second pass); the kills at DuckDB's commit run in the
DuckDB pass; the PostgreSQL-only cases are marked ``postgres``. Root ignores file modes, so a
read-only DuckDB warehouse is a file opened with access_mode=read_only, not chmod 0444.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

import warehouse as warehouse_module
from assets.publish import SPECS
from assets.resources import WarehouseResource
from pipelines.io import ParquetStore
from tests.fault_runner import (
    PUBLICATIE,
    baseline,
    failure_messages,
    log_summary,
    publication_run,
    published_log,
    race_frame,
    relations,
    table_checksums,
)
from tests.pipeline_helpers import Workspace, failed_steps
from warehouse import Warehouse
from warehouse import testing as scratch

HAARLEM, HEEMSTEDE = "GM0392", "GM0397"
PROJECT = Path(__file__).resolve().parent.parent
STEP = "warehouse_publicatie"
NOT_APPLIED = "schrijven naar het warehouse mislukt, niets gewijzigd"


def runner_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT), "GX_ANALYTICS_ENABLED": "false"}


# --------------------------------------------------------------------------------------------------
# SIGKILL in the middle of the publication's write


def _wait_until_writing(process: subprocess.Popen, url: str, log: Path, timeout: float = 120.0) -> str:
    """Block until the runner is inside the publication transaction writing its ballast, seen from
    outside: the DuckDB file growing by the ballast's blocks (uncommitted, before any WAL is written),
    or on PostgreSQL the runner's COPY into the ballast table active in pg_stat_activity."""
    deadline = time.monotonic() + timeout
    if url.startswith("duckdb"):
        path = Path(sa.engine.make_url(url).database or "")
        wal = path.with_name(path.name + ".wal")
        start = path.stat().st_size
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"runner ended before the write could be interrupted:\n{log.read_text()[-3000:]}")
            grown = path.stat().st_size - start
            if grown > 8 << 20:
                return f"DuckDB-bestand {grown >> 20} MiB gegroeid, WAL {'aanwezig' if wal.exists() else 'afwezig'}"
            time.sleep(0.01)
    else:
        database = sa.engine.make_url(url).database
        # autocommit: inside one transaction pg_stat_activity would show the same snapshot every time
        admin = sa.create_engine(scratch.postgres_admin_url() or "", isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with admin.connect() as connection:
                while time.monotonic() < deadline:
                    if process.poll() is not None:
                        pytest.fail(f"runner ended before the write could be interrupted:\n{log.read_text()[-3000:]}")
                    row = connection.execute(sa.text(
                        "SELECT pid, query FROM pg_stat_activity WHERE datname = :db AND state = 'active' "
                        "AND query LIKE 'COPY \"proef\".\"ballast\"%'"
                    ), {"db": database}).first()
                    if row is not None:
                        return f"backend {row[0]}: {row[1][:60]}"
                    time.sleep(0.01)
        finally:
            admin.dispose()
    pytest.fail("the runner never reached the ballast write")


def _yesterdays_haarlem_numbers(url: str) -> None:
    """Give Haarlem's kpi_zon slice other values than today's run will publish, as yesterday's run did."""
    warehouse = Warehouse(url)
    try:
        frame = warehouse.read("kpi", "kpi_zon", where={"gemeente_code": [HAARLEM]})
        assert len(frame) > 0
        frame["value"] = pd.to_numeric(frame["value"]) * 2 + 1
        warehouse.publish({"kpi_zon": (SPECS["kpi_zon"], frame)}, slices={"gemeente_code": [HAARLEM]})
    finally:
        warehouse.dispose()


def _yesterday(workspace: Workspace) -> dg.ExecuteInProcessResult:
    """Yesterday's state: Haarlem..Heemstede published (other gemeenten absent), Haarlem with other numbers."""
    previous = publication_run(workspace, [HAARLEM, HEEMSTEDE])
    assert previous.success, failed_steps(previous)
    _yesterdays_haarlem_numbers(workspace.url)
    return previous


def _start_runner(workspace: Workspace, log: Path, rows: int) -> subprocess.Popen:
    """The publication over every gemeente in a process of its own, with `rows` of ballast at the end."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.fault_runner", "publish", str(workspace.base), workspace.url,
             "--ballast-rows", str(rows)],
            cwd=PROJECT, env=runner_env(), stdout=out, stderr=subprocess.STDOUT,
        )


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def _without_log(tables: dict[str, dict]) -> dict[str, dict]:
    return {name: digest for name, digest in tables.items() if name != PUBLICATIE}


@pytest.mark.slow
def test_a_publication_killed_mid_write_leaves_the_previous_state_and_the_next_run_equals_an_undisturbed_one(
    tmp_path, tmp_path_factory
):
    undisturbed = baseline(tmp_path_factory)  # the whole graph, uninterrupted, in a workspace of its own
    workspace = undisturbed.workspace(tmp_path / "ws")
    url = workspace.url
    previous = _yesterday(workspace)
    before, before_relations = table_checksums(url), relations(url)

    log = tmp_path / "runner.log"
    process = _start_runner(workspace, log, 4_000_000 if url.startswith("duckdb") else 1_000_000)
    try:
        seen = _wait_until_writing(process, url, log)
    finally:
        _kill(process)
    assert process.returncode == -signal.SIGKILL
    print(f"gedood tijdens het schrijven: {seen}")

    # Exactly the previous state: same tables and views, every table's checksum unchanged, no ballast.
    assert relations(url) == before_relations, seen
    assert table_checksums(url) == before, seen

    # The next run (a re-execution of the publication) finishes and equals the undisturbed run.
    rerun = publication_run(workspace)
    assert rerun.success, failed_steps(rerun)
    after = table_checksums(url, ("kpi", "monitor"))
    assert set(after) == set(undisturbed.tables)
    assert all(digest["keys"] == digest["rows"] for digest in after.values()), "dubbele sleutels"
    assert _without_log(after) == _without_log(undisturbed.tables)
    # The interrupted run had something to change: Haarlem's numbers, other gemeenten, the log.
    changed = {table for table in after if after[table] != before.get(table)}
    assert {"kpi.kpi_zon", PUBLICATIE} <= changed and len(changed) > len(after) // 2, changed
    # The log: yesterday's run and the re-run, nothing of the killed run.
    log_rows = published_log(url)
    assert set(log_rows["run_id"]) == {previous.run_id, rerun.run_id}
    assert log_summary(log_rows, rerun.run_id) == undisturbed.log


def _wait_for_commit(process: subprocess.Popen, wal: Path, log: Path, *, complete: bool) -> str:
    """Until DuckDB's WAL appears (the COMMIT is writing it), or with `complete`, until the runner says
    publish() returned (the COMMIT is done; the checkpoint that folds the WAL into the file when the
    publication closes the file is under way or still to come)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"runner ended before the moment was seen:\n{log.read_text()[-3000:]}")
        if complete and '"event": "committed"' in log.read_text():
            return f"na publish(), WAL {'nog aanwezig' if wal.exists() else 'al verwerkt'}"
        if not complete and wal.exists():
            return f"WAL {wal.stat().st_size} bytes"
        time.sleep(0.001)
    pytest.fail("no commit seen")


@pytest.mark.slow
@pytest.mark.skipif(scratch.backend() != "duckdb", reason="DuckDB's own commit; runs in the DuckDB pass")
@pytest.mark.parametrize("moment", ["wal_schrijven", "na_commit"])
def test_a_duckdb_publication_killed_during_its_commit_is_all_or_nothing(tmp_path, tmp_path_factory, moment):
    """The riskiest moments of an embedded database: DuckDB writes its WAL at COMMIT and folds it into the
    file (checkpoint) when the publication closes the file. Killed while the WAL is being written, or
    after the commit before the checkpoint, the reopened file holds yesterday's state or the complete
    new one (replayed from the WAL), never a mix; the next run equals the undisturbed one."""
    undisturbed = baseline(tmp_path_factory)
    workspace = undisturbed.workspace(tmp_path / "ws")
    path = Path(sa.engine.make_url(workspace.url).database or "")
    wal = path.with_name(path.name + ".wal")
    previous = _yesterday(workspace)
    before = table_checksums(workspace.url)
    assert not wal.exists()

    log = tmp_path / "runner.log"
    process = _start_runner(workspace, log, 2_000_000)
    try:
        seen = _wait_for_commit(process, wal, log, complete=moment == "na_commit")
    finally:
        _kill(process)
    assert process.returncode == -signal.SIGKILL

    state = table_checksums(workspace.url)
    committed = "proef.ballast" in state
    print(f"gedood ({moment}, {seen}): {'nieuwe stand compleet' if committed else 'vorige stand'}")
    if moment == "na_commit":
        assert committed, f"{seen}: a completed commit was lost"
    if committed:
        assert state["proef.ballast"]["rows"] == 2_000_000
        assert _without_log({k: v for k, v in state.items() if k in undisturbed.tables}) == _without_log(
            undisturbed.tables
        )
        assert set(published_log(workspace.url)["run_id"]) - {previous.run_id}, "the new run's log rows are missing"
    else:
        assert state == before

    rerun = publication_run(workspace)
    assert rerun.success, failed_steps(rerun)
    after = table_checksums(workspace.url, ("kpi", "monitor"))
    assert all(digest["keys"] == digest["rows"] for digest in after.values()), "dubbele sleutels"
    assert _without_log(after) == _without_log(undisturbed.tables)


# --------------------------------------------------------------------------------------------------
# Unreachable, read-only or locked warehouse at write time (small synthetic KPI values, one gemeente)


def _store_publication_inputs(workspace: Workspace, version: int) -> None:
    """The values warehouse_publicatie reads for Haarlem, as the KPI and monitor steps store them."""
    store = ParquetStore(str(workspace.storage))
    for name, spec in SPECS.items():
        frame = race_frame(spec, HAARLEM, 40)
        for column, logical in spec.columns:
            if logical == "double":
                frame[column] = frame[column] + version
        path = store.path_for(dg.AssetKey(name), HAARLEM)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)


def _published_yesterday(workspace: Workspace, url: str) -> Workspace:
    """The warehouse at `url` holds yesterday's publication for Haarlem; today's values are stored."""
    workspace.url = url
    _store_publication_inputs(workspace, version=1)
    yesterday = publication_run(workspace, [HAARLEM])
    assert yesterday.success, failed_steps(yesterday)
    _store_publication_inputs(workspace, version=2)
    return workspace


@pytest.fixture
def duckdb_workspace(tmp_path):
    """DuckDB-specific faults, whatever this run's backend."""
    return _published_yesterday(Workspace(tmp_path), f"duckdb:///{tmp_path / 'warehouse.duckdb'}")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_postgresql_fails_the_publication_with_a_clear_message(tmp_path):
    workspace = Workspace(tmp_path)
    _store_publication_inputs(workspace, version=1)
    url = f"postgresql+psycopg://loader:geheim-{uuid.uuid4().hex[:8]}@127.0.0.1:{_closed_port()}/warehouse"
    result = publication_run(workspace, [HAARLEM], warehouse=WarehouseResource(url=url))
    assert failed_steps(result) == [STEP]
    message = failure_messages(result, STEP)
    assert "WarehouseError" in message and NOT_APPLIED in message
    assert "Connection refused" in message  # what happened, in the driver's words
    assert sa.engine.make_url(url).password not in message


def test_a_duckdb_warehouse_opened_read_only_fails_the_publication_and_keeps_yesterday(duckdb_workspace):
    workspace = duckdb_workspace
    before = table_checksums(workspace.url)
    read_only = WarehouseResource(url=f"{workspace.url}?access_mode=read_only")
    result = publication_run(workspace, [HAARLEM], warehouse=read_only)
    assert failed_steps(result) == [STEP]
    message = failure_messages(result, STEP)
    assert NOT_APPLIED in message and "read-only" in message
    assert table_checksums(workspace.url) == before


def test_a_duckdb_file_held_by_another_process_past_the_wait_fails_clearly_and_keeps_yesterday(
    duckdb_workspace, monkeypatch
):
    workspace = duckdb_workspace
    before = table_checksums(workspace.url)
    path = sa.engine.make_url(workspace.url).database
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time\nc = duckdb.connect({path!r})\nprint('held', flush=True)\ntime.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(warehouse_module, "PUBLISH_LOCK_WAIT_SECONDS", 2)
        started = time.monotonic()
        result = publication_run(workspace, [HAARLEM])
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert failed_steps(result) == [STEP]
    message = failure_messages(result, STEP)
    assert "na 2 s nog door een ander proces geschreven; niets gewijzigd" in message
    assert waited >= 2
    assert table_checksums(workspace.url) == before


@pytest.mark.postgres
def test_a_read_only_postgresql_database_fails_the_publication_and_keeps_yesterday(tmp_path, postgres_url):
    workspace = _published_yesterday(Workspace(tmp_path), postgres_url)
    before = table_checksums(postgres_url)
    database = sa.engine.make_url(postgres_url).database
    # from the server's main database: a new session on this one would itself be read-only
    admin = sa.create_engine(scratch.postgres_admin_url() or "", isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on'))
    try:
        result = publication_run(workspace, [HAARLEM])
        assert failed_steps(result) == [STEP]
        message = failure_messages(result, STEP)
        assert NOT_APPLIED in message and "read-only transaction" in message
        assert table_checksums(postgres_url) == before
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{database}" RESET default_transaction_read_only'))
        admin.dispose()


@pytest.mark.postgres
def test_a_select_only_role_fails_the_publication_and_keeps_yesterday(tmp_path, postgres_url):
    workspace = _published_yesterday(Workspace(tmp_path), postgres_url)
    before = table_checksums(postgres_url)
    role, password = f"pmtest_alleen_lezen_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    database = sa.engine.make_url(postgres_url).database
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
        connection.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"'))
        for schema in ("kpi", "monitor", "dashboard"):
            connection.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
            connection.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
    reader_url = sa.engine.make_url(postgres_url).set(username=role, password=password).render_as_string(False)
    try:
        result = publication_run(workspace, [HAARLEM], warehouse=WarehouseResource(url=reader_url))
        assert failed_steps(result) == [STEP]
        message = failure_messages(result, STEP)
        assert NOT_APPLIED in message and "permission denied" in message
        assert password not in message
        assert table_checksums(postgres_url) == before
    finally:
        with admin.connect() as connection:
            for schema in ("kpi", "monitor", "dashboard"):
                connection.execute(sa.text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"'))
                connection.execute(sa.text(f'REVOKE ALL ON SCHEMA "{schema}" FROM "{role}"'))
            connection.execute(sa.text(f'REVOKE ALL ON DATABASE "{database}" FROM "{role}"'))
            connection.execute(sa.text(f'DROP ROLE "{role}"'))
        admin.dispose()

