"""Which engine runs the steps of a run: chosen by the environment, so one code base runs on a laptop,
one VM, a Celery cluster or Kubernetes (deploy/README.md, "Scale-out").

PRESTATIEMONITOR_EXECUTOR:

- ``multiprocess`` (default): Dagster's default executor (``multi_or_in_process_executor``): every
  step a subprocess of the run, on the machine of the run; run config can still pick ``in_process``
  or set ``max_concurrent``.
- ``in_process``: all steps in the run's own process (debugging).
- ``celery``: every step is a Celery task on a Redis broker (dagster-celery, extra ``celery``).
  PRESTATIEMONITOR_CELERY_BROKER (default ``redis://127.0.0.1:6379/0``) and
  PRESTATIEMONITOR_CELERY_BACKEND (default: the broker URL). Workers are started with
  ``dagster-celery worker start -A dagster_celery.app -y deploy/celery/worker.yaml``; they need the
  code, the same Dagster instance (PostgreSQL, deploy/dagster.yaml) and the same IO storage
  directory (PRESTATIEMONITOR_STORAGE_DIR on a shared file system).
- ``k8s``: every step is a Kubernetes Job (dagster-k8s ``k8s_job_executor``, extra ``k8s``), next to
  the K8sRunLauncher of deploy/helm/values.yaml, which makes each run a pod. The step pods inherit
  image, env, secrets and volumes from the code location and the run launcher
  (``includeConfigInLaunchedRuns``); PRESTATIEMONITOR_K8S_MAX_CONCURRENT (default 4) caps the step pods
  per run, PRESTATIEMONITOR_K8S_NAMESPACE (default: the run launcher's namespace) is where they go.

Secrets in a broker URL stay out of the stored run config: a variable that is set is passed as
``{"env": NAME}`` and read when the executor starts, in the run's process.

The extras are imported only when chosen: the default install has neither Celery nor Kubernetes.
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTOR_ENV = "PRESTATIEMONITOR_EXECUTOR"
CELERY_BROKER_ENV = "PRESTATIEMONITOR_CELERY_BROKER"
CELERY_BACKEND_ENV = "PRESTATIEMONITOR_CELERY_BACKEND"
K8S_MAX_CONCURRENT_ENV = "PRESTATIEMONITOR_K8S_MAX_CONCURRENT"
K8S_NAMESPACE_ENV = "PRESTATIEMONITOR_K8S_NAMESPACE"

DEFAULT_CELERY_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_K8S_MAX_CONCURRENT = 4
# Every step pod: the heaviest steps (staging with GX suites, the KPI joins) stay under 2 GiB on the
# sample; the limit leaves room for a region's data. Override per step with the op tag
# dagster-k8s/config when one step needs more.
K8S_STEP_RESOURCES = {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}

EXECUTORS = ("multiprocess", "in_process", "celery", "k8s")


def _from_env(name: str, default: str) -> str | dict[str, str]:
    """``{"env": name}`` when the variable is set (resolved at executor start), else the default."""
    return {"env": name} if os.environ.get(name) else default


def chosen_executor() -> str:
    value = os.environ.get(EXECUTOR_ENV, "").strip().lower() or "multiprocess"
    if value not in EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV}={value!r} is onbekend: kies uit {', '.join(EXECUTORS)}")
    return value


def celery_config() -> dict[str, object]:
    broker = _from_env(CELERY_BROKER_ENV, DEFAULT_CELERY_BROKER)
    backend = {"env": CELERY_BACKEND_ENV} if os.environ.get(CELERY_BACKEND_ENV) else broker
    return {"broker": broker, "backend": backend}


def k8s_config() -> dict[str, object]:
    config: dict[str, object] = {
        "max_concurrent": {"env": K8S_MAX_CONCURRENT_ENV} if os.environ.get(K8S_MAX_CONCURRENT_ENV) else DEFAULT_K8S_MAX_CONCURRENT,
        "step_k8s_config": {"container_config": {"resources": K8S_STEP_RESOURCES}},
        # step Jobs belong to their run's pod: deleting the run pod cleans its step pods up
        "enable_owner_references": True,
    }
    if os.environ.get(K8S_NAMESPACE_ENV):
        config["job_namespace"] = {"env": K8S_NAMESPACE_ENV}
    return config


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor named by PRESTATIEMONITOR_EXECUTOR (see the module docstring)."""
    choice = chosen_executor()
    if choice == "multiprocess":
        return dg.multi_or_in_process_executor
    if choice == "in_process":
        return dg.in_process_executor
    if choice == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as exc:
            raise RuntimeError(f"{EXECUTOR_ENV}=celery vraagt dagster-celery: pip install -e '.[celery]'") from exc
        return celery_executor.configured(celery_config(), name="celery")
    try:
        from dagster_k8s import k8s_job_executor
    except ImportError as exc:
        raise RuntimeError(f"{EXECUTOR_ENV}=k8s vraagt dagster-k8s: pip install -e '.[k8s]'") from exc
    return k8s_job_executor.configured(k8s_config(), name="k8s")
