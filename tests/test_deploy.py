"""deploy/: the Dagster instance config validates and works on PostgreSQL, the queue never runs two
nightly runs at once, the systemd units / compose / Helm values point at commands and modules that
exist, and (against the test PostgreSQL) the code server, webserver and the one daemon start from
the units' own command lines and answer over GraphQL."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._utils.tags import TagConcurrencyLimitsCounter

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT / "deploy"
VENV_BIN = Path(sys.executable).parent
INSTALL_DIR = "/opt/prestatiemonitor"
NIGHTLY_TAG = "prestatiemonitor/nightly"
PG_ENV = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def units() -> dict[str, configparser.ConfigParser]:
    parsed = {}
    for path in sorted((DEPLOY / "systemd").glob("*.service")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # keep ExecStart, not execstart
        parser.read(path, encoding="utf-8")
        parsed[path.stem] = parser
    return parsed


def exec_start(unit: configparser.ConfigParser) -> list[str]:
    return shlex.split(unit["Service"]["ExecStart"])


def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    return home


@pytest.fixture
def pg_instance_env(postgres_url, monkeypatch):
    """DAGSTER_PG_* pointing at a fresh database on the test server."""
    url = sa.engine.make_url(postgres_url)
    values = dict(zip(PG_ENV, (url.host, str(url.port or 5432), url.username, url.password, url.database), strict=True))
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_every_yaml_file_in_deploy_parses():
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert {f.relative_to(DEPLOY).as_posix() for f in files} >= {
        "dagster.yaml", "workspace.yaml", "docker-compose.yaml", "docker/workspace.yaml", "helm/values.yaml"}
    for path in files:
        assert isinstance(load_yaml(path), dict), path


def test_instance_config_validates_with_queue_limits_monitoring_and_retries(tmp_path, monkeypatch):
    for name in PG_ENV:
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")
    config, custom_class = dagster_instance_config(str(dagster_home(tmp_path)))
    assert custom_class is None
    assert set(config["storage"]) == {"postgres"}
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    # SQLAlchemy 2.1 would pick psycopg 3 for postgresql://, which dagster-postgres' NOTIFY cannot use
    assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["runs"]["tag_concurrency_limits"] == [{"key": NIGHTLY_TAG, "limit": 1}]
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"] == {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False}
    raw = (DEPLOY / "dagster.yaml").read_text(encoding="utf-8")
    assert not re.search(r"password:\s*[^{\s]", raw), "no literal password in dagster.yaml"


def test_two_nightly_runs_never_run_at_once_other_runs_do():
    limits = load_yaml(DEPLOY / "dagster.yaml")["concurrency"]["runs"]["tag_concurrency_limits"]
    running = dg.DagsterRun(job_name="nightly", run_id="a", tags={NIGHTLY_TAG: "true"})
    counter = TagConcurrencyLimitsCounter(limits, [running])
    assert counter.is_blocked(dg.DagsterRun(job_name="nightly", run_id="b", tags={NIGHTLY_TAG: "true"}))
    assert not counter.is_blocked(dg.DagsterRun(job_name="ad_hoc", run_id="c", tags={}))
    assert not TagConcurrencyLimitsCounter(limits, []).is_blocked(
        dg.DagsterRun(job_name="nightly", run_id="d", tags={NIGHTLY_TAG: "true"}))


@pytest.mark.postgres
def test_instance_from_deploy_config_stores_runs_in_postgresql(tmp_path, pg_instance_env, monkeypatch):
    home = dagster_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None and queue.max_concurrent_runs == 4
        assert queue.tag_concurrency_limits == [{"key": NIGHTLY_TAG, "limit": 1}]
        assert instance.run_monitoring_enabled and instance.run_monitoring_max_runtime_seconds == 21600
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        result = dg.materialize([_tiny], instance=instance, tags={NIGHTLY_TAG: "true"})
        assert result.success
        stored = instance.get_run_by_id(result.run_id)
        assert stored is not None and stored.status == DagsterRunStatus.SUCCESS and stored.tags[NIGHTLY_TAG] == "true"
    engine = sa.create_engine(sa.engine.make_url(os.environ["PRESTATIEMONITOR_TEST_POSTGRES_URL"]).set(
        database=pg_instance_env["DAGSTER_PG_DB"]))
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 1
    finally:
        engine.dispose()


@dg.asset
def _tiny() -> int:
    return 1


def test_systemd_units_reference_existing_commands_and_options():
    parsed = units()
    assert set(parsed) == {"prestatiemonitor-codeserver", "prestatiemonitor-webserver", "prestatiemonitor-daemon",
                           "prestatiemonitor-migrate"}
    daemons = [name for name, unit in parsed.items() if "dagster-daemon" in unit["Service"]["ExecStart"]]
    assert daemons == ["prestatiemonitor-daemon"], "exactly one daemon"
    assert not list((DEPLOY / "systemd").glob("*@.service")), "no template units: one instance each"
    for name, unit in parsed.items():
        service = unit["Service"]
        assert service["WorkingDirectory"] == INSTALL_DIR
        assert service["EnvironmentFile"] == "/etc/prestatiemonitor/prestatiemonitor.env"
        assert "DAGSTER_HOME=" in service["Environment"]
        argv = exec_start(unit)
        assert argv[0].startswith(f"{INSTALL_DIR}/.venv/bin/"), name
        local = VENV_BIN / Path(argv[0]).name
        assert local.exists(), f"{name}: {local} not installed"
        if Path(argv[0]).name == "python":
            assert argv[1:3] == ["-m", "warehouse.migrate"]
            help_args = [str(local), "-m", "warehouse.migrate", "--help"]
        else:
            subcommand = [a for a in argv[1:] if not a.startswith("-")][:2 if "api" in argv else 1]
            subcommand = subcommand if Path(argv[0]).name != "dagster-webserver" else []
            help_args = [str(local), *subcommand, "--help"]
        helped = subprocess.run(help_args, capture_output=True, text=True, timeout=120, cwd=PROJECT)
        assert helped.returncode == 0, helped.stderr
        for option in (a.split("=")[0] for a in argv[1:] if a.startswith("--")):
            assert option in helped.stdout, f"{name}: {option} not accepted by {help_args}"
        for path in (a for a in argv if a.startswith(f"{INSTALL_DIR}/") and a != argv[0]):
            assert (PROJECT / Path(path).relative_to(INSTALL_DIR)).exists(), f"{name}: {path} not in the project"
    codeserver = exec_start(parsed["prestatiemonitor-codeserver"])
    workspace = load_yaml(DEPLOY / "workspace.yaml")["load_from"][0]["grpc_server"]
    assert str(workspace["port"]) == codeserver[codeserver.index("--port") + 1]
    assert workspace["location_name"] == codeserver[codeserver.index("--location-name") + 1]


def test_env_example_covers_every_variable_and_holds_no_secret():
    example = (DEPLOY / "systemd" / "prestatiemonitor.env.example").read_text(encoding="utf-8")
    assignments = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    needed = set(re.findall(r"\{env: (\w+)\}", (DEPLOY / "dagster.yaml").read_text(encoding="utf-8")))
    code = "\n".join(p.read_text(encoding="utf-8") for p in [*(PROJECT / "pipelines").glob("*.py"), *(PROJECT / "assets").rglob("*.py")])
    needed |= set(re.findall(r"\"(PRESTATIEMONITOR_[A-Z_]+|EP_ONLINE_API_KEY)\"", code)) - {"PRESTATIEMONITOR_TEST_POSTGRES_URL"}
    assert needed <= set(assignments), needed - set(assignments)
    for name, value in assignments.items():
        if re.search("PASSWORD|WEBHOOK|API_KEY|WAREHOUSE_URL", name):
            assert value == "", f"{name} must stay empty in the example"


def test_compose_and_helm_run_the_same_code_location_and_one_daemon():
    compose = load_yaml(DEPLOY / "docker-compose.yaml")
    services = compose["services"]
    assert set(services) == {"migrate", "codeserver", "webserver", "daemon"}
    assert [s for s, v in services.items() if "dagster-daemon" in v["command"]] == ["daemon"]
    assert "deploy" not in services["daemon"] and "scale" not in services["daemon"]
    grpc = services["codeserver"]["command"]
    assert grpc[:3] == ["dagster", "api", "grpc"] and grpc[grpc.index("--module-name") + 1] == "pipelines.definitions"
    docker_ws = load_yaml(DEPLOY / "docker" / "workspace.yaml")["load_from"][0]["grpc_server"]
    assert docker_ws["host"] == "codeserver" and str(docker_ws["port"]) == grpc[grpc.index("--port") + 1]
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert re.findall(r"^COPY (.+)$", dockerfile, re.M) == [". ."]
    ignored = (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "deploy/.env", "dagster_home", "out"} <= set(ignored)  # no secrets, no local state
    assert not {"warehouse", "migrations", "pipelines", "assets", "sources", "deploy"} & set(ignored)

    helm = load_yaml(DEPLOY / "helm" / "values.yaml")
    assert helm["runLauncher"]["type"] == "K8sRunLauncher"
    [deployment] = helm["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "pipelines.definitions"]
    assert deployment["image"]["tag"] not in ("", "latest")
    daemon = helm["dagsterDaemon"]
    queue = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    instance = load_yaml(DEPLOY / "dagster.yaml")
    assert queue["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert queue["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    assert daemon["runMonitoring"]["enabled"] and daemon["runRetries"]["maxRetries"] == instance["run_retries"]["max_retries"]
    assert helm["postgresql"]["enabled"] is False and helm["generatePostgresqlPasswordSecret"] is False
    assert helm["postgresql"]["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    assert "postgresqlPassword" not in helm["postgresql"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_argv(unit: configparser.ConfigParser, replace: dict[str, str]) -> list[str]:
    """The unit's ExecStart with the install prefix mapped onto this checkout and some values swapped."""
    argv = []
    for arg in exec_start(unit):
        arg = replace.get(arg, arg)
        if arg.startswith(f"{INSTALL_DIR}/.venv/bin/"):
            arg = str(VENV_BIN / Path(arg).name)
        elif arg.startswith(INSTALL_DIR):
            arg = str(PROJECT) + arg[len(INSTALL_DIR):]
        argv.append(arg)
    return argv


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def wait_for(condition, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return last
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(1)
    pytest.fail(f"{what} not reached within {timeout:.0f} s (last: {last!r})")


@pytest.mark.postgres
@pytest.mark.slow
def test_codeserver_webserver_and_daemon_start_from_the_units_and_answer(tmp_path, pg_instance_env, postgres_url):
    parsed = units()
    grpc_port, web_port = free_port(), free_port()
    home = dagster_home(tmp_path)
    workspace = tmp_path / "workspace.yaml"
    ws = load_yaml(DEPLOY / "workspace.yaml")
    ws["load_from"][0]["grpc_server"]["port"] = grpc_port
    workspace.write_text(yaml.safe_dump(ws), encoding="utf-8")
    landing = tmp_path / "landing"  # empty: the sensors find nothing and launch no runs
    landing.mkdir()
    env = {**os.environ, **pg_instance_env, "DAGSTER_HOME": str(home), "GX_ANALYTICS_ENABLED": "false",
           "PRESTATIEMONITOR_WAREHOUSE_URL": postgres_url, "PRESTATIEMONITOR_STORAGE_DIR": str(tmp_path / "assets"),
           "PRESTATIEMONITOR_LANDING_DIR": str(landing)}
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("codeserver", "webserver", "daemon")}
    processes: list[subprocess.Popen] = []

    def start(name: str, replace: dict[str, str]) -> None:
        argv = local_argv(parsed[f"prestatiemonitor-{name}"], replace)
        processes.append(subprocess.Popen(argv, cwd=PROJECT, env=env, stdout=logs[name], stderr=subprocess.STDOUT))

    try:
        start("codeserver", {"4266": str(grpc_port)})
        wait_for(lambda: subprocess.run([str(VENV_BIN / "dagster"), "api", "grpc-health-check", "--port", str(grpc_port)],
                                        capture_output=True, timeout=30).returncode == 0, "code server SERVING")
        ws_path = f"{INSTALL_DIR}/deploy/workspace.yaml"
        start("webserver", {"3000": str(web_port), ws_path: str(workspace)})
        start("daemon", {ws_path: str(workspace)})
        jobs = wait_for(lambda: graphql(web_port, """{ repositoriesOrError { ... on RepositoryConnection {
            nodes { location { name } jobs { name } sensors { name } schedules { name } } } } }""")
            ["repositoriesOrError"]["nodes"], "webserver GraphQL")
        [repository] = jobs
        assert repository["location"]["name"] == "prestatiemonitor"
        assert "nightly" in {j["name"] for j in repository["jobs"]}
        assert "nightly_0200" in {s["name"] for s in repository["schedules"]}
        # run retries are handled by the event-log consumer; freshness by its own daemon
        expected = {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "MONITORING", "EVENT_LOG_CONSUMER", "FRESHNESS_DAEMON"}

        seen: dict[str, set[str]] = {}

        def daemons_healthy():
            statuses = graphql(web_port, "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }")
            seen["healthy"] = {s["daemonType"] for s in statuses["instance"]["daemonHealth"]["allDaemonStatuses"] if s["healthy"]}
            return expected <= seen["healthy"]

        wait_for(daemons_healthy, f"healthy daemons {sorted(expected)} (seen {seen})", timeout=90)
        runs = graphql(web_port, "{ runsOrError { ... on Runs { results { runId } } } }")["runsOrError"]["results"]
        assert runs == []  # nothing launched: the smoke test leaves no runs behind
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in logs.values():
            handle.close()
