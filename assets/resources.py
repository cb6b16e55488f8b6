"""Resources the assets depend on. Their classes live here, below the pipelines layer, so assets can
type their parameters without importing `pipelines`; `pipelines/definitions.py` configures them
(paths and URLs from environment variables through dagster.EnvVar)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import dagster as dg

from sources.pseudonym import Pseudonymiser, PseudonymKeyError
from warehouse import Warehouse

PROJECT_DIR = Path(__file__).resolve().parent.parent


class OutsideLandingError(ValueError):
    """A folder or file (through '..', an absolute path or a symlink) lies outside the landing folder."""


class LandingFolder(dg.ConfigurableResource):
    """The folder where exports are delivered, and the mappings that describe them."""

    path: str
    mappings_path: str = str(PROJECT_DIR / "mappings")
    woonservice_mapping: str = "template"
    #: Worker processes that parse the stock lists of one run; 0: automatic (two when the lists
    #: together exceed PARALLEL_READ_BYTES, as nationally; a region's lists are read in the step).
    leesprocessen: int = 0

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def folder(self, name: str) -> Path:
        folder = (self.root / name).resolve()
        if self.root not in folder.parents and folder != self.root:
            raise OutsideLandingError(f"map {name!r} ligt buiten de landingsmap {self.root} ({folder}); geweigerd")
        return folder

    def files(self, folder: str, pattern: str) -> list[Path]:
        """The files in a landing sub-folder; a file (or symlink) that resolves outside the landing
        folder is refused, naming it: a delivery cannot make the pipeline read /etc/passwd."""
        found = sorted(
            p for p in self.folder(folder).glob(pattern) if p.is_file() and not p.name.startswith((".", "~$"))
        )
        for path in found:
            target = path.resolve()
            if self.root not in target.parents:
                raise OutsideLandingError(
                    f"bestand {folder}/{path.name} verwijst naar {target}, buiten de landingsmap {self.root}; geweigerd"
                )
        return found

    def display_name(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def woonservice_mapping_file(self) -> Path | None:
        if self.woonservice_mapping in ("", "template"):
            return None
        if not re.fullmatch(r"[a-z0-9_]+", self.woonservice_mapping):
            raise ValueError(f"ongeldige mappingnaam {self.woonservice_mapping!r}")
        return Path(self.mappings_path) / "woonservice" / f"{self.woonservice_mapping}.yaml"


def file_snapshot(path: Path, display_name: str) -> str:
    """'<name>@<sha256 prefix>': which delivery a KPI row rests on."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{display_name}@{digest.hexdigest()[:12]}"


class WarehouseResource(dg.ConfigurableResource):
    """The SQL warehouse dashboards read (SQLAlchemy URL; DuckDB file by default)."""

    url: str

    def client(self) -> Warehouse:
        return Warehouse(self.url)


class DataQuality(dg.ConfigurableResource):
    """Where the steward's corrections file is, where validation reports go, and the run's date."""

    corrections_path: str = str(PROJECT_DIR / "corrections" / "correcties.csv")
    report_dir: str = str(PROJECT_DIR / "out" / "validatie")
    vandaag: str = ""  # yyyy-mm-dd; empty = the real date. Tests and re-runs of old data set it.


class Pseudonymisation(dg.ConfigurableResource):
    """The secret key of the keyed hash that replaces the identifiers of lettings and seekers at
    ingestion (sources/pseudonym.py). In every real configuration `sleutel` is
    dagster.EnvVar("PRESTATIEMONITOR_PSEUDONIEM_SLEUTEL"); without a key the Woonservice raw assets
    refuse to read anything. Only `ontwikkelsleutel=True` (the bundled synthetic sample, the tests)
    lets them run on the public development key, and then every run says so in its metadata."""

    sleutel: str = ""
    ontwikkelsleutel: bool = False

    def pseudonymiser(self) -> Pseudonymiser:
        try:
            return Pseudonymiser.from_key(self.sleutel, allow_development=self.ontwikkelsleutel)
        except PseudonymKeyError as error:
            raise dg.Failure(description=str(error), allow_retries=False) from None
