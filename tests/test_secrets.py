"""Secrets only through EnvVar: a run with a known fake EP-online API key leaves it nowhere."""

import os
import shutil
import subprocess
import sys

import pytest

from pipelines.config import PROJECT_DIR, SAMPLE_LANDING

pytestmark = pytest.mark.slow
FAKE_PSEUDONYM_KEY = "pseudoniem-sleutel-test-0123456789abcdef-do-not-leak"
FAKE_KEY = "pm-test-geheim-7f3a9c2e"


def test_the_api_key_appears_in_no_log_metadata_storage_or_warehouse(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING, landing)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PRESTATIEMONITOR_", "DAGSTER_"))},
        "EP_ONLINE_API_KEY": FAKE_KEY,
        # a copy of the landing folder is not the bundled sample: it needs a real pseudonymisation key
        "PRESTATIEMONITOR_PSEUDONIEM_SLEUTEL": FAKE_PSEUDONYM_KEY,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "PRESTATIEMONITOR_LANDING_DIR": str(landing),
        "PRESTATIEMONITOR_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "PRESTATIEMONITOR_STORAGE_DIR": str(tmp_path / "storage"),
        "PRESTATIEMONITOR_REPORT_DIR": str(tmp_path / "reports"),
        "GX_ANALYTICS_ENABLED": "false",
    }
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.run_sample"], cwd=PROJECT_DIR, env=env,
        capture_output=True, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stdout.decode()[-2000:] + run.stderr.decode()[-2000:]
    for secret in (FAKE_KEY, FAKE_PSEUDONYM_KEY):
        assert secret.encode() not in run.stdout + run.stderr
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file() and "landing" not in path.parts:
            content = path.read_bytes()
            for secret in (FAKE_KEY, FAKE_PSEUDONYM_KEY):
                assert secret.encode() not in content, f"secret found in {path.relative_to(tmp_path)}"
            scanned += 1
    assert scanned > 10  # event log (SQLite), Parquet values, warehouse, reports
    assert any(p.suffix == ".db" for p in (tmp_path / "home").rglob("*"))
