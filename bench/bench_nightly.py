"""Benchmarks 2-5 of issue 8: the nightly run, cold, incremental and with nothing new; the region
run on the bundled sample; and how the cold run grows from 1 to 10 to 342 gemeenten.

Every phase runs in a fresh process (bench/_measure.py: time of the work, peak RSS of the process),
against a persistent Dagster instance (DAGSTER_HOME under the work folder), so runs, step events
and the fingerprint of the last load are recorded as in production.

  national   on a generated set (bench/generate_national.py), in this order:
    cold         the `nightly` job (raw + staging with the GX suites), then `kpi_per_gemeente` as
                 ONE range run over every gemeente partition (the same rows as one run per gemeente,
                 what `make run` does): from the raw files to the stoplight tables in the warehouse.
                 Time and peak RSS per step (STEP_START/STEP_SUCCESS of the run's event log, RSS
                 sampled every 0.2 s). The landing folder holds the set WITHOUT its daily EP-online
                 mutation file and without the last month of lettings (both come in `incremental`).
    nothing-new  the 02:00 schedule tick (pipelines/nightly.py) after that load, with the landing
                 and mutation sensors beside it: must skip, no run requested, fingerprinting of the
                 whole landing folder included.
    gemeenten    a handful of `kpi_per_gemeente` runs of single gemeenten (as the fan-out sensor
                 starts them in production), smallest to largest: a linear fit on the number of
                 units gives the estimate for one run per gemeente for all of them.
    incremental  from the state after `cold`: the daily mutation file and a new month of lettings
                 arrive. The mutation sensor's partition and run of `ep_online_mutaties`, then the
                 nightly job restricted to what `landing_folder_sensor` selects, then the per-gemeente
                 layer restricted to `pipelines.fanout.affected_selection` (as one range run). Reports
                 what was recomputed, and whether the next 02:00 tick would load again.
  region     `make run` (pipelines.run_sample) on the bundled sample: the regression baseline.
  scaling    the cold run for the 1-, 10- and 342-gemeente sets (`--gemeenten N` of the generator);
             the national row comes from the `national` results when present.

Run from the project root (`make bench-nightly` runs region, national and scaling):

    .venv/bin/python -m bench.bench_nightly national --data /tmp/prestatiemonitor-bench/national
    .venv/bin/python -m bench.bench_nightly national --data DIR --phases incremental   # from the cold snapshot
    .venv/bin/python -m bench.bench_nightly region
    .venv/bin/python -m bench.bench_nightly scaling --sets /tmp/prestatiemonitor-bench/{g1,g10,national}
    .venv/bin/python -m bench.bench_nightly national --data DIR --profile   # cold run under py-spy

Work folders (BENCH_DIR, default /tmp/prestatiemonitor-bench, under nightly/<set name>/): the
landing folder is built from hard links to the generated files (nothing is copied; the split-off month
of lettings is the only file written), `snapshot-cold/` keeps the state after the cold run (hard links
for the Parquet values, copies of the warehouse and the instance) so `incremental` can be measured
again, and `results.json` collects the figures of every phase.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._measure import Measurement, machine, report, run_child, table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/prestatiemonitor-bench"))
DEFAULT_DATA = BENCH_DIR / "national"
SAMPLE_DATA = PROJECT_ROOT / "data" / "sample"
TODAY = "2026-01-31"  # 'today' of the validation and the monitor: after every generated date
PHASES = ("cold", "nothing-new", "gemeenten", "incremental")
GOALS = {"cold": 15 * 60, "incremental": 2 * 60, "nothing-new": 30}
EXECUTORS = ("multiprocess", "in_process")
DEFAULT_MAX_RSS_MB = 18_000  # of the machine's 24 GiB; BENCH_MAX_RSS_MB overrides
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
CORRECTIONS_HEADER = "dataset,sleutel,kolom,nieuwe_waarde,reden,auteur,datum\n"


# --------------------------------------------------------------------------------------------------
# preparation (parent, not timed)
# --------------------------------------------------------------------------------------------------


def dataset_layout(data: Path) -> dict[str, Path | None]:
    """Where a set keeps its landing folder, mappings and reference tables (the bundled sample uses
    the project's own mappings and reference tables)."""
    return {
        "landing": data / "landing",
        "mappings": data / "mappings" if (data / "mappings").is_dir() else PROJECT_ROOT / "mappings",
        "reference": data / "reference" if (data / "reference").is_dir() else None,
    }


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


def _split_last_month(source: Path, keep: Path, month_file_dir: Path) -> Path | None:
    """Write `source` without its last month of lettings to `keep`, and that month as
    toewijzingen_<jjjj>-<mm>.csv in `month_file_dir` (the 'new month' of the incremental run)."""
    with source.open("rb") as handle:
        header = handle.readline()
        lines = handle.readlines()
    names = header.decode("utf-8-sig").rstrip("\r\n").split(";")
    column = names.index("toewijzingsdatum")

    def month(line: bytes) -> tuple[str, str]:
        day = line.split(b";")[column].decode()  # dd-mm-jjjj
        return day[6:10], day[3:5]

    months = [month(line) for line in lines]
    last = max(months)
    kept = [line for line, m in zip(lines, months, strict=True) if m != last]
    new = [line for line, m in zip(lines, months, strict=True) if m == last]
    keep.parent.mkdir(parents=True, exist_ok=True)
    if not kept or not new:  # one month only: nothing to split off (the readers refuse an empty file)
        keep.write_bytes(header + b"".join(lines))
        return None
    keep.write_bytes(header + b"".join(kept))
    target = month_file_dir / f"toewijzingen_{last[0]}-{last[1]}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(header + b"".join(new))
    return target


def prepare_work(data: Path, work: Path) -> None:
    """base/landing = the set's landing folder minus its daily mutation files and minus the last month
    of lettings; extra/ holds those for the incremental run. Done once per work folder and set."""
    marker = work / "prepared.json"
    if marker.exists() and json.loads(marker.read_text())["data"] == str(data.resolve()):
        return
    for folder in (work / "base", work / "extra", work / "base-reference"):
        if folder.exists():
            shutil.rmtree(folder)
    landing = dataset_layout(data)["landing"]
    assert landing is not None
    base_landing, extra = work / "base" / "landing", work / "extra"
    lettings = sorted(landing.glob("woonservice/toewijzingen_*.csv"))
    newest_lettings = lettings[-1] if lettings else None
    for source in sorted(p for p in landing.rglob("*") if p.is_file()):
        relative = source.relative_to(landing)
        if relative.parts[0] == "ep_online" and source.name.lower().startswith("d"):
            _link_or_copy(source, extra / relative)
        elif source == newest_lettings:
            _split_last_month(source, base_landing / relative, extra / "woonservice")
        else:
            _link_or_copy(source, base_landing / relative)
    _deployment_reference(data, work)
    work.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"data": str(data.resolve())}), encoding="utf-8")


