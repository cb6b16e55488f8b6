"""The Kubernetes path, validated without a cluster: the executor choice of pipelines/executors.py,
the real code location loading with the k8s_job_executor, deploy/k8s/dagster.yaml as a Dagster
instance whose K8sRunLauncher builds, and deploy/helm/values.yaml against the schema written from the
official chart's documented values (deploy/helm/values.schema.json), plus the instance the chart makes
of those values: valid for Dagster and the same as deploy/k8s/dagster.yaml and deploy/dagster.yaml.

The chart itself is not on a package registry, so `helm template` cannot run here (deploy/README.md).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import dagster_k8s.launcher
import jsonschema
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster._core.launcher import RunLauncher
from dagster._serdes import ConfigurableClassData

from pipelines import executors
from tests.dagster_instances import placeholder_pg_env

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT / "deploy"
K8S_INSTANCE = DEPLOY / "k8s" / "dagster.yaml"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
HELM_SCHEMA = DEPLOY / "helm" / "values.schema.json"
# What the chart sets in every pod it runs (its deployment templates), used by the instance it renders.
CHART_POD_ENV = {"DAGSTER_HOME": "/opt/dagster/dagster_home", "DAGSTER_K8S_INSTANCE_CONFIG_MAP": "prestatiemonitor-instance",
                 "DAGSTER_K8S_PG_PASSWORD_SECRET": "dagster-postgresql-secret",
                 "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP": "prestatiemonitor-pipeline-env"}


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture
def clean_executor_env(monkeypatch):
    for name in (executors.EXECUTOR_ENV, executors.CELERY_BROKER_ENV, executors.CELERY_BACKEND_ENV,
                 executors.K8S_MAX_CONCURRENT_ENV, executors.K8S_NAMESPACE_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- pipelines/executors.py ------------------------------------------------------------------------

@pytest.mark.parametrize(("choice", "name"), [
    ("", "multi_or_in_process_executor"), ("multiprocess", "multi_or_in_process_executor"),
    ("in_process", "in_process"), (" Celery ", "celery"), ("k8s", "k8s"),
])
def test_the_environment_chooses_the_executor(clean_executor_env, choice, name):
    clean_executor_env.setenv(executors.EXECUTOR_ENV, choice)
    assert executors.executor_from_env().name == name


def test_an_unknown_executor_is_refused_in_dutch(clean_executor_env):
    clean_executor_env.setenv(executors.EXECUTOR_ENV, "dask")
    with pytest.raises(ValueError, match=r"PRESTATIEMONITOR_EXECUTOR='dask' is onbekend: kies uit multiprocess, in_process, celery, k8s"):
        executors.executor_from_env()


def resolved(executor: dg.ExecutorDefinition) -> dict:
    result = executor.config_schema.resolve_config({})  # type: ignore[attr-defined]  # a configured() schema
    assert result.success, result.errors
    return result.value["config"]


def test_celery_broker_comes_from_the_environment_and_stays_out_of_the_definitions(clean_executor_env):
    assert resolved(_executor(clean_executor_env, "celery"))["broker"] == executors.DEFAULT_CELERY_BROKER
    secret = "redis://:geheim-wachtwoord@redis.example.nl:6379/0"
    clean_executor_env.setenv(executors.CELERY_BROKER_ENV, secret)
    # configured() values can show in the UI: only the variable's name goes in
    assert "geheim" not in repr(executors.celery_config())
    celery = _executor(clean_executor_env, "celery")
    assert resolved(celery)["broker"] == secret  # read when the executor starts
    assert resolved(celery)["backend"] == secret  # no separate backend: the broker's Redis
    clean_executor_env.setenv(executors.CELERY_BACKEND_ENV, "redis://redis.example.nl:6379/1")
    assert resolved(_executor(clean_executor_env, "celery"))["backend"] == "redis://redis.example.nl:6379/1"


def _executor(monkeypatch, choice: str) -> dg.ExecutorDefinition:
    monkeypatch.setenv(executors.EXECUTOR_ENV, choice)
    return executors.executor_from_env()


def test_k8s_executor_config_is_valid_for_dagster_k8s(clean_executor_env):
    config = resolved(_executor(clean_executor_env, "k8s"))
    assert config["max_concurrent"] == executors.DEFAULT_K8S_MAX_CONCURRENT
    assert config["step_k8s_config"]["container_config"]["resources"] == executors.K8S_STEP_RESOURCES
    assert config["enable_owner_references"] is True
    assert "job_namespace" not in config  # the run launcher's namespace
    clean_executor_env.setenv(executors.K8S_MAX_CONCURRENT_ENV, "12")
    clean_executor_env.setenv(executors.K8S_NAMESPACE_ENV, "prestatiemonitor-runs")
    config = resolved(_executor(clean_executor_env, "k8s"))
    assert (config["max_concurrent"], config["job_namespace"]) == (12, "prestatiemonitor-runs")
    clean_executor_env.setenv(executors.K8S_MAX_CONCURRENT_ENV, "veel")
    assert not _executor(clean_executor_env, "k8s").config_schema.resolve_config({}).success  # type: ignore[attr-defined]


_LOAD_CODE_LOCATION = """
import json, dagster as dg
import pipelines.definitions as d
dg.Definitions.validate_loadable(d.defs)
repository = d.defs.get_repository_def()
jobs = repository.get_all_jobs()
print(json.dumps({
    "executors": {job.name: job.executor_def.name for job in jobs},
    "execution": {job.name: dg.validate_run_config(job, {})["execution"] for job in jobs},
}))
"""


def test_the_code_location_loads_with_the_k8s_executor_on_every_job():
    """pipelines.definitions itself, imported as the code server imports it, with
    PRESTATIEMONITOR_EXECUTOR=k8s: it loads, every job (also the implicit asset job that the UI's
    Materialize uses) runs its steps as Kubernetes Jobs, and the executor config validates."""
    env = {**os.environ, "PRESTATIEMONITOR_EXECUTOR": "k8s", "GX_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(PROJECT)}
    env.pop(executors.K8S_MAX_CONCURRENT_ENV, None)
    loaded = subprocess.run([sys.executable, "-c", _LOAD_CODE_LOCATION], cwd=PROJECT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr[-4000:]
    result = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert {"nightly", "kpi_per_gemeente"} <= set(result["executors"])
    # the retention purge is one op that deletes files where the run is mounted: always in-process
    assert result["executors"].pop("retentie_opschonen") == "in_process"
    result["execution"].pop("retentie_opschonen", None)
    assert set(result["executors"].values()) == {"k8s"}, result["executors"]
    for job, execution in result["execution"].items():
        [(name, config)] = execution.items()
        assert name == "k8s", job
        assert config["max_concurrent"] == executors.DEFAULT_K8S_MAX_CONCURRENT, job


# --- deploy/k8s/dagster.yaml -----------------------------------------------------------------------

@pytest.fixture
def cluster_env(monkeypatch):
    placeholder_pg_env(monkeypatch)
    monkeypatch.setenv("DAGSTER_K8S_JOB_NAMESPACE", "prestatiemonitor")
    for name, value in CHART_POD_ENV.items():
        monkeypatch.setenv(name, value)
    # no cluster here: the launcher must not look for a service-account token or a kubeconfig
    monkeypatch.setattr(dagster_k8s.launcher, "load_kubernetes_config", lambda **_: None)
    return monkeypatch


def instance_config(tmp_path: Path, raw: dict) -> dict:
    """Validate an instance config with Dagster's own schema (as `dagster-daemon` would on start)."""
    home = tmp_path / f"home_{len(list(tmp_path.iterdir()))}"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    config, custom_class = dagster_instance_config(str(home))
    assert custom_class is None
    return dict(config)


