import pandas as pd
import pytest

from assets.kpi.energielabels import GEEN_LABEL, compute_energielabels, label_at_peildatum
from tests.kpi_fixtures import one, stock

PEIL = "2024-12-31"


def certs(rows):
    frame = pd.DataFrame(rows)
    frame["corporatie"] = "Testcorporatie"
    for column in ("registratiedatum", "geldig_tot", "opnamedatum"):
        frame[column] = pd.to_datetime(frame[column])
    if "energie_index" not in frame:
        frame["energie_index"] = float("nan")
    frame["energie_index"] = frame["energie_index"].astype("float64")
    frame["_source_row"] = range(4, len(frame) + 4)
    return frame


@pytest.fixture
def case():
    units = stock(
        [
            {"vhe_id": "V1", "peildatum": PEIL, "wijk_code": "WK039201"},
            {"vhe_id": "V2", "peildatum": PEIL, "wijk_code": "WK039201"},
            {"vhe_id": "V3", "peildatum": PEIL, "wijk_code": "WK039201"},
            {"vhe_id": "V4", "peildatum": PEIL, "monument": True, "wijk_code": "WK039202"},
            {"vhe_id": "V5", "peildatum": PEIL, "wijk_code": "WK039202"},
            {"vhe_id": "V6", "peildatum": PEIL, "wijk_code": "WK039202"},
            {"vhe_id": "V7", "peildatum": PEIL, "uit_exploitatie_datum": "2024-06-01", "uit_exploitatie_reden": "sloop"},
        ]
    )
    c = certs(
        [
            # V1: an old G replaced by a newer B -> B
            {"vhe_id": "V1", "registratiedatum": "2015-03-01", "geldig_tot": "2025-03-01", "opnamedatum": "2015-02-01", "energieklasse": "G", "energie_index": 2.9},
            {"vhe_id": "V1", "registratiedatum": "2022-06-01", "geldig_tot": "2032-06-01", "opnamedatum": "2022-05-01", "energieklasse": "B"},
            # V2: expired in 2022 -> no valid label
            {"vhe_id": "V2", "registratiedatum": "2012-05-01", "geldig_tot": "2022-05-01", "opnamedatum": "2012-04-01", "energieklasse": "C"},
            # V3: a 2016 E (index 2.1) still valid; the A registered after the peildatum does not count yet
            {"vhe_id": "V3", "registratiedatum": "2016-01-10", "geldig_tot": "2026-01-10", "opnamedatum": "2016-01-01", "energieklasse": "E", "energie_index": 2.1},
            {"vhe_id": "V3", "registratiedatum": "2025-02-01", "geldig_tot": "2035-02-01", "opnamedatum": "2025-01-15", "energieklasse": "A"},
            # V4: F but a monument -> exempt; its label runs out on 01-09-2025, within 12 months
            {"vhe_id": "V4", "registratiedatum": "2015-09-01", "geldig_tot": "2025-09-01", "opnamedatum": "2021-08-01", "energieklasse": "F"},
            # V5: two certificates on one day -> the later survey (opnamedatum) wins: C
            {"vhe_id": "V5", "registratiedatum": "2023-03-01", "geldig_tot": "2033-03-01", "opnamedatum": "2023-02-10", "energieklasse": "C"},
            {"vhe_id": "V5", "registratiedatum": "2023-03-01", "geldig_tot": "2033-03-01", "opnamedatum": "2023-01-10", "energieklasse": "D"},
            # V7 left the stock before the peildatum: its G is not counted
            {"vhe_id": "V7", "registratiedatum": "2020-01-01", "geldig_tot": "2030-01-01", "opnamedatum": "2019-12-01", "energieklasse": "G"},
        ]
    )
    return units, c


def test_label_at_peildatum_rules(case):
    units, c = case
    labels = label_at_peildatum(units[units["in_exploitatie"]], c).set_index("vhe_id")["label_op_peildatum"]
    assert labels.to_dict() == {"V1": "B", "V2": GEEN_LABEL, "V3": "E", "V4": "F", "V5": "C", "V6": GEEN_LABEL}


