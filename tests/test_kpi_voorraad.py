import pytest

from assets.kpi.voorraad import balance_errors, compute_voorraad
from assets.staging.mutaties import stock_transitions
from tests.kpi_fixtures import one, stock

P0, P1 = "2021-12-31", "2022-12-31"


@pytest.fixture
def kpi():
    begin = [{"vhe_id": f"U{i}", "peildatum": P0} for i in range(1, 11)]  # 10 DAEB dwellings at 600
    end = [{"vhe_id": f"U{i}", "peildatum": P1} for i in range(1, 7)]  # U1-U6 unchanged
    end += [
        {"vhe_id": "U7", "peildatum": P1, "uit_exploitatie_datum": "2022-05-01", "uit_exploitatie_reden": "verkoop"},
        {"vhe_id": "U8", "peildatum": P1, "uit_exploitatie_datum": "2022-08-01", "uit_exploitatie_reden": "sloop"},
        # U9 stays but is liberalised: niet-DAEB at 900 (above the 2022 liberalisatiegrens 763.47)
        {"vhe_id": "U9", "peildatum": P1, "daeb": False, "netto_kale_huur": 900.0},
        # U10 silently disappears: inferred 'overig'
        {"vhe_id": "N1", "peildatum": P1, "herkomst": "nieuwbouw", "in_exploitatie_datum": "2022-09-01"},
        {"vhe_id": "N2", "peildatum": P1, "herkomst": "aankoop", "in_exploitatie_datum": "2022-03-01"},
        # a parking place is not a dwelling: ignored
        {"vhe_id": "PP1", "peildatum": P1, "eenheidsoort": "PP", "herkomst": "nieuwbouw", "in_exploitatie_datum": "2022-03-01"},
    ]
    frame = stock(begin + end)
    transitions = stock_transitions(frame)
    return compute_voorraad(frame, transitions, {"GM0392": "Haarlem"}), transitions


def value(kpi, segment_type, segment, indicator, corporatie="Testcorporatie"):
    return one(kpi, corporatie=corporatie, segment_type=segment_type, segment=segment, indicator=indicator, jaar=2022)["value"]


def test_total_stock_flows(kpi):
    out, _ = kpi
    expected = {
        "begin_voorraad": 10, "nieuwbouw": 1, "aankoop": 1, "verkoop": -1, "sloop": -1,
        "liberalisatie": 0, "overig": -1, "eind_voorraad": 9, "netto_groei": -1, "waarvan_afgeleid": 1,
    }
    for indicator, number in expected.items():
        assert value(out, "totaal", "alle", indicator) == number, indicator


def test_daeb_segment_counts_liberalisation_once_each_side(kpi):
    out, _ = kpi
    # DAEB: 10 + 1 + 1 - 1 - 1 - 1 (liberalised U9) - 1 (U10) = 8
    assert value(out, "daeb", "DAEB", "liberalisatie") == -1
    assert value(out, "daeb", "DAEB", "eind_voorraad") == 8
    assert value(out, "daeb", "niet-DAEB", "liberalisatie") == 1
    assert value(out, "daeb", "niet-DAEB", "eind_voorraad") == 1
    # huurklasse: 600 is betaalbaar_laag in both years (442.46 < 600 <= 633.25); U9 moves above the limit
    assert value(out, "huurklasse", "betaalbaar_laag", "begin_voorraad") == 10
    assert value(out, "huurklasse", "boven_liberalisatiegrens", "liberalisatie") == 1


def test_balance_holds_and_gemeente_total_matches(kpi):
    out, transitions = kpi
    assert balance_errors(out).empty
    assert value(out, "totaal", "alle", "eind_voorraad", corporatie="alle") == 9
    inferred = transitions[transitions["afgeleid"]]
    assert inferred["vhe_id"].tolist() == ["U10"]


def test_an_unbalanced_table_is_reported(kpi):
    out, _ = kpi
    broken = out.copy()
    mask = (broken["indicator"] == "verkoop") & (broken["segment_type"] == "totaal") & (broken["corporatie"] == "Testcorporatie")
    broken.loc[mask, "numerator"] = 0
    assert len(balance_errors(broken)) == 1


def test_a_unit_sold_and_liberalised_in_one_year_counts_once_as_a_sale():
    frame = stock(
        [
            {"vhe_id": "A", "peildatum": P0},
            {"vhe_id": "B", "peildatum": P0},
            {"vhe_id": "B", "peildatum": P1},
            # A was liberalised (niet-DAEB, 900) and then sold in the same year
            {"vhe_id": "A", "peildatum": P1, "daeb": False, "netto_kale_huur": 900.0,
             "uit_exploitatie_datum": "2022-10-01", "uit_exploitatie_reden": "verkoop"},
        ]
    )
    out = compute_voorraad(frame, stock_transitions(frame), {"GM0392": "Haarlem"})
    assert value(out, "daeb", "DAEB", "verkoop") == -1
    assert value(out, "daeb", "DAEB", "liberalisatie") == 0
    assert value(out, "daeb", "DAEB", "eind_voorraad") == 1
    assert balance_errors(out).empty


def test_a_year_without_rent_thresholds_is_marked_never_borrowed():
    frame = stock([{"vhe_id": "A", "peildatum": "2016-12-31"}, {"vhe_id": "A", "peildatum": "2021-12-31"}])
    # reference/huurgrenzen.csv starts in 2019: 2016 is marked, 2021 is classified (600 -> betaalbaar_laag)
    assert frame.sort_values("peildatum")["huurklasse"].tolist() == ["geen_huurgrenzen", "betaalbaar_laag"]


def test_a_gemeente_without_dwellings_balances_trivially(kpi):
    """A gemeente without corporation dwellings (GM0394 in the sample) has no rows in its run; the
    check crashed on the missing begin_voorraad column instead of finding nothing out of balance."""
    out, _ = kpi
    assert balance_errors(out.iloc[0:0]).empty
