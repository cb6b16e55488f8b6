import json

import dagster as dg

from assets.resources import LandingFolder
from pipelines.definitions import defs
from pipelines.sensors import changed_folders, folder_fingerprints


def test_fingerprints_change_only_for_the_touched_folder(tmp_path):
    (tmp_path / "woonservice").mkdir()
    (tmp_path / "bezit").mkdir()
    before = folder_fingerprints(tmp_path)
    (tmp_path / "woonservice" / "toewijzingen_2026.csv").write_text("x")
    after = folder_fingerprints(tmp_path)
    assert changed_folders(before, after) == ["woonservice/toewijzingen"]


def test_each_woonservice_export_is_its_own_part_and_other_files_count_for_both(tmp_path):
    (tmp_path / "woonservice").mkdir()
    before = folder_fingerprints(tmp_path)
    (tmp_path / "woonservice" / "woningzoekenden_2026.xlsx").write_text("x")
    seekers = folder_fingerprints(tmp_path)
    assert changed_folders(before, seekers) == ["woonservice/woningzoekenden"]
    (tmp_path / "woonservice" / "leesmij.txt").write_text("x")
    assert changed_folders(seekers, folder_fingerprints(tmp_path)) == ["woonservice"]


def _landing_tick(instance: dg.DagsterInstance, root, cursor: str | None) -> dg.SensorResult:
    """One evaluation of landing_folder_sensor on the landing folder `root`."""
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing": LandingFolder(path=str(root))},
        repository_def=defs.get_repository_def(),
    ) as context:
        return defs.resolve_sensor_def("landing_folder_sensor")(context)


def _selection_after(tmp_path, new_file: str) -> set[str]:
    (tmp_path / "woonservice").mkdir(exist_ok=True)
    with dg.instance_for_test() as instance:
        first = _landing_tick(instance, tmp_path, None)
        (tmp_path / "woonservice" / new_file).write_text("x")
        [request] = _landing_tick(instance, tmp_path, first.cursor).run_requests
    return {k.to_user_string() for k in request.asset_selection}


def test_a_new_lettings_month_loads_the_lettings_and_not_the_seekers(tmp_path):
    keys = _selection_after(tmp_path, "toewijzingen_2026-01.csv")
    assert {"raw_toewijzingen", "stg_toewijzingen"} <= keys
    assert not {"raw_woningzoekenden", "stg_woningzoekenden"} & keys


def test_a_file_of_neither_export_loads_both(tmp_path):
    keys = _selection_after(tmp_path, "onbekend_2026.csv")
    assert {"raw_toewijzingen", "raw_woningzoekenden", "stg_toewijzingen", "stg_woningzoekenden"} <= keys


def test_sensor_requests_the_raw_assets_of_a_new_file_and_everything_downstream(tmp_path):
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    (tmp_path / "ep_online").mkdir()
    resources = {"landing": LandingFolder(path=str(tmp_path))}
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(instance=instance, resources=resources, repository_def=defs.get_repository_def()) as context:
            first = sensor(context)
        assert not first.run_requests  # the first look only records what is there
        (tmp_path / "ep_online" / "v20251201_v4_csv.zip").write_bytes(b"new")
        with dg.build_sensor_context(
            instance=instance, cursor=first.cursor, resources=resources, repository_def=defs.get_repository_def()
        ) as context:
            second = sensor(context)
    [request] = second.run_requests
    keys = {k.to_user_string() for k in request.asset_selection}
    assert {"raw_ep_online", "stg_energielabels"} <= keys
    # The per-gemeente layer follows through kpi_per_gemeente_sensor once this load succeeds.
    assert "raw_toewijzingen" not in keys and not any(k.startswith(("kpi_", "monitor_", "warehouse_")) for k in keys)
    assert json.loads(second.cursor)["ep_online"] != json.loads(first.cursor)["ep_online"]