def test_efg_count_excludes_monuments_and_counts_missing_labels_apart(case):
    units, c = case
    out = compute_energielabels(units, c, exemptions=["monument"])
    row = lambda **kw: one(out, corporatie="Testcorporatie", wijk_code="alle", **kw)  # noqa: E731
    assert row(indicator="efg_aantal")["value"] == 1  # V3 only; V4 is a monument, V7 left
    assert row(indicator="efg_vrijgesteld")["value"] == 1  # V4
    assert row(indicator="zonder_geldig_label")["value"] == 2  # V2 expired, V6 none
    no_label = row(indicator="label_verdeling", energieklasse=GEEN_LABEL)
    assert (no_label["numerator"], no_label["denominator"]) == (2, 6)
    assert no_label["value"] == pytest.approx(100 * 2 / 6)
    assert row(indicator="label_verdeling", energieklasse="B")["numerator"] == 1
    # only V3's pre-2021 label carries an EnergieIndex: mean 2.1 over 1 dwelling
    index = row(indicator="gemiddelde_energie_index")
    assert (index["numerator"], index["denominator"], index["value"]) == (pytest.approx(2.1), 1, pytest.approx(2.1))


def test_without_exemptions_the_monument_counts(case):
    units, c = case
    out = compute_energielabels(units, c, exemptions=[])
    assert one(out, corporatie="alle", wijk_code="alle", indicator="efg_aantal")["value"] == 2


def test_per_wijk_rows_add_up_to_the_gemeente(case):
    units, c = case
    out = compute_energielabels(units, c, exemptions=[])
    efg = lambda wijk: one(out, corporatie="alle", wijk_code=wijk, indicator="efg_aantal")["value"]  # noqa: E731
    assert (efg("WK039201"), efg("WK039202"), efg("alle")) == (1, 1, 2)  # V3 | V4
    share = one(out, corporatie="alle", wijk_code="WK039202", indicator="label_verdeling", energieklasse=GEEN_LABEL)
    assert (share["numerator"], share["denominator"]) == (1, 3)  # V6 of V4, V5, V6


def test_labels_expiring_within_twelve_months(case):
    units, c = case
    out = compute_energielabels(units, c, exemptions=["monument"])
    # only V4's label (valid until 01-09-2025) ends by 31-12-2025; V3's runs to 10-01-2026
    assert one(out, corporatie="alle", wijk_code="alle", indicator="verloopt_binnen_12_maanden")["value"] == 1


def test_efg_still_to_do_per_year_until_the_target_date(case):
    units, c = case
    out = compute_energielabels(
        units, c, exemptions=["monument"], target_date=lambda gemeente: pd.Timestamp("2026-12-31")
    )
    row = one(out, corporatie="alle", wijk_code="alle", indicator="efg_nog_te_doen_per_jaar")
    # 1 EFG home (V3) over 730 days = 1.99863 years -> 0.50034 per year
    assert row["value"] == pytest.approx(1 / (730 / 365.25))
    late = compute_energielabels(units, c, exemptions=["monument"], target_date=lambda g: pd.Timestamp("2024-06-30"))
    assert late[late["indicator"] == "efg_nog_te_doen_per_jaar"].empty


def test_a_gemeente_without_dwellings_gets_no_rows_and_no_error_with_a_target_date():
    """A gemeente of the reference table where no corporation has stock (GM0394 in the sample): its
    per-gemeente run failed on the target date of rows that do not exist."""
    only_parking = stock([{"vhe_id": "P1", "peildatum": PEIL, "eenheidsoort": "PP"}])
    c = certs([{"vhe_id": "P1", "registratiedatum": "2020-01-01", "geldig_tot": "2030-01-01", "opnamedatum": "2019-12-01", "energieklasse": "A"}])
    out = compute_energielabels(only_parking, c, exemptions=["monument"], target_date=lambda g: pd.Timestamp("2028-12-31"))
    assert out.empty
