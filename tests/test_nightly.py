"""The nightly schedule loads only when an input changed, and a stale KPI is not alerted when nothing
changed since the last complete load."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.test_utils import freeze_time
from dagster._core.utils import make_new_run_id

from assets.resources import DataQuality, LandingFolder
from pipelines.alerts import AlertChannels
from pipelines.config import SAMPLE_LANDING
from pipelines.definitions import defs
from pipelines.fanout import FANOUT_TAG
from pipelines.nightly import FINGERPRINT_TAG, input_fingerprint, last_loaded_fingerprint
from pipelines.sensors import INPUT_PARTS_TAG
from tests.test_alerts import webhook  # noqa: F401  (fixture)


@pytest.fixture
def landing(tmp_path):
    shutil.copytree(SAMPLE_LANDING, tmp_path / "landing")
    corrections = tmp_path / "correcties.csv"
    corrections.write_text("dataset,sleutel,kolom,nieuwe_waarde,reden,auteur,datum\n", encoding="utf-8")
    return LandingFolder(path=str(tmp_path / "landing")), DataQuality(corrections_path=str(corrections))


def _record_run(instance, job_name, status, tags):
    run = DagsterRun(job_name=job_name, run_id=make_new_run_id(), status=status, tags=tags)
    instance.add_run(run)
    return run


def _tick(instance, landing, data_quality):
    schedule = defs.resolve_schedule_def("nightly_0200")
    context = dg.build_schedule_context(
        instance=instance, resources={"landing": landing, "data_quality": data_quality},
        scheduled_execution_time=datetime(2026, 1, 31, 2, 0),
    )
    return schedule.evaluate_tick(context)


def test_nothing_new_means_no_run_and_a_new_file_means_a_run(landing):
    landing_folder, data_quality = landing
    with dg.instance_for_test() as instance:
        _nothing_new_then_new_file(instance, landing_folder, data_quality)


def _nothing_new_then_new_file(instance, landing_folder, data_quality):
    first = _tick(instance, landing_folder, data_quality)
    [request] = first.run_requests
    fingerprint = request.tags[FINGERPRINT_TAG]
    assert fingerprint == input_fingerprint(landing_folder, data_quality)

    # until that load succeeded, every night asks again
    assert len(_tick(instance, landing_folder, data_quality).run_requests) == 1
    _record_run(instance, "nightly", dg.DagsterRunStatus.SUCCESS, {FINGERPRINT_TAG: fingerprint})
    skipped = _tick(instance, landing_folder, data_quality)
    assert not skipped.run_requests and "niets nieuw" in skipped.skip_message

    # a new lettings export arrives: the next night loads again, with the new fingerprint
    new = landing_folder.root / "woonservice" / "toewijzingen_2026.csv"
    new.write_text("x\n", encoding="utf-8")
    [again] = _tick(instance, landing_folder, data_quality).run_requests
    assert again.tags[FINGERPRINT_TAG] != fingerprint


def test_a_partial_load_by_the_landing_sensor_counts_for_its_folders_only(landing):
    """After the landing sensor loaded a new lettings export, the next night has nothing new; a
    changed reference table (which a partial load does not read) still means a full load."""
    landing_folder, data_quality = landing
    with dg.instance_for_test() as instance:
        [full] = _tick(instance, landing_folder, data_quality).run_requests
        _record_run(instance, "nightly", dg.DagsterRunStatus.SUCCESS, dict(full.tags))
        sensor = defs.resolve_sensor_def("landing_folder_sensor")
        repository = defs.get_repository_def()
        with dg.build_sensor_context(instance=instance, resources={"landing": landing_folder}, repository_def=repository) as context:
            first = sensor(context)
        (landing_folder.root / "woonservice" / "toewijzingen_2026.csv").write_text("x\n", encoding="utf-8")
        with dg.build_sensor_context(
            instance=instance, cursor=first.cursor, resources={"landing": landing_folder}, repository_def=repository
        ) as context:
            [partial] = sensor(context).run_requests
        assert FINGERPRINT_TAG not in partial.tags and json.loads(partial.tags[INPUT_PARTS_TAG]).keys() == {"woonservice/toewijzingen"}

        assert len(_tick(instance, landing_folder, data_quality).run_requests) == 1  # not loaded yet
        _record_run(instance, "nightly", dg.DagsterRunStatus.SUCCESS, dict(partial.tags))
        skipped = _tick(instance, landing_folder, data_quality)
        assert not skipped.run_requests and "niets nieuw" in skipped.skip_message
        assert last_loaded_fingerprint(instance) == input_fingerprint(landing_folder, data_quality)

        with open(data_quality.corrections_path, "a", encoding="utf-8") as handle:
            handle.write("stg_bezit,X,kamers,3,typfout,steward,2026-01-30\n")
        [reload] = _tick(instance, landing_folder, data_quality).run_requests
        assert reload.tags[FINGERPRINT_TAG] == input_fingerprint(landing_folder, data_quality)


def test_a_steward_correction_or_a_failed_gemeente_also_means_a_run(landing):
    landing_folder, data_quality = landing
    with dg.instance_for_test() as instance, dg.instance_for_test() as instance2:
        _failed_gemeente_and_correction(instance, instance2, landing_folder, data_quality)


def _failed_gemeente_and_correction(instance, instance2, landing_folder, data_quality):
    fingerprint = input_fingerprint(landing_folder, data_quality)
    nightly = _record_run(instance, "nightly", dg.DagsterRunStatus.SUCCESS, {FINGERPRINT_TAG: fingerprint})
    assert not _tick(instance, landing_folder, data_quality).run_requests

    _record_run(instance, "kpi_per_gemeente", dg.DagsterRunStatus.FAILURE, {FANOUT_TAG: nightly.run_id})
    assert last_loaded_fingerprint(instance) is None  # a failed gemeente is retried the next night
    assert len(_tick(instance, landing_folder, data_quality).run_requests) == 1

    _record_run(instance2, "nightly", dg.DagsterRunStatus.SUCCESS, {FINGERPRINT_TAG: fingerprint})
    with open(data_quality.corrections_path, "a", encoding="utf-8") as handle:
        handle.write("stg_bezit,X,kamers,3,typfout,steward,2026-01-30\n")
    assert len(_tick(instance2, landing_folder, data_quality).run_requests) == 1


def test_no_new_load_while_the_previous_fan_out_still_runs(landing):
    landing_folder, data_quality = landing
    with dg.instance_for_test() as instance:
        running = _record_run(instance, "kpi_per_gemeente", dg.DagsterRunStatus.STARTED, {})
        skipped = _tick(instance, landing_folder, data_quality)
        assert not skipped.run_requests and running.run_id[:8] in skipped.skip_message
        instance.report_run_failed(running)
        assert len(_tick(instance, landing_folder, data_quality).run_requests) == 1


def test_a_stale_kpi_is_not_alerted_when_nothing_changed_since_the_last_complete_load(landing, webhook):  # noqa: F811
    landing_folder, data_quality = landing
    url, recorder = webhook
    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey("kpi_zon"))
    sensor = defs.resolve_sensor_def("freshness_alert")
    t0 = datetime(2026, 1, 10, 2, 30, tzinfo=UTC)
    with freeze_time(t0):
        instance.report_runless_asset_event(dg.AssetMaterialization("kpi_zon"))
    _record_run(instance, "nightly", dg.DagsterRunStatus.SUCCESS, {FINGERPRINT_TAG: input_fingerprint(landing_folder, data_quality)})
    from tests.test_freshness import evaluate

    assert evaluate(instance, node, t0 + timedelta(hours=30)) == FreshnessState.FAIL
    resources = {"alerts": AlertChannels(webhook_url=url), "landing": landing_folder, "data_quality": data_quality}
    with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def(), resources=resources) as context:
        result = sensor.evaluate_tick(context)
    assert recorder.posts == [] and "niets nieuw" in (result.skip_message or "")

    (landing_folder.root / "bezit" / "nieuw.csv").write_text("x\n", encoding="utf-8")  # unprocessed new data
    with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def(), resources=resources) as context:
        sensor.evaluate_tick(context)
    assert len(recorder.posts) == 1