def run_launcher(config: dict) -> RunLauncher:
    launcher = config["run_launcher"]
    return ConfigurableClassData(launcher["module"], launcher["class"], yaml.safe_dump(launcher["config"])).rehydrate(
        as_type=RunLauncher)  # type: ignore[type-abstract]


def test_k8s_instance_config_validates_and_builds_its_run_launcher(tmp_path, cluster_env):
    config = instance_config(tmp_path, load_yaml(K8S_INSTANCE))
    launcher = run_launcher(config)
    assert isinstance(launcher, dagster_k8s.K8sRunLauncher)
    assert launcher.job_namespace == "prestatiemonitor" and launcher.load_incluster_config is True
    assert launcher.instance_config_map == "prestatiemonitor-instance"
    assert launcher.postgres_password_secret == "dagster-postgresql-secret"
    assert launcher.env_secrets == ["prestatiemonitor-secrets"]
    assert {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in launcher.volumes} == {
        "landing": "prestatiemonitor-landing", "assets": "prestatiemonitor-assets"}
    assert {m["name"] for m in launcher.volume_mounts} == {v["name"] for v in launcher.volumes}
    assert "PRESTATIEMONITOR_STORAGE_DIR=/var/lib/prestatiemonitor/assets" in launcher.env_vars
    assert not re.search(r"password:\s*[^{\s]", K8S_INSTANCE.read_text(encoding="utf-8")), "no literal password"


