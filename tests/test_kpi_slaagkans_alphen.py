"""Alphen aan den Rijn's published 2016 `lokaal` slaagkans, reproduced from a hand-built seekers file.

Published (Alphen, 2016, lokaal): Aarlanderveen 36.4 %, Alphen aan den Rijn 27.6 %, gemeente 30.3 %.
The per-kern counts below are chosen by hand so that all three round to the published figures
(one decimal). lokaal = seekers living in GM0484 who responded to supply in GM0484; numerator = those
of them housed in GM0484. Per kern = by the seeker's woonkern.

    kern                     local responders   housed in GM0484   slaagkans
    Aarlanderveen                   11                  4          4/11    = 36.36 % -> 36.4
    Alphen aan den Rijn            105                 29          29/105  = 27.62 % -> 27.6
    Benthuizen                      14                  4          4/14    = 28.57 %
    Boskoop                         42                 14          14/42   = 33.33 %
    Hazerswoude-Dorp                17                  5          5/17    = 29.41 %
    Hazerswoude-Rijndijk            16                  5          5/16    = 31.25 %
    Koudekerk aan den Rijn          15                  5          5/15    = 33.33 %
    Zwammerdam                       8                  3          3/8     (suppressed: 8 < 10)
    gemeente                       228                 69          69/228  = 30.26 % -> 30.3

    denominators: 11 + 105 + 14 + 42 + 17 + 16 + 15 + 8 = 228
    numerators:    4 +  29 +  4 + 14 +  5 +  5 +  5 + 3 =  69
    (the gemeente figure is sum of numerators / sum of denominators, never a mean of the kern figures)

Seekers that must stay out of `lokaal` (they would move the figures if counted):
- in kern Alphen aan den Rijn, 3 of the 76 not housed locally were housed in Nieuwkoop (GM0569):
  they stay in the denominator, not in the numerator;
- 6 active seekers of kern Alphen aan den Rijn who only responded outside the gemeente (2 of them
  housed in Leiden): not local responders;
- 20 registered seekers in Boskoop without any response: not active;
- 5 seekers living in Leiden (GM0546) who responded to Alphen's supply: they do not live in GM0484.
"""

import pandas as pd
import pytest

from assets.common import finish
from assets.kpi.slaagkans import TABLE, compute_slaagkans
from tests.test_kpi_slaagkans import lettings, seekers

ALPHEN = "GM0484"
LOCAL = {  # kern: (local responders, of whom housed in GM0484)
    "Aarlanderveen": (11, 4),
    "Alphen aan den Rijn": (105, 29),
    "Benthuizen": (14, 4),
    "Boskoop": (42, 14),
    "Hazerswoude-Dorp": (17, 5),
    "Hazerswoude-Rijndijk": (16, 5),
    "Koudekerk aan den Rijn": (15, 5),
    "Zwammerdam": (8, 3),
}
PERIOD = {"periode_begin": "2016-01-01", "periode_einde": "2016-12-31"}


def alphen_2016() -> pd.DataFrame:
    rows = []
    for kern, (responders, housed) in LOCAL.items():
        for i in range(responders):
            row = {"woningzoekende_id": f"{kern[:4]}-{i}", "woongemeente_code": ALPHEN, "woonkern": kern,
                   "aantal_reacties": 6, "aantal_reacties_woongemeente": 4, **PERIOD}
            if i < housed:
                row.update(gehuisvest=True, gehuisvest_via="aanbod", gehuisvest_gemeente_code=ALPHEN)
            elif kern == "Alphen aan den Rijn" and i < housed + 3:
                row.update(gehuisvest=True, gehuisvest_via="aanbod", gehuisvest_gemeente_code="GM0569")
            rows.append(row)
    for i in range(6):
        row = {"woningzoekende_id": f"ELDERS-{i}", "woongemeente_code": ALPHEN, "woonkern": "Alphen aan den Rijn",
               "aantal_reacties": 3, "aantal_reacties_woongemeente": 0, **PERIOD}
        if i < 2:
            row.update(gehuisvest=True, gehuisvest_via="aanbod", gehuisvest_gemeente_code="GM0546")
        rows.append(row)
    rows += [{"woningzoekende_id": f"PASSIEF-{i}", "woongemeente_code": ALPHEN, "woonkern": "Boskoop",
              "aantal_reacties": 0, "aantal_reacties_woongemeente": 0, **PERIOD} for i in range(20)]
    rows += [{"woningzoekende_id": f"LEIDEN-{i}", "woongemeente_code": "GM0546", "woonkern": "Leiden",
              "aantal_reacties": 5, "aantal_reacties_woongemeente": 0, **PERIOD} for i in range(5)]
    return seekers(rows)


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    no_lettings = lettings([{"woningzoekende_id": "none", "toewijzingsdatum": "2016-01-01"}])
    out = compute_slaagkans(alphen_2016(), no_lettings, {ALPHEN: "Alphen aan den Rijn", "GM0546": "Leiden"})
    return finish(TABLE, out, snapshot="s", suppression_threshold=10)


def lokaal(frame: pd.DataFrame, kern: str | None = None) -> pd.Series:
    rows = frame[(frame["gemeente_code"] == ALPHEN) & (frame["definition_id"] == "lokaal") & (frame["jaar"] == 2016)]
    rows = rows[rows["uitsplitsing"] == "totaal"] if kern is None else rows[(rows["uitsplitsing"] == "kern") & (rows["kern"] == kern)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_aarlanderveen_36_4(published):
    row = lokaal(published, "Aarlanderveen")
    assert (row["numerator"], row["denominator"]) == (4, 11)
    assert round(row["value"], 1) == 36.4


def test_alphen_aan_den_rijn_27_6(published):
    row = lokaal(published, "Alphen aan den Rijn")
    # 105 local responders (the 3 housed in Nieuwkoop included), 29 housed in GM0484; the 6 who only
    # responded elsewhere are not in it
    assert (row["numerator"], row["denominator"]) == (29, 105)
    assert round(row["value"], 1) == 27.6


def test_gemeente_total_30_3(published):
    row = lokaal(published)
    assert (row["numerator"], row["denominator"]) == (69, 228)
    assert round(row["value"], 1) == 30.3
    assert bool(row["partial_period"]) is False and bool(row["suppressed"]) is False


def test_the_small_kern_is_suppressed_and_the_published_ones_are_not(published):
    zwammerdam = lokaal(published, "Zwammerdam")
    assert bool(zwammerdam["suppressed"]) is True and pd.isna(zwammerdam["value"])
    for kern in ("Aarlanderveen", "Alphen aan den Rijn"):
        assert bool(lokaal(published, kern)["suppressed"]) is False


def test_2016_has_no_income_bands(published):
    assert not (published["uitsplitsing"] == "inkomensband").any()
