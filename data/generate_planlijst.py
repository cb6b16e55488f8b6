"""Deterministic SYNTHETIC plan lists (planlijsten nieuwbouw) for the sample landing folder.

Run from the project root:  `python -m data.generate_planlijst`. It writes
`data/sample/landing/planlijst/planlijst_<GM####>_<jjjj-mm-dd>.csv|xlsx` for Haarlem (GM0392, CSV)
and Heemstede (GM0397, XLSX) at the peildata 2024-01-01, 2024-07-01, 2025-01-01 and 2025-07-01, in
the template of docs/data-contracts.md ("Planlijst nieuwbouw"). The same seed gives byte-identical
files on every run.

Everything is invented: project names are made of neutral words, ids, sizes, segment mixes, rents and
years are drawn; wijk codes are those of the sample stock lists (WK0392NN, WK0397NN).

The world simulated here: a pool of projects per gemeente, each with a (hidden) half-year of
delivery. A project's phase on a list follows from the half-years left until then (initiatief,
planvorming, vergunning, in aanbouw, opgeleverd), so phases progress from list to list. Plans are
optimistic: until half a year before delivery the expected year may lie up to 1.5 years before the
real one; then it is corrected. A project appears on the lists from seven years before delivery
and stays about a year after it (with opleverjaar_gerealiseerd), then drops off. Haarlem's projects of
30+ homes mostly follow 40/40/20 (with noise, so some fail it); small projects are one or two segments.
The count of social homes below the aftoppingsgrens is known from the phase 'vergunning' on.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

SEED = 20250701
PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_ROOT / "data" / "sample" / "landing" / "planlijst"
FIXED_ZIP_TIME = (2025, 11, 1, 6, 0, 0)  # member times in the XLSX zip (as data/generate_sample.py)
FIXED_XLSX_TIMESTAMP = "2026-01-02T07:30:00Z"  # docProps/core.xml created/modified
# The wijken of the sample stock lists (data/generate_sample.py WIJKEN): code and relative weight.
WIJKEN = {
    "GM0392": (("WK039201", 0.5), ("WK039202", 1.3), ("WK039203", 1.3), ("WK039204", 1.8),
               ("WK039205", 0.8), ("WK039206", 0.5), ("WK039207", 0.6), ("WK039208", 0.2)),
    "GM0397": (("WK039701", 1.0), ("WK039702", 1.2), ("WK039703", 0.9)),
}
PEILDATA = ("2024-01-01", "2024-07-01", "2025-01-01", "2025-07-01")
HEADER = (
    "project_id", "projectnaam", "gemeente_code", "wijk_code", "fase", "opleverjaar_verwacht",
    "opleverjaar_gerealiseerd", "sociale_huur", "middenhuur", "middeldure_koop", "vrije_sector_huur",
    "vrije_sector_koop", "huur_sociaal_gemiddeld", "m2_gemiddeld", "aantal_sociaal_onder_aftoppingsgrens",
)
# gemeente -> (id prefix, pool size, file format, share of projects following the 40/40/20 mix)
GEMEENTEN = {"GM0392": ("HLM", 48, "csv", 0.6), "GM0397": ("HST", 10, "xlsx", 0.4)}
NAAM_A = ("Havenkwartier", "Lindehof", "Spoorzone", "Meerstad", "Tuinhof", "Zuidpunt", "Kopgebouw",
          "Oeverpark", "Molenerf", "Vaartkade", "Bleekveld", "Duinzicht", "Dreefhof", "Singelblok",
          "Werfterrein", "Stationsveld")
NAAM_B = ("", " fase 1", " fase 2", " Noord", " Zuid", " blok A", " blok B", " II")


@dataclass
class Project:
    project_id: str
    naam: str
    gemeente: str
    wijk: str
    delivery: int  # half-year index of delivery; 0 = first half of 2024 (list 2024-01-01 is t=0)
    optimism: int  # half-years the plan runs ahead of reality while delivery is far
    segments: tuple[int, int, int, int, int]
    huur: float | None
    m2: float
    onder_aftopping_share: float


def half_year_to_year(index: int) -> int:
    return 2024 + index // 2


def phase(project: Project, t: int) -> str:
    left = project.delivery - t
    if left < 0:
        return "opgeleverd"
    if left <= 2:
        return "in aanbouw"
    if left <= 5:
        return "vergunning"
    if left <= 9:
        return "planvorming"
    return "initiatief"


def segment_mix(rng: random.Random, total: int, follows_rule: bool, small: bool) -> tuple[int, int, int, int, int]:
    """(sociale_huur, middenhuur, middeldure_koop, vrije_sector_huur, vrije_sector_koop)."""
    if small:
        choice = rng.choice(("koop", "sociaal", "midden", "mix"))
        if choice == "koop":
            return (0, 0, 0, 0, total)
        if choice == "sociaal":
            return (total, 0, 0, 0, 0)
        if choice == "midden":
            rent = rng.randint(0, total)
            return (0, rent, total - rent, 0, 0)
        koop = rng.randint(1, total - 1) if total > 1 else total
        return (0, 0, total - koop, 0, koop)
    # Shares of social and of 'other' (vrije sector); the middle segment takes the rest. Rounded so
    # that a project drawn to follow 40/40/20 really has >= 40 % social and <= 20 % other.
    social, other = (rng.uniform(0.40, 0.50), rng.uniform(0.05, 0.20)) if follows_rule else (
        rng.uniform(0.10, 0.38), rng.uniform(0.22, 0.55))
    sociaal = math.ceil(total * social)
    overig = math.floor(total * other)
    midden = total - sociaal - overig
    middenhuur = int(round(midden * rng.uniform(0.3, 0.8)))
    vrije_huur = int(round(overig * rng.uniform(0.0, 0.5)))
    return (sociaal, middenhuur, midden - middenhuur, vrije_huur, overig - vrije_huur)


def make_projects(rng: random.Random, gemeente: str) -> list[Project]:
    prefix, pool, _, rule_share = GEMEENTEN[gemeente]
    wijken = [code for code, _ in WIJKEN[gemeente]]
    weights = [weight for _, weight in WIJKEN[gemeente]]
    projects = []
    for n in range(1, pool + 1):
        roll = rng.random()
        if gemeente == "GM0397":
            total = rng.randint(5, 29) if roll < 0.4 else rng.randint(30, 120)
        else:
            total = rng.randint(5, 29) if roll < 0.3 else rng.randint(30, 150) if roll < 0.85 else rng.randint(151, 400)
        small = total < 30
        segments = segment_mix(rng, total, rng.random() < rule_share, small)
        naam = f"{rng.choice(NAAM_A)}{rng.choice(NAAM_B)}"
        projects.append(
            Project(
                project_id=f"{prefix}-{n:03d}",
                naam=naam,
                gemeente=gemeente,
                wijk=rng.choices(wijken, weights)[0],
                delivery=rng.randint(-2, 17),
                optimism=rng.choice((0, 0, 1, 1, 2, 3)),
                segments=segments,
                huur=round(rng.uniform(640, 780), 2) if segments[0] else None,
                m2=round(rng.uniform(45, 110), 1),
                onder_aftopping_share=rng.uniform(0.55, 0.95),
            )
        )
    # Names are unique within a gemeente: a repeated name gets the project number.
    seen: set[str] = set()
    for project in projects:
        if project.naam in seen:
            project.naam = f"{project.naam} ({project.project_id})"
        seen.add(project.naam)
    return projects


def on_list(project: Project, t: int) -> bool:
    return project.delivery - t <= 14 and t - project.delivery <= 2


def expected_year(project: Project, t: int) -> int:
    """The plan's year: optimistic while delivery is far, right once construction nears."""
    left = project.delivery - min(t, project.delivery)
    ahead = project.optimism if left > 1 else 0
    return half_year_to_year(project.delivery - ahead)


