"""Dagster instances for the tests: homes with the deployment's dagster.yaml or a config of their own,
the DAGSTER_PG_* settings deploy/dagster.yaml reads, and an IO manager that stores nothing for jobs
that only exercise the instance (shared by test_deploy, test_k8s, test_event_batching,
test_event_log_storage and conftest's `pg_instance_env`)."""

import json
import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
DAGSTER_PG_ENV = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")


def deploy_home(tmp_path: Path, name: str = "dagster_home") -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml."""
    home = tmp_path / name
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    return home


def home_with(home: Path, config: dict[str, Any]) -> Path:
    """A DAGSTER_HOME holding this instance config."""
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(json.dumps(config), encoding="utf-8")
    return home


def local_home(home: Path, storage: Path | None = None) -> Path:
    """A DAGSTER_HOME holding `make run`'s instance config (pipelines.event_log.local_instance_yaml),
    its storage in `storage` (default: this home)."""
    from pipelines.event_log import local_instance_yaml

    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(local_instance_yaml(storage or home), encoding="utf-8")
    return home


def placeholder_pg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAGSTER_PG_* set to values that pass the config schema, for tests that never connect."""
    for name in DAGSTER_PG_ENV:
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")


class NullIOManager(dg.ConfigurableIOManager):
    """Stores nothing, loads None: for assets whose values do not matter, only their events."""

    def handle_output(self, context, obj) -> None:
        pass

    def load_input(self, context) -> None:
        return None
