"""Two nightly runs started at once (issue 9): one waits, writes never interleave.

- Orchestration: a real DagsterInstance configured with deploy/dagster.yaml's run queue
  (QueuedRunCoordinator, tag limits) and the daemon's own dequeue logic (QueuedRunCoordinatorDaemon,
  one iteration at a time, in-process). Launching is recorded instead of started (MockedRunLauncher):
  what is tested is which runs the queue lets through.
- Warehouse: two processes publishing different gemeente slices, and both the unsliced kpi_catalog,
  at the same moment, on this run's backend. Each process reports from SQLAlchemy engine events
  when it got the warehouse (DuckDB: its connection, i.e. the file lock; PostgreSQL: the advisory
  lock) and when it committed; the two intervals must not overlap, and both must succeed. Each holds
  its transaction open a second before committing (tests/fault_runner.py race), so the other one
  surely arrives while it writes. A PostgreSQL-only test shows the check failing, with duplicated
  catalog rows, when the two do not share the advisory lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test, create_test_daemon_workspace_context
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

from assets.catalog import catalog_frame
from assets.publish import CATALOG_SPEC, SPECS
from tests.fault_runner import race_frame, table_checksums
from warehouse import Warehouse, WarehouseError
from warehouse.quality import record_quarantine

PROJECT = Path(__file__).resolve().parent.parent
HAARLEM, HARDERWIJK = "GM0392", "GM0243"
NIGHTLY_TAG = "prestatiemonitor/nightly"


# --------------------------------------------------------------------------------------------------
# (a) the run queue of deploy/dagster.yaml


def _instance_config(home: Path) -> None:
    deploy = yaml.safe_load((PROJECT / "deploy" / "dagster.yaml").read_text(encoding="utf-8"))
    config = {
        # the production queue and limits, verbatim; storage stays the default (SQLite in `home`)
        "run_coordinator": deploy["run_coordinator"],
        "concurrency": deploy["concurrency"],
        "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"},
        "telemetry": {"enabled": False},
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def _finish(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    for event_type in (dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS):
        instance.report_dagster_event(dg.DagsterEvent(event_type_value=event_type.value, job_name=run.job_name),
                                      run_id=run.run_id)


def test_the_run_queue_of_the_deployment_lets_one_nightly_run_through_and_holds_the_second(tmp_path):
    _instance_config(tmp_path)
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="pipelines.definitions", working_directory=str(PROJECT)),
        location_name="prestatiemonitor",
    )
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance, create_test_daemon_workspace_context(
        InProcessWorkspaceLoadTarget(origin), instance
    ) as workspace:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        location = workspace.create_request_context().get_code_location("prestatiemonitor")
        repository = next(iter(location.get_repositories().values()))
        daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)

        def submit(job_name: str) -> dg.DagsterRun:
            """A run as the schedule or a sensor creates it: the job's own tags, the code location's origin."""
            job = repository.get_full_job(job_name)
            run = create_run_for_test(
                instance, job_name=job_name, tags=job.run_tags, job_snapshot=job.job_snapshot,
                remote_job_origin=job.get_remote_origin(), job_code_origin=job.get_python_origin(),
            )
            return instance.submit_run(run.run_id, workspace.create_request_context())

        def dequeue() -> None:
            list(daemon.run_iteration(workspace))

        def status(run: dg.DagsterRun) -> DagsterRunStatus:
            stored = instance.get_run_by_id(run.run_id)
            assert stored is not None
            return stored.status

        first, second = submit("nightly"), submit("nightly")
        assert first.tags[NIGHTLY_TAG] == "true"
        assert [status(first), status(second)] == [DagsterRunStatus.QUEUED] * 2

        dequeue()
        launched = [run.run_id for run in instance.run_launcher.queue()]
        assert len(launched) == 1, "precies een nightly-run gestart"
        running, waiting = (first, second) if launched == [first.run_id] else (second, first)
        assert status(running) == DagsterRunStatus.STARTING
        assert status(waiting) == DagsterRunStatus.QUEUED

        dequeue()  # the daemon keeps evaluating: the second still waits while the first runs
        assert status(waiting) == DagsterRunStatus.QUEUED
        assert len(instance.run_launcher.queue()) == 1

        _finish(instance, running)
        assert status(running) == DagsterRunStatus.SUCCESS
        dequeue()
        assert status(waiting) == DagsterRunStatus.STARTING
        assert [run.run_id for run in instance.run_launcher.queue()] == [running.run_id, waiting.run_id]

        # meanwhile the fan-out's per-gemeente runs: at most three at once beside the nightly run
        gemeenten = [submit("kpi_per_gemeente") for _ in range(4)]
        dequeue()
        assert sorted(status(run).value for run in gemeenten) == ["QUEUED", "STARTING", "STARTING", "STARTING"]


# --------------------------------------------------------------------------------------------------
# (b) two processes publishing at the same moment


def _race(url: str, directory: Path, rows: int, hold: float = 1.0) -> dict[str, dict]:
    """Two runner processes publish Haarlem and Harderwijk at the same moment; their JSON reports."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "GX_ANALYTICS_ENABLED": "false"}
    processes = {
        gemeente: subprocess.Popen(
            [sys.executable, "-m", "tests.fault_runner", "race", url, gemeente, str(rows), str(hold), str(directory)],
            cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for gemeente in (HAARLEM, HARDERWIJK)
    }
    deadline = time.monotonic() + 120
    while not all((directory / f"ready-{g}").exists() for g in processes):
        assert time.monotonic() < deadline, "runners not ready"
        assert all(p.poll() is None for p in processes.values()), {g: p.communicate() for g, p in processes.items()}
        time.sleep(0.01)
    (directory / "go").touch()
    reports = {}
    for gemeente, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{gemeente}: {out}\n{err[-3000:]}"
        reports[gemeente] = json.loads(out.strip().splitlines()[-1])
    return reports


@pytest.mark.slow
def test_two_processes_publishing_at_once_are_serialised_and_both_complete(tmp_path, warehouse_url):
    rows = 5_000
    reports = _race(warehouse_url, tmp_path, rows)
    postgres = not warehouse_url.startswith("duckdb")

    def holds(report: dict) -> tuple[float, float]:
        """When the process had the warehouse to itself: from getting the lock until its commit."""
        got = report["locked"] if postgres else report["connected"][-1]
        return got, report["commit"]

    first, second = sorted(reports.values(), key=lambda r: holds(r)[0])
    assert holds(first)[1] < holds(second)[0], f"schrijfperiodes overlappen: {holds(first)} en {holds(second)}"
    # They really competed: the second asked while the first was writing, and waited instead of failing.
    assert second["started"] < holds(first)[1]
    if postgres:
        assert second["lock_requested"] < holds(first)[1] < second["locked"]
    else:
        assert len(second["connect_attempts"]) > 1, "de tweede schrijver had het bestand meteen"
        assert second["connect_attempts"][0] < holds(first)[1]
    print({g: {k: round(v - first["started"], 3) for k, v in zip(("krijgt", "commit"), holds(r), strict=True)}
           for g, r in reports.items()})

    warehouse = Warehouse(warehouse_url)
    try:
        for gemeente in (HAARLEM, HARDERWIJK):
            for name in ("kpi_zon", "kpi_energielabels"):
                stored = warehouse.read("kpi", name, where={"gemeente_code": [gemeente]})
                expected = race_frame(SPECS[name], gemeente, rows)
                assert len(stored) == rows, (gemeente, name)
                assert sorted(stored["indicator"]) == sorted(expected["indicator"]), (gemeente, name)
        catalog = warehouse.read("kpi", "kpi_catalog")
    finally:
        warehouse.dispose()
    assert len(catalog) == len(catalog_frame())
    assert not catalog.duplicated(["tabel", "kolom"]).any()
    sums = table_checksums(warehouse_url, ("kpi",))
    assert sums["kpi.kpi_catalog"]["keys"] == sums["kpi.kpi_catalog"]["rows"] == len(catalog_frame())
    assert sums["kpi.kpi_zon"]["rows"] == 2 * rows


@pytest.mark.postgres
def test_the_race_check_sees_interleaving_when_the_lock_is_not_shared(tmp_path, postgres_url, monkeypatch):
    """The check above can fail: with a different advisory-lock key per process (as if publications were
    not serialised) the two PostgreSQL transactions overlap, and the damage is real: the second
    DELETE of kpi_catalog waits for the first one's row locks, does not see the first one's new rows
    (READ COMMITTED), and both inserts survive, so every catalog row is there twice."""
    monkeypatch.setenv("PRESTATIEMONITOR_FAULT_RUNNER_OWN_LOCK", "1")
    existing = Warehouse(postgres_url)  # tables exist already: concurrent CREATE TABLE is not the point here
    try:
        existing.publish({
            "kpi_zon": (SPECS["kpi_zon"], race_frame(SPECS["kpi_zon"], "GM0050", 1)),
            "kpi_energielabels": (SPECS["kpi_energielabels"], race_frame(SPECS["kpi_energielabels"], "GM0050", 1)),
            "kpi_catalog": (CATALOG_SPEC, catalog_frame()),
        }, slices={"gemeente_code": ["GM0050"]})
    finally:
        existing.dispose()
    reports = _race(postgres_url, tmp_path, 5_000)
    a, b = sorted(reports.values(), key=lambda r: r["locked"])
    assert a["commit"] > b["locked"], "verwacht: overlappende schrijfperiodes zonder gedeeld slot"
    warehouse = Warehouse(postgres_url)
    try:
        catalog = warehouse.read("kpi", "kpi_catalog")
    finally:
        warehouse.dispose()
    assert len(catalog) == 2 * len(catalog_frame())


def _hold_duckdb(url: str, seconds: float) -> subprocess.Popen:
    """Another process with the DuckDB file open (as a run that is publishing), for `seconds`."""
    path = sa.engine.make_url(url).database
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time\nc = duckdb.connect({path!r})\nprint('held', flush=True)\n"
                               f"time.sleep({seconds})\nc.close()"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_publication_waits_for_the_duckdb_file_and_does_not_fail(tmp_path):
    """DuckDB, in-process: another process holds the file for a moment; publish retries on the lock
    error and succeeds once it is free."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    holder = _hold_duckdb(url, 1.5)
    started = time.monotonic()
    warehouse = Warehouse(url)
    try:
        written = warehouse.publish({"kpi_zon": (SPECS["kpi_zon"], race_frame(SPECS["kpi_zon"], HAARLEM, 10))},
                                    slices={"gemeente_code": [HAARLEM]})
    finally:
        warehouse.dispose()
        holder.wait()
    assert written == {"kpi.kpi_zon": 10}
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize("operation", ["read", "table_exists", "record_quarantine"])
def test_readers_and_dq_writers_wait_for_another_process_on_duckdb_too(tmp_path, operation):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    warehouse = Warehouse(url)
    spec = SPECS["monitor_stoplight_historie"]
    warehouse.publish({"h": (spec, race_frame(spec, HAARLEM, 3))}, slices={"gemeente_code": [HAARLEM]})
    warehouse.dispose()
    holder = _hold_duckdb(url, 1.5)
    try:
        if operation == "read":
            assert len(warehouse.read(spec.schema, spec.name, where={"gemeente_code": [HAARLEM]})) == 3
        elif operation == "table_exists":
            assert warehouse.table_exists(spec.schema, spec.name)
        else:
            record_quarantine(warehouse, "bezit", pd.DataFrame(), run_id="r", now=datetime(2026, 1, 31))
    finally:
        warehouse.dispose()
        holder.kill()
        holder.wait()


def test_a_publication_waits_while_another_process_is_still_creating_the_duckdb_file(tmp_path):
    """Two first runs on a new warehouse: DuckDB creates the file before it takes the lock, so the
    second process can find it empty (seen in CI as 'exists, but it is not a valid DuckDB database
    file'). A file changed moments ago is being created: publish waits for it and succeeds."""
    path = tmp_path / "w.duckdb"
    path.touch()  # what the other process has written so far: nothing yet
    creator = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, os, sys, time\ntime.sleep(1.0)\n"
         "c = duckdb.connect(sys.argv[1] + '.new')\nc.close()\nos.replace(sys.argv[1] + '.new', sys.argv[1])",
         str(path)],
    )
    warehouse = Warehouse(f"duckdb:///{path}")
    started = time.monotonic()
    try:
        written = warehouse.publish({"kpi_zon": (SPECS["kpi_zon"], race_frame(SPECS["kpi_zon"], HAARLEM, 10))},
                                    slices={"gemeente_code": [HAARLEM]})
    finally:
        warehouse.dispose()
        creator.wait()
    assert written == {"kpi.kpi_zon": 10}
    assert time.monotonic() - started >= 0.9


def test_an_old_empty_duckdb_file_fails_at_once_naming_the_file(tmp_path):
    """An invalid file nobody is creating (left empty an hour ago) is no race: no waiting, a message
    that names the file and what to do, and the file untouched."""
    path = tmp_path / "w.duckdb"
    path.touch()
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    warehouse = Warehouse(f"duckdb:///{path}")
    started = time.monotonic()
    try:
        with pytest.raises(WarehouseError) as failure:
            warehouse.publish({"kpi_zon": (SPECS["kpi_zon"], race_frame(SPECS["kpi_zon"], HAARLEM, 10))},
                              slices={"gemeente_code": [HAARLEM]})
    finally:
        warehouse.dispose()
    assert time.monotonic() - started < 5
    message = str(failure.value)
    assert str(path) in message and "0 bytes" in message and "geen geldig DuckDB-bestand" in message
    assert "niets gewijzigd" in message
    assert path.stat().st_size == 0