def test_new_files_wait_while_per_gemeente_runs_of_the_previous_load_still_run(tmp_path):
    """A partial load started now would replace staged values under gemeenten still reading them."""
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._core.utils import make_new_run_id

    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    (tmp_path / "ep_online").mkdir()
    resources = {"landing": LandingFolder(path=str(tmp_path))}
    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(instance=instance, resources=resources, repository_def=repository) as context:
            first = sensor(context)
        (tmp_path / "ep_online" / "v20251201_v4_csv.zip").write_bytes(b"new")
        running = DagsterRun(job_name="kpi_per_gemeente", run_id=make_new_run_id(), status=dg.DagsterRunStatus.STARTED)
        instance.add_run(running)
        with dg.build_sensor_context(
            instance=instance, cursor=first.cursor, resources=resources, repository_def=repository
        ) as context:
            waiting = sensor(context)
        assert not waiting.run_requests and "lopen nog" in waiting.skip_reason.skip_message
        assert waiting.cursor == first.cursor  # the new file is not forgotten

        instance.report_run_canceled(running)  # the fan-out is done: the next tick loads the new file
        with dg.build_sensor_context(
            instance=instance, cursor=waiting.cursor, resources=resources, repository_def=repository
        ) as context:
            after = sensor(context)
        [request] = after.run_requests
        assert "raw_ep_online" in {k.to_user_string() for k in request.asset_selection}


def test_a_new_mutation_file_is_staged_once_loaded_without_rereading_the_total_file(tmp_path):
    """The daily mutation file is read by the mutation sensor's run; the landing sensor waits for that
    load (keeping the file's part unseen in its cursor), then stages it: stg_energielabels and what
    follows, not raw_ep_online (the national total file)."""
    folder = tmp_path / "ep_online"
    folder.mkdir()
    (folder / "v20251101_v4_csv.zip").write_bytes(b"total")
    with dg.instance_for_test() as instance:
        first = _landing_tick(instance, tmp_path, None)
        (folder / "d20251102_v4.zip").write_bytes(b"mutations")
        waiting = _landing_tick(instance, tmp_path, first.cursor)
        assert not waiting.run_requests
        assert "nog niet ingelezen (partitie 2025-11-02)" in waiting.skip_reason.skip_message
        assert json.loads(waiting.cursor)["ep_online/mutaties"] == json.loads(first.cursor)["ep_online/mutaties"]

        instance.add_dynamic_partitions("ep_online_mutatiebestanden", ["2025-11-02"])
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key="raw_ep_online_mutaties", partition="2025-11-02")
        )
        loaded = _landing_tick(instance, tmp_path, waiting.cursor)
    [request] = loaded.run_requests
    keys = {k.to_user_string() for k in request.asset_selection}
    assert "stg_energielabels" in keys and "raw_ep_online" not in keys and "raw_ep_online_mutaties" not in keys
    assert json.loads(request.tags["prestatiemonitor/invoer-delen"]).keys() == {"ep_online/mutaties"}
    assert json.loads(loaded.cursor)["ep_online/mutaties"] != json.loads(first.cursor)["ep_online/mutaties"]


def test_a_waiting_mutation_file_does_not_hold_up_a_new_lettings_export(tmp_path):
    (tmp_path / "ep_online").mkdir()
    (tmp_path / "woonservice").mkdir()
    (tmp_path / "ep_online" / "v20251101_v4_csv.zip").write_bytes(b"total")
    with dg.instance_for_test() as instance:
        first = _landing_tick(instance, tmp_path, None)
        (tmp_path / "ep_online" / "d20251102_v4.zip").write_bytes(b"mutations")
        (tmp_path / "woonservice" / "toewijzingen_2025-11.csv").write_text("x")
        result = _landing_tick(instance, tmp_path, first.cursor)
    [request] = result.run_requests
    keys = {k.to_user_string() for k in request.asset_selection}
    assert "raw_toewijzingen" in keys and "stg_energielabels" not in keys
    assert json.loads(result.cursor)["ep_online/mutaties"] == json.loads(first.cursor)["ep_online/mutaties"]
