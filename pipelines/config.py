"""Environment-driven settings, with defaults that run the bundled sample out of the box."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE_LANDING = PROJECT_DIR / "data" / "sample" / "landing"
DEFAULT_WAREHOUSE = PROJECT_DIR / "out" / "warehouse.duckdb"


def env_or_default(name: str, default: str) -> str | dg.EnvVar:
    """EnvVar when set (so secrets such as a PostgreSQL password are never stored in config),
    the default otherwise."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def warehouse_url() -> str | dg.EnvVar:
    return env_or_default("PRESTATIEMONITOR_WAREHOUSE_URL", f"duckdb:///{DEFAULT_WAREHOUSE}")


def landing_dir() -> str | dg.EnvVar:
    return env_or_default("PRESTATIEMONITOR_LANDING_DIR", str(SAMPLE_LANDING))


def storage_dir() -> str | dg.EnvVar:
    home = os.environ.get("DAGSTER_HOME") or str(PROJECT_DIR / "dagster_home")
    return env_or_default("PRESTATIEMONITOR_STORAGE_DIR", str(Path(home) / "assets"))


def report_dir() -> str | dg.EnvVar:
    return env_or_default("PRESTATIEMONITOR_REPORT_DIR", str(PROJECT_DIR / "out" / "validatie"))


def monitor_report_dir() -> str | dg.EnvVar:
    return env_or_default("PRESTATIEMONITOR_RAPPORT_DIR", str(PROJECT_DIR / "out" / "rapport"))


PSEUDONYM_KEY_ENV = "PRESTATIEMONITOR_PSEUDONIEM_SLEUTEL"


def pseudonym_key() -> str | dg.EnvVar:
    return env_or_default(PSEUDONYM_KEY_ENV, "")


def development_pseudonym_key_allowed() -> bool:
    """The public development key only for the bundled synthetic sample, and only when no key is set:
    any other landing folder without PRESTATIEMONITOR_PSEUDONIEM_SLEUTEL makes the Woonservice
    assets refuse to read."""
    if os.environ.get(PSEUDONYM_KEY_ENV):
        return False
    return uses_sample_landing()


def uses_sample_landing() -> bool:
    landing = os.environ.get("PRESTATIEMONITOR_LANDING_DIR")
    return landing is None or Path(landing).resolve() == SAMPLE_LANDING.resolve()