def test_k8s_instance_is_the_vm_instance_with_another_run_launcher():
    k8s, vm = load_yaml(K8S_INSTANCE), load_yaml(DEPLOY / "dagster.yaml")
    assert k8s.pop("run_launcher")["class"] == "K8sRunLauncher"
    assert "run_launcher" not in vm
    assert k8s == vm


# --- deploy/helm/values.yaml -----------------------------------------------------------------------

def schema_errors(values: dict) -> list[str]:
    schema = json.loads(HELM_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)]


def test_helm_values_follow_the_chart_schema():
    assert schema_errors(load_yaml(HELM_VALUES)) == []


def _set(path: str, value):
    def mutate(values):
        *parents, last = path.split(".")
        node = values
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return mutate


_DELETE = object()


@pytest.mark.parametrize(("mutate", "expected"), [
    (_set("dagsterDaemon.replicaCount", 2), "dagsterDaemon: Additional properties are not allowed ('replicaCount'"),
    (_set("dagsterDaemon.enabled", False), "dagsterDaemon/enabled: True was expected"),
    (_set("runLauncher.type", "CeleryK8sRunLauncher"), "runLauncher/type: 'K8sRunLauncher' was expected"),
    (_set("postgresql.postgresqlPassword", "geheim"), "postgresql: {"),
    (_set("postgresql.enabled", True), "postgresql/enabled: False was expected"),
    (_set("dagster-user-deployments.deployments.0.dagsterApiGrpcArgs", _DELETE), "'dagsterApiGrpcArgs' is a required property"),
    (_set("dagster-user-deployments.deployments.0.image.tag", _DELETE), "'tag' is a required property"),
    (_set("dagster-user-deployments.deployments.0.port", "3030"), "port: '3030' is not of type 'integer'"),
    (_set("runLauncher.config.k8sRunLauncher.envSecret", []), "Additional properties are not allowed ('envSecret'"),
    (_set("dagsterDeamon", {}), "Additional properties are not allowed ('dagsterDeamon'"),
    (_set("concurrency.runs.tagConcurrencyLimits.0.limit", "1"), "is not of type 'integer'"),
    (_set("dagsterDaemon.runCoordinator.config.queuedRunCoordinator", {"maxConcurrentRuns": 4}), "is expected to be empty"),
])
def test_the_schema_catches_what_the_chart_or_the_deployment_rules_forbid(mutate, expected):
    values = copy.deepcopy(load_yaml(HELM_VALUES))
    mutate(values)
    errors = schema_errors(values)
    assert any(expected in error for error in errors), errors


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _snake_keys(mapping: dict) -> dict:
    return {_snake(k): v for k, v in mapping.items()}


