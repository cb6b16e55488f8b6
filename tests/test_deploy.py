"""deploy/: the Dagster instance config validates and works on PostgreSQL, the queue never runs two
nightly runs at once, the systemd units / compose / Helm values point at commands and modules that
exist, and (against the test PostgreSQL) the code server, webserver and the one daemon start from
the units' own command lines and answer over GraphQL."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import shlex
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

from tests.dagster_instances import deploy_home, placeholder_pg_env

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT / "deploy"
VENV_BIN = Path(sys.executable).parent
INSTALL_DIR = "/opt/prestatiemonitor"
NIGHTLY_TAG = "prestatiemonitor/nightly"
PER_GEMEENTE_TAG = "prestatiemonitor/per-gemeente"


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


def test_every_yaml_file_in_deploy_parses():
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert {f.relative_to(DEPLOY).as_posix() for f in files} >= {
        "dagster.yaml", "workspace.yaml", "docker-compose.yaml", "docker/workspace.yaml", "helm/values.yaml",
        "k8s/dagster.yaml", "celery/worker.yaml", "docker-compose.celery.yaml"}
    for path in files:
        assert isinstance(load_yaml(path), dict), path


def test_instance_config_validates_with_queue_limits_monitoring_and_retries(tmp_path, monkeypatch):
    placeholder_pg_env(monkeypatch)
    config, custom_class = dagster_instance_config(str(deploy_home(tmp_path)))
    assert custom_class is None
    assert "storage" not in config  # the three storages one by one: the event log is the project's
    storages = {name: config[name] for name in ("run_storage", "event_log_storage", "schedule_storage")}
    assert {name: (s["module"], s["class"]) for name, s in storages.items()} == {
        "run_storage": ("dagster_postgres", "PostgresRunStorage"),
        "event_log_storage": ("pipelines.event_log", "BatchingPostgresEventLogStorage"),
        "schedule_storage": ("dagster_postgres", "PostgresScheduleStorage")}
    [postgres_db] = {json.dumps(s["config"]["postgres_db"], sort_keys=True) for s in storages.values()}  # one database
    assert json.loads(postgres_db)["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    # SQLAlchemy 2.1 would pick psycopg 3 for postgresql://, which dagster-postgres' NOTIFY cannot use
    assert json.loads(postgres_db)["scheme"] == "postgresql+psycopg2"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["runs"]["tag_concurrency_limits"] == [{"key": NIGHTLY_TAG, "limit": 1},
                                                                       {"key": PER_GEMEENTE_TAG, "limit": 3}]
    assert config["concurrency"]["pools"] == {"default_limit": 1}  # the publication's `warehouse` pool
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


def test_at_most_three_gemeenten_run_at_once():
    limits = load_yaml(DEPLOY / "dagster.yaml")["concurrency"]["runs"]["tag_concurrency_limits"]

    def gemeente(i: int) -> dg.DagsterRun:
        return dg.DagsterRun(job_name="kpi_per_gemeente", run_id=f"g{i}", tags={PER_GEMEENTE_TAG: "true"})

    assert not TagConcurrencyLimitsCounter(limits, [gemeente(1), gemeente(2)]).is_blocked(gemeente(3))
    assert TagConcurrencyLimitsCounter(limits, [gemeente(1), gemeente(2), gemeente(3)]).is_blocked(gemeente(4))
    # a nightly run is not held up by three gemeenten
    assert not TagConcurrencyLimitsCounter(limits, [gemeente(1), gemeente(2), gemeente(3)]).is_blocked(
        dg.DagsterRun(job_name="nightly", run_id="n", tags={NIGHTLY_TAG: "true"}))


@pytest.mark.postgres
def test_instance_from_deploy_config_stores_runs_in_postgresql(tmp_path, pg_instance_env, monkeypatch):
    home = deploy_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "BatchingPostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        concurrency = instance.get_concurrency_config()
        queue = concurrency.run_queue_config
        assert queue is not None and queue.max_concurrent_runs == 4
        assert concurrency.pool_config.default_pool_limit == 1
        assert queue.tag_concurrency_limits == [{"key": NIGHTLY_TAG, "limit": 1}, {"key": PER_GEMEENTE_TAG, "limit": 3}]
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
                           "prestatiemonitor-migrate", "prestatiemonitor-celery-worker"}
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
        # dagster-celery passes what follows `--` on to `celery worker`
        own, passed_on = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
        if Path(argv[0]).name == "python":
            assert argv[1:3] == ["-m", "warehouse.migrate"]
            help_args = [str(local), "-m", "warehouse.migrate", "--help"]
        else:
            subcommand = [a for a in own[1:] if not a.startswith("-")][:2 if {"api", "worker"} & set(own) else 1]
            subcommand = subcommand if Path(argv[0]).name != "dagster-webserver" else []
            help_args = [str(local), *subcommand, "--help"]
        checks = [(help_args, own[1:])]
        if passed_on:
            assert Path(argv[0]).name == "dagster-celery", name
            checks.append(([str(VENV_BIN / "celery"), "worker", "--help"], passed_on))
        for command, args in checks:
            helped = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=PROJECT)
            assert helped.returncode == 0, helped.stderr
            for option in (a.split("=")[0] for a in args if a.startswith("--")):
                assert option in helped.stdout, f"{name}: {option} not accepted by {command}"
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
        if re.search("PASSWORD|WEBHOOK|API_KEY|WAREHOUSE_URL|MIGRATE_URL|CELERY_BROKER|CELERY_BACKEND|SLEUTEL", name):
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
    queue = helm["concurrency"]["runs"]
    instance = load_yaml(DEPLOY / "dagster.yaml")
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert queue["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert queue["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    assert helm["concurrency"]["pools"]["defaultLimit"] == instance["concurrency"]["pools"]["default_limit"]
    assert daemon["runMonitoring"]["enabled"] and daemon["runRetries"]["maxRetries"] == instance["run_retries"]["max_retries"]
    assert helm["postgresql"]["enabled"] is False and helm["generatePostgresqlPasswordSecret"] is False
    assert helm["postgresql"]["postgresqlScheme"] == instance["run_storage"]["config"]["postgres_db"]["scheme"]
    assert "postgresqlPassword" not in helm["postgresql"]


def test_celery_workers_and_their_compose_override_match_the_executor(monkeypatch):
    from dagster_celery.cli import get_validated_config

    from pipelines.executors import EXECUTORS

    monkeypatch.setenv("PRESTATIEMONITOR_CELERY_BROKER", "redis://:pw@redis:6379/0")
    monkeypatch.setenv("PRESTATIEMONITOR_CELERY_BACKEND", "redis://:pw@redis:6379/1")
    worker_config = DEPLOY / "celery" / "worker.yaml"
    config = get_validated_config(str(worker_config))  # what `dagster-celery worker start -y` does
    assert (config["broker"], config["backend"]) == ("redis://:pw@redis:6379/0", "redis://:pw@redis:6379/1")
    assert "pw" not in worker_config.read_text(encoding="utf-8")

    services = load_yaml(DEPLOY / "docker-compose.celery.yaml")["services"]
    assert set(services) == {"redis", "codeserver", "celery-worker"}  # adds no daemon, no webserver
    worker = services["celery-worker"]
    assert worker["deploy"]["replicas"] >= 2
    command = worker["command"]
    assert command[:3] == ["dagster-celery", "worker", "start"] and command[command.index("--app") + 1] == "dagster_celery.app"
    config_path = command[command.index("--config-yaml") + 1]
    assert (PROJECT / Path(config_path).relative_to(INSTALL_DIR)) == worker_config
    # the code server (whose run processes submit the steps) and the workers use the same broker
    assert worker["environment"] == services["codeserver"]["environment"]
    env = worker["environment"]
    assert env["PRESTATIEMONITOR_EXECUTOR"] == "celery" and "celery" in EXECUTORS
    assert env["PRESTATIEMONITOR_CELERY_BROKER"].startswith("redis://redis:")
    base = load_yaml(DEPLOY / "docker-compose.yaml")["x-prestatiemonitor"]
    assert set(worker["volumes"]) == set(base["volumes"]) - {v for v in base["volumes"] if v.endswith(":ro")}
    assert {k: env[k] for k in base["environment"]} == base["environment"]


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


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = {"query": query, **({"variables": variables} if variables else {})}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise AssertionError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def wait_for(condition, what: str, timeout: float = 120.0, details=lambda: ""):
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
    pytest.fail(f"{what} not reached within {timeout:.0f} s (last: {last!r})\n{details()}")


LAUNCH_RUN = """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
} }"""

RUN_STATUS = """query Status($runId: ID!) { runOrError(runId: $runId) {
    __typename ... on Run { status jobName tags { key value } } ... on PythonError { message } } }"""

RUN_EVENTS = """query Events($runId: ID!, $cursor: String) { logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    __typename
    ... on EventConnection { cursor hasMore events {
        __typename
        ... on AssetCheckEvaluationEvent { evaluation { checkName success assetKey { path } } }
        ... on ExecutionStepFailureEvent { stepKey error { message } }
    } }
    ... on PythonError { message }
} }"""

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def run_config_for(resources: dict[str, object]) -> dict:
    """Run config that gives the launched run these resources (a test Workspace's landing copy,
    scratch warehouse, storage, steward files and fixed 'today'), overriding what the code server
    read from its environment."""
    return {"resources": {key: {"config": resource.model_dump(mode="json")}  # type: ignore[attr-defined]
                          for key, resource in resources.items() if hasattr(resource, "model_dump")}}


def all_run_events(port: int, run_id: str) -> list[dict]:
    events: list[dict] = []
    cursor = None
    while True:
        page = graphql(port, RUN_EVENTS, {"runId": run_id, "cursor": cursor})["logsForRun"]
        assert page["__typename"] == "EventConnection", page
        events += page["events"]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return events


@pytest.mark.postgres
@pytest.mark.slow
def test_units_start_answer_over_graphql_and_run_the_nightly_job_with_every_check(tmp_path, pg_instance_env, postgres_url):
    """The code server, webserver and the one daemon from the units' own command lines against the
    PostgreSQL instance: the code location loads, the daemons are healthy, no run starts by itself;
    then the nightly job, launched through GraphQL as the UI does, is dequeued by the daemon and
    succeeds with every asset check of the job evaluated. The job and its checks come from the
    Definitions, so this follows the job when its selection changes."""
    from pipelines import definitions
    from tests.pipeline_helpers import Workspace
    from warehouse import Warehouse

    job_name = definitions.nightly_job.name
    job = definitions.defs.resolve_job_def(job_name)
    expected_checks = {(key.asset_key.to_user_string(), key.name) for key in job.asset_layer.asset_graph.asset_check_keys}
    assert expected_checks, f"{job_name} has no asset checks"
    run_workspace = Workspace(tmp_path / "run")
    # steps in the run's own process: the multiprocess default starts a Python per step (some 10 s of
    # imports each on 2 cores); what is tested here is the deployment around the run
    run_config = {**run_config_for(run_workspace.resources()), "execution": {"config": {"in_process": {}}}}
    assert dg.validate_run_config(job, run_config)  # a config error shows here, not as a failed launch

    parsed = units()
    grpc_port, web_port = free_port(), free_port()
    home = deploy_home(tmp_path)
    workspace = tmp_path / "workspace.yaml"
    ws = load_yaml(DEPLOY / "workspace.yaml")
    ws["load_from"][0]["grpc_server"]["port"] = grpc_port
    workspace.write_text(yaml.safe_dump(ws), encoding="utf-8")
    landing = tmp_path / "landing"  # empty: the sensors find nothing and launch no runs
    landing.mkdir()
    env = {**os.environ, **pg_instance_env, "DAGSTER_HOME": str(home), "GX_ANALYTICS_ENABLED": "false",
           "PRESTATIEMONITOR_WAREHOUSE_URL": postgres_url, "PRESTATIEMONITOR_STORAGE_DIR": str(tmp_path / "assets"),
           "PRESTATIEMONITOR_LANDING_DIR": str(landing), "PRESTATIEMONITOR_EXECUTOR": "multiprocess"}
    logs = {name: tmp_path / f"{name}.log" for name in ("codeserver", "webserver", "daemon")}
    handles = {name: path.open("w") for name, path in logs.items()}
    processes: list[subprocess.Popen] = []
    run_ids: list[str] = []

    def start(name: str, replace: dict[str, str]) -> None:
        argv = local_argv(parsed[f"prestatiemonitor-{name}"], replace)
        processes.append(subprocess.Popen(argv, cwd=PROJECT, env=env, stdout=handles[name], stderr=subprocess.STDOUT))

    def log_tails() -> str:
        return "\n".join(f"--- {name}.log\n{path.read_text(errors='replace')[-3000:]}" for name, path in logs.items())

    try:
        started = time.monotonic()
        start("codeserver", {"4266": str(grpc_port)})
        wait_for(lambda: subprocess.run([str(VENV_BIN / "dagster"), "api", "grpc-health-check", "--port", str(grpc_port)],
                                        capture_output=True, timeout=30).returncode == 0, "code server SERVING")
        ws_path = f"{INSTALL_DIR}/deploy/workspace.yaml"
        start("webserver", {"3000": str(web_port), ws_path: str(workspace)})
        repositories = wait_for(lambda: graphql(web_port, """{ repositoriesOrError { ... on RepositoryConnection {
            nodes { name location { name } jobs { name } sensors { id name sensorType } schedules { name } } } } }""")
            ["repositoriesOrError"]["nodes"], "webserver GraphQL")
        [repository] = repositories
        assert repository["location"]["name"] == "prestatiemonitor"
        assert job_name in {j["name"] for j in repository["jobs"]}
        assert "nightly_0200" in {s["name"] for s in repository["schedules"]}
        # Before the daemon starts: the run-status sensors (the per-gemeente fan-out after a nightly
        # run, the failure alerts) must not react to the run launched below. To follow the fan-out,
        # leave kpi_per_gemeente_sensor running and wait for the runs it starts.
        for sensor in repository["sensors"]:
            if sensor["sensorType"] != "RUN_STATUS":
                continue
            stopped = graphql(web_port, """mutation Stop($id: String!) { stopSensor(id: $id) { __typename
                ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }""",
                              {"id": sensor["id"]})["stopSensor"]
            assert stopped.get("instigationState", {}).get("status") == "STOPPED", (sensor["name"], stopped)
        start("daemon", {ws_path: str(workspace)})
        # run retries are handled by the event-log consumer; freshness by its own daemon
        expected = {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "MONITORING", "EVENT_LOG_CONSUMER", "FRESHNESS_DAEMON"}

        seen: dict[str, set[str]] = {}

        def daemons_healthy():
            statuses = graphql(web_port, "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }")
            seen["healthy"] = {s["daemonType"] for s in statuses["instance"]["daemonHealth"]["allDaemonStatuses"] if s["healthy"]}
            return expected <= seen["healthy"]

        wait_for(daemons_healthy, f"healthy daemons {sorted(expected)} (seen {seen})", timeout=90)
        runs = graphql(web_port, "{ runsOrError { ... on Runs { results { runId } } } }")["runsOrError"]["results"]
        assert runs == []  # the landing sensor found an empty landing folder: nothing launched by itself
        up = time.monotonic() - started

        launched = graphql(web_port, LAUNCH_RUN, {"params": {
            "selector": {"repositoryLocationName": repository["location"]["name"], "repositoryName": repository["name"],
                         "jobName": job_name},
            "runConfigData": run_config,
        }})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        run_ids.append(run_id)

        def finished():
            run = graphql(web_port, RUN_STATUS, {"runId": run_id})["runOrError"]
            return run if run["status"] in FINISHED else None

        run = wait_for(finished, f"run {run_id} of {job_name} finished", timeout=150, details=log_tails)
        events = all_run_events(web_port, run_id)
        failures = [(e["stepKey"], e["error"]["message"][:500]) for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
        assert run["status"] == "SUCCESS", f"{failures}\n{log_tails()}"
        assert run["jobName"] == job_name
        assert {"key": NIGHTLY_TAG, "value": "true"} in run["tags"]  # the queue's limit applies to it
        evaluated = {("/".join(e["evaluation"]["assetKey"]["path"]), e["evaluation"]["checkName"])
                     for e in events if e["__typename"] == "AssetCheckEvaluationEvent"}
        assert expected_checks - evaluated == set(), "asset checks of the job that were never evaluated"
        assert evaluated <= expected_checks
        print(f"up and healthy in {up:.0f} s; {job_name} over GraphQL in {time.monotonic() - started - up:.0f} s, "
              f"{len(evaluated)} checks evaluated")

        # What kpi_per_gemeente_sensor starts after that load, for one gemeente: its partition run of
        # KPIs, monitor and publication, with the KPI checks evaluated and its slice published.
        gemeente_job = definitions.kpi_job.name
        gemeente_checks = {(key.asset_key.to_user_string(), key.name)
                           for key in definitions.defs.resolve_job_def(gemeente_job).asset_layer.asset_graph.asset_check_keys}
        launched = graphql(web_port, LAUNCH_RUN, {"params": {
            "selector": {"repositoryLocationName": repository["location"]["name"], "repositoryName": repository["name"],
                         "jobName": gemeente_job},
            "runConfigData": run_config,
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "GM0392"}]},
        }})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        gemeente_run_id = launched["run"]["runId"]
        run_ids.append(gemeente_run_id)
        run = wait_for(lambda: (lambda r: r if r["status"] in FINISHED else None)(
            graphql(web_port, RUN_STATUS, {"runId": gemeente_run_id})["runOrError"]),
            f"run {gemeente_run_id} of {gemeente_job} finished", timeout=150, details=log_tails)
        events = all_run_events(web_port, gemeente_run_id)
        failures = [(e["stepKey"], e["error"]["message"][:500]) for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
        assert run["status"] == "SUCCESS", f"{failures}\n{log_tails()}"
        assert {"key": "dagster/partition", "value": "GM0392"} in run["tags"]
        evaluated = {("/".join(e["evaluation"]["assetKey"]["path"]), e["evaluation"]["checkName"])
                     for e in events if e["__typename"] == "AssetCheckEvaluationEvent"}
        assert gemeente_checks and gemeente_checks - evaluated == set(), "checks of the gemeente run never evaluated"
        published = Warehouse(run_workspace.url)
        try:
            assert set(published.read("kpi", "kpi_slaagkans")["gemeente_code"]) == {"GM0392"}
            assert gemeente_run_id in set(published.read("kpi", "publicatie")["run_id"])
        finally:
            published.dispose()
    finally:
        for run_id in run_ids:  # never leave a run behind the test
            with contextlib.suppress(Exception):  # a finished run answers with an error type: fine
                graphql(web_port, "mutation T($id: String!) { terminateRun(runId: $id) { __typename } }", {"id": run_id})
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in handles.values():
            handle.close()
