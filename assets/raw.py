"""raw_* assets: each source dataset as delivered, mapped onto its contract by the readers in sources/.

A reader error (missing column, bad number or date, unknown code) fails the asset with a message
naming file, row, column and value, so nothing downstream runs and the warehouse is left untouched.
"""


import functools
import itertools
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from assets.common import column_schema
from assets.resources import LandingFolder, Pseudonymisation, file_snapshot
from sources import bezit, ep_online, leefbaarometer, woonservice
from sources.errors import ReadResult, SourceError
from sources.formats import address_key
from sources.pseudonym import MASKED, VELDEN, Behandeling, Pseudonymiser, pseudonymise

# A transient failure (a share that hiccups, a file still being copied) is retried with backoff; a
# bad delivery raises Failure(allow_retries=False) and goes straight to the steward.
SOURCE_RETRY = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
RAW: dict[str, Any] = {
    "group_name": "raw", "kinds": {"pandas", "csv"}, "owners": ["team:woningmarkt"], "retry_policy": SOURCE_RETRY,
}


@contextmanager
def reported_source_errors() -> Iterator[None]:
    """Turn a SourceError into a Dagster Failure whose metadata a steward can read in the UI."""
    try:
        yield
    except SourceError as error:
        metadata = {"bestand": error.file, "fout": error.message}
        if error.row is not None:
            metadata["rij"] = str(error.row)
        if error.column is not None:
            metadata["kolom"] = error.column
        if error.value is not None:
            metadata["waarde"] = str(error.value)
        if error.expected:
            metadata["verwacht"] = error.expected
        raise dg.Failure(description=str(error), metadata=metadata, allow_retries=False) from error


def _require(files: list[Path], where: str, expected: str) -> list[Path]:
    if not files:
        raise dg.Failure(
            description=f"geen bestand gevonden in landingsmap '{where}' (verwacht: {expected})", allow_retries=False
        )
    return files


#: Input size from which the stock lists are parsed by worker processes: nationally 1,500 lists
#: (1.7 GB) took ~260 s on one core while the step's other core idled; a pool costs ~2 s to start.
PARALLEL_READ_BYTES = 256 * 1024 * 1024


def read_workers(landing: LandingFolder, files: list[Path]) -> int:
    if multiprocessing.current_process().daemon:
        return 1  # a daemonic process (a Celery prefork worker) may not start processes of its own
    if landing.leesprocessen > 0:
        return landing.leesprocessen
    if sum(path.stat().st_size for path in files) < PARALLEL_READ_BYTES:
        return 1
    return min(2, os.cpu_count() or 1)


#: A group reader: the results of several files, in their order (`sources.bezit.read_bezitslijsten`).
ReadGroup = Callable[[list[Path], list[str]], list[ReadResult]]


def _read_each(read: Callable[[Path, str], ReadResult], paths: list[Path], names: list[str]) -> list[ReadResult]:
    return [read(path, name) for path, name in zip(paths, names, strict=True)]


def _groups(files: list[Path], names: list[str], key: Callable[[Path], object] | None) -> list[tuple[list[Path], list[str]]]:
    """Consecutive files with the same key form one group; without a key, groups of four (a pool's chunk)."""
    pairs = list(zip(files, names, strict=True))
    if key is None:
        runs = [pairs[start : start + 4] for start in range(0, len(pairs), 4)]
    else:
        runs = [list(run) for _, run in itertools.groupby(pairs, key=lambda pair: key(pair[0]))]
    return [([path for path, _ in run], [name for _, name in run]) for run in runs]