def chart_instance(values: dict, namespace: str = "prestatiemonitor") -> dict:
    """The instance settings the chart's dagster.yaml ConfigMap gets from these values, mapped as its
    templates map them (templates/helpers/instance/*.tpl and configmap-instance.yaml of the chart);
    storage is left out (it is deploy/dagster.yaml's, from the same postgresql values)."""
    daemon = values["dagsterDaemon"]
    queue = {_snake(k): v for k, v in daemon["runCoordinator"]["config"]["queuedRunCoordinator"].items() if v is not None}
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    concurrency = {part: _snake_keys(settings) for part, settings in values.get("concurrency", {}).items()}
    launcher_config = {
        "load_incluster_config": launcher.get("loadInclusterConfig", True),
        "job_namespace": launcher.get("jobNamespace") or namespace,
        "image_pull_policy": launcher.get("imagePullPolicy", "Always"),
        "service_account_name": values.get("global", {}).get("serviceAccountName") or "prestatiemonitor-dagster",
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}, *(c["name"] for c in launcher.get("envConfigMaps", []))],
        "env_secrets": [s["name"] for s in launcher.get("envSecrets", [])],
        **({"env_vars": launcher["envVars"]} if launcher.get("envVars") else {}),
        **({"volume_mounts": launcher["volumeMounts"]} if launcher.get("volumeMounts") else {}),
        **({"volumes": launcher["volumes"]} if launcher.get("volumes") else {}),
        **({"run_k8s_config": _snake_keys(launcher["runK8sConfig"])} if launcher.get("runK8sConfig") else {}),
    }
    retention = values.get("retention", {})
    return {
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher_config},
        # any queue setting makes the chart render max_concurrent_runs as well (-1 when unset)
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
                            **({"config": {"max_concurrent_runs": -1, **queue}} if queue else {})},
        **({"concurrency": concurrency} if concurrency else {}),
        "run_monitoring": _snake_keys(daemon["runMonitoring"]),
        "run_retries": _snake_keys(daemon["runRetries"]),
        "telemetry": values["telemetry"],
        **({"retention": {kind: {"purge_after_days": retention[kind]["purgeAfterDays"]} for kind in ("schedule", "sensor")}}
           if retention.get("enabled") else {}),
        **values.get("additionalInstanceConfig", {}),
    }


def test_the_instance_the_chart_makes_of_the_values_is_valid_and_the_same_as_deploy(tmp_path, cluster_env):
    values = load_yaml(HELM_VALUES)
    rendered = chart_instance(values)
    config = instance_config(tmp_path, rendered)
    assert isinstance(run_launcher(config), dagster_k8s.K8sRunLauncher)

    k8s = load_yaml(K8S_INSTANCE)
    for section in ("concurrency", "run_monitoring", "run_retries", "telemetry", "freshness"):
        assert rendered[section] == k8s[section], section
    retention = copy.deepcopy(rendered["retention"])
    retention["sensor"]["purge_after_days"].pop("started")  # the chart's schema requires it; Dagster defaults it
    assert retention == k8s["retention"]

    # what runs get: the chart passes the code location's secrets and volumes to its runs
    # (includeConfigInLaunchedRuns); deploy/k8s/dagster.yaml puts the same on its launcher
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    launcher = k8s["run_launcher"]["config"]
    assert [s["name"] for s in deployment["envSecrets"]] == launcher["env_secrets"] == rendered["run_launcher"]["config"]["env_secrets"]
    assert deployment["volumes"] == launcher["volumes"] and deployment["volumeMounts"] == launcher["volume_mounts"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert {f"{k}={v}" for k, v in env.items() if k in ("PRESTATIEMONITOR_LANDING_DIR", "PRESTATIEMONITOR_STORAGE_DIR")} <= set(launcher["env_vars"])
    assert _snake_keys(values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]) == launcher["run_k8s_config"]
    assert env["PRESTATIEMONITOR_EXECUTOR"] in executors.EXECUTORS