def row(project: Project, t: int) -> list[object]:
    fase = phase(project, t)
    sociaal = project.segments[0]
    known = fase in ("vergunning", "in aanbouw", "opgeleverd") and sociaal > 0
    # The last list before delivery keeps its expectation; after delivery the plan year stays put.
    plan_t = min(t, project.delivery)
    return [
        project.project_id,
        project.naam,
        project.gemeente,
        project.wijk,
        fase,
        expected_year(project, plan_t),
        half_year_to_year(project.delivery) if fase == "opgeleverd" else None,
        *project.segments,
        project.huur,
        project.m2,
        int(round(sociaal * project.onder_aftopping_share)) if known else None,
    ]


def dutch(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def write_csv(path: Path, rows: list[list[object]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for values in rows:
        writer.writerow([dutch(v) for v in values])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def write_zip(path: Path, members: dict[str, bytes]) -> None:
    """A zip whose bytes depend only on the members: fixed times, attributes and system."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def normalised_xlsx_members(xlsx: bytes) -> dict[str, bytes]:
    """openpyxl stamps 'created'/'modified' with the clock: replace both, so the file is reproducible."""
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            if name == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                 rb"\g<1>" + FIXED_XLSX_TIMESTAMP.encode() + rb"\g<3>", content)
            members[name] = content
    return members


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Planlijst"
    sheet.append(list(HEADER))
    for values in rows:
        sheet.append(values)
    sheet.freeze_panes = "A2"
    workbook.properties.creator = "Gemeente, team wonen (synthetisch)"
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_zip(path, normalised_xlsx_members(buffer.getvalue()))


def generate(out_dir: Path = OUT_DIR) -> list[tuple[Path, int]]:
    rng = random.Random(SEED)
    written = []
    for gemeente, (_, _, file_format, _) in GEMEENTEN.items():
        projects = make_projects(rng, gemeente)
        for t, peildatum in enumerate(PEILDATA):
            rows = [row(p, t) for p in projects if on_list(p, t)]
            path = out_dir / f"planlijst_{gemeente}_{peildatum}.{file_format}"
            if file_format == "csv":
                write_csv(path, rows)
            else:
                write_xlsx(path, rows)
            written.append((path, len(rows)))
    return written


def main() -> None:
    for path, rows in generate():
        print(f"{path}: {rows} projecten, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
