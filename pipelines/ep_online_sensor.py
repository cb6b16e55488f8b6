"""EP-online daily mutation files: a sensor that turns each new `dYYYYMMDD_v4.zip` in the landing
folder into a partition of `raw_ep_online_mutaties` and a run, and (with an API key) fetches the
newest daily files from the EP-online API first.

Per evaluation:
1. API (only when the `ep_online_api` resource has a key, at most every `api_interval_seconds`):
   ask `/Mutatiebestand/DownloadInfo/{date}` for today and the `api_lookback_days` days before it
   that are newer than the newest total file and not in the landing folder yet; download each
   mutation file offered into `ep_online/`. A 404 means "not (yet) published". Every failure
   (no network, 401, 5xx after retries, bad zip) becomes part of the skip reason / log; the sensor
   itself never fails on the API.
2. Landing folder: every mutation file dated after the newest total file `vYYYYMMDD_v4_csv.zip`
   whose (size, mtime) is not in the cursor gets its partition added and one RunRequest (run_key =
   file name + fingerprint, so a re-evaluation never starts the same run twice; a re-delivered file
   with new content runs again).
The cursor (JSON) holds the fingerprints of the files already requested and when the API was last asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from assets.ep_online_mutaties import EP_ONLINE_MUTATIEBESTANDEN, EpOnlineApi, ep_online_mutatiebestanden
from assets.resources import LandingFolder
from pipelines.fanout import UNFINISHED
from sources import ep_online
from sources.ep_online_api import EpOnlineAuthError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EP_ONLINE_MUTATIES_KEY = dg.AssetKey("raw_ep_online_mutaties")

ep_online_mutaties_job = dg.define_asset_job(
    name="ep_online_mutaties",
    selection=dg.AssetSelection.assets("raw_ep_online_mutaties"),
    description="Eén EP-online mutatiebestand (partitie = bestandsdatum) inlezen voor de adressen in de bezitslijsten.",
)


def newest_total_date(files: list[Path]) -> date | None:
    dates = [d for p in files if ep_online.TOTAL_FILE.match(p.name) and (d := ep_online.file_date(p.name))]
    return max(dates) if dates else None


def mutation_files_by_date(files: list[Path], after: date | None) -> dict[str, list[Path]]:
    """Mutation files dated after `after` (the newest total file), per partition key yyyy-mm-dd."""
    out: dict[str, list[Path]] = {}
    for path in files:
        if not ep_online.MUTATION_FILE.match(path.name):
            continue
        day = ep_online.file_date(path.name)
        if day is None or (after is not None and day <= after):
            continue
        out.setdefault(day.isoformat(), []).append(path)
    return {key: sorted(paths) for key, paths in sorted(out.items())}


def mutation_partition_keys(landing: LandingFolder) -> list[str]:
    """Partition keys of the mutation files in the landing folder that are newer than the newest total
    file (what the sensor would register), e.g. for a one-off run without the daemon."""
    if not landing.folder("ep_online").is_dir():
        return []
    files = landing.files("ep_online", "*")
    total = newest_total_date(files)
    return [] if total is None else list(mutation_files_by_date(files, total))


def mutations_pending(instance: dg.DagsterInstance, landing: LandingFolder) -> str | None:
    """Why the daily mutation files in the landing folder cannot be staged yet, or None when every one
    is loaded: a run of ep_online_mutaties still to finish, or a file whose partition of
    raw_ep_online_mutaties was not materialised after the file last changed (its run is still to be
    requested, or failed). stg_energielabels applies what is loaded; staging earlier would leave a new
    file out until the next load."""
    busy = instance.get_runs(filters=dg.RunsFilter(job_name=ep_online_mutaties_job.name, statuses=UNFINISHED), limit=1)
    if busy:
        return f"run {busy[0].run_id[:8]} van ep_online_mutaties loopt nog"
    if not landing.folder("ep_online").is_dir():
        return None
    files = landing.files("ep_online", "*")
    for key, paths in mutation_files_by_date(files, newest_total_date(files)).items():
        changed = max(path.stat().st_mtime for path in paths)
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=EP_ONLINE_MUTATIES_KEY, asset_partitions=[key], after_timestamp=changed), limit=1
        ).records
        if not records:
            return f"mutatiebestand(en) {', '.join(p.name for p in paths)} nog niet ingelezen (partitie {key})"
    return None


def fingerprint(paths: list[Path]) -> str:
    parts = []
    for path in paths:
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def fetch_from_api(
    api: EpOnlineApi, target_dir: Path, *, today: date, after: date | None, present: set[str], lookback_days: int
) -> list[str]:
    """Download the daily mutation files the API offers that we do not have. Returns notes; never raises."""
    notes: list[str] = []
    try:
        client = api.client()
    except Exception as error:  # a malformed key: report, never crash the sensor
        return [f"EP-online API niet gebruikt: {error}"]
    with client:
        for back in range(lookback_days, -1, -1):
            day = today - timedelta(days=back)
            if (after is not None and day <= after) or day.isoformat() in present:
                continue
            try:
                info = client.download_info(day)
                if info is None:
                    notes.append(f"EP-online API: geen mutatiebestand voor {day.isoformat()} (nog niet gepubliceerd)")
                    continue
                if not ep_online.MUTATION_FILE.match(info.bestandsnaam) or info.file_date != day:
                    notes.append(
                        f"EP-online API: DownloadInfo voor {day.isoformat()} gaf {info.bestandsnaam!r}, "
                        "geen mutatiebestand van die dag; overgeslagen"
                    )
                    continue
                if (target_dir / info.bestandsnaam).exists():
                    continue
                path = client.download(info, target_dir)
                notes.append(f"EP-online API: {path.name} gedownload")
            except Exception as error:  # network, 401, 5xx after retries, bad zip: a note, not a crash
                notes.append(f"EP-online API ({day.isoformat()}): {error}")
                if isinstance(error, EpOnlineAuthError):
                    break  # the other days would be refused the same way
    return notes


def build_ep_online_mutation_sensor(
    job: dg.UnresolvedAssetJobDefinition | dg.JobDefinition = ep_online_mutaties_job,
    *,
    name: str = "ep_online_mutatie_sensor",
    minimum_interval_seconds: int = 300,
    api_interval_seconds: int = 6 * 3600,
    api_lookback_days: int = 3,
    now: Callable[[], datetime] | None = None,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """The sensor for `job` (which must target raw_ep_online_mutaties). `now` is injectable for tests."""
    clock = now or (lambda: datetime.now(AMSTERDAM))

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            "Nieuwe EP-online mutatiebestanden (dJJJJMMDD_v4.zip, nieuwer dan het totaalbestand) in de "
            "landingsmap worden een partitie van raw_ep_online_mutaties en een run; met een API-sleutel "
            "worden de nieuwste dagbestanden eerst via de EP-online API opgehaald."
        ),
    )
    def ep_online_mutation_sensor(
        context: dg.SensorEvaluationContext, landing: LandingFolder, ep_online_api: EpOnlineApi
    ) -> dg.SensorResult:
        cursor: dict[str, Any] = json.loads(context.cursor) if context.cursor else {}
        requested: dict[str, str] = dict(cursor.get("files", {}))
        api_checked_at = float(cursor.get("api_checked_at", 0.0))
        moment = clock()
        notes: list[str] = []

        folder = landing.folder("ep_online")
        files = landing.files("ep_online", "*") if folder.is_dir() else []
        total = newest_total_date(files)

        if ep_online_api.has_key and moment.timestamp() - api_checked_at >= api_interval_seconds:
            present = set(mutation_files_by_date(files, total))
            folder.mkdir(parents=True, exist_ok=True)
            notes += fetch_from_api(
                ep_online_api, folder, today=moment.date(), after=total, present=present, lookback_days=api_lookback_days
            )
            api_checked_at = moment.timestamp()
            files = landing.files("ep_online", "*")
        for note in notes:
            context.log.info(note)

        if total is None:
            notes.append("geen EP-online totaalbestand (vJJJJMMDD_v4_csv.zip) in de landingsmap; mutaties wachten")
            by_date: dict[str, list[Path]] = {}
        else:
            by_date = mutation_files_by_date(files, total)

        run_requests: list[dg.RunRequest] = []
        current: dict[str, str] = {}
        for key, paths in by_date.items():
            digest = fingerprint(paths)
            current[key] = digest
            if requested.get(key) == digest:
                continue
            names = ",".join(p.name for p in paths)
            run_requests.append(
                dg.RunRequest(
                    run_key=f"ep_online_mutatie:{key}:{digest}",
                    partition_key=key,
                    tags={"trigger": "ep_online_mutatiebestand", "ep_online/bestand": names},
                )
            )

        new_cursor = json.dumps({"files": current, "api_checked_at": api_checked_at}, sort_keys=True)
        # Re-adding an existing partition is a no-op, so every requested key is (re)added: a partition
        # deleted by hand comes back with its file.
        keys = [r.partition_key for r in run_requests if r.partition_key]
        partition_requests = [ep_online_mutatiebestanden.build_add_request(keys)] if keys else []
        if not run_requests:
            notes.append("geen nieuwe mutatiebestanden")
        return dg.SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=partition_requests,
            cursor=new_cursor,
            skip_reason=None if run_requests else "; ".join(notes),
        )

    return ep_online_mutation_sensor


__all__ = [
    "EP_ONLINE_MUTATIEBESTANDEN",
    "build_ep_online_mutation_sensor",
    "ep_online_mutaties_job",
    "fetch_from_api",
    "mutation_files_by_date",
    "mutation_partition_keys",
    "mutations_pending",
    "newest_total_date",
]
