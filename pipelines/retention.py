"""Retention (AVG): raw exports older than the retention period are purged; the KPIs stay.

Job `retentie_opschonen` (one op) deletes the delivered files in the configured landing sub-folders
(default `woonservice`: the lettings and seekers exports, which hold personal data) whose date is
before `peildatum - bewaartermijn_maanden`, and removes the rows read from those files
(`_source_file`) from Dagster's Parquet storage of raw and staged values. It logs file names and
row counts, never contents, supports a dry run (`proefdraai`), and never touches the warehouse:
the published KPI tables keep their numbers (the next nightly run recomputes from the deliveries
that remain, so a KPI year that rested only on purged exports is then computed from what is left).

A file's date: a date in its name (`jjjj-mm-dd` or `jjjjmmdd`, e.g. `bezitslijst_x_2024-12-31.csv`,
`v20251101_v4_csv.zip`); else the end of the period in its name (`jjjj-jjjj`, e.g.
`toewijzingen_2015-2020.csv` -> 31-12-2020, or one year `jjjj`); else its modification time.

Containment: only regular files below `<landing>/<map>` and `<storage>` are ever deleted or
rewritten. Folder names are plain names (no `/`, no `..`); a symbolic link (to a file or a folder)
is never followed and never deleted, only reported; every path is resolved and checked to lie
inside its root right before it is changed. The bundled sample landing folder is never purged.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assets.resources import LandingFolder
from pipelines.config import SAMPLE_LANDING

SOURCE_FILE = "_source_file"
DEFAULT_MONTHS = 24
DEFAULT_FOLDERS = ("woonservice",)
_FOLDER_NAME = re.compile(r"[a-z0-9_]+")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_COMPACT_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_YEAR_RANGE = re.compile(r"(?<!\d)(\d{4})-(\d{4})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


class RetentionError(ValueError):
    """The purge was refused (bad folder name, a folder outside its root, the bundled sample)."""


def _plausible_year(year: int) -> bool:
    return 1900 <= year <= 2100


def file_date(path: Path) -> tuple[date, str]:
    """(date, where it came from: 'bestandsnaam' or 'wijzigingstijd') of a delivered file."""
    name = path.name
    for match in reversed(list(_ISO_DATE.finditer(name))):
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))), "bestandsnaam"
        except ValueError:
            continue
    for match in reversed(list(_COMPACT_DATE.finditer(name))):
        try:
            parsed = datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            continue
        if _plausible_year(parsed.year):
            return parsed, "bestandsnaam"
    for match in reversed(list(_YEAR_RANGE.finditer(name))):
        first, last = int(match.group(1)), int(match.group(2))
        if _plausible_year(first) and _plausible_year(last) and first <= last:
            return date(last, 12, 31), "bestandsnaam"
    for match in reversed(list(_YEAR.finditer(name))):
        if _plausible_year(int(match.group(1))):
            return date(int(match.group(1)), 12, 31), "bestandsnaam"
    return datetime.fromtimestamp(path.lstat().st_mtime).date(), "wijzigingstijd"


def cutoff(peildatum: date, months: int) -> date:
    """Files dated before this day are purged."""
    return (pd.Timestamp(peildatum) - pd.DateOffset(months=months)).date()


@dataclass
class PurgeReport:
    peildatum: date
    grens: date
    proefdraai: bool
    verwijderd: list[str] = field(default_factory=list)  # landing-relative names (would be, in a dry run)
    bewaard: list[str] = field(default_factory=list)
    overgeslagen: list[str] = field(default_factory=list)  # symbolic links and other non-regular entries
    opslag_rijen: dict[str, int] = field(default_factory=dict)  # storage-relative parquet path -> rows removed

    def metadata(self) -> dict[str, Any]:
        return {
            "proefdraai": self.proefdraai,
            "peildatum": self.peildatum.isoformat(),
            "grens": self.grens.isoformat(),
            "bestanden_verwijderd": len(self.verwijderd),
            "bestanden_bewaard": len(self.bewaard),
            "verwijderd": dg.MetadataValue.json(self.verwijderd),
            "overgeslagen": dg.MetadataValue.json(self.overgeslagen),
            "opslag_rijen_verwijderd": dg.MetadataValue.json(self.opslag_rijen),
        }


def _inside(path: Path, root: Path) -> bool:
    resolved = path.resolve()
    return resolved == root or root in resolved.parents


def _regular_files(folder: Path, root: Path, report: PurgeReport, label: Path) -> list[Path]:
    """Regular files below `folder`, never through a symbolic link; links are reported, not followed."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                report.overgeslagen.append(f"{(here / name).relative_to(label).as_posix()}/ (symbolische link)")
        for name in sorted(filenames):
            path = here / name
            if path.is_symlink():
                report.overgeslagen.append(f"{path.relative_to(label).as_posix()} (symbolische link)")
                continue
            if name.startswith((".", "~$")) or not path.is_file():
                continue
            if _inside(path, root):
                found.append(path)
    return found


