"""The nightly graph on dagster-celery: Redis (Debian's redis-server) on loopback, two Celery workers
started as deploy/README.md says, one persistent Dagster instance; the run succeeds, its steps run on
both workers, and it publishes exactly the tables of the in-process run.

Marked ``celery``: without redis-server the test is skipped on a developer's machine and FAILS when
CI is set (.ci/run installs it), like the PostgreSQL tests.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import celery
import dagster as dg
import pandas as pd
import pytest
import redis
import sqlalchemy as sa
from dagster._core.events import DagsterEventType
from dagster._core.storage.dagster_run import DagsterRunStatus

from tests.celery_nightly import NIGHTLY, PER_GEMEENTE, WORKSPACE_ENV
from tests.conftest import in_ci
from tests.pipeline_helpers import Workspace
from warehouse import Warehouse

pytestmark = [pytest.mark.celery, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
WORKER_CONFIG = PROJECT / "deploy" / "celery" / "worker.yaml"
WORKERS = ("pm-a", "pm-b")
PUBLISHED_SCHEMAS = ("kpi", "monitor")
# Differ per run by design: which run published a gemeente, and when (the log kpi.publicatie).
IGNORED_COLUMNS = {"run_id", "gepubliceerd_op"}
RUN_TIMEOUT = 170


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float, logs: Sequence[Path] = ()) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    pytest.fail(f"{what} not reached within {timeout:.0f} s (last: {last!r})\n{tails}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group (dagster-celery starts `celery` as a child), SIGKILL if needed."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        message = "needs Debian's redis-server (apt-get install redis-server; .ci/run installs it)"
        if in_ci():
            pytest.fail(f"{message}; CI must not skip the Celery test", pytrace=False)
        pytest.skip(message)
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    log = data / "redis.log"
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data), "--save", "", "--appendonly", "no",
         "--protected-mode", "yes", "--logfile", str(log)],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping(), "redis-server PONG", 20, [log])
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)


@pytest.fixture
def celery_env(tmp_path, redis_url) -> dict[str, str]:
    """What the run process and both workers share: instance, broker, and the pickled Workspace."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)) as instance:  # create the SQLite storages once, before
        instance.get_runs_count()                                  # two workers race to create them
    workspace = Workspace(tmp_path / "celery")
    pickled = tmp_path / "workspace.pickle"
    pickled.write_bytes(pickle.dumps(workspace))
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(PROJECT),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery runs `celery`
        "GX_ANALYTICS_ENABLED": "false",
        "PRESTATIEMONITOR_EXECUTOR": "celery",
        "PRESTATIEMONITOR_CELERY_BROKER": redis_url,
        "PRESTATIEMONITOR_CELERY_BACKEND": redis_url,
        WORKSPACE_ENV: str(pickled),
    }


@pytest.fixture
def workers(tmp_path, celery_env, redis_url) -> Iterator[list[Path]]:
    processes: list[subprocess.Popen] = []
    logs = [tmp_path / f"{name}.log" for name in WORKERS]
    try:
        for name, log in zip(WORKERS, logs, strict=True):
            with log.open("w") as handle:
                processes.append(subprocess.Popen(
                    [str(VENV_BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(WORKER_CONFIG),
                     "-n", name, "-l", "INFO", "--", "--pool=solo"],
                    cwd=PROJECT, env=celery_env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True))
        app = celery.Celery(broker=redis_url, backend=redis_url)

        def both_answer() -> bool:
            replies = app.control.ping(timeout=1.0)
            return {name.split("@")[0] for reply in replies for name in reply} >= set(WORKERS)

        wait_for(both_answer, f"Celery workers {WORKERS} answering ping", 60, logs)
        yield logs
    finally:
        for process in processes:
            stop(process)


def published(url: str) -> dict[str, pd.DataFrame]:
    client = Warehouse(url)
    try:
        with client.engine.connect() as connection:
            names = connection.execute(sa.text(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN ('kpi', 'monitor') AND table_type = 'BASE TABLE'")).fetchall()
        return {f"{schema}.{table}": comparable(client.read(schema, table)) for schema, table in names}
    finally:
        client.dispose()


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Without per-run columns, rows in a fixed order (the warehouse keeps no row order)."""
    frame = frame.drop(columns=[c for c in frame.columns if c in IGNORED_COLUMNS])
    order = frame.astype(str).sort_values(list(frame.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def test_nightly_on_two_celery_workers_publishes_the_in_process_tables(tmp_path, celery_env, workers, sample_baseline):
    started = time.monotonic()
    out, err = tmp_path / "celery_run.out", tmp_path / "celery_run.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        celery_run = subprocess.Popen(
            [sys.executable, "-c", "import sys, tests.celery_nightly as m; sys.exit(m.main())"],
            cwd=PROJECT, env=celery_env, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        # the reference meanwhile, in this process: the session's in-process run of the same graph
        # on the same sample, published into a warehouse of its own
        in_process = sample_baseline.published(tmp_path / "in_process")
        returncode = celery_run.wait(timeout=max(RUN_TIMEOUT - (time.monotonic() - started), 1))
    finally:
        stop(celery_run)
    celery_seconds = time.monotonic() - started
    worker_logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in workers)
    output = out.read_text(encoding="utf-8")
    assert returncode == 0, f"{output[-3000:]}\n{err.read_text(errors='replace')[-6000:]}\n{worker_logs}"
    runs = [line.split() for line in output.splitlines() if line.endswith(" SUCCESS")]
    assert [job for job, _, _ in runs] == [NIGHTLY, PER_GEMEENTE]

    step_starts: set[tuple[str, str]] = set()
    executed_by: dict[tuple[str, str], str] = {}  # (run, step) -> worker
    with dg.DagsterInstance.from_config(celery_env["DAGSTER_HOME"]) as instance:
        for job, run_id, _ in runs:
            stored = instance.get_run_by_id(run_id)
            assert stored is not None and stored.status == DagsterRunStatus.SUCCESS and stored.job_name == job
            for record in instance.all_logs(run_id):
                event = record.dagster_event
                if event is None or event.step_key is None:
                    continue
                if event.event_type == DagsterEventType.STEP_START:
                    step_starts.add((job, event.step_key))
                # dagster_celery.tasks reports from inside the worker which worker executes the step
                elif event.event_type == DagsterEventType.ENGINE_EVENT and "in celery worker" in (event.message or ""):
                    worker = event.engine_event_data.metadata["Celery worker"]
                    executed_by[(job, event.step_key)] = str(getattr(worker, "value", worker)).split("@")[0]
    assert {job for job, _ in step_starts} == {NIGHTLY, PER_GEMEENTE} and len(step_starts) > 20
    assert set(executed_by) == step_starts, "every step went through a Celery worker"
    per_worker = {w: sum(1 for v in executed_by.values() if v == w) for w in WORKERS}
    assert all(per_worker.values()), f"steps per worker: {per_worker}"

    expected = published(in_process.url)
    actual = published(pickle.loads(Path(celery_env[WORKSPACE_ENV]).read_bytes()).url)
    assert {name.split(".")[0] for name in expected} == set(PUBLISHED_SCHEMAS)
    assert len(expected) >= 8
    assert sorted(actual) == sorted(expected)
    for name, frame in expected.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(actual[name], frame, obj=name)
    print(f"celery runs (with the in-process reference beside them) {celery_seconds:.1f} s, "
          f"{len(step_starts)} steps, per worker {per_worker}")
