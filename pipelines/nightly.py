"""The nightly schedule, which loads only when something changed.

At 02:00 the schedule compares a fingerprint of everything the load reads (every landing sub-folder,
including the daily EP-online mutation files, and the project's reference tables, mappings,
agreements and steward corrections) with the fingerprint stored on the last successful nightly
run. Unchanged: no run at all (nothing is recomputed; the published tables stay as they are and are
still current). Changed: a nightly run tagged with the new fingerprint; its success then fans out per
gemeente (pipelines/fanout.py). A run started by hand or by the landing sensor is not affected.

Freshness (pipelines/freshness.py) follows the same rule: a KPI that was not rematerialised because
nothing changed since its last successful load is not stale news, so it is not alerted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from assets.resources import PROJECT_DIR, DataQuality, LandingFolder
from pipelines.fanout import FANOUT_TAG, SPLIT_TAG, unfinished_fanout_run
from pipelines.sensors import INPUT_PARTS_TAG, folder_fingerprints
from sources.reference import REFERENCE_DIR

FINGERPRINT_TAG = "prestatiemonitor/invoer"
NIGHTLY_JOB = "nightly"


def _files_digest(paths: Iterable[Path]) -> str:
    entries = []
    for base in paths:
        if base.is_file():
            files = [base]
        elif base.is_dir():
            files = sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            continue
        for path in files:
            stat = path.stat()
            entries.append(f"{path.as_posix()}|{stat.st_size}|{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]


def input_parts(landing: LandingFolder, data_quality: DataQuality | None = None) -> dict[str, str]:
    """Per landing sub-folder and for the configuration (reference tables, mappings, agreements,
    corrections) one digest over (path, size, mtime) of its files: what the nightly load reads."""
    parts = folder_fingerprints(landing.root)
    configuration = [REFERENCE_DIR, Path(landing.mappings_path), PROJECT_DIR / "agreements"]
    if data_quality is not None and data_quality.corrections_path:
        configuration.append(Path(data_quality.corrections_path))
    parts["configuratie"] = _files_digest(configuration)
    return parts


def _digest(parts: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def input_fingerprint(landing: LandingFolder, data_quality: DataQuality | None = None) -> str:
    """One digest over every input of the nightly load."""
    return _digest(input_parts(landing, data_quality))


def input_tags(landing: LandingFolder, data_quality: DataQuality | None = None) -> dict[str, str]:
    """The tags of a full load: its fingerprint and the digests it is made of."""
    parts = input_parts(landing, data_quality)
    return {FINGERPRINT_TAG: _digest(parts), INPUT_PARTS_TAG: json.dumps(parts, sort_keys=True)}


def _fanout_failed(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether a kpi_per_gemeente run after load `run_id` failed. A failed range run that was split
    into one run per gemeente (pipelines/fanout.py) is judged by those runs, not by itself."""
    failed = instance.get_runs(
        filters=dg.RunsFilter(
            tags={FANOUT_TAG: run_id}, statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
        ),
    )
    return any(SPLIT_TAG not in run.tags for run in failed)


def last_loaded_fingerprint(instance: dg.DagsterInstance) -> str | None:
    """The fingerprint of what the successful loads hold now: the last full load (a nightly run with a
    fingerprint) with the sub-folders that partial loads after it (landing-sensor runs) loaded again.
    None when one of their per-gemeente runs failed (a failed gemeente is retried the next night)."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=NIGHTLY_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=50
    )
    later: list[dict[str, str]] = []  # partial loads after the full one, newest first
    for run in runs:  # newest first
        if FINGERPRINT_TAG not in run.tags and INPUT_PARTS_TAG not in run.tags:
            continue  # a hand-started run: what it loaded is unknown, it does not count
        if _fanout_failed(instance, run.run_id):
            return None
        if FINGERPRINT_TAG not in run.tags:
            later.append(json.loads(run.tags[INPUT_PARTS_TAG]))
            continue
        if INPUT_PARTS_TAG not in run.tags:  # a full load recorded before the parts were
            return run.tags[FINGERPRINT_TAG] if not later else None
        parts = json.loads(run.tags[INPUT_PARTS_TAG])
        for partial in reversed(later):
            parts.update(partial)
        return _digest(parts)
    return None


def nothing_new(instance: dg.DagsterInstance, landing: LandingFolder, data_quality: DataQuality | None = None) -> bool:
    return last_loaded_fingerprint(instance) == input_fingerprint(landing, data_quality)


def build_nightly_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly_0200",
        job=job,
        cron_schedule="0 2 * * *",
        execution_timezone="Europe/Amsterdam",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Elke nacht om 02:00 (Europe/Amsterdam): alle bronnen laden als er iets nieuw of gewijzigd is "
            "(landingsmap, referentietabellen, mappings, afspraken, correcties); daarna per gemeente de KPI's."
        ),
    )
    def nightly_0200(
        context: dg.ScheduleEvaluationContext, landing: LandingFolder, data_quality: DataQuality
    ) -> dg.RunRequest | dg.SkipReason:
        busy = unfinished_fanout_run(context.instance)
        if busy:
            return dg.SkipReason(f"per-gemeente-runs van de vorige lading lopen nog (bijv. {busy[:8]})")
        tags = input_tags(landing, data_quality)
        fingerprint = tags[FINGERPRINT_TAG]
        if last_loaded_fingerprint(context.instance) == fingerprint:
            return dg.SkipReason(f"niets nieuw sinds de laatste geslaagde lading (invoer {fingerprint})")
        return dg.RunRequest(tags=tags)

    return nightly_0200
