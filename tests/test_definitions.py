
import dagster as dg

from pipelines.definitions import defs


def test_definitions_load_with_every_layer_schedule_and_sensor():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    expected = {
        "raw_bezit", "raw_ep_online", "raw_leefbaarometer", "raw_toewijzingen", "raw_woningzoekenden",
        "stg_bezit", "stg_energielabels", "stg_voorraadmutaties", "stg_toewijzingen", "stg_woningzoekenden",
        "stg_leefbaarometer", "kpi_slaagkans", "kpi_energielabels", "kpi_zon", "kpi_voorraadontwikkeling",
        "warehouse_publicatie",
    }
    assert expected <= keys
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("stg_bezit", "gx_stg_bezit") in checks
    assert ("stg_toewijzingen", "gx_stg_toewijzingen") in checks
    assert ("kpi_voorraadontwikkeling", "voorraad_balans") in checks
    schedule = defs.resolve_schedule_def("nightly_0200")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Amsterdam"
    assert defs.resolve_sensor_def("landing_folder_sensor") is not None
    assert defs.resolve_job_def("nightly") is not None


def test_every_asset_is_documented_owned_grouped_and_kinded():
    for spec in defs.resolve_all_asset_specs():
        name = spec.key.to_user_string()
        assert spec.description, name
        assert spec.owners, name
        assert spec.group_name and spec.group_name != "default", name
        assert spec.kinds, name


def test_suites_and_the_balance_block_the_kpis():
    graph = defs.resolve_asset_graph()
    blocking = {k.name for k in graph.asset_check_keys if graph.get_check_spec(k).blocking}
    suites = {k.name for k in graph.asset_check_keys if k.name.startswith("gx_")}
    assert len(suites) == 7
    assert suites | {"voorraad_balans"} <= blocking


def test_the_code_location_validates_as_the_code_server_loads_it():
    """Every job, schedule and sensor resolvable, node names unique (an op and a job once shared one)."""
    from pipelines.definitions import defs as loaded

    dg.Definitions.validate_loadable(loaded)
    assert {j.name for j in loaded.get_repository_def().get_all_jobs()} >= {
        "nightly", "kpi_per_gemeente", "ep_online_mutaties", "retentie_opschonen",
    }