def _deployment_reference(data: Path, work: Path) -> None:
    """The generator's reference/gemeenten.csv always lists all 342 gemeenten; a deployment of N
    gemeenten configures only those (they are its partitions). base/reference/ is the set's reference
    folder with gemeenten.csv cut to the manifest's gemeenten, when that is fewer."""
    reference = dataset_layout(data)["reference"]
    codes = _manifest(data).get("gemeente_codes")
    if reference is None or not codes:
        return
    lines = (reference / "gemeenten.csv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0], *(line for line in lines[1:] if line.split(",")[0] in set(codes))]
    if len(kept) == len(lines):
        return
    target = work / "base-reference"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(reference, target)
    (target / "gemeenten.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")


def reference_dir(data: Path, work: Path) -> Path | None:
    """The reference folder the child points PRESTATIEMONITOR_REFERENCE_DIR at (None: the project's)."""
    if (work / "base-reference").is_dir():
        return work / "base-reference"
    return dataset_layout(data)["reference"]


def _clone(source: Path, target: Path) -> None:
    """Copy a state folder: hard links for files that are only ever replaced, never written in place
    (Parquet values, landing files), real copies of the rest (DuckDB warehouse, the instance's SQLite)."""
    if target.exists():
        shutil.rmtree(target)

    def copy(src: str, dst: str) -> object:
        if src.endswith(".parquet") or "/landing/" in src:
            try:
                os.link(src, dst)
                return dst
            except OSError:
                pass
        return shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=copy)


def fresh_state(work: Path) -> None:
    """state/: the landing folder of a cold run, an empty corrections file, a new Dagster instance."""
    _clone(work / "base", work / "state")
    (work / "state" / "correcties.csv").write_text(CORRECTIONS_HEADER, encoding="utf-8")
    write_instance_config(work / "state" / "home")


def write_instance_config(home: Path) -> None:
    """The benchmark's Dagster instance: SQLite, with the project's batching event log storage as
    deploy/dagster.yaml has for PostgreSQL. Written again after a snapshot is restored, so a snapshot
    taken by older code gets it too (the storage's tables are Dagster's own)."""
    from pipelines.event_log import local_instance_yaml  # imports Dagster: only when a state is made

    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(local_instance_yaml(home), encoding="utf-8")


def save_snapshot(work: Path) -> None:
    _clone(work / "state", work / "snapshot-cold")


def restore_snapshot(work: Path) -> None:
    if not (work / "snapshot-cold").is_dir():
        raise SystemExit(f"{work}: geen toestand na de koude run; draai eerst --phases cold")
    _clone(work / "snapshot-cold", work / "state")
    write_instance_config(work / "state" / "home")


