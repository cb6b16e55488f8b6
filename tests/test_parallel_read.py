"""raw_bezit parses a national delivery in worker processes (assets/raw.py, `read_workers`): the
frame, its metadata and a bad file's error must be what reading one file after another gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.raw import PARALLEL_READ_BYTES, raw_bezit, read_workers
from assets.resources import LandingFolder
from pipelines.config import SAMPLE_LANDING
from sources.errors import SchemaError, SourceError


def _materialize(landing: Path, workers: int) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [raw_bezit], resources={"landing": LandingFolder(path=str(landing), leesprocessen=workers)}, raise_on_error=False
    )


def test_two_worker_processes_read_the_same_frame_and_metadata_as_one():
    one, two = _materialize(SAMPLE_LANDING, 1), _materialize(SAMPLE_LANDING, 2)
    assert one.success and two.success
    pd.testing.assert_frame_equal(two.output_for_node("raw_bezit"), one.output_for_node("raw_bezit"))
    meta_one, meta_two = (
        {k: v for k, v in r.asset_materializations_for_node("raw_bezit")[0].metadata.items() if k not in ("leesprocessen", "path")}  # path: each run its own storage
        for r in (one, two)
    )
    assert meta_two == meta_one
    assert two.asset_materializations_for_node("raw_bezit")[0].metadata["leesprocessen"].value == 2


def test_a_bad_cell_fails_with_the_same_file_row_and_column_in_a_worker(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE_LANDING, landing)
    broken = landing / "bezit" / "uwoon" / "bezitslijst_uwoon_2023-12-31.csv"
    raw = broken.read_bytes().split(b"\n")
    cells = raw[2].split(b"\t")
    cells[13] = b"19x6"  # Bouwjaar of the second unit (line 3)
    raw[2] = b"\t".join(cells)
    broken.write_bytes(b"\n".join(raw))

    failures = []
    for workers in (1, 2):
        result = _materialize(landing, workers)
        assert not result.success
        (event,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        data = event.step_failure_data.user_failure_data
        assert data is not None and data.description is not None
        failures.append(data)
    sequential, parallel = failures
    assert parallel.description is not None
    assert parallel.description == sequential.description
    assert {k: v.value for k, v in parallel.metadata.items()} == {k: v.value for k, v in sequential.metadata.items()}
    assert "bezitslijst_uwoon_2023-12-31.csv" in parallel.description
    assert parallel.metadata["rij"].value == "3" and parallel.metadata["kolom"].value == "Bouwjaar"


def test_only_a_large_delivery_gets_worker_processes(tmp_path):
    small = tmp_path / "klein.csv"
    small.write_bytes(b"x" * 10)
    landing = LandingFolder(path=str(tmp_path))
    assert read_workers(landing, [small]) == 1
    large = tmp_path / "groot.csv"
    with large.open("wb") as handle:  # sparse: no disk used
        handle.truncate(PARALLEL_READ_BYTES)
    assert read_workers(landing, [small, large]) == 2
    assert read_workers(LandingFolder(path=str(tmp_path), leesprocessen=3), [small]) == 3


@pytest.mark.parametrize("error", [
    SourceError("a.csv", "fout", row=3, column="Bouwjaar", value="19x6", expected="een jaartal"),
    SchemaError("b.csv", "kolom ontbreekt", expected="Eenheidnr"),
])
def test_reader_errors_cross_the_process_boundary_whole(error):
    import pickle

    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert (copy.file, copy.row, copy.column, copy.value, copy.expected) == (
        error.file, error.row, error.column, error.value, error.expected)


def _workers_in_a_daemonic_process(path: str, queue) -> None:  # type: ignore[no-untyped-def]
    from assets.raw import read_workers as workers_here
    from assets.resources import LandingFolder as Landing

    queue.put(workers_here(Landing(path=path, leesprocessen=2), []))


def test_a_daemonic_process_reads_in_its_own_process(tmp_path):
    """A Celery prefork worker is daemonic: starting a pool there would fail the step."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_workers_in_a_daemonic_process, args=(str(tmp_path), queue), daemon=True)
    child.start()
    child.join(60)
    assert queue.get(timeout=5) == 1
