import math

import pytest

from assets.common import finish
from assets.kpi.zon import TABLE, compute_zon
from tests.kpi_fixtures import one, stock


@pytest.fixture
def zon():
    frame = stock(
        [
            # 2 panels of 350 Wp -> 0.7 kWp
            {"vhe_id": "V1", "peildatum": "2024-12-31", "zonnepanelen_aantal": 2, "zonnepanelen_wp": 350.0},
            # the corporation delivers kWp directly
            {"vhe_id": "V2", "peildatum": "2024-12-31", "zonnepanelen_kwp": 1.5},
            {"vhe_id": "V3", "peildatum": "2024-12-31"},
            # sold before the peildatum: not in exploitation, its panels do not count
            {"vhe_id": "V4", "peildatum": "2024-12-31", "zonnepanelen_aantal": 10, "zonnepanelen_wp": 400.0,
             "uit_exploitatie_datum": "2024-03-01", "uit_exploitatie_reden": "verkoop"},
            # a parking place is not a dwelling
            {"vhe_id": "P1", "peildatum": "2024-12-31", "eenheidsoort": "PP", "zonnepanelen_kwp": 3.0},
        ]
    )
    return compute_zon(frame, yield_kwh_per_kwp=875.0)


def test_two_panels_of_350_wp_yield_0_0022_tj():
    frame = stock([{"vhe_id": "V1", "peildatum": "2024-12-31", "zonnepanelen_aantal": 2, "zonnepanelen_wp": 350.0}])
    out = compute_zon(frame, yield_kwh_per_kwp=875.0)
    # 0.7 kWp x 875 kWh/kWp = 612.5 kWh; x 3.6e-6 = 0.002205 TJ
    assert one(out, corporatie="Testcorporatie", indicator="kwh_per_jaar")["value"] == pytest.approx(612.5)
    assert one(out, corporatie="Testcorporatie", indicator="tj_per_jaar")["value"] == pytest.approx(0.002205)


def test_kwp_share_and_tj_over_dwellings_in_exploitation(zon):
    row = lambda indicator: one(zon, corporatie="Testcorporatie", indicator=indicator)  # noqa: E731
    assert row("kwp")["value"] == pytest.approx(2.2)  # 0.7 + 1.5
    assert row("panelen")["value"] == 2  # V2 gives kWp only, so its panels are unknown
    assert row("kwh_per_jaar")["value"] == pytest.approx(1925.0)  # 2.2 x 875
    assert row("tj_per_jaar")["value"] == pytest.approx(0.00693)  # 1925 x 3.6e-6
    share = row("woningen_met_panelen")
    assert (share["numerator"], share["denominator"]) == (2, 3)
    assert share["value"] == pytest.approx(200 / 3)
    assert row("kwp")["jaar"] == 2024


def test_gemeente_total_row_and_small_cell_suppression(zon):
    total = one(zon, corporatie="alle", indicator="woningen_met_panelen")
    assert (total["numerator"], total["denominator"]) == (2, 3)
    published = finish(TABLE, zon, snapshot="s", suppression_threshold=10)
    share = one(published, corporatie="alle", indicator="woningen_met_panelen")
    # denominator 3 < 10: suppressed, shown as empty, never as zero
    assert bool(share["suppressed"]) is True
    assert math.isnan(share["value"]) and math.isnan(share["numerator"])
    kwp = one(published, corporatie="alle", indicator="kwp")
    assert bool(kwp["suppressed"]) is False and kwp["value"] == pytest.approx(2.2)
    assert list(published.columns) == TABLE.column_names
