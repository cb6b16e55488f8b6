"""The data steward's loop, end to end on a broken copy of the sample:
a red run that names the dataset and rule and keeps yesterday's KPIs; the failing row in the
quarantine with file, row and key; a correction; a re-run of only the affected assets; green."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.partitions import GEMEENTE_PARTITIES
from assets.publish import PUBLISHED
from tests.pipeline_helpers import Workspace, failed_steps
from warehouse import Warehouse
from warehouse.quality import open_quarantine

pytestmark = pytest.mark.slow


def break_letting(workspace: Workspace) -> tuple[str, int]:
    """Give one letting a date after 'today' (31-01-2026): the reader accepts it, the suite does not.
    Returns its key as the quarantine shows it: the pseudonym of its toewijzing_id (sources/pseudonym.py)."""
    path = next((workspace.landing / "woonservice").glob("toewijzingen_*.csv"))
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = lines[9].split(";")
    cells[header.index("toewijzingsdatum")] = "15-03-2026"
    lines[9] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pseudonymiser = workspace.resources()["pseudonymisation"].pseudonymiser()  # type: ignore[attr-defined]
    return pseudonymiser.token("toewijzing_id", cells[header.index("toewijzing_id")]), 10


def break_seeker(workspace: Workspace) -> int:
    """A seeker period starting after 'today': policy 'partial' drops that row and carries on."""
    path = next((workspace.landing / "woonservice").glob("woningzoekenden_*.csv"))
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = lines[4].split(";")
    cells[header.index("periode_begin")] = "01-02-2026"
    cells[header.index("periode_einde")] = "31-12-2026"
    lines[4] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 5


@pytest.fixture(scope="module")
def loop(tmp_path_factory, sample_baseline):
    # yesterday's green night: the session's sample run, its instance (the history this night's run
    # sees) and its tables published into a warehouse of its own
    base = tmp_path_factory.mktemp("steward")
    instance = sample_baseline.instance(base)
    workspace = sample_baseline.published(base, instance=instance)
    warehouse = Warehouse(workspace.url)
    yesterday = {name: warehouse.read("kpi", name) for name in PUBLISHED}
    letting_id, letting_row = break_letting(workspace)
    seeker_row = break_seeker(workspace)
    red = workspace.run(instance=instance)
    state = {
        "workspace": workspace, "instance": instance, "warehouse": warehouse, "yesterday": yesterday,
        "letting_id": letting_id, "letting_row": letting_row, "seeker_row": seeker_row, "red": red,
        "quarantine": open_quarantine(warehouse),
    }
    yield state
    warehouse.dispose()
    instance.dispose()


def test_red_run_names_dataset_and_rule_and_keeps_yesterdays_kpis(loop):
    red = loop["red"]
    assert not red.success
    [evaluation] = [e for e in red.get_asset_check_evaluations() if e.check_name == "gx_stg_toewijzingen"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "stg_toewijzingen" in evaluation.description
    assert "expect_column_values_to_be_between(toewijzingsdatum)" in evaluation.description
    assert not any(e.is_step_success and e.step_key == "warehouse_publicatie" for e in red.all_events)
    for name, before in loop["yesterday"].items():
        pd.testing.assert_frame_equal(loop["warehouse"].read("kpi", name), before)


def test_quarantine_names_file_row_key_value_and_rule(loop):
    q = loop["quarantine"]
    letting = q[q["dataset"] == "stg_toewijzingen"]
    assert len(letting) == 1
    row = letting.iloc[0]
    assert row["bestand"].startswith("woonservice/toewijzingen_")
    assert row["rij"] == loop["letting_row"]
    assert row["sleutel"] == f"toewijzing_id={loop['letting_id']}"
    assert row["kolom"] == "toewijzingsdatum" and row["waarde"].startswith("2026-03-15")
    assert row["actie"] == "lading geblokkeerd" and row["ernst"] == "ERROR"


def test_partial_policy_quarantines_the_row_and_lets_the_rest_flow(loop):
    red = loop["red"]
    [evaluation] = [e for e in red.get_asset_check_evaluations() if e.check_name == "gx_stg_woningzoekenden"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["rijen_verwijderd_naar_quarantaine"].value == 1
    seeker = loop["quarantine"][loop["quarantine"]["dataset"] == "stg_woningzoekenden"]
    assert seeker["rij"].tolist() == [loop["seeker_row"]]
    assert seeker["actie"].tolist() == ["rij verwijderd"]


def test_report_is_written_and_linked(loop):
    [evaluation] = [e for e in loop["red"].get_asset_check_evaluations() if e.check_name == "gx_stg_toewijzingen"]
    report = evaluation.metadata["rapport"].value
    text = Path(report).read_text(encoding="utf-8")
    assert loop["letting_id"] in text and "NIET GEHAALD" in text


def test_correction_and_rerun_of_the_affected_assets_turns_green(loop):
    workspace = loop["workspace"]
    with workspace.corrections.open("a", encoding="utf-8") as handle:
        handle.write(
            f"stg_toewijzingen,toewijzing_id={loop['letting_id']},toewijzingsdatum,15-03-2025,"
            "typefout in jaar (export 2025),J. Steward,2026-01-31\n"
            "stg_toewijzingen,toewijzing_id=tw_0000000000000000,kamers,3,oude correctie,J. Steward,2026-01-31\n"
        )
    green = workspace.run(selection="stg_toewijzingen*", instance=loop["instance"])
    assert green.success, failed_steps(green)
    ran = {e.step_key for e in green.all_events if e.is_step_success}
    assert "raw_toewijzingen" not in ran and "stg_bezit" not in ran  # only the affected part re-ran
    assert {"stg_toewijzingen", "kpi_slaagkans", "warehouse_publicatie"} <= ran
    [evaluation] = [e for e in green.get_asset_check_evaluations() if e.check_name == "gx_stg_toewijzingen"]
    # the letting is fixed; the correction that matches nothing is reported, not silently dropped
    assert evaluation.severity == dg.AssetCheckSeverity.WARN and "tw_0000000000000000" in evaluation.description
    warehouse = loop["warehouse"]
    still_open = open_quarantine(warehouse, "stg_toewijzingen")
    assert still_open.empty
    audit = warehouse.read("dq", "correctie_audit")
    applied = audit[audit["sleutel"] == f"toewijzing_id={loop['letting_id']}"].iloc[0]
    assert applied["status"] == "toegepast" and applied["oude_waarde"].startswith("2026-03-15")
    assert applied["auteur"] == "J. Steward"
    # the re-run republished every gemeente: the publication log names it for each of them
    log = warehouse.read("kpi", "publicatie")
    refreshed = log[(log["tabel"] == "kpi.kpi_slaagkans") & (log["run_id"] == green.run_id)]
    assert set(refreshed["gemeente_code"]) == set(GEMEENTE_PARTITIES.get_partition_keys())
