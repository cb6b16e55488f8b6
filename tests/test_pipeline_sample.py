"""The whole graph on the bundled sample, into a temporary DuckDB warehouse; and a broken delivery
that must leave the published tables exactly as they were."""

import dagster as dg
import pandas as pd
import pytest

from assets.kpi.voorraad import balance_errors
from assets.publish import PUBLISHED
from tests.pipeline_helpers import Workspace
from warehouse import Warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(tmp_path_factory, sample_baseline):
    """The whole graph on the sample (`make run`'s run, in process): the session's baseline run, made
    once and shared with the other tests that start from it (tests/fault_runner.baseline); here its
    values published into a warehouse of this module's own, and its check evaluations from its instance."""
    base = tmp_path_factory.mktemp("sample")
    workspace = sample_baseline.published(base)
    with sample_baseline.instance(base) as instance:
        records = instance.all_logs(sample_baseline.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        evaluations = [record.dagster_event.asset_check_evaluation_data for record in records if record.dagster_event]
    warehouse = Warehouse(workspace.url)
    tables = {name: warehouse.read("kpi", name) for name in PUBLISHED}
    warehouse.dispose()
    return {"workspace": workspace, "url": workspace.url, "tables": tables, "evaluations": evaluations}


def test_every_kpi_table_is_published_and_non_empty(published):
    for name, frame in published["tables"].items():
        assert len(frame) > 0, name
        assert list(frame.columns) == PUBLISHED[name].column_names
        assert "run_id" not in frame.columns


def test_all_checks_were_evaluated_and_none_blocked(published):
    evaluations = published["evaluations"]
    names = {e.check_name for e in evaluations}
    expected = {f"gx_{d}" for d in ("stg_bezit", "stg_toewijzingen", "stg_woningzoekenden", "stg_energielabels",
                                    "stg_leefbaarometer", "stg_voorraadmutaties", "stg_referentiedata")}
    assert expected | {"voorraad_balans", "bezitslabel_vs_ep_online", "toewijzingen_buiten_bezit"} <= names
    assert all(e.passed or e.severity == dg.AssetCheckSeverity.WARN for e in evaluations)


def test_voorraad_balances_and_has_four_years(published):
    voorraad = published["tables"]["kpi_voorraadontwikkeling"].copy()
    voorraad["numerator"] = voorraad["numerator"].astype("float64")
    assert balance_errors(voorraad).empty
    years = voorraad.groupby("gemeente_code")["jaar"].agg(lambda y: sorted(y.unique().tolist())).to_dict()
    # stock lists: Haarlem/Heemstede end 2021-2025, Harderwijk end 2020-2024, Alphen end 2015-2020
    assert years == {
        "GM0392": [2022, 2023, 2024, 2025], "GM0397": [2022, 2023, 2024, 2025],
        "GM0243": [2021, 2022, 2023, 2024], "GM0484": [2016, 2017, 2018, 2019, 2020],
    }


def test_sample_kpis_are_plausible(published):
    labels = published["tables"]["kpi_energielabels"]
    efg = labels[(labels["indicator"] == "efg_aantal") & (labels["corporatie"] == "alle")]
    assert (efg["value"] > 0).any()
    zon = published["tables"]["kpi_zon"]
    tj = zon[(zon["indicator"] == "tj_per_jaar") & (zon["corporatie"] == "alle")]
    assert (tj["value"] > 0).all()
    slaagkans = published["tables"]["kpi_slaagkans"]
    assert set(slaagkans["definition_id"]) == {"maaskoepel", "lokaal", "eenvoudig"}
    total = slaagkans[slaagkans["uitsplitsing"] == "totaal"]
    assert set(total.loc[total["partial_period"].astype(bool), "jaar"]) == {2025}
    published_values = total.loc[~total["suppressed"].astype(bool), "value"]
    assert published_values.between(0, 100).all()
    region = total[total["gemeente_code"].isin(["GM0392", "GM0397"])]
    assert region["value"].between(0, 100, inclusive="right").all()  # seekers are housed every year
    assert not region["suppressed"].astype(bool).any()


def test_a_malformed_delivery_fails_the_run_and_leaves_the_warehouse_intact(published, tmp_path):
    workspace = Workspace(tmp_path, landing=published["workspace"].landing)
    workspace.url = published["url"]
    landing = workspace.landing
    lettings = sorted((landing / "woonservice").glob("toewijzingen_*.csv"))[0]
    lines = lettings.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    cells = lines[5].split(";")
    cells[header.index("toewijzingsdatum")] = "31-02-2024"  # no such date
    lines[5] = ";".join(cells)
    lettings.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = workspace.run()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure and e.step_key == "raw_toewijzingen")
    message = failure.step_failure_data.user_failure_data.description
    assert lettings.name in message and "rij 6" in message and "toewijzingsdatum" in message and "31-02-2024" in message
    assert not any(e.is_step_success and e.step_key == "warehouse_publicatie" for e in result.all_events)

    warehouse = Warehouse(published["url"])
    for name, before in published["tables"].items():
        pd.testing.assert_frame_equal(warehouse.read("kpi", name), before)
    warehouse.dispose()
