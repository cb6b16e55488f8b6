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
from pipelines.fanout import FANOUT_TAG, unfinished_fanout_run
from pipelines.sensors import folder_fingerprints
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


def input_fingerprint(landing: LandingFolder, data_quality: DataQuality | None = None) -> str:
    """One digest over (path, size, mtime) of every file the nightly load reads."""
    landing_prints = folder_fingerprints(landing.root)
    landing_prints["ep_online_mutaties"] = _files_digest([landing.root / "ep_online"])
    configuration = [REFERENCE_DIR, Path(landing.mappings_path), PROJECT_DIR / "agreements"]
    if data_quality is not None and data_quality.corrections_path:
        configuration.append(Path(data_quality.corrections_path))
    landing_prints["configuratie"] = _files_digest(configuration)
    return hashlib.sha256(json.dumps(landing_prints, sort_keys=True).encode()).hexdigest()[:20]


def last_loaded_fingerprint(instance: dg.DagsterInstance) -> str | None:
    """The fingerprint of the last successful nightly run that recorded one, provided none of the
    per-gemeente runs it started failed (a failed gemeente is retried the next night)."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=NIGHTLY_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=20
    )
    for run in runs:  # newest first
        if FINGERPRINT_TAG not in run.tags:
            continue
        failed = instance.get_runs(
            filters=dg.RunsFilter(
                tags={FANOUT_TAG: run.run_id},
                statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
            ),
            limit=1,
        )
        return None if failed else run.tags[FINGERPRINT_TAG]
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
        fingerprint = input_fingerprint(landing, data_quality)
        if last_loaded_fingerprint(context.instance) == fingerprint:
            return dg.SkipReason(f"niets nieuw sinds de laatste geslaagde lading (invoer {fingerprint})")
        return dg.RunRequest(tags={FINGERPRINT_TAG: fingerprint})

    return nightly_0200
