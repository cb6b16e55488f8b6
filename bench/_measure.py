"""Shared helpers for the benchmarks: run one variant in a fresh process, take its time and peak memory.

The parent starts `python -m bench.<module> ...` per variant. The child measures the work itself
(imports and input preparation excluded) and reports it on one `BENCH-RESULT {json}` line on stdout,
together with its peak RSS: `VmHWM` of /proc/self/status, the high-water mark of the process's own
memory. The parent also reaps the child with `os.wait4`, whose rusage belongs to that child alone
(RUSAGE_CHILDREN would give the maximum over every child reaped so far); that figure is the
fallback where /proc is missing. On Linux it is not used by default: ru_maxrss survives exec, so it
starts at the parent's RSS at fork time.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "


@dataclass
class Measurement:
    """One variant run in its own process."""

    name: str
    seconds: float  # the work, as timed by the child
    cpu_seconds: float  # CPU time of the work (all threads)
    wall_seconds: float  # the whole child process, interpreter start and imports included
    peak_rss_mb: float  # maximum resident set size of the child
    result: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""


def _maxrss_mb(usage: resource.struct_rusage) -> float:
    # Linux reports kilobytes, macOS bytes.
    return usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def run_child(name: str, args: Sequence[str], *, env: Mapping[str, str] | None = None,
              timeout: float | None = None, cwd: str | Path | None = None) -> Measurement:
    """Run `python <args>` in a fresh process; raise RuntimeError when it fails or reports nothing."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, env=dict(env) if env else None,
                                   cwd=cwd, start_new_session=True)
        timer = None
        if timeout is not None:
            timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
            timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keeps Popen from waiting again
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(
            f"variant {name!r} failed (exit {process.returncode}):\n{stderr[-3000:]}\n{stdout[-1000:]}"
        )
    result = json.loads(lines[-1][len(RESULT_PREFIX):])
    peak = float(result.pop("peak_rss_mb", 0.0)) or _maxrss_mb(usage)
    return Measurement(name=name, seconds=float(result.pop("seconds")), cpu_seconds=float(result.pop("cpu", 0.0)),
                       wall_seconds=wall,
                       peak_rss_mb=peak, result=result, stderr_tail=stderr[-2000:])


def report(**values: Any) -> None:
    """Child side: hand the measured values and the peak RSS to the parent (one line on stdout)."""
    values.setdefault("peak_rss_mb", _proc_status_mb("VmHWM"))
    print(RESULT_PREFIX + json.dumps(values, default=str), flush=True)


def _proc_status_mb(key: str) -> float:
    """A memory line of /proc/self/status in MB (0 where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """`with stopwatch() as t: ...` then t['seconds'] (wall) and t['cpu'] (CPU of all threads).

    On a busy machine the wall time of a multi-threaded step grows with the other load; the CPU
    time much less, so both are reported.
    """
    timing: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing["seconds"] = time.perf_counter() - started
        timing["cpu"] = time.process_time() - cpu


def rss_now_mb() -> float:
    """Current resident set size of this process (Linux /proc; 0 elsewhere)."""
    return _proc_status_mb("VmRSS")


def machine() -> str:
    """'2 cores, 24 GiB, load 0.3' for the results header."""
    cores = os.cpu_count() or 0
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024**2:.0f} GiB"
    except OSError:
        pass
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{cores} cores{memory}{load}, Python {sys.version.split()[0]}"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned."""
    text = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in text) for i in range(len(header))]
    numeric = [all(_is_number(row[i]) for row in text[1:]) for i in range(len(header))]
    lines = []
    for row in text:
        cells = [cell.rjust(w) if numeric[i] else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "").replace("x", "").replace("-", "").strip().isdigit()
