"""Tiny versions of the benchmarks, so they keep working; the real figures are in bench/README.md."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_validation_benchmark_runs_on_tiny_sizes(tmp_path, sample_baseline):
    # the staged values bench_validation reads, as `make run` leaves them: the session's sample run
    workspace = sample_baseline.workspace(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_validation", "--smoke"],
        env={"DAGSTER_HOME": str(tmp_path / "home"), "PRESTATIEMONITOR_STORAGE_DIR": str(workspace.storage),
             "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "stg_energielabels" in out.stdout and "total" in out.stdout


def test_bookkeeping_benchmark_runs_on_tiny_sizes(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_bookkeeping", "--smoke"],
        env={"DAGSTER_HOME": str(tmp_path / "home"), "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("sqlite") >= 3 and "ms per partition" in out.stdout