def _resolved_root(path: str | Path, what: str) -> Path:
    root = Path(path).resolve()
    if not root.is_dir():
        raise RetentionError(f"{what} {root} bestaat niet of is geen map")
    return root


def purge(
    landing: str | Path,
    storage: str | Path,
    *,
    months: int = DEFAULT_MONTHS,
    peildatum: date | None = None,
    dry_run: bool = False,
    folders: tuple[str, ...] | list[str] = DEFAULT_FOLDERS,
) -> PurgeReport:
    """Delete the landing files in `folders` dated before peildatum - months, and their rows in the storage."""
    if months < 1:
        raise RetentionError(f"bewaartermijn_maanden moet minstens 1 zijn, niet {months}")
    landing_root = _resolved_root(landing, "landingsmap")
    if landing_root == SAMPLE_LANDING.resolve() and not dry_run:
        raise RetentionError(f"de meegeleverde voorbeelddata ({landing_root}) worden niet opgeschoond; alleen een proefdraai")
    storage_root = Path(storage).resolve()
    today = peildatum or date.today()
    report = PurgeReport(peildatum=today, grens=cutoff(today, months), proefdraai=dry_run)

    purged: list[Path] = []
    for name in folders:
        if not _FOLDER_NAME.fullmatch(name):
            raise RetentionError(f"ongeldige mapnaam {name!r} (alleen kleine letters, cijfers en _)")
        folder = landing_root / name
        if folder.is_symlink() or not _inside(folder, landing_root):
            raise RetentionError(f"map {name!r} is een symbolische link of ligt buiten de landingsmap")
        if not folder.is_dir():
            continue
        for path in _regular_files(folder, landing_root, report, landing_root):
            relative = path.relative_to(landing_root).as_posix()
            day, _ = file_date(path)
            if day < report.grens:
                report.verwijderd.append(relative)
                purged.append(path)
            else:
                report.bewaard.append(relative)

    if storage_root.is_dir() and report.verwijderd:
        _purge_storage(storage_root, set(report.verwijderd), report, dry_run=dry_run)
    if not dry_run:
        for path in purged:
            if path.is_symlink() or not _inside(path, landing_root):  # changed since it was listed
                report.overgeslagen.append(f"{path.relative_to(landing_root).as_posix()} (gewijzigd, niet verwijderd)")
                continue
            path.unlink()
    return report


def _purge_storage(root: Path, names: set[str], report: PurgeReport, *, dry_run: bool) -> None:
    """Remove the rows read from `names` from every Parquet value in the storage that has `_source_file`."""
    for path in _regular_files(root, root, report, root):
        if path.suffix != ".parquet":
            continue
        if SOURCE_FILE not in pq.read_schema(path).names:
            continue
        sources = pq.read_table(path, columns=[SOURCE_FILE])[SOURCE_FILE]
        hit = pc.fill_null(pc.is_in(sources, value_set=pa.array(sorted(names), type=pa.string())), False)
        removed = pc.sum(hit).as_py() or 0
        if not removed:
            continue
        report.opslag_rijen[path.relative_to(root).as_posix()] = int(removed)
        if dry_run:
            continue
        table = pq.read_table(path)
        kept = table.filter(pc.invert(pc.fill_null(pc.is_in(table[SOURCE_FILE], value_set=pa.array(sorted(names), type=pa.string())), False)))
        partial = path.with_name(path.name + ".partial")
        pq.write_table(kept, partial)
        if path.is_symlink() or not _inside(path, root):
            partial.unlink()
            continue
        os.replace(partial, path)


