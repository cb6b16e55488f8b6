"""File-arrival sensor: a new or changed export in the landing folder starts a run of the assets
that read it and everything downstream of them."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
from pathlib import Path

import dagster as dg

from assets.resources import LandingFolder
from pipelines.ep_online_sensor import mutations_pending
from pipelines.fanout import unfinished_fanout_run
from sources import ep_online

#: Tag of a load run: JSON {part: digest} of the inputs it loaded (every landing sub-folder and the
#: configuration for a full load; the changed sub-folders for a partial one, pipelines/nightly.py).
INPUT_PARTS_TAG = "prestatiemonitor/invoer-delen"

# landing part -> (sub-folder, file-name pattern, the raw assets that read those files). The
# Woonservice folder holds two exports read by two assets: a new month of lettings re-reads and
# re-validates the lettings, not the five years of seekers beside them (bench/README.md, benchmark 3).
# A part without a pattern takes the folder's files that no other part of that folder claims. A new
# daily EP-online mutation file is read by the mutation sensor's run (raw_ep_online_mutaties); once it
# is loaded, this sensor stages it (stg_energielabels and downstream) without re-reading the national
# total file; a changed total file loads raw_ep_online.
LANDING_PARTS: dict[str, tuple[str, str | re.Pattern[str] | None, list[str]]] = {
    "bezit": ("bezit", None, ["raw_bezit"]),
    "ep_online/mutaties": ("ep_online", ep_online.MUTATION_FILE, ["stg_energielabels"]),
    "ep_online": ("ep_online", None, ["raw_ep_online"]),
    "leefbaarometer": ("leefbaarometer", None, ["raw_leefbaarometer"]),
    # the patterns of raw_toewijzingen and raw_woningzoekenden (assets/raw.py)
    "woonservice/toewijzingen": ("woonservice", "toewijzingen_*", ["raw_toewijzingen"]),
    "woonservice/woningzoekenden": ("woonservice", "woningzoekenden_*", ["raw_woningzoekenden"]),
    "woonservice": ("woonservice", None, ["raw_toewijzingen", "raw_woningzoekenden"]),
    "planlijst": ("planlijst", None, ["raw_planlijst"]),
}


def _part_of(folder: str, name: str) -> str:
    """The landing part a file of `folder` named `name` belongs to."""
    rest = None
    for part, (where, pattern, _) in LANDING_PARTS.items():
        if where != folder:
            continue
        if pattern is None:
            rest = part
        elif pattern.match(name) if isinstance(pattern, re.Pattern) else fnmatch.fnmatchcase(name, pattern):
            return part
    assert rest is not None, f"landing folder {folder} has no part for its other files"
    return rest


def folder_fingerprints(root: Path) -> dict[str, str]:
    """Per landing part (LANDING_PARTS) a hash of (relative path, size, modification time) of its files.

    Entries that resolve outside the landing folder (a symlink to /etc, a sub-folder that is a link to
    elsewhere) are left out and never walked; `outside_landing` names them."""
    return _scan(root)[0]


def outside_landing(root: Path) -> list[str]:
    """'<relative path> -> <target>' for every entry of a landing sub-folder that points outside it."""
    return _scan(root)[1]


def _scan(root: Path) -> tuple[dict[str, str], list[str]]:
    root = root.resolve()
    refused: list[str] = []

    def inside(path: Path) -> bool:
        target = path.resolve()
        if root in target.parents:
            return True
        refused.append(f"{path.relative_to(root).as_posix()} -> {target}")
        return False

    entries: dict[str, list[str]] = {part: [] for part in LANDING_PARTS}
    for folder in dict.fromkeys(where for where, _, _ in LANDING_PARTS.values()):
        base = root / folder
        if base.is_dir() and inside(base):
            # os.walk does not follow symlinked folders; those are checked (and refused) as entries.
            for current, folders, files in os.walk(base):
                here = Path(current)
                folders[:] = sorted(d for d in folders if not d.startswith(".") and inside(here / d))
                for name in sorted(files):
                    path = here / name
                    if name.startswith(".") or not inside(path) or not path.is_file():
                        continue
                    stat = path.stat()
                    entries[_part_of(folder, name)].append(
                        f"{path.relative_to(root).as_posix()}|{stat.st_size}|{stat.st_mtime_ns}"
                    )
    prints = {part: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16] for part, lines in entries.items()}
    return prints, sorted(refused)


def changed_folders(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """The landing parts whose digest differs (or that `previous` did not know)."""
    return sorted(f for f, digest in current.items() if previous.get(f) != digest)


def build_landing_sensor(
    job: dg.UnresolvedAssetJobDefinition, exclude: dg.AssetSelection | None = None
) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_folder_sensor",
        job=job,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Start een run voor de datasets waarvan een bestand in de landingsmap nieuw of gewijzigd is.",
    )
    def landing_folder_sensor(context: dg.SensorEvaluationContext, landing: LandingFolder) -> dg.SensorResult:
        root = landing.root
        current, refused = _scan(root)
        for entry in refused:
            context.log.warning(f"landingsmap: {entry} ligt buiten de landingsmap {root}; genegeerd en geweigerd")
        outside = f"; buiten de landingsmap, geweigerd: {', '.join(refused)}" if refused else ""
        previous = json.loads(context.cursor) if context.cursor else None
        busy = unfinished_fanout_run(context.instance) if previous is not None else None
        if busy:
            # The cursor stays: the new files are seen again once the per-gemeente runs are done.
            return dg.SensorResult(
                cursor=context.cursor,
                skip_reason=f"per-gemeente-runs van de vorige lading lopen nog (bijv. {busy[:8]}); nieuwe bestanden wachten",
            )
        if previous is None:
            # First evaluation: remember what is there; the nightly schedule covers existing files.
            return dg.SensorResult(cursor=json.dumps(current), skip_reason="eerste meting van de landingsmap" + outside)
        folders = changed_folders(previous, current)
        waiting = ""
        if "ep_online/mutaties" in folders and (pending := mutations_pending(context.instance, landing)):
            # This part keeps its previous digest in the cursor: it is seen again once they are loaded.
            folders.remove("ep_online/mutaties")
            current = {**current, "ep_online/mutaties": previous.get("ep_online/mutaties", "")}
            waiting = f"; nieuwe EP-online-mutaties wachten: {pending}"
            context.log.info(waiting[2:])
        if not folders:
            return dg.SensorResult(cursor=json.dumps(current), skip_reason="geen nieuwe bestanden" + waiting + outside)
        raw_keys = [dg.AssetKey(a) for f in folders for a in LANDING_PARTS[f][2]]
        selection: dg.AssetSelection = dg.AssetSelection.assets(*raw_keys).downstream()
        if exclude is not None:
            selection = selection - exclude
        if context.repository_def is None:
            raise RuntimeError("sensor draait zonder code location")
        keys = sorted(selection.resolve(context.repository_def.asset_graph), key=lambda k: k.to_user_string())
        run_key = "|".join(f"{f}:{current[f]}" for f in folders)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=run_key,
                    asset_selection=keys,
                    tags={
                        "trigger": "landing:" + ",".join(folders),
                        INPUT_PARTS_TAG: json.dumps({f: current[f] for f in folders}, sort_keys=True),
                    },
                )
            ],
            cursor=json.dumps(current),
        )

    return landing_folder_sensor
