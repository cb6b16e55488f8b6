"""Tiny versions of the benchmarks, so they keep working; the real figures are in bench/README.md."""

import subprocess
import sys

import dagster as dg
import pytest

from pipelines.definitions import PARTITIONED
from tests.pipeline_helpers import Workspace, failed_steps

pytestmark = pytest.mark.slow


def test_validation_benchmark_runs_on_tiny_sizes(tmp_path):
    workspace = Workspace(tmp_path)
    staged = ("stg_toewijzingen", "stg_woningzoekenden", "stg_bezit", "stg_energielabels")
    result = workspace.run(selection=dg.AssetSelection.assets(*staged).upstream() - PARTITIONED)
    assert result.success, failed_steps(result)
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_validation", "--smoke"],
        env={"DAGSTER_HOME": str(tmp_path / "home"), "PRESTATIEMONITOR_STORAGE_DIR": str(workspace.storage),
             "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "stg_energielabels" in out.stdout and "total" in out.stdout
