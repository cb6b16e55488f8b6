"""Which warehouse the tests write to, and the PostgreSQL-only tests' guard.

- Default: DuckDB files under each test's tmp_path.
- ``PRESTATIEMONITOR_TEST_POSTGRES_URL`` set: every test that asks for ``warehouse_url`` (and every
  whole-graph run through ``tests.pipeline_helpers.Workspace``) gets a fresh PostgreSQL database
  instead; ``PRESTATIEMONITOR_TEST_WAREHOUSE=duckdb`` keeps DuckDB for those while the tests marked
  ``postgres`` still use the server. See ``warehouse/testing.py``.
- Tests marked ``postgres`` need the server: without the URL they are skipped on a developer's
  machine and FAIL when ``CI`` is set, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dagster_instances import DAGSTER_PG_ENV
from warehouse import Warehouse
from warehouse import testing as scratch


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_report_header(config: pytest.Config) -> str:
    return scratch.describe()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and not scratch.postgres_admin_url():
        message = f"needs PostgreSQL: set {scratch.POSTGRES_URL_ENV} (deploy/dev/pg-test-cluster.sh start DIR prints it)"
        if in_ci():
            pytest.fail(f"{message}; CI must not skip PostgreSQL tests", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _drop_scratch_databases():
    yield
    if scratch.postgres_admin_url():
        scratch.drop_scratch_databases()


@pytest.fixture
def pg_instance_env(postgres_url, monkeypatch) -> dict[str, str]:
    """DAGSTER_PG_* pointing at a fresh database on the test server (deploy/dagster.yaml reads them)."""
    import sqlalchemy as sa

    url = sa.engine.make_url(postgres_url)
    values = dict(zip(DAGSTER_PG_ENV, (url.host, str(url.port or 5432), url.username, url.password, url.database),
                      strict=True))
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def warehouse_url(tmp_path) -> str:
    """A fresh, empty warehouse on this run's backend (DuckDB file or new PostgreSQL database)."""
    return scratch.scratch_url(tmp_path)


@pytest.fixture
def warehouse(warehouse_url):
    client = Warehouse(warehouse_url)
    yield client
    client.dispose()


@pytest.fixture
def postgres_url() -> str:
    """A fresh PostgreSQL database whatever the run's backend; for tests marked ``postgres``."""
    if not scratch.postgres_admin_url():  # pytest_runtest_setup already failed/skipped marked tests
        pytest.fail("postgres_url used by a test without the 'postgres' marker and no server configured")
    return scratch.create_scratch_database()


@pytest.fixture(autouse=True)
def _no_leftover_defs_state_storage(monkeypatch):
    """Every DagsterInstance makes its state storage the current one (a context variable) until it is
    disposed; dg.materialize without an instance leaves its ephemeral instance to the garbage
    collector, and the next materialize in this process then meets a dead weak reference
    ("undefined DagsterInstance weakref"). Clear it at each test and before each materialize."""
    import dagster as dg

    from tests.pipeline_helpers import forget_disposed_instances

    original = dg.materialize

    def materialize(*args, **kwargs):
        forget_disposed_instances()
        return original(*args, **kwargs)

    monkeypatch.setattr(dg, "materialize", materialize)
    forget_disposed_instances()
    yield
    forget_disposed_instances()


@pytest.fixture(scope="session")
def sample_baseline(tmp_path_factory):
    """The session's one undisturbed whole-graph run on the sample (tests/fault_runner.baseline):
    made once, under a file lock shared by the xdist workers; tests start from copies of it."""
    from tests.fault_runner import baseline

    return baseline(tmp_path_factory)


_early_baseline: list[subprocess.Popen] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run of the whole suite starts the shared baseline run at once, in a process of its own, so
    the tests that start from it find it made or under way, instead of one xdist worker making it
    while the other waits at its lock. Other runs (a file, -k, -m) make it when a test first asks."""
    config = session.config
    if hasattr(config, "workerinput") or config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    if config.option.collectonly or config.option.markexpr or config.option.keyword:
        return
    shared = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]  # xdist workers' basetemps are its children
    with (Path(shared) / "baseline-early.log").open("w") as log:
        _early_baseline.append(subprocess.Popen(
            [sys.executable, "-m", "tests.fault_runner", "baseline", str(shared)],
            cwd=Path(__file__).resolve().parent.parent, stdout=log, stderr=subprocess.STDOUT,
        ))


def pytest_sessionfinish(session: pytest.Session) -> None:
    for process in _early_baseline:
        if process.poll() is None:  # the session ended first (-x, an interrupt): do not leave it running
            process.terminate()
            process.wait(timeout=60)