def _results(
    groups: list[tuple[list[Path], list[str]]], read: ReadGroup, workers: int,
    initializer: Callable[..., None] | None, initargs: tuple[Any, ...],
) -> Iterator[ReadResult]:
    """The files' results in file order. With workers > 1 the groups are parsed in a pool of spawned
    processes (`read` then a module-level function or a partial of one, `initializer` gives each
    worker its state); the first error in file order is raised, as when reading one by one."""
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        for paths, names in groups:
            yield from read(paths, names)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process that holds DuckDB's and Arrow's threads
    with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        try:
            for results in pool.map(read, *zip(*groups, strict=True)):
                yield from results
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def read_all(
    landing: LandingFolder,
    files: list[Path],
    read: Callable[[Path, str], ReadResult] | None = None,
    *,
    read_group: ReadGroup | None = None,
    group_key: Callable[[Path], object] | None = None,
    workers: int = 1,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read every file, tag each row with its snapshot, and collect per-file metadata.

    Files are read one by one with `read`, or, with `read_group`, per group of consecutive files
    with the same `group_key` (a reader that types a corporation's stock lists together).
    """
    if read_group is None:
        if read is None:
            raise TypeError("read_all needs read or read_group")
        read_group = functools.partial(_read_each, read)
    frames, per_file, warnings, drift, source_metadata = [], {}, [], {}, {}
    names = [landing.display_name(path) for path in files]
    results = _results(_groups(files, names, group_key), read_group, workers, initializer, initargs)
    with reported_source_errors():
        for path, name, result in zip(files, names, results, strict=False):
            frame = result.frame
            frame["_source_snapshot"] = file_snapshot(path, name)
            frames.append(frame)
            per_file[name] = len(frame)
            warnings += [f"{name}: {w}" for w in result.warnings]
            if not result.drift.is_empty:
                drift[name] = result.drift.as_dict()
            if result.metadata:
                source_metadata[name] = {k: str(v) for k, v in result.metadata.items()}
    combined = pd.concat(frames, ignore_index=True)
    metadata: dict[str, Any] = {
        "dagster/row_count": len(combined),
        "dagster/column_schema": column_schema(combined),
        "bestanden": dg.MetadataValue.json(per_file),
        "waarschuwingen": dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "geen"),
        "schema_drift": dg.MetadataValue.json(drift),
        "bron_metadata": dg.MetadataValue.json(source_metadata),
    }
    return combined, metadata


@dg.asset(description="Bezitslijsten van alle corporaties en peildata, via de mapping per corporatie.", **RAW)
def raw_bezit(landing: LandingFolder) -> dg.Output:
    with reported_source_errors():
        pairs = bezit.discover_bezitslijsten(landing.folder("bezit"), Path(landing.mappings_path) / "bezit")
    files = _require([p for p, _ in pairs], "bezit", "bezit/<corporatie>/bezitslijst_<corporatie>_<jjjj-mm-dd>.csv|xlsx")
    mappings = {p: m for p, m in pairs}
    workers = read_workers(landing, files)
    frame, metadata = read_all(
        landing, files, read_group=bezit.read_mapped_bezitslijsten, group_key=lambda path: path.parent,
        workers=workers, initializer=bezit.use_mappings, initargs=(mappings,),
    )
    metadata["leesprocessen"] = workers
    return dg.Output(frame, metadata=metadata)


#: Metadata key on an AssetIn: only these columns of the upstream frame are loaded (pipelines/io.py).
KOLOMMEN = "kolommen"
#: Metadata key on an AssetIn: these text columns are loaded as pandas categoricals, straight from
#: Parquet's dictionary encoding (pipelines/io.py), for inputs whose few distinct values repeat on
#: millions of rows (a national stock's corporatie, gemeente and wijk).
ALS_CATEGORIE = "als_categorie"
#: What the EP-online assets read of raw_bezit: its BAG ids and addresses, not the 11 million full rows.
STOCK_FILTER_COLUMNS = ["bag_vbo_id", "postcode", "huisnummer", "huisletter", "huisnummertoevoeging"]


def stock_filter_input() -> dg.AssetIn:
    return dg.AssetIn("raw_bezit", metadata={KOLOMMEN: STOCK_FILTER_COLUMNS})


def stock_filters(raw_bezit: pd.DataFrame) -> tuple[pd.api.extensions.ExtensionArray, pd.api.extensions.ExtensionArray]:
    """The distinct BAG ids and address keys of every unit in the stock lists: what the EP-online
    readers keep certificates of. pandas text arrays, not Python sets: the readers take them to Arrow
    as they are (2.3 M of each nationally; as sets they cost a daily mutation file ~10 s)."""
    bag_ids = raw_bezit["bag_vbo_id"].dropna().unique()
    keys = address_key(
        raw_bezit["postcode"], raw_bezit["huisnummer"], raw_bezit["huisletter"], raw_bezit["huisnummertoevoeging"]
    )
    return bag_ids, keys.dropna().unique()


_EP_TOTAL = re.compile(r"^v(\d{8})_v\d+(_csv)?\.(zip|csv)$", re.IGNORECASE)


def newest_total_file(files: list[Path]) -> Path:
    totals = [(m.group(1), p) for p in files if (m := _EP_TOTAL.match(p.name))]
    if not totals:
        raise dg.Failure(description="geen EP-online totaalbestand (vJJJJMMDD_v4_csv.zip) in landingsmap 'ep_online'", allow_retries=False)
    return max(totals)[1]


@dg.asset(
    description=(
        "EP-online certificaten (RVO totaalbestand) van de adressen in de bezitslijsten: gescand in "
        "DuckDB, gefilterd op BAG-id en adres; volledige historie; Certificaathouder weggelaten."
    ),
    group_name="raw",
    kinds={"duckdb", "csv"},
    owners=["team:woningmarkt"],
    retry_policy=SOURCE_RETRY,
    ins={"raw_bezit": stock_filter_input()},
)
def raw_ep_online(landing: LandingFolder, raw_bezit: pd.DataFrame) -> dg.Output:
    path = newest_total_file(landing.files("ep_online", "*"))
    bag_ids, address_keys = stock_filters(raw_bezit)
    frame, metadata = read_all(
        landing,
        [path],
        lambda p, name: ep_online.read_bulk(p, bag_ids=bag_ids, address_keys=address_keys, display_name=name),
    )
    scanned = metadata["bron_metadata"].value.get(landing.display_name(path), {}).get("rows_scanned")
    if scanned == "0":
        # A quiet day's mutation file may be empty; the monthly total file never is.
        raise dg.Failure(description=f"{landing.display_name(path)}: totaalbestand bevat geen certificaten", allow_retries=False)
    return dg.Output(frame, metadata=metadata)


@dg.asset(description="Leefbaarometer 3.0 scores (BZK open data) per buurt, wijk en gemeente.", **RAW)
def raw_leefbaarometer(landing: LandingFolder) -> dg.Output:
    files = _require(landing.files("leefbaarometer", "*.csv"), "leefbaarometer", "Leefbaarometer-scores *.csv")
    frame, metadata = read_all(landing, files, lambda p, name: leefbaarometer.read_scores(p, display_name=name))
    return dg.Output(frame, metadata=metadata)


# --- Woonservice: personal data (AVG). Identifiers are hashed and detail no KPI needs is coarsened
# here, before the value reaches Dagster's storage (sources/pseudonym.py); a reader error about a
# personal column never shows the delivered cell value in the run's error message.


def _about_personal_data(error: SourceError, dataset: str) -> bool:
    """Whether a reader error is about a personal column of `dataset`: by contract name, or by the
    '(contractkolom ...)' a mapped header carries; a delivered header it cannot place counts as personal."""
    if error.column is None:
        return False
    names = {c.strip() for c in error.column.split(",")} | set(re.findall(r"contractkolom (\w+)", error.message))
    velden = VELDEN[dataset]
    known = names & set(velden)
    return not known or any(velden[c].behandeling is not Behandeling.GEEN for c in known)


def _masked_errors(
    dataset: str, read: Callable[[Path, str], ReadResult]
) -> Callable[[Path, str], ReadResult]:
    """A Woonservice reader whose SourceError about a personal column keeps file, row and column but
    not the cell value (the steward opens the delivery at that row)."""

    def read_masked(path: Path, name: str) -> ReadResult:
        try:
            return read(path, name)
        except SourceError as error:
            if not _about_personal_data(error, dataset):
                raise
            raise SourceError(
                error.file,
                re.sub(r"'[^']*'", f"'{MASKED}'", error.message),
                row=error.row,
                column=error.column,
                value=None if error.value is None else MASKED,
                expected=error.expected,
            ) from None

    return read_masked


def _woonservice_output(
    context: dg.AssetExecutionContext,
    dataset: str,
    frame: pd.DataFrame,
    metadata: dict[str, Any],
    pseudonymiser: Pseudonymiser,
) -> dg.Output:
    frame = pseudonymise(frame, dataset, pseudonymiser)
    velden = VELDEN[dataset]
    metadata["pseudonimisering"] = dg.MetadataValue.json(
        {
            **pseudonymiser.describe(),
            "gehasht": [c for c, v in velden.items() if v.behandeling is Behandeling.GEHASHT],
            "gegeneraliseerd": [c for c, v in velden.items() if v.behandeling is Behandeling.GEGENERALISEERD],
            "alleen_staging": [c for c, v in velden.items() if v.behandeling is Behandeling.ALLEEN_STAGING],
        }
    )
    if pseudonymiser.development:
        warning = (
            "WAARSCHUWING: gepseudonimiseerd met de openbare ONTWIKKELSLEUTEL (geen "
            "PRESTATIEMONITOR_PSEUDONIEM_SLEUTEL gezet); alleen toegestaan voor synthetische voorbeelddata"
        )
        context.log.warning(f"{context.asset_key.to_user_string()}: {warning}")
        metadata["pseudonimisering_waarschuwing"] = warning
    return dg.Output(frame, metadata=metadata)


@dg.asset(
    description=(
        "Toewijzingen (verhuringen) uit de Woonservice-export, importtemplate toewijzingen; toewijzing_id en "
        "woningzoekende_id gepseudonimiseerd (HMAC-SHA256) vóór opslag."
    ),
    **RAW,
)
def raw_toewijzingen(
    context: dg.AssetExecutionContext, landing: LandingFolder, pseudonymisation: Pseudonymisation
) -> dg.Output:
    pseudonymiser = pseudonymisation.pseudonymiser()  # no key: refuse before reading anything
    files = _require(landing.files("woonservice", "toewijzingen_*"), "woonservice", "toewijzingen_*.csv|xlsx")
    mapping = landing.woonservice_mapping_file()
    frame, metadata = read_all(
        landing,
        files,
        _masked_errors("toewijzingen", lambda p, name: woonservice.read_toewijzingen(p, mapping=mapping, display_name=name)),
    )
    return _woonservice_output(context, "toewijzingen", frame, metadata, pseudonymiser)


@dg.asset(
    description=(
        "Woningzoekenden per verslagperiode uit de Woonservice-export, importtemplate woningzoekenden; "
        "woningzoekende_id gepseudonimiseerd, inschrijfdatum naar de maand, huishoudgrootte afgetopt op 5."
    ),
    **RAW,
)
def raw_woningzoekenden(
    context: dg.AssetExecutionContext, landing: LandingFolder, pseudonymisation: Pseudonymisation
) -> dg.Output:
    pseudonymiser = pseudonymisation.pseudonymiser()
    files = _require(landing.files("woonservice", "woningzoekenden_*"), "woonservice", "woningzoekenden_*.csv|xlsx")
    mapping = landing.woonservice_mapping_file()
    frame, metadata = read_all(
        landing,
        files,
        _masked_errors("woningzoekenden", lambda p, name: woonservice.read_woningzoekenden(p, mapping=mapping, display_name=name)),
    )
    return _woonservice_output(context, "woningzoekenden", frame, metadata, pseudonymiser)
