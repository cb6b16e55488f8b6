"""The stoplight rules on small hand-made KPI tables; every expected number is worked out by hand.

`kpi_frame` and `agreement_set` are also used by tests/test_report.py.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd
import pytest

from assets.kpi import KPI_TABLES
from assets.monitor.stoplight import (
    GEEL,
    GEEN_OORDEEL,
    GROEN,
    ROOD,
    STOPLIGHT,
    KpiTables,
    append_history,
    fmt,
    status_verloop,
    stoplight_rows,
    year_position,
)
from sources.agreements import AgreementSet

KPI_BY_NAME = {t.name: t for t in KPI_TABLES}
AS_OF = date(2026, 1, 31)


def kpi_frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A KPI table with the published columns: each row gives at least jaar, indicator and value
    (or suppressed); text dimensions default to 'alle', dates to the end of jaar."""
    table = KPI_BY_NAME[name]
    records = []
    for row in rows:
        jaar = int(row["jaar"])
        end = pd.Timestamp(f"{jaar}-12-31")
        record: dict[str, Any] = {}
        for column in table.columns:
            if column.type == "text":
                record[column.name] = "alle"
            elif column.type == "date":
                record[column.name] = pd.Timestamp(f"{jaar}-01-01") if column.name == "periode_begin" else end
            elif column.type == "boolean":
                record[column.name] = False
            else:
                record[column.name] = float("nan")
        if "peildatum_begin" in record:
            record["peildatum_begin"] = pd.Timestamp(f"{jaar - 1}-12-31")
        record.update(
            gemeente_code="GM0392", gemeente_naam="Haarlem", unit="woningen", definition_id=name,
            definition_version=1, source_snapshot="test.csv@000000000000",
        )
        record.update(row)
        if "value" in row and "numerator" not in row:
            record["numerator"] = row["value"]
        records.append(record)
    frame = pd.DataFrame(records, columns=table.column_names)
    frame["jaar"] = frame["jaar"].astype("Int64")
    return frame


def agreement_set(agreements: list[dict[str, Any]], *, start: int = 2022, end: int = 2025,
                  code: str = "GM0392", naam: str = "Haarlem") -> AgreementSet:
    defaults = {"theme": "Thema", "title": "Afspraak", "trekker": "corporaties", "priority": "T1"}
    return AgreementSet.model_validate({
        "gemeente": {"code": code, "naam": naam},
        "period": {"start": start, "end": end},
        "title": f"Test {naam}",
        "parties": {"gemeente": f"Gemeente {naam}", "corporaties": ["Elan Wonen"]},
        "agreements": [{**defaults, "id": str(i + 1), **a} for i, a in enumerate(agreements)],
    })


def judge(binding: dict[str, Any], tables: dict[str, pd.DataFrame], *, as_of: date = AS_OF, **agreement: Any) -> pd.Series:
    rows = stoplight_rows([agreement_set([{"kpi": binding, **agreement}])], tables, as_of)
    assert len(rows) == 1
    return rows.iloc[0]


EFG = {
    "table": "kpi_energielabels", "filters": {"indicator": "efg_aantal", "corporatie": "alle"},
    "comparison": "<=", "target": 0, "target_year": 2026, "baseline": {"value": 4179, "year": 2021},
    "tolerance": "5%", "rule": "linear_trajectory",
}


def efg_tables(values: dict[int, float]) -> dict[str, pd.DataFrame]:
    rows = [{"jaar": y, "indicator": "efg_aantal", "value": v} for y, v in values.items()]
    # another corporation's row must not be summed in: the binding selects corporatie 'alle'
    rows.append({"jaar": 2023, "indicator": "efg_aantal", "value": 99999.0, "corporatie": "Ymere"})
    return {"kpi_energielabels": kpi_frame("kpi_energielabels", rows)}


# -------------------------------------------------------------------------------------------------
# linear trajectory
# -------------------------------------------------------------------------------------------------


