import pandas as pd
import pytest

from assets.common import finish
from assets.kpi.slaagkans import TABLE, compute_slaagkans

G = "GM0484"


def seekers(rows):
    base = {
        "woongemeente_code": G, "woonkern": None, "inkomensklasse": "primair", "huishoudinkomen": None,
        "huishoudgrootte": 1, "leeftijdsklasse": "23-34", "inschrijfdatum": None,
        "aantal_reacties": 0, "aantal_reacties_woongemeente": 0, "gehuisvest": False,
        "gehuisvest_via": None, "gehuisvest_gemeente_code": None,
        "periode_begin": "2024-01-01", "periode_einde": "2024-12-31",
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    for column in ("periode_begin", "periode_einde"):
        frame[column] = pd.to_datetime(frame[column])
    frame["aantal_reacties_woongemeente"] = frame["aantal_reacties_woongemeente"].astype("Int64")
    return frame


def lettings(rows):
    frame = pd.DataFrame(rows)
    frame["toewijzingsdatum"] = pd.to_datetime(frame["toewijzingsdatum"])
    return frame


@pytest.fixture
def case():
    rows = []
    for i in range(1, 13):  # S1..S12 active; S1..S10 responded to supply in their own gemeente
        rows.append({"woningzoekende_id": f"S{i}", "aantal_reacties": 5, "aantal_reacties_woongemeente": 3 if i <= 10 else 0})
    rows[0].update(gehuisvest=True, gehuisvest_via="aanbod", gehuisvest_gemeente_code=G)
    rows[1].update(gehuisvest=True, gehuisvest_via="loting", gehuisvest_gemeente_code=G, inkomensklasse="midden")
    rows[2].update(gehuisvest=True, gehuisvest_via="aanbod", gehuisvest_gemeente_code="GM0392")
    # D1: directly placed without responding; I1..I5 inactive and not housed
    rows.append({"woningzoekende_id": "D1", "gehuisvest": True, "gehuisvest_via": "direct", "gehuisvest_gemeente_code": G})
    rows += [{"woningzoekende_id": f"I{i}"} for i in range(1, 6)]
    lets = lettings(
        [
            {"woningzoekende_id": "S1", "toewijzingsdatum": "2024-03-01"},
            {"woningzoekende_id": "S2", "toewijzingsdatum": "2024-06-01"},
            {"woningzoekende_id": "S3", "toewijzingsdatum": "2024-09-01"},
            {"woningzoekende_id": "D1", "toewijzingsdatum": "2024-10-01"},  # not active: not in 'eenvoudig'
            {"woningzoekende_id": "S4", "toewijzingsdatum": "2023-12-31"},  # outside the period
        ]
    )
    return compute_slaagkans(seekers(rows), lets, {G: "Alphen aan den Rijn"})


def total(out, definition):
    return out[(out["definition_id"] == definition) & (out["inkomensklasse"] == "alle") & (out["leeftijdsklasse"] == "alle")].iloc[0]


def test_eenvoudig_three_lettings_to_twelve_active_seekers_is_25_percent(case):
    row = total(case, "eenvoudig")
    assert (row["numerator"], row["denominator"], row["value"]) == (3, 12, pytest.approx(25.0))


def test_maaskoepel_counts_the_directly_placed_once(case):
    row = total(case, "maaskoepel")
    # housed: S1, S2, S3, D1 = 4; population: 12 active + D1 = 13
    assert (row["numerator"], row["denominator"]) == (4, 13)
    assert row["value"] == pytest.approx(400 / 13)


def test_lokaal_only_local_responders_housed_locally(case):
    row = total(case, "lokaal")
    # local responders S1..S10; housed in their own gemeente: S1, S2 (S3 went to Haarlem)
    assert (row["numerator"], row["denominator"], row["value"]) == (2, 10, pytest.approx(20.0))
    assert bool(row["partial_period"]) is False


def test_breakdown_by_inkomensklasse_and_suppression(case):
    midden = case[(case["definition_id"] == "eenvoudig") & (case["inkomensklasse"] == "midden")].iloc[0]
    assert (midden["numerator"], midden["denominator"]) == (1, 1)
    published = finish(TABLE, case, run_id="r", snapshot="s", suppression_threshold=10)
    midden = published[(published["definition_id"] == "eenvoudig") & (published["inkomensklasse"] == "midden")].iloc[0]
    assert bool(midden["suppressed"]) and pd.isna(midden["value"])
    assert not bool(total(published, "eenvoudig")["suppressed"])


def test_a_period_shorter_than_a_year_is_partial():
    rows = [{"woningzoekende_id": f"S{i}", "aantal_reacties": 1, "periode_begin": "2025-01-01", "periode_einde": "2025-09-30"} for i in range(12)]
    out = compute_slaagkans(seekers(rows), lettings([{"woningzoekende_id": "S1", "toewijzingsdatum": "2025-05-05"}]), {G: "x"})
    row = total(out, "eenvoudig")
    assert bool(row["partial_period"]) is True
    assert (row["numerator"], row["denominator"]) == (1, 12)