# --------------------------------------------------------------------------------------------------
# Dagster
# --------------------------------------------------------------------------------------------------


class AssetStorage(dg.ConfigurableResource):
    """Dagster's Parquet storage of asset values: the io_manager's base_path (pipelines/config.storage_dir)."""

    path: str


class RetentieConfig(dg.Config):
    bewaartermijn_maanden: int = DEFAULT_MONTHS
    proefdraai: bool = False
    mappen: list[str] = list(DEFAULT_FOLDERS)
    peildatum: str = ""  # jjjj-mm-dd; leeg = vandaag


@dg.op(
    name="bestanden_opschonen",
    out=dg.Out(dg.Nothing),
    description=(
        "Verwijdert ruwe exports ouder dan de bewaartermijn uit de landingsmap en hun rijen uit de Parquet-opslag; "
        "raakt het warehouse niet. Logt alleen bestandsnamen en aantallen."
    ),
)
def retentie_opschonen_op(
    context: dg.OpExecutionContext, config: RetentieConfig, landing: LandingFolder, asset_storage: AssetStorage
) -> Iterator[dg.Output[None]]:
    peildatum = date.fromisoformat(config.peildatum) if config.peildatum else None
    try:
        report = purge(
            landing.path,
            asset_storage.path,
            months=config.bewaartermijn_maanden,
            peildatum=peildatum,
            dry_run=config.proefdraai,
            folders=config.mappen,
        )
    except RetentionError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    wat = "zou verwijderen (proefdraai)" if report.proefdraai else "verwijderd"
    context.log.info(
        f"retentie: grens {report.grens} ({config.bewaartermijn_maanden} maanden voor {report.peildatum}); "
        f"{len(report.verwijderd)} bestand(en) {wat}, {len(report.bewaard)} bewaard"
    )
    for name in report.verwijderd:
        context.log.info(f"{wat}: {name}")
    for name, rows in report.opslag_rijen.items():
        context.log.info(f"opslag {name}: {rows} rij(en) {wat}")
    for name in report.overgeslagen:
        context.log.warning(f"overgeslagen: {name}")
    yield dg.Output(None, metadata=report.metadata())


@dg.job(
    name="retentie_opschonen",
    description=(
        "AVG-bewaartermijn: ruwe Woonservice-exports (en optioneel andere landingsmappen) ouder dan "
        "bewaartermijn_maanden (standaard 24) verwijderen uit de landingsmap en de Parquet-opslag. "
        "De KPI-tabellen in het warehouse blijven ongemoeid. proefdraai: true toont alleen wat weg zou gaan."
    ),
    # The same run-queue limit as the nightly job (deploy/dagster.yaml): never purge while it reads.
    tags={"prestatiemonitor/nightly": "true"},
    # One op that deletes files where the run is (the landing folder and the storage are mounted
    # there); no step fan-out to Celery workers or pods, whatever PRESTATIEMONITOR_EXECUTOR says.
    executor_def=dg.in_process_executor,
)
def retentie_opschonen() -> None:
    retentie_opschonen_op()


def build_retention_schedule(*, running: bool) -> dg.ScheduleDefinition:
    """Monthly, on the 1st at 05:00 Europe/Amsterdam (after the nightly run). `running`: switched on by
    default (production, where the landing folder is configured); off for the bundled sample."""
    return dg.ScheduleDefinition(
        name="retentie_maandelijks",
        job=retentie_opschonen,
        cron_schedule="0 5 1 * *",
        execution_timezone="Europe/Amsterdam",
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description="Elke 1e van de maand om 05:00: ruwe exports ouder dan de bewaartermijn opschonen.",
    )