def test_linear_trajectory_on_schedule_is_green():
    # 4,179 at the end of 2021 -> 0 at the end of 2026: after 2 of 5 years the line is at
    # 4,179 - 2 * 4,179 / 5 = 2,507.4; a realisation of 2,500 is below it (lower is better): groen.
    row = judge(EFG, efg_tables({2022: 3500.0, 2023: 2500.0}), as_of=date(2024, 3, 1))
    assert row["status"] == GROEN
    assert row["trajectwaarde"] == pytest.approx(2507.4)
    assert row["realisatie"] == 2500.0
    assert row["peildatum_data"] == pd.Timestamp("2023-12-31")
    assert row["regel"] == "linear_trajectory" and bool(row["berekend"])
    assert row["kpi"] == "kpi_energielabels.efg_aantal" and "corporatie=alle" in row["kpi_filters"]
    assert "2.507,4" in row["toelichting"] and "op schema" in row["toelichting"]
    assert row["tolerantie"] == "5 %"


def test_linear_trajectory_within_tolerance_is_yellow_and_beyond_it_red():
    # tolerance 5 % of the task 4,179 = 208.95 dwellings
    row = judge(EFG, efg_tables({2023: 2600.0}), as_of=date(2024, 3, 1))  # 92.6 behind
    assert row["status"] == GEEL and "actie nodig" in row["toelichting"]
    row = judge(EFG, efg_tables({2023: 2800.0}), as_of=date(2024, 3, 1))  # 292.6 behind
    assert row["status"] == ROOD and "292,6" in row["toelichting"]


def test_linear_trajectory_in_the_target_year_is_judged_on_the_target():
    assert judge(EFG, efg_tables({2026: 0.0}), as_of=date(2027, 2, 1))["status"] == GROEN
    row = judge(EFG, efg_tables({2026: 150.0}), as_of=date(2027, 2, 1))  # 150 <= 208.95
    assert row["status"] == GEEL and "net niet gehaald" in row["toelichting"]
    row = judge(EFG, efg_tables({2026: 300.0}), as_of=date(2027, 2, 1))
    assert row["status"] == ROOD and "niet gehaald" in row["toelichting"]


def test_a_target_reached_early_is_green():
    row = judge(EFG, efg_tables({2023: 0.0}), as_of=date(2024, 3, 1))
    assert row["status"] == GROEN and "al gehaald" in row["toelichting"]


def test_data_dated_after_as_of_do_not_count():
    # as of mid 2024 the 2024 stock list (31-12-2024) did not exist yet: judged on 2023
    row = judge(EFG, efg_tables({2023: 2500.0, 2024: 5000.0}), as_of=date(2024, 6, 30))
    assert row["realisatie"] == 2500.0 and row["status"] == GROEN
    assert row["as_of"] == pd.Timestamp("2024-06-30")


def test_a_stock_list_of_1_january_is_the_end_of_the_previous_year():
    table = kpi_frame("kpi_energielabels", [
        {"jaar": 2024, "peildatum": pd.Timestamp("2024-01-01"), "indicator": "efg_aantal", "value": 2500.0},
    ])
    row = judge(EFG, {"kpi_energielabels": table}, as_of=date(2024, 3, 1))
    # position of 1-1-2024 is 2023 + 1/366: the line is there at 4,179 - 4,179 * (2 + 1/366) / 5
    expected = 4179 - 4179 * (year_position("2024-01-01") - 2021) / 5
    assert row["trajectwaarde"] == pytest.approx(expected)
    assert row["trajectwaarde"] == pytest.approx(2507.4, abs=3)
    assert row["status"] == GROEN


def test_a_baseline_read_from_the_data():
    binding = {**EFG, "baseline": {"year": 2021}, "target_year": 2025}
    row = judge(binding, efg_tables({2021: 400.0, 2023: 210.0}), as_of=date(2024, 3, 1))
    # 400 -> 0 over 2021-2025: after 2 of 4 years 200; 210 is 10 behind, tolerance 5 % of 400 = 20
    assert row["trajectwaarde"] == pytest.approx(200.0)
    assert row["status"] == GEEL
    row = judge(binding, efg_tables({2023: 210.0}), as_of=date(2024, 3, 1))
    assert row["status"] == GEEN_OORDEEL and "basiswaarde" in row["toelichting"]


