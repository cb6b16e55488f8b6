"""A failing critical expectation blocks the KPI downstream; a warning informs without blocking."""

import dagster as dg
import pandas as pd

from expectations.checks import suite_check
from expectations.runner import run_suite


def lettings(**overrides):
    frame = pd.DataFrame(
        {
            "toewijzing_id": ["T1", "T2", "T3"],
            "toewijzingsdatum": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05"]),
            "gemeente_code": ["GM0392", "GM0392", "GM0397"],
            "publicatiemodel": ["AAN", "LOT", "AAN"],
            "voorrang": [None, "URG", None],
            "netto_kale_huur": [600.0, 650.0, 700.0],
            "passendheid": ["PAS", "PAS", "PAS"],
            "woongemeente_code": ["GM0392", "GM0392", "GM0397"],
            "aantal_reacties": [10, 20, 30],
            "leeftijd_hoofdaanvrager": [30, 40, 50],
            "_source_file": ["woonservice/t.csv"] * 3,
            "_source_row": [2, 3, 4],
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_failing_rows_name_file_row_column_value_and_rule():
    outcome = run_suite(lettings(publicatiemodel=["AAN", "XYZ", "AAN"]), "stg_toewijzingen")
    rows = outcome.failing_rows()
    assert rows.to_dict("records") == [
        {"bestand": "woonservice/t.csv", "rij": 3, "kolom": "publicatiemodel", "waarde": "XYZ",
         "regel": "expect_column_values_to_be_in_set(publicatiemodel)", "ernst": "ERROR"}
    ]
    assert [f.unexpected_count for f in outcome.failed] == [1]


def _run(frame):
    downstream_ran = []

    @dg.asset(name="stg_toewijzingen")
    def staged() -> pd.DataFrame:
        return frame

    @dg.asset(deps=[staged])
    def kpi_downstream() -> None:
        downstream_ran.append(True)

    result = dg.materialize([staged, kpi_downstream, suite_check("stg_toewijzingen")], raise_on_error=False)
    evaluation = result.get_asset_check_evaluations()[0]
    return result, evaluation, bool(downstream_ran)


def test_error_severity_blocks_downstream():
    result, evaluation, ran = _run(lettings(netto_kale_huur=[600.0, -5.0, 700.0]))
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert not ran and not result.success
    assert "netto_kale_huur" in evaluation.metadata["foute_rijen"].value


def test_warning_severity_does_not_block():
    result, evaluation, ran = _run(lettings(passendheid=["PAS", "???", "PAS"]))
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert ran and result.success