def child_env(data: Path, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    reference = reference_dir(data, work)
    if reference is not None:
        env["PRESTATIEMONITOR_REFERENCE_DIR"] = str(reference)
    else:
        env.pop("PRESTATIEMONITOR_REFERENCE_DIR", None)
    env["DAGSTER_HOME"] = str(work / "state" / "home")
    env["GX_ANALYTICS_ENABLED"] = "false"
    env["TQDM_DISABLE"] = "1"
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.setdefault("BENCH_MAX_RSS_MB", str(DEFAULT_MAX_RSS_MB))
    env["BENCH_NIGHTLY_DATA"] = str(data)  # for the step processes of a multiprocess run (bench_job)
    env["BENCH_NIGHTLY_WORK"] = str(work)
    return env


# --------------------------------------------------------------------------------------------------
# child side: the measured work
# --------------------------------------------------------------------------------------------------


def tree_rss_mb(root: int | None = None) -> float:
    """RSS of this process and all its descendants (the step processes of a multiprocess run), MB."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            pages = int(Path(f"/proc/{entry.name}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        pid, parent = int(entry.name), int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(pid)
        rss[pid] = pages * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


class RssSampler:
    """RSS of this process and its step processes every `interval` seconds, to attribute a peak to
    each step (with two steps at once in a multiprocess run: the peak of both together)."""

    def __init__(self, interval: float = 0.2, limit_mb: float | None = None) -> None:
        self.interval = interval
        # Above this RSS the process stops itself, naming where it was: on a shared machine the
        # kernel's OOM killer would otherwise pick a process, maybe someone else's.
        self.limit_mb = limit_mb if limit_mb is not None else float(os.environ.get("BENCH_MAX_RSS_MB", "0")) or None
        self._main = threading.get_ident()
        self.samples: list[tuple[float, float]] = []
        self.cpu: list[tuple[float, float]] = []  # (time, CPU seconds of the process so far)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            rss = tree_rss_mb()
            self.samples.append((now, rss))
            self.cpu.append((now, time.process_time()))
            if self.limit_mb and rss > self.limit_mb:
                self._abort(rss)
            self._stop.wait(self.interval)

    def _abort(self, rss: float) -> None:
        import traceback

        frame = sys._current_frames().get(self._main)
        stack = traceback.extract_stack(frame) if frame is not None else []
        ours = [f"{Path(f.filename).relative_to(PROJECT_ROOT)}:{f.lineno} {f.name}" for f in stack
                if f.filename.startswith(str(PROJECT_ROOT)) and "/.venv/" not in f.filename]
        print(f"BENCH-ABORT: RSS {rss:,.0f} MB boven de grens {self.limit_mb:,.0f} MB (BENCH_MAX_RSS_MB); "
              f"gestopt in: {' <- '.join(reversed(ours[-6:]))}", file=sys.stderr, flush=True)
        with contextlib.suppress(OSError):  # the step processes of a multiprocess run too
            os.killpg(os.getpgid(0), 9)
        os._exit(3)

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds (user + system, all threads) the process used between two moments: on a busy
        machine the wall time of a step grows with the other load, its CPU time hardly does."""

        def at(moment: float) -> float:
            before = [c for t, c in self.cpu if t <= moment]
            return before[-1] if before else (self.cpu[0][1] if self.cpu else 0.0)

        return max(0.0, at(end) - at(start))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> float:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        if inside or not self.samples:
            return max(inside, default=0.0)
        # A step shorter than the sampling interval: the sample nearest to it stands for it.
        middle = (start + min(end, time.time())) / 2
        return min(self.samples, key=lambda sample: abs(sample[0] - middle))[1]


class Bench:
    """The project's definitions with the benchmark's resources (imported only in the child, after
    PRESTATIEMONITOR_REFERENCE_DIR is set: the gemeente partitions are built at import)."""

    def __init__(self, data: Path, work: Path, executor: str = "in_process") -> None:
        import dagster as dg

        from assets.ep_online_mutaties import EpOnlineApi
        from assets.monitor import MonitorSettings
        from assets.resources import DataQuality, LandingFolder, Pseudonymisation, WarehouseResource
        from assets.settings import KpiSettings
        from pipelines import definitions
        from pipelines.alerts import AlertChannels
        from pipelines.io import ParquetIOManager

        state = work / "state"
        layout = dataset_layout(data)
        self.dg = dg
        self.state = state
        self.warehouse_path = state / "warehouse.duckdb"
        self.landing = LandingFolder(path=str(state / "landing"), mappings_path=str(layout["mappings"]))
        self.data_quality = DataQuality(
            corrections_path=str(state / "correcties.csv"), report_dir=str(state / "validatie"), vandaag=TODAY
        )
        self.resources: dict[str, Any] = {
            "landing": self.landing,
            "warehouse": WarehouseResource(url=f"duckdb:///{self.warehouse_path}"),
            "kpi_settings": KpiSettings(),
            "data_quality": self.data_quality,
            "io_manager": ParquetIOManager(base_path=str(state / "storage")),
            "ep_online_api": EpOnlineApi(api_key=""),
            "pseudonymisation": Pseudonymisation(ontwikkelsleutel=True),
            "alerts": AlertChannels(),
            "monitor": MonitorSettings(report_dir=str(state / "rapport"), as_of=TODAY),
        }
        base = definitions.defs
        # The project's resources (whatever other jobs need), with these in place of the configured ones.
        self.defs = dg.Definitions(
            assets=base.assets, asset_checks=base.asset_checks, jobs=base.jobs, schedules=base.schedules,
            sensors=base.sensors, resources={**(base.resources or {}), **self.resources},
        )
        self.per_gemeente = definitions.PER_GEMEENTE
        self.instance = dg.DagsterInstance.get()
        self.executor = executor
        self.data, self.work = data, work

    def job(self, name: str) -> Any:
        return self.defs.resolve_job_def(name)

    def repository(self) -> Any:
        return self.defs.get_repository_def()

    def gemeenten(self) -> list[str]:
        from assets.partitions import GEMEENTE_PARTITIES

        return list(GEMEENTE_PARTITIES.get_partition_keys())

    def range_tags(self, gemeenten: Sequence[str]) -> dict[str, str]:
        from assets.partitions import range_tags

        return range_tags(gemeenten)

    def execute(self, name: str, sampler: RssSampler | None = None, **kwargs: Any) -> dict[str, Any]:
        """Execute a job; its wall time, success, failures and per-step times. `in_process`: every step
        in this process (`make run`); `multiprocess`: as in production (pipelines/executors.py, the
        default), every step its own process, two at a time on this 2-core machine."""
        import resource

        from pipelines.run_sample import root_cause

        started, cpu = time.perf_counter(), time.process_time()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        if self.executor == "in_process":
            kwargs.pop("max_concurrent", None)  # one step at a time anyway
            result = self.job(name).execute_in_process(
                instance=self.instance, run_config=QUIET, raise_on_error=False, **kwargs
            )
            run_id, success, events = result.run_id, result.success, result.all_events
        else:
            dg = self.dg
            tags = dict(kwargs.pop("tags", None) or {})
            partition = kwargs.pop("partition_key", None)
            if partition is not None:
                tags["dagster/partition"] = partition
            selection = kwargs.pop("asset_selection", None)
            concurrent = kwargs.pop("max_concurrent", 2)
            job = dg.build_reconstructable_job("bench.bench_nightly", "bench_job", reconstructable_args=(name,))
            run_config = {**QUIET, "execution": {"config": {"multiprocess": {"max_concurrent": concurrent}}}}
            with dg.execute_job(
                job, instance=self.instance, run_config=run_config, tags=tags, raise_on_error=False,
                asset_selection=selection,
            ) as result:
                run_id, success, events = result.run_id, result.success, result.all_events
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        cpu += (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
        failures = [f"{e.step_key}: {root_cause(e)[:300]}" for e in events if e.is_step_failure]
        return {
            "job": name,
            "run_id": run_id,
            "success": success,
            "seconds": seconds,
            "cpu_seconds": cpu,
            "failures": failures,
            "steps": self.step_times(run_id, sampler),
        }

    def step_times(self, run_id: str, sampler: RssSampler | None) -> list[dict[str, Any]]:
        from dagster import DagsterEventType

        events = self.instance.all_logs(
            run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
        )
        starts: dict[str, float] = {}
        steps = []
        for entry in events:
            key = entry.step_key or "?"
            kind = entry.dagster_event.event_type if entry.dagster_event else None
            if kind == DagsterEventType.STEP_START:
                starts[key] = entry.timestamp
            elif key in starts:
                begin = starts.pop(key)
                steps.append({
                    "step": key,
                    "seconds": entry.timestamp - begin,
                    "ok": kind == DagsterEventType.STEP_SUCCESS,
                    "peak_rss_mb": sampler.peak(begin, entry.timestamp) if sampler else 0.0,
                    "cpu_seconds": sampler.cpu_between(begin, entry.timestamp) if sampler else 0.0,
                })
        return steps

    def warehouse_rows(self) -> dict[str, int]:
        import duckdb

        from assets.publish import SPECS

        if not self.warehouse_path.exists():
            return {}
        with duckdb.connect(str(self.warehouse_path), read_only=True) as con:
            out = {}
            for spec in SPECS.values():
                try:
                    out[spec.qualified_name] = int(con.execute(f"select count(*) from {spec.qualified_name}").fetchone()[0])  # type: ignore[index]
                except duckdb.Error:
                    out[spec.qualified_name] = -1
            return out


_DEFINITIONS: Any = None


def bench_job(name: str) -> Any:
    """The job `name` with the benchmark's resources, rebuilt in every step process of a multiprocess
    run (dagster.build_reconstructable_job); the set and work folder come from the environment."""
    global _DEFINITIONS
    if _DEFINITIONS is None:
        _DEFINITIONS = Bench(Path(os.environ["BENCH_NIGHTLY_DATA"]), Path(os.environ["BENCH_NIGHTLY_WORK"])).defs
    return _DEFINITIONS.resolve_job_def(name)


def phase_cold(bench: Bench) -> dict[str, Any]:
    from pipelines.fanout import FANOUT_TAG
    from pipelines.nightly import input_tags

    with RssSampler() as sampler:
        started = time.perf_counter()
        nightly = bench.execute("nightly", sampler, tags=input_tags(bench.landing, bench.data_quality))
        runs = [nightly]
        if nightly["success"]:
            gemeenten = bench.gemeenten()
            kpi = bench.execute(
                # One range run over every gemeente, as the fan-out starts with
                # PRESTATIEMONITOR_GEMEENTEN_PER_RUN >= 342 (pipelines/fanout.py), two steps at a time
                # as every run here. Until the stock KPIs read their text keys as categoricals, two
                # stock KPI steps at once (~6-8 GB each) ran this 24 GiB machine out of memory, so
                # this ran one at a time.
                "kpi_per_gemeente", sampler, tags={**bench.range_tags(gemeenten), FANOUT_TAG: nightly["run_id"]},
            )
            runs.append(kpi)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_tree_mb": sampler.peak(0, float("inf")),
        "cpu_seconds": sum(r["cpu_seconds"] for r in runs),
        "success": all(r["success"] for r in runs) and len(runs) == 2,
        "runs": runs,
        "warehouse_rows": bench.warehouse_rows(),
        "gemeenten": len(bench.gemeenten()),
    }


def phase_nothing_new(bench: Bench) -> dict[str, Any]:
    """The 02:00 tick after the load: must skip. The two sensors beside it must not start anything."""
    from datetime import datetime

    from pipelines.sensors import folder_fingerprints

    dg = bench.dg
    repository = bench.repository()
    runs_before = len(bench.instance.get_run_records())
    timings: dict[str, float] = {}
    started = time.perf_counter()
    schedule = bench.defs.resolve_schedule_def("nightly_0200")
    context = dg.build_schedule_context(
        instance=bench.instance, resources={"landing": bench.landing, "data_quality": bench.data_quality},
        scheduled_execution_time=datetime(2026, 2, 1, 2, 0),
    )
    tick = schedule.evaluate_tick(context)
    timings["schedule nightly_0200"] = time.perf_counter() - started
    # The landing sensor, with the cursor it keeps from its previous look at the folder.
    cursor = json.dumps(folder_fingerprints(bench.landing.root))
    begin = time.perf_counter()
    with dg.build_sensor_context(
        instance=bench.instance, cursor=cursor, repository_def=repository, resources={"landing": bench.landing}
    ) as sensor_context:
        landing_result = bench.defs.resolve_sensor_def("landing_folder_sensor")(sensor_context)
    timings["sensor landing_folder_sensor"] = time.perf_counter() - begin
    begin = time.perf_counter()
    mutation_sensor = bench.defs.resolve_sensor_def("ep_online_mutatie_sensor")
    resources = {"landing": bench.landing, "ep_online_api": bench.resources["ep_online_api"]}
    with dg.build_sensor_context(instance=bench.instance, repository_def=repository, resources=resources) as sensor_context:
        first = mutation_sensor(sensor_context)  # the cursor of the files already requested
    with dg.build_sensor_context(
        instance=bench.instance, cursor=first.cursor, repository_def=repository, resources=resources
    ) as sensor_context:
        mutation_result = mutation_sensor(sensor_context)
    timings["sensor ep_online_mutatie_sensor"] = time.perf_counter() - begin
    seconds = timings["schedule nightly_0200"]
    requested = {
        "schedule nightly_0200": len(tick.run_requests or []),
        "sensor landing_folder_sensor": len(landing_result.run_requests or []),
        "sensor ep_online_mutatie_sensor": len(mutation_result.run_requests or []),
    }
    return {
        "seconds": seconds,
        "success": not any(requested.values()) and len(bench.instance.get_run_records()) == runs_before,
        "timings": timings,
        "requested": requested,
        "skip_message": tick.skip_message,
        "landing_files": sum(1 for _ in bench.landing.root.rglob("*")),
    }


def _units_per_gemeente(bench: Bench) -> dict[str, int]:
    """Units in exploitation at the latest peildatum per gemeente (stg_bezit in the IO storage)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    stock = pq.read_table(bench.state / "storage" / "stg_bezit.parquet", columns=["gemeente_code", "peildatum", "in_exploitatie"])
    latest = pc.max(stock["peildatum"])
    mask = pc.and_(pc.equal(stock["peildatum"], latest), stock["in_exploitatie"])
    counts = stock.filter(mask).group_by("gemeente_code").aggregate([("gemeente_code", "count")])
    found = dict(zip(counts["gemeente_code"].to_pylist(), counts["gemeente_code_count"].to_pylist(), strict=True))
    return {g: int(found.get(g, 0)) for g in bench.gemeenten()}


def phase_gemeenten(bench: Bench, count: int) -> dict[str, Any]:
    """`count` single-gemeente runs of kpi_per_gemeente, spread over the sizes; a linear fit
    (seconds = a + b x units) over them, summed over every gemeente, estimates the production fan-out."""
    units = _units_per_gemeente(bench)
    ordered = sorted(units, key=lambda g: (units[g], g))
    if count >= len(ordered):
        chosen = ordered
    elif count <= 1:
        chosen = ordered[len(ordered) // 2:][:1]
    else:
        chosen = list(dict.fromkeys(ordered[round(i * (len(ordered) - 1) / (count - 1))] for i in range(count)))
    samples = []
    with RssSampler() as sampler:
        started = time.perf_counter()
        for gemeente in chosen:
            run = bench.execute("kpi_per_gemeente", sampler, partition_key=gemeente)
            samples.append({"gemeente": gemeente, "units": units[gemeente], "seconds": run["seconds"],
                            "success": run["success"], "failures": run["failures"]})
        seconds = time.perf_counter() - started
    xs = [s["units"] for s in samples]
    ys = [s["seconds"] for s in samples]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    intercept = mean_y - slope * mean_x
    estimate = sum(intercept + slope * units[g] for g in units)
    return {
        "seconds": seconds,
        "peak_tree_mb": sampler.peak(0, float("inf")),
        "success": all(s["success"] for s in samples),
        "samples": samples,
        "fit": {"seconds_per_run": intercept, "seconds_per_1000_units": slope * 1000},
        "estimate_serial_seconds": estimate,
        "gemeenten": len(units),
        "units": sum(units.values()),
    }


def phase_incremental(bench: Bench, work: Path) -> dict[str, Any]:
    """New daily mutation file + new month of lettings: only the affected work, as the sensors start it."""
    from pipelines.fanout import FANOUT_TAG, affected_selection
    from pipelines.nightly import input_fingerprint, last_loaded_fingerprint
    from pipelines.sensors import folder_fingerprints

    dg = bench.dg
    repository = bench.repository()
    landing_root = bench.landing.root
    mutation_sensor = bench.defs.resolve_sensor_def("ep_online_mutatie_sensor")
    sensor_resources = {"landing": bench.landing, "ep_online_api": bench.resources["ep_online_api"]}
    # What the sensors remember from their previous evaluation (before the new files).
    landing_cursor = json.dumps(folder_fingerprints(landing_root))
    with dg.build_sensor_context(instance=bench.instance, repository_def=repository, resources=sensor_resources) as context:
        mutation_cursor = mutation_sensor(context).cursor
    arrived = []
    for source in sorted(p for p in (work / "extra").rglob("*") if p.is_file()):
        target = landing_root / source.relative_to(work / "extra")
        _link_or_copy(source, target)
        arrived.append(target.relative_to(landing_root).as_posix())

    steps: list[dict[str, Any]] = []
    recomputed: dict[str, Any] = {}
    timings: dict[str, float] = {}
    success = True
    cpu_total = 0.0
    with RssSampler() as sampler:
        started = time.perf_counter()
        # 1. the mutation sensor: a partition per new daily file, and a run of ep_online_mutaties
        begin = time.perf_counter()
        with dg.build_sensor_context(
            instance=bench.instance, cursor=mutation_cursor, repository_def=repository, resources=sensor_resources
        ) as context:
            mutation_tick = mutation_sensor(context)
        # What the daemon does with the sensor's result: add the partitions, then start the runs.
        for add in mutation_tick.dynamic_partitions_requests or []:
            bench.instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys or []))
        keys = [r.partition_key for r in mutation_tick.run_requests or [] if r.partition_key]
        for key in keys:
            run = bench.execute("ep_online_mutaties", sampler, partition_key=key)
            cpu_total += run["cpu_seconds"]
            success &= run["success"]
            steps += [{**s, "run": "ep_online_mutaties"} for s in run["steps"]]
        recomputed["ep_online_mutaties"] = keys
        timings["ep_online_mutaties (sensor + run)"] = time.perf_counter() - begin
        # 2. the landing sensor: the raw assets of the changed folders and everything downstream in `nightly`
        begin = time.perf_counter()
        with dg.build_sensor_context(
            instance=bench.instance, cursor=landing_cursor, repository_def=repository, resources={"landing": bench.landing}
        ) as context:
            landing_tick = bench.defs.resolve_sensor_def("landing_folder_sensor")(context)
        loaded: list[Any] = []
        for request in landing_tick.run_requests or []:
            selection = list(request.asset_selection or [])
            run = bench.execute("nightly", sampler, asset_selection=selection, tags=dict(request.tags))
            cpu_total += run["cpu_seconds"]
            success &= run["success"]
            steps += [{**s, "run": "nightly"} for s in run["steps"]]
            loaded += selection
            recomputed.setdefault("nightly_run_ids", []).append(run["run_id"])
        recomputed["nightly"] = sorted(k.to_user_string() for k in loaded)
        recomputed["landing_trigger"] = [r.tags.get("trigger") for r in landing_tick.run_requests or []]
        timings["nightly (landing sensor selection)"] = time.perf_counter() - begin
        # 3. the fan-out: the per-gemeente assets downstream of what was loaded, for every gemeente
        begin = time.perf_counter()
        if loaded and success:
            selection = affected_selection(sorted(set(loaded)), bench.per_gemeente, repository.asset_graph)
            gemeenten = bench.gemeenten()
            if selection != []:
                kwargs: dict[str, Any] = {"tags": {**bench.range_tags(gemeenten), FANOUT_TAG: recomputed["nightly_run_ids"][-1]}}
                if selection is not None:
                    kwargs["asset_selection"] = selection
                run = bench.execute("kpi_per_gemeente", sampler, **kwargs)
                cpu_total += run["cpu_seconds"]
                success &= run["success"]
                steps += [{**s, "run": "kpi_per_gemeente"} for s in run["steps"]]
                recomputed["kpi_per_gemeente"] = "alle" if selection is None else sorted(k.to_user_string() for k in selection)
                recomputed["gemeenten"] = len(gemeenten)
        timings["kpi_per_gemeente (affected_selection, range run)"] = time.perf_counter() - begin
        seconds = time.perf_counter() - started
    next_tick_loads = last_loaded_fingerprint(bench.instance) != input_fingerprint(bench.landing, bench.data_quality)
    return {
        "seconds": seconds,
        "peak_tree_mb": sampler.peak(0, float("inf")),
        "cpu_seconds": cpu_total,
        "success": bool(success),
        "arrived": arrived,
        "timings": timings,
        "recomputed": recomputed,
        "steps": steps,
        "next_0200_tick_loads_again": next_tick_loads,
        "warehouse_rows": bench.warehouse_rows(),
    }


def phase_region() -> dict[str, Any]:
    """`make run`: pipelines.run_sample.main() with its own instance, warehouse and storage."""
    import io

    from pipelines import run_sample

    output = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(output):
        code = run_sample.main()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "success": code == 0, "output_tail": output.getvalue()[-1500:]}


def _measure_peak() -> float:
    """This process's own high-water mark, and the largest step process it has reaped."""
    import resource

    from bench._measure import _proc_status_mb

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(_proc_status_mb("VmHWM"), children)


def run_phase_in_child(bench: Bench, phase: str, work: Path, samples: int) -> dict[str, Any]:
    if phase == "cold":
        return phase_cold(bench)
    if phase == "nothing-new":
        return phase_nothing_new(bench)
    if phase == "gemeenten":
        return phase_gemeenten(bench, samples)
    if phase == "incremental":
        return phase_incremental(bench, work)
    raise SystemExit(f"onbekende fase {phase!r}; kies uit {', '.join(PHASES)}")


def child(argv: Sequence[str]) -> int:
    """`_child PHASE[,PHASE...]`: one phase, or several in order in this one process (--one-process)."""
    started = time.perf_counter()
    # If memory runs out after all, the kernel takes this process first, not a neighbour's.
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")
    parser = argparse.ArgumentParser(prog="bench.bench_nightly _child")
    parser.add_argument("phase")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--executor", choices=EXECUTORS, default="multiprocess")
    args = parser.parse_args(argv)
    if args.phase == "region":
        import_seconds = time.perf_counter() - started
        result = phase_region()
        report(import_seconds=import_seconds, **result)
        return 0
    bench = Bench(args.data, args.work, executor=args.executor)
    import_seconds = time.perf_counter() - started
    phases = args.phase.split(",")
    results = {}
    for phase in phases:
        cpu = time.process_time()
        results[phase] = run_phase_in_child(bench, phase, args.work, args.samples)
        results[phase].setdefault("cpu_seconds", time.process_time() - cpu)
    # The peak over this process and its step processes (VmHWM alone misses the steps of a multiprocess run).
    peak = max(_measure_peak(), max((r.get("peak_tree_mb", 0.0) for r in results.values()), default=0.0))
    common = {"import_seconds": import_seconds, "executor": args.executor, "peak_rss_mb": peak}
    if len(phases) == 1:
        report(**common, **results[phases[0]])
    else:
        report(**common, seconds=sum(r["seconds"] for r in results.values()), phases=results)
    return 0


# --------------------------------------------------------------------------------------------------
# parent side: orchestration and tables
# --------------------------------------------------------------------------------------------------


def _manifest(data: Path) -> dict[str, Any]:
    path = data / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _load_results(work: Path) -> dict[str, Any]:
    path = work / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _store(work: Path, phase: str, measurement: Measurement) -> dict[str, Any]:
    results = _load_results(work)
    common = {"wall_seconds": measurement.wall_seconds, "peak_rss_mb": measurement.peak_rss_mb,
              "measured": time.strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    if "phases" in measurement.result:  # several phases in one process: the peak RSS is shared
        for name, result in measurement.result["phases"].items():
            results[name] = {**common, "import_seconds": measurement.result.get("import_seconds", 0.0),
                             "one_process": True, **result}
        entry = {**common, "seconds": measurement.seconds, "phases": list(measurement.result["phases"])}
    else:
        entry = {**common, "seconds": measurement.seconds, **measurement.result}
        results[phase] = entry
    (work / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return entry


def run_phase(phase: str, data: Path, work: Path, *, samples: int = 5, profile: Path | None = None,
              timeout: float | None = None, executor: str = "multiprocess") -> dict[str, Any]:
    """Run a phase in a child; a child that fails (an error, BENCH-ABORT on memory) is recorded as
    {"success": False, "error": ...} with where it stopped, and reported, not raised."""
    try:
        return _run_phase(phase, data, work, samples=samples, profile=profile, timeout=timeout, executor=executor)
    except RuntimeError as error:
        results = _load_results(work)
        text = str(error)
        abort = next((line for line in text.splitlines() if line.startswith("BENCH-ABORT")), None)
        entry = {"success": False, "error": abort or text[-3000:], "measured": time.strftime("%Y-%m-%d %H:%M"),
                 "machine": machine(), "seconds": 0.0, "peak_rss_mb": 0.0, "runs": [], "steps": []}
        for name in phase.split(","):
            results[name] = entry
        (work / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
        print(f"\n!! fase {phase} MISLUKT: {entry['error']}", flush=True)
        return entry


def _run_phase(phase: str, data: Path, work: Path, *, samples: int, profile: Path | None,
               timeout: float | None, executor: str) -> dict[str, Any]:
    args = ["-m", "bench.bench_nightly", "_child", phase, "--data", str(data), "--work", str(work),
            "--samples", str(samples), "--executor", executor]
    if profile is not None:
        spy = Path(sys.executable).with_name("py-spy")
        if not spy.exists():
            raise SystemExit("--profile heeft py-spy nodig: .venv/bin/pip install -c constraints.txt py-spy")
        # py-spy starts the child; its samples (collapsed stacks) go to `profile`.
        args = ["-c", "import os, sys; os.execv(sys.argv[1], sys.argv[1:])", str(spy), "record", "--rate", "20",
                "--format", "raw", "--nonblocking", "--subprocesses", "-o", str(profile), "--", sys.executable, *args]
    measurement = run_child(phase, args, env=child_env(data, work), timeout=timeout, cwd=PROJECT_ROOT)
    return _store(work, phase, measurement)


def _fmt_s(seconds: float) -> str:
    return f"{seconds:,.1f}"


def _step_table(runs: list[dict[str, Any]], limit: int | None = None) -> str:
    rows = []
    for run in runs:
        for step in run["steps"]:
            rows.append((run["job"], step["step"], step["seconds"], step.get("cpu_seconds", 0.0), step["peak_rss_mb"],
                         "" if step["ok"] else "FOUT"))
    rows.sort(key=lambda r: -r[2])
    total = sum(r[2] for r in rows)
    if limit:
        rows = rows[:limit]
    return table(
        ["run", "step", "seconds", "CPU s", "share", "peak RSS MB", ""],
        [(r[0], r[1], _fmt_s(r[2]), _fmt_s(r[3]), f"{100 * r[2] / total:.0f}%" if total else "", f"{r[4]:,.0f}", r[5])
         for r in rows],
    )


def print_cold(name: str, entry: dict[str, Any]) -> None:
    print(f"\n== Benchmark 2: nightly, koud, {name} ({entry.get('gemeenten')} gemeenten) ==")
    for run in entry["runs"]:
        status = "ok" if run["success"] else "MISLUKT: " + "; ".join(run["failures"])[:500]
        print(f"  {run['job']:<18} {_fmt_s(run['seconds']):>8} s  (CPU {_fmt_s(run.get('cpu_seconds', 0.0))} s)  {status}")
    goal = GOALS["cold"]
    print(f"  totaal {_fmt_s(entry['seconds'])} s, CPU {_fmt_s(entry.get('cpu_seconds', 0.0))} s "
          f"(doel < {goal} s: {entry['seconds'] / goal:.2f}x het doel), "
          f"piek-RSS {entry['peak_rss_mb']:,.0f} MB, import {entry.get('import_seconds', 0):.1f} s")
    print(_step_table(entry["runs"]))
    rows = entry.get("warehouse_rows", {})
    if rows:
        print("  warehouse: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))


def print_nothing_new(entry: dict[str, Any]) -> None:
    goal = GOALS["nothing-new"]
    print("\n== Benchmark 4: nightly, niets nieuw ==")
    print(table(["evaluatie", "seconds", "runs aangevraagd"],
                [(k, _fmt_s(v), entry["requested"][k]) for k, v in entry["timings"].items()]))
    print(f"  tick {_fmt_s(entry['seconds'])} s (doel < {goal} s: {entry['seconds'] / goal:.2f}x het doel) over "
          f"{entry['landing_files']:,} items in de landingsmap; {entry['skip_message']}; "
          f"{'niets herberekend' if entry['success'] else 'ER IS IETS AANGEVRAAGD'}")


def print_gemeenten(entry: dict[str, Any], cold: dict[str, Any] | None) -> None:
    print("\n== Per-gemeente runs (zoals de fan-out-sensor ze start) ==")
    print(table(["gemeente", "eenheden", "seconds", ""],
                [(s["gemeente"], f"{s['units']:,}", _fmt_s(s["seconds"]), "" if s["success"] else "MISLUKT")
                 for s in entry["samples"]]))
    fit = entry["fit"]
    estimate = entry["estimate_serial_seconds"]
    line = (f"  fit: {fit['seconds_per_run']:.1f} s per run + {fit['seconds_per_1000_units']:.2f} s per 1000 eenheden; "
            f"{entry['gemeenten']} runs: ~{_fmt_s(estimate)} s achter elkaar, ~{_fmt_s(estimate / 2)} s met 2 tegelijk "
            "(2 cores; dagster.yaml staat er 3 toe), zonder het opstarten van een proces per run")
    if cold:
        kpi = [r for r in cold["runs"] if r["job"] == "kpi_per_gemeente"]
        if kpi:
            line += f"; de range-run deed hetzelfde in {_fmt_s(kpi[0]['seconds'])} s"
    print(line)


def print_incremental(entry: dict[str, Any]) -> None:
    goal = GOALS["incremental"]
    print("\n== Benchmark 3: nightly, incrementeel ==")
    print("  nieuw: " + ", ".join(entry["arrived"]))
    print(table(["deel", "seconds"], [(k, _fmt_s(v)) for k, v in entry["timings"].items()]))
    print(f"  totaal {_fmt_s(entry['seconds'])} s, CPU {_fmt_s(entry.get('cpu_seconds', 0.0))} s "
          f"(doel < {goal} s: {entry['seconds'] / goal:.2f}x het doel), "
          f"piek-RSS {entry['peak_rss_mb']:,.0f} MB, {'ok' if entry['success'] else 'MISLUKT'}")
    recomputed = entry["recomputed"]
    print(f"  herberekend: ep_online_mutaties partities {recomputed.get('ep_online_mutaties')}; "
          f"nightly {recomputed.get('nightly')} (trigger {recomputed.get('landing_trigger')}); "
          f"kpi_per_gemeente {recomputed.get('kpi_per_gemeente', 'niets')} voor {recomputed.get('gemeenten', 0)} gemeenten")
    print(f"  volgende 02:00-tick laadt opnieuw: {'JA' if entry['next_0200_tick_loads_again'] else 'nee'}")
    steps = entry["steps"]
    top = sorted(steps, key=lambda s: -s["seconds"])[:12]
    print(table(["run", "step", "seconds", "CPU s", "peak RSS MB"],
                [(s["run"], s["step"], _fmt_s(s["seconds"]), _fmt_s(s.get("cpu_seconds", 0.0)), f"{s['peak_rss_mb']:,.0f}")
                 for s in top]))


def print_region(entry: dict[str, Any]) -> None:
    print("\n== Benchmark 5: regio-run (make run op de meegeleverde sample) ==")
    print(table(["", "seconds", "peak RSS MB"],
                [("make run (werk)", _fmt_s(entry["seconds"]), f"{entry['peak_rss_mb']:,.0f}"),
                 ("make run (proces, met imports)", _fmt_s(entry["wall_seconds"]), "")]))
    if not entry["success"]:
        print(entry.get("output_tail", ""))


def cmd_national(args: argparse.Namespace) -> int:
    data: Path = args.data
    if not (data / "landing").is_dir():
        raise SystemExit(f"{data}: geen landingsmap; genereer eerst: .venv/bin/python -m bench.generate_national --out {data}")
    name = data.name
    work: Path = args.work or BENCH_DIR / "nightly" / name
    prepare_work(data, work)
    phases = [p.strip() for p in args.phases.split(",")] if args.phases else list(PHASES)
    print(f"machine: {machine()}; set {data} ({_manifest(data).get('gemeenten', '?')} gemeenten); werkmap {work}")
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        raise SystemExit(f"onbekende fase {unknown}; kies uit {', '.join(PHASES)}")
    printers = {"cold": lambda e: print_cold(name, e), "nothing-new": print_nothing_new,
                "gemeenten": lambda e: print_gemeenten(e, _load_results(work).get("cold")),
                "incremental": print_incremental}
    ok = True
    if args.one_process:
        # All phases in ONE child (the smoke test: one import instead of one per phase); the
        # incremental phase then starts from the state the phases before it left.
        if "cold" in phases:
            fresh_state(work)
        elif "incremental" in phases:
            restore_snapshot(work)
        run_phase(",".join(phases), data, work, samples=args.samples, executor=args.executor)
        results = _load_results(work)
        for phase in phases:
            if "error" not in results[phase]:
                printers[phase](results[phase])
            ok &= bool(results[phase]["success"])
        return 0 if ok else 1
    for phase in phases:
        if phase == "cold":
            fresh_state(work)
            entry = run_phase("cold", data, work, profile=work / "profile-cold.txt" if args.profile else None,
                              executor=args.executor)
            if args.profile:
                print_profile(work / "profile-cold.txt")
            if "error" in entry:
                return 1  # the other phases start from the state after a cold run
            save_snapshot(work)
        elif phase == "incremental":
            restore_snapshot(work)
            entry = run_phase("incremental", data, work, executor=args.executor)
            restore_snapshot(work)  # leave the cold state for the next phase or run
        else:
            entry = run_phase(phase, data, work, samples=args.samples, executor=args.executor)
        if "error" not in entry:
            printers[phase](entry)
        ok &= bool(entry["success"])
    return 0 if ok else 1


def region_env(work: Path) -> dict[str, str]:
    """`make run`'s environment, with every place it writes (instance, warehouse, Parquet values,
    reports) inside `work`: the benchmark never touches the project's dagster_home/ or out/."""
    state = work / "state"
    env = child_env(SAMPLE_DATA, work)
    for name in [k for k in env if k.startswith("PRESTATIEMONITOR_")]:
        env.pop(name)  # the bundled sample, its development pseudonym key, the project's reference tables
    env.update({
        "PRESTATIEMONITOR_WAREHOUSE_URL": f"duckdb:///{state / 'warehouse.duckdb'}",
        "PRESTATIEMONITOR_STORAGE_DIR": str(state / "storage"),
        "PRESTATIEMONITOR_REPORT_DIR": str(state / "validatie"),
        "PRESTATIEMONITOR_RAPPORT_DIR": str(state / "rapport"),
    })
    return env


def cmd_region(args: argparse.Namespace) -> int:
    work: Path = args.work or BENCH_DIR / "nightly" / "region"
    if work.exists():
        shutil.rmtree(work)
    write_instance_config(work / "state" / "home")
    print(f"machine: {machine()}")
    measurement = run_child("region", ["-m", "bench.bench_nightly", "_child", "region"], env=region_env(work),
                            cwd=PROJECT_ROOT)
    entry = _store(work, "region", measurement)
    print_region(entry)
    return 0 if entry["success"] else 1


def cmd_scaling(args: argparse.Namespace) -> int:
    rows = []
    print(f"machine: {machine()}")
    for data in args.sets:
        manifest = _manifest(data)
        work = BENCH_DIR / "nightly" / data.name
        cold = _load_results(work).get("cold") if args.reuse else None
        if cold is None or not cold.get("success"):
            prepare_work(data, work)
            fresh_state(work)
            cold = run_phase("cold", data, work, executor=args.executor)
            save_snapshot(work)
        nightly = next((r["seconds"] for r in cold["runs"] if r["job"] == "nightly"), 0.0)
        kpi = next((r["seconds"] for r in cold["runs"] if r["job"] == "kpi_per_gemeente"), 0.0)
        units = sum(v for k, v in manifest.get("rows", {}).items() if k.startswith("bezit/") and k.endswith("2025-12-31.csv"))
        rows.append({
            "gemeenten": cold.get("gemeenten", manifest.get("gemeenten")),
            "units": units,
            "ep": manifest.get("rows", {}).get("ep_online/v", 0),  # the generator counts per file kind
            "nightly": nightly, "kpi": kpi, "total": cold["seconds"], "rss": cold["peak_rss_mb"],
            "ok": cold.get("success"), "measured": cold.get("measured", ""),
        })
    base = rows[0]
    print("\n== Schaal: koude run bij 1, 10 en 342 gemeenten ==")
    print(table(
        ["gemeenten", "VHE's 31-12-2025", "EP-certificaten", "nightly s", "kpi-range s", "totaal s", "x t(1)",
         "peak RSS MB", "x RSS(1)", "s per 1000 VHE", ""],
        [(r["gemeenten"], f"{r['units']:,}", f"{r['ep']:,}", _fmt_s(r["nightly"]), _fmt_s(r["kpi"]), _fmt_s(r["total"]),
          f"{r['total'] / base['total']:.1f}x", f"{r['rss']:,.0f}", f"{r['rss'] / base['rss']:.1f}x",
          f"{1000 * r['total'] / r['units']:.2f}" if r["units"] else "", "" if r["ok"] else "MISLUKT")
         for r in rows],
    ))
    return 0 if all(r["ok"] for r in rows) else 1


# --------------------------------------------------------------------------------------------------
# profile summary (py-spy --format raw: one 'frame;frame;... count' line per stack)
# --------------------------------------------------------------------------------------------------


def profile_summary(path: Path, top: int = 25) -> list[tuple[str, int, float]]:
    """Inclusive share of samples per frame of the project's own code. py-spy names a frame
    'function (file:line)' with the file relative to its sys.path entry: 'assets/raw.py' for the
    project, 'dagster/_core/...' for a library."""
    packages = ("sources", "assets", "expectations", "warehouse", "pipelines")
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        seen = set()
        for frame in stack.split(";"):
            function, _, where = frame.rpartition(" (")
            filename = where.rstrip(")").rsplit(":", 1)[0]
            if filename.split("/")[0] not in packages or frame in seen:
                continue
            seen.add(frame)
            inclusive[frame] = inclusive.get(frame, 0) + count
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    return [(name, count, 100 * count / total if total else 0.0) for name, count in ranked]


def print_profile(path: Path) -> None:
    if not path.exists():
        print(f"  (geen profiel in {path})")
        return
    print(f"\n== Profiel (py-spy, inclusief, projectcode) {path} ==")
    print(table(["functie", "samples", "share"], [(n, c, f"{s:.1f}%") for n, c, s in profile_summary(path)]))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    national = commands.add_parser("national", help="koud, niets nieuw, per gemeente, incrementeel")
    national.add_argument("--data", type=Path, default=DEFAULT_DATA)
    national.add_argument("--work", type=Path)
    national.add_argument("--phases", help=f"kommagescheiden, uit {', '.join(PHASES)} (standaard alle)")
    national.add_argument("--samples", type=int, default=5, help="aantal losse gemeente-runs (fase gemeenten)")
    national.add_argument("--profile", action="store_true", help="de koude run onder py-spy")
    national.add_argument("--executor", choices=EXECUTORS, default="multiprocess",
                          help="multiprocess: elke stap een eigen proces, zoals in productie (standaard); "
                               "in_process: alles in één proces, zoals make run")
    national.add_argument("--one-process", action="store_true",
                          help="alle fasen in één proces (snel, voor de smoke-test; piek-RSS gedeeld)")
    region = commands.add_parser("region", help="make run op de meegeleverde sample")
    region.add_argument("--work", type=Path)
    scaling = commands.add_parser("scaling", help="koude run per set (1, 10, 342 gemeenten)")
    scaling.add_argument("--sets", type=Path, nargs="+",
                         default=[BENCH_DIR / "g1", BENCH_DIR / "g10", BENCH_DIR / "national"])
    scaling.add_argument("--executor", choices=EXECUTORS, default="multiprocess")
    scaling.add_argument("--reuse", action=argparse.BooleanOptionalAction, default=True,
                         help="een geslaagde koude run uit results.json hergebruiken (standaard)")
    profile = commands.add_parser("profile-summary", help="samenvatting van een py-spy-profiel")
    profile.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "national":
        return cmd_national(args)
    if args.command == "region":
        return cmd_region(args)
    if args.command == "scaling":
        return cmd_scaling(args)
    print_profile(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