# -------------------------------------------------------------------------------------------------
# norms per year (threshold) and partial periods
# -------------------------------------------------------------------------------------------------


REGULIER = {
    "table": "kpi_toewijzingen", "filters": {"indicator": "aandeel_regulier", "corporatie": "alle"},
    "comparison": ">=", "target": 65, "tolerance": 2, "rule": "threshold",
}


def lettings(rows: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    return {"kpi_toewijzingen": kpi_frame("kpi_toewijzingen", [{"unit": "%", **r} for r in rows])}


@pytest.mark.parametrize(("share", "status"), [(66.0, GROEN), (65.0, GROEN), (64.0, GEEL), (63.0, GEEL), (60.0, ROOD)])
def test_a_share_norm_per_year(share, status):
    row = judge(REGULIER, lettings([{"jaar": 2024, "indicator": "aandeel_regulier", "value": share, "denominator": 300.0}]))
    assert row["status"] == status
    assert row["trajectwaarde"] == 65 and row["doelwaarde"] == 65
    assert row["peildatum_data"] == pd.Timestamp("2024-12-31")


def test_an_upper_norm():
    binding = {**REGULIER, "filters": {"indicator": "aandeel_loting"}, "comparison": "<=", "target": 10}
    rows = [{"jaar": 2024, "indicator": "aandeel_loting", "value": v, "denominator": 300.0} for v in [11.5]]
    row = judge(binding, lettings(rows))
    assert row["status"] == GEEL and "1,50 procentpunt boven de norm" in row["toelichting"]


def test_a_partial_year_is_judged_provisionally_and_flagged():
    rows = [
        {"jaar": 2024, "indicator": "aandeel_regulier", "value": 70.0, "denominator": 300.0},
        {"jaar": 2025, "indicator": "aandeel_regulier", "value": 64.0, "denominator": 200.0, "partial_period": True},
        {"jaar": 2025, "kwartaal": "Q1", "indicator": "aandeel_regulier", "value": 64.0, "denominator": 70.0},
        {"jaar": 2025, "kwartaal": "Q2", "indicator": "aandeel_regulier", "value": 64.0, "denominator": 70.0},
        {"jaar": 2025, "kwartaal": "Q3", "indicator": "aandeel_regulier", "value": 64.0, "denominator": 60.0,
         "partial_period": True},
    ]
    row = judge(REGULIER, lettings(rows))
    assert row["status"] == GEEL
    assert bool(row["gedeeltelijke_periode"])
    # complete up to the last complete quarter (Q2); Q3 is still running
    assert row["peildatum_data"] == pd.Timestamp("2025-06-30")
    assert "Voorlopig" in row["toelichting"] and "2025 t/m 30-06-2025" in row["toelichting"]


def test_a_norm_for_a_given_year_only_looks_at_that_year():
    rows = [{"jaar": 2022, "indicator": "aandeel_regulier", "value": 70.0, "denominator": 300.0}]
    row = judge(REGULIER, lettings(rows), year=2024)
    assert row["status"] == GEEN_OORDEEL
    assert "de data dekken 2024 niet" in row["toelichting"] and "laatste jaar met data: 2022" in row["toelichting"]
    assert math.isnan(row["realisatie"])


def test_missing_recent_years_are_mentioned():
    rows = [{"jaar": 2023, "indicator": "aandeel_regulier", "value": 70.0, "denominator": 300.0}]
    row = judge(REGULIER, lettings(rows))
    assert row["status"] == GROEN and "de data voor 2024-2025 ontbreken" in row["toelichting"]


def test_the_latest_measurement_before_a_target_year_without_measurement():
    binding = {"table": "kpi_leefbaarheid", "filters": {"indicator": "wijken_onder_voldoende", "niveau": "gemeente"},
               "comparison": "<=", "target": 0, "target_year": 2021, "rule": "threshold",
               "use_latest_measurement": True}
    table = kpi_frame("kpi_leefbaarheid", [
        {"jaar": y, "niveau": "gemeente", "gebied_code": "GM0392", "indicator": "wijken_onder_voldoende",
         "value": v, "unit": "wijken"} for y, v in ((2018, 2.0), (2020, 0.0), (2022, 1.0))
    ])
    row = judge(binding, {"kpi_leefbaarheid": table}, as_of=date(2023, 1, 31))
    assert row["status"] == GROEN and row["realisatie"] == 0.0
    assert "2021 heeft geen meting" in row["toelichting"] and "(2020)" in row["toelichting"]


# -------------------------------------------------------------------------------------------------
# pro rata and growth ratio
# -------------------------------------------------------------------------------------------------


def test_a_yearly_quota_pro_rata_of_the_complete_quarters():
    binding = {"table": "kpi_toewijzingen", "filters": {"indicator": "aantal", "corporatie": "alle"},
               "comparison": ">=", "target": 1000, "tolerance": "5%", "rule": "pro_rata"}
    rows = [
        {"jaar": 2025, "indicator": "aantal", "value": 760.0, "unit": "toewijzingen", "partial_period": True},
        *({"jaar": 2025, "kwartaal": q, "indicator": "aantal", "value": v, "unit": "toewijzingen"}
          for q, v in (("Q1", 250.0), ("Q2", 250.0), ("Q3", 240.0))),
        {"jaar": 2025, "kwartaal": "Q4", "indicator": "aantal", "value": 20.0, "unit": "toewijzingen",
         "partial_period": True},
    ]
    row = judge(binding, {"kpi_toewijzingen": kpi_frame("kpi_toewijzingen", rows)})
    # complete to 30-09-2025, day 273 of 365: due 1,000 x 273/365 = 747.9; realised Q1-Q3 = 740;
    # 7.9 short, tolerance 5 % of 1,000 x 273/365 = 37.4: geel
    assert row["realisatie"] == 740.0
    assert row["trajectwaarde"] == pytest.approx(1000 * 273 / 365)
    assert row["peildatum_data"] == pd.Timestamp("2025-09-30")
    assert row["status"] == GEEL and bool(row["gedeeltelijke_periode"])


def test_a_quota_for_the_whole_period_pro_rata():
    binding = {"table": "kpi_voorraadontwikkeling",
               "filters": {"indicator": "nieuwbouw", "segment_type": "daeb", "segment": "DAEB"},
               "comparison": ">=", "target": 120, "target_year": 2027, "cumulative_from": 2024,
               "tolerance": "5%", "rule": "pro_rata"}
    def table(values):
        return {"kpi_voorraadontwikkeling": kpi_frame("kpi_voorraadontwikkeling", [
            {"jaar": y, "segment_type": "daeb", "segment": "DAEB", "indicator": "nieuwbouw", "value": v}
            for y, v in values.items()])}
    # end 2025 is 2 of 4 years: 60 due; 30 + 31 = 61
    rows = stoplight_rows([agreement_set([{"kpi": binding}], start=2024, end=2027)],
                          table({2023: 500.0, 2024: 30.0, 2025: 31.0}), AS_OF)
    row = rows.iloc[0]
    assert row["realisatie"] == 61.0 and row["trajectwaarde"] == pytest.approx(60.0)
    assert row["status"] == GROEN
    rows = stoplight_rows([agreement_set([{"kpi": binding}], start=2024, end=2027)], table({2024: 20.0, 2025: 35.0}), AS_OF)
    assert rows.iloc[0]["status"] == GEEL  # 55: 5 short, tolerance 6
    rows = stoplight_rows([agreement_set([{"kpi": binding}], start=2024, end=2027)], table({2025: 35.0}), AS_OF)
    assert rows.iloc[0]["status"] == GEEN_OORDEEL and "mist de jaren 2024" in rows.iloc[0]["toelichting"]


def test_a_year_missing_in_a_running_sum_is_not_skipped():
    binding = {"table": "kpi_voorraadontwikkeling",
               "filters": {"indicator": "netto_groei", "segment_type": "daeb", "segment": "DAEB"},
               "comparison": ">=", "target": 600, "target_year": 2025, "cumulative_from": 2022,
               "rule": "linear_trajectory"}
    table = kpi_frame("kpi_voorraadontwikkeling", [
        {"jaar": y, "segment_type": "daeb", "segment": "DAEB", "indicator": "netto_groei", "value": 100.0}
        for y in (2022, 2024, 2025)
    ])
    row = judge(binding, {"kpi_voorraadontwikkeling": table})
    # the running sum stops at 2022 (2023 missing): judged on 2022 only, and the gap is not bridged
    assert row["realisatie"] == 100.0 and row["peildatum_data"] == pd.Timestamp("2022-12-31")
    assert row["trajectwaarde"] == pytest.approx(150.0)


@pytest.mark.parametrize(("tolerance", "realised", "status"), [("10%", 240.0, ROOD), ("25%", 240.0, GEEL), ("10%", 300.0, GROEN)])
def test_growth_ratio(tolerance, realised, status):
    binding = {"table": "kpi_voorraadontwikkeling",
               "filters": {"indicator": "netto_groei", "segment_type": "daeb", "segment": "DAEB"},
               "comparison": ">=", "target": 600, "target_year": 2025, "cumulative_from": 2022,
               "tolerance": tolerance, "rule": "growth_ratio"}
    table = kpi_frame("kpi_voorraadontwikkeling", [
        {"jaar": 2022, "segment_type": "daeb", "segment": "DAEB", "indicator": "netto_groei", "value": realised / 2},
        {"jaar": 2023, "segment_type": "daeb", "segment": "DAEB", "indicator": "netto_groei", "value": realised / 2},
    ])
    row = judge(binding, {"kpi_voorraadontwikkeling": table}, as_of=date(2024, 3, 1))
    # 2 of 4 years: 150 needed per year; 240 realised = 120 per year = 80 % of the required pace
    assert row["status"] == status
    assert row["trajectwaarde"] == pytest.approx(300.0)
    assert "nodig 150 woningen per jaar" in row["toelichting"]


# -------------------------------------------------------------------------------------------------
# no colour: nothing due, no data, suppressed, configuration
# -------------------------------------------------------------------------------------------------


def test_nothing_due_yet_has_no_colour():
    row = judge(EFG, efg_tables({2021: 4179.0}), as_of=date(2021, 6, 1))
    assert row["status"] == GEEN_OORDEEL and "loopt vanaf 2022" in row["toelichting"]
    row = judge(EFG, efg_tables({2021: 4179.0}), as_of=date(2022, 2, 1))
    assert row["status"] == GEEN_OORDEEL and "nog geen data na het basisjaar 2021" in row["toelichting"]


def test_a_gemeente_without_data_has_no_colour():
    rows = stoplight_rows(
        [agreement_set([{"kpi": EFG}], code="GM0243", naam="Harderwijk")], efg_tables({2023: 1.0}), AS_OF
    )
    assert rows.iloc[0]["status"] == GEEN_OORDEEL
    assert "de data dekken Harderwijk niet" in rows.iloc[0]["toelichting"]
    assert pd.isna(rows.iloc[0]["peildatum_data"])


def test_tables_of_many_gemeenten_judge_each_on_its_own_rows():
    # A run over several gemeente partitions gets all their rows in one table. Haarlem's quarters and
    # Heemstede's are interleaved, Heemstede's rows first; each gemeente must get its own numbers.
    binding = {"table": "kpi_toewijzingen", "filters": {"indicator": "aantal", "corporatie": "alle"},
               "comparison": ">=", "target": 1000, "tolerance": "5%", "rule": "pro_rata"}
    heemstede = {"gemeente_code": "GM0397", "gemeente_naam": "Heemstede"}
    rows = []
    for quarter, haarlem_value, heemstede_value in (("Q1", 250.0, 60.0), ("Q2", 250.0, 50.0), ("Q3", 240.0, 40.0)):
        rows.append({"jaar": 2025, "kwartaal": quarter, "indicator": "aantal", "value": heemstede_value,
                     "unit": "toewijzingen", **heemstede})
        rows.append({"jaar": 2025, "kwartaal": quarter, "indicator": "aantal", "value": haarlem_value,
                     "unit": "toewijzingen"})
    rows.append({"jaar": 2025, "indicator": "aantal", "value": 160.0, "unit": "toewijzingen", "partial_period": True,
                 **heemstede})
    rows.append({"jaar": 2025, "indicator": "aantal", "value": 760.0, "unit": "toewijzingen", "partial_period": True})
    table = {"kpi_toewijzingen": kpi_frame("kpi_toewijzingen", rows)}
    sets = [agreement_set([{"kpi": binding}]), agreement_set([{"kpi": binding}], code="GM0397", naam="Heemstede")]
    both = stoplight_rows(sets, table, AS_OF).set_index("gemeente_code")
    # complete to 30-09-2025 (day 273 of 365): due 1,000 x 273/365 = 747.9 for each. Haarlem realised
    # 250 + 250 + 240 = 740 (7.9 short, within 5 %: geel); Heemstede 60 + 50 + 40 = 150 (rood).
    assert both.loc["GM0392", "realisatie"] == 740.0 and both.loc["GM0392", "status"] == GEEL
    assert both.loc["GM0397", "realisatie"] == 150.0 and both.loc["GM0397", "status"] == ROOD
    assert both.loc["GM0397", "peildatum_data"] == pd.Timestamp("2025-09-30")
    # the same rows as each gemeente's own run, given only its rows
    frame = table["kpi_toewijzingen"]
    for agreement in sets:
        own = frame[frame["gemeente_code"] == agreement.gemeente.code]
        alone = stoplight_rows([agreement], {"kpi_toewijzingen": own}, AS_OF).set_index("gemeente_code")
        pd.testing.assert_frame_equal(alone, both.loc[[agreement.gemeente.code]])
    # the tables as a view: each gemeente's rows in their order, with their index; none for another
    view = KpiTables(table)
    assert list(view.rows_of("kpi_toewijzingen", "GM0397").index) == [0, 2, 4, 6]
    assert view.rows_of("kpi_toewijzingen", "GM0243").empty
    assert list(view.rows_of("kpi_toewijzingen", "GM0243").columns) == list(table["kpi_toewijzingen"].columns)


def test_a_suppressed_realisation_is_shown_suppressed_never_zero():
    binding = {"table": "kpi_slaagkans",
               "filters": {"indicator": "slaagkans", "definition_id": "lokaal", "uitsplitsing": "doelgroep",
                           "doelgroep": "DAEB-doelgroep"},
               "comparison": ">=", "target": 20, "tolerance": 2, "rule": "threshold"}
    table = kpi_frame("kpi_slaagkans", [
        {"jaar": 2024, "indicator": "slaagkans", "definition_id": "lokaal", "uitsplitsing": "doelgroep",
         "doelgroep": "DAEB-doelgroep", "numerator": float("nan"), "denominator": 7.0, "value": float("nan"),
         "suppressed": True, "unit": "%"},
        {"jaar": 2024, "indicator": "slaagkans", "definition_id": "maaskoepel", "uitsplitsing": "doelgroep",
         "doelgroep": "DAEB-doelgroep", "denominator": 50.0, "value": 30.0, "unit": "%"},
    ])
    row = judge(binding, {"kpi_slaagkans": table}, year=2024)
    assert bool(row["onderdrukt"])
    assert math.isnan(row["realisatie"]) and row["realisatie"] != 0
    assert row["status"] == GEEN_OORDEEL and "onderdrukt" in row["toelichting"]
    assert row["peildatum_data"] == pd.Timestamp("2024-12-31")


def test_a_suppressed_year_in_a_running_sum_leaves_the_sum_unknown():
    binding = {"table": "kpi_voorraadontwikkeling",
               "filters": {"indicator": "netto_groei", "segment_type": "daeb", "segment": "DAEB"},
               "comparison": ">=", "target": 600, "target_year": 2025, "cumulative_from": 2022,
               "rule": "linear_trajectory"}
    table = kpi_frame("kpi_voorraadontwikkeling", [
        {"jaar": 2022, "segment_type": "daeb", "segment": "DAEB", "indicator": "netto_groei", "value": float("nan"),
         "suppressed": True},
        {"jaar": 2023, "segment_type": "daeb", "segment": "DAEB", "indicator": "netto_groei", "value": 100.0},
    ])
    row = judge(binding, {"kpi_voorraadontwikkeling": table}, as_of=date(2024, 3, 1))
    assert bool(row["onderdrukt"]) and math.isnan(row["realisatie"]) and row["status"] == GEEN_OORDEEL


def test_filters_that_leave_several_rows_are_a_configuration_problem():
    binding = {"table": "kpi_slaagkans", "filters": {"indicator": "slaagkans"},
               "comparison": ">=", "target": 20, "rule": "threshold"}
    table = kpi_frame("kpi_slaagkans", [
        {"jaar": 2024, "indicator": "slaagkans", "definition_id": d, "uitsplitsing": "totaal", "value": 25.0, "unit": "%"}
        for d in ("lokaal", "maaskoepel")
    ])
    row = judge(binding, {"kpi_slaagkans": table})
    assert row["status"] == GEEN_OORDEEL
    assert "configuratie" in row["toelichting"] and "definition_id" in row["toelichting"]


def test_an_unknown_indicator_or_missing_table_is_a_configuration_problem():
    row = judge({**EFG, "filters": {"indicator": "efg_aantl"}}, efg_tables({2023: 1.0}))
    assert row["status"] == GEEN_OORDEEL and "'efg_aantl' komt niet voor in kpi_energielabels" in row["toelichting"]
    row = judge(EFG, {})
    assert row["status"] == GEEN_OORDEEL and "niet aangeleverd" in row["toelichting"]


# -------------------------------------------------------------------------------------------------
# manual judgements, the table, the history
# -------------------------------------------------------------------------------------------------


MANUAL = {"reason": "KPI ontbreekt", "judgements": [
    {"status": "rood", "explanation": "niet gestart", "date": "2025-01-15", "author": "A. Steward", "confidence": "hoog"},
    {"status": "geel", "explanation": "gestart", "date": "2025-11-01", "author": "B. Steward",
     "evidence": "verslag bestuurlijk overleg", "confidence": "middel"},
]}


def test_a_manual_agreement_carries_the_stewards_latest_judgement():
    sets = [agreement_set([{"manual": MANUAL}])]
    row = stoplight_rows(sets, {}, AS_OF).iloc[0]
    assert row["status"] == GEEL and not bool(row["berekend"]) and row["regel"] == "handmatig"
    assert row["beoordelaar"] == "B. Steward" and row["beoordeeld_op"] == pd.Timestamp("2025-11-01")
    assert row["bewijs"] == "verslag bestuurlijk overleg" and row["zekerheid"] == "middel"
    assert row["toelichting"].startswith("gestart") and "KPI ontbreekt" in row["toelichting"]
    earlier = stoplight_rows(sets, {}, date(2025, 6, 1)).iloc[0]
    assert earlier["status"] == ROOD and earlier["beoordelaar"] == "A. Steward"
    none = stoplight_rows(sets, {}, date(2024, 12, 31)).iloc[0]
    assert none["status"] == GEEN_OORDEEL and "nog geen oordeel" in none["toelichting"]


def test_the_table_has_the_published_columns_and_types():
    rows = stoplight_rows([agreement_set([{"kpi": EFG}, {"manual": MANUAL, "year": 2024}])], efg_tables({2023: 2500.0}), AS_OF)
    assert list(rows.columns) == STOPLIGHT.column_names
    for column in ("gemeente_code", "gemeente_naam", "periode", "agreement_id", "jaar", "thema", "titel", "trekker",
                   "prioriteit", "kpi", "doelwaarde", "realisatie", "trajectwaarde", "status", "regel", "berekend",
                   "toelichting", "peildatum_data", "gedeeltelijke_periode", "as_of"):
        assert column in rows.columns
    assert rows["jaar"].tolist()[1] == 2024 and pd.isna(rows["jaar"].tolist()[0])
    assert rows["periode"].tolist() == ["2022-2025", "2022-2025"]
    assert set(rows["status"]) <= {GROEN, GEEL, ROOD, GEEN_OORDEEL}
    assert STOPLIGHT.table_spec().qualified_name == "monitor.monitor_stoplight"


def test_the_shipped_agreements_give_one_row_each():
    from assets.monitor import load_monitor_agreements

    sets = load_monitor_agreements(__import__("pathlib").Path(__file__).resolve().parent.parent / "agreements")
    rows = stoplight_rows(sets, efg_tables({2023: 2500.0}), AS_OF)
    assert len(rows) == sum(len(s.agreements) for s in sets) == 29
    assert rows.loc[(rows["gemeente_naam"] == "Haarlem") & (rows["kpi"] == "kpi_energielabels.efg_aantal"), "status"].item() == GROEN


def test_history_appends_runs_and_replaces_a_rerun():
    sets = [agreement_set([{"kpi": EFG}])]
    first = stoplight_rows(sets, efg_tables({2023: 2600.0}), date(2024, 1, 31))
    second = stoplight_rows(sets, efg_tables({2023: 2600.0, 2024: 1500.0}), date(2025, 1, 31))
    history = append_history(None, first)
    history = append_history(history, second)
    as_of = ["2024-01-31", "2025-01-31"]
    assert history["as_of"].dt.strftime("%Y-%m-%d").tolist() == as_of
    assert history["status"].tolist() == [GEEL, GROEN]
    again = append_history(history, second)  # a re-run for the same reporting date replaces its rows
    assert again["as_of"].dt.strftime("%Y-%m-%d").tolist() == as_of
    assert again.equals(history)
    verloop = status_verloop(again)
    assert verloop["verloop"].item() == "geel (31-01-2024) -> groen (31-01-2025)"
    assert verloop["vorige_status"].item() == GEEL


def test_history_read_back_from_the_warehouse_appends_cleanly(tmp_path):
    from assets.monitor.stoplight import HISTORIE
    from warehouse import Warehouse

    sets = [agreement_set([{"kpi": EFG}, {"manual": MANUAL}])]
    first = append_history(None, stoplight_rows(sets, efg_tables({2023: 2600.0}), date(2024, 1, 31)))
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    warehouse.publish({"h": (HISTORIE.table_spec(), first)})
    stored = warehouse.read("monitor", "monitor_stoplight_historie")
    warehouse.dispose()
    second = append_history(stored, stoplight_rows(sets, efg_tables({2023: 2600.0}), date(2025, 1, 31)))
    assert len(second) == 4 and list(second.columns) == HISTORIE.column_names
    assert second["as_of"].dt.year.tolist() == [2024, 2024, 2025, 2025]


def test_dutch_number_format():
    assert fmt(4179) == "4.179" and fmt(2507.4) == "2.507,4" and fmt(75.877, "%") == "75,9"
    assert fmt(1.4988, "index") == "1,50" and fmt(float("nan")) == "onbekend"


def test_a_partial_year_without_an_end_date_says_so():
    binding = {"table": "kpi_huurklassen", "filters": {"indicator": "aanbod_onder_aftoppingsgrens"},
               "comparison": ">=", "target": 70, "tolerance": 2, "rule": "threshold"}
    table = kpi_frame("kpi_huurklassen", [
        {"jaar": 2025, "peildatum": pd.NaT, "indicator": "aanbod_onder_aftoppingsgrens", "value": 72.0,
         "denominator": 80.0, "unit": "%", "partial_period": True},
    ])
    row = judge(binding, {"kpi_huurklassen": table})
    assert row["status"] == GROEN and bool(row["gedeeltelijke_periode"])
    assert "Realisatie 2025 (deel van het jaar): 72 %" in row["toelichting"] and "Voorlopig" in row["toelichting"]
