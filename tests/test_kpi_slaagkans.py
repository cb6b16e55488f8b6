import dagster as dg
import pandas as pd
import pytest

from assets.common import finish
from assets.kpi.slaagkans import (
    BREAKDOWNS,
    TABLE,
    compute_slaagkans,
    jaren_zonder_inkomensbanden,
    kpi_slaagkans,
    lettings_in_period,
    load_inkomensbanden,
)
from assets.settings import KpiSettings
from pipelines.io import ParquetIOManager
from tests.pipeline_helpers import ALLE_GEMEENTEN

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
    frame["huishoudgrootte"] = frame["huishoudgrootte"].astype("Int64")
    frame["huishoudinkomen"] = frame["huishoudinkomen"].astype("float64")
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
    published = finish(TABLE, case, snapshot="s", suppression_threshold=10)
    midden = published[(published["definition_id"] == "eenvoudig") & (published["inkomensklasse"] == "midden")].iloc[0]
    assert bool(midden["suppressed"]) and pd.isna(midden["value"])
    assert not bool(total(published, "eenvoudig")["suppressed"])


def test_a_period_shorter_than_a_year_is_partial():
    rows = [{"woningzoekende_id": f"S{i}", "aantal_reacties": 1, "periode_begin": "2025-01-01", "periode_einde": "2025-09-30"} for i in range(12)]
    out = compute_slaagkans(seekers(rows), lettings([{"woningzoekende_id": "S1", "toewijzingsdatum": "2025-05-05"}]), {G: "x"})
    row = total(out, "eenvoudig")
    assert bool(row["partial_period"]) is True
    assert (row["numerator"], row["denominator"]) == (1, 12)


# ---------------------------------------------------------------------------------------------
# Breakdowns: kern, doelgroep, huishoudgrootte, inkomensband (2019, the year with Alphen's bands)
# ---------------------------------------------------------------------------------------------
# Boskoop B1..B12 all active; B1..B10 responded to supply in GM0484, B11/B12 only elsewhere.
#   Housed: B1, B2, B3 in GM0484 and B11 in GM0569 (each with a 2019 letting); D1 (Boskoop) directly
#   placed in GM0484 without responding.
# Zwammerdam Z1..Z4 active and local; Z1 housed in GM0484. U1: no woonkern, active, local, not housed.
#
#            inkomensklasse   huishoudgrootte   huishoudinkomen
#   B1..B6   primair          B1-B4: 1           B1 22,700.00   B2 22,700.01   B3 30,825   B4 38,035
#   B7..B9   secundair        B5-B7: 2           B5 38,035.50   B6 42,436      B7 42,437
#   B10..B12 midden           B8: 3, B9: 4, B10: 5, B11: 7, B12: none          others: none
#   Z1..Z4   hoog             2
#   U1       none             1
#   D1       primair          6


def breakdown_rows(year="2019"):
    begin, end = f"{year}-01-01", f"{year}-12-31"
    incomes = {1: 22700.0, 2: 22700.01, 3: 30825.0, 4: 38035.0, 5: 38035.5, 6: 42436.0, 7: 42437.0}
    sizes = {1: 1, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 2, 8: 3, 9: 4, 10: 5, 11: 7, 12: None}
    rows = []
    for i in range(1, 13):
        klasse = "primair" if i <= 6 else "secundair" if i <= 9 else "midden"
        rows.append({
            "woningzoekende_id": f"B{i}", "woonkern": "Boskoop", "inkomensklasse": klasse,
            "huishoudgrootte": sizes[i], "huishoudinkomen": incomes.get(i),
            "aantal_reacties": 3, "aantal_reacties_woongemeente": 2 if i <= 10 else 0,
        })
    for i in (1, 2, 3):
        rows[i - 1].update(gehuisvest=True, gehuisvest_via="aanbod", gehuisvest_gemeente_code=G)
    rows[10].update(gehuisvest=True, gehuisvest_via="aanbod", gehuisvest_gemeente_code="GM0569")
    rows.append({"woningzoekende_id": "D1", "woonkern": "Boskoop", "huishoudgrootte": 6, "gehuisvest": True,
                 "gehuisvest_via": "direct", "gehuisvest_gemeente_code": G})
    for i in range(1, 5):
        rows.append({"woningzoekende_id": f"Z{i}", "woonkern": "Zwammerdam", "inkomensklasse": "hoog",
                     "huishoudgrootte": 2, "aantal_reacties": 1, "aantal_reacties_woongemeente": 1})
    rows[-4].update(gehuisvest=True, gehuisvest_via="loting", gehuisvest_gemeente_code=G)
    rows.append({"woningzoekende_id": "U1", "woonkern": None, "inkomensklasse": None, "huishoudgrootte": 1,
                 "aantal_reacties": 2, "aantal_reacties_woongemeente": 2})
    for r in rows:
        r.update(periode_begin=begin, periode_einde=end)
    lets = lettings([{"woningzoekende_id": w, "toewijzingsdatum": f"{year}-{m:02d}-15"}
                     for w, m in (("B1", 2), ("B2", 4), ("B3", 6), ("B11", 8), ("D1", 9), ("Z1", 10))])
    return seekers(rows), lets


@pytest.fixture
def breakdowns():
    return compute_slaagkans(*breakdown_rows(), {G: "Alphen aan den Rijn"})


def pick(out, definition, uitsplitsing="totaal", value=None, jaar=None):
    rows = out[(out["definition_id"] == definition) & (out["uitsplitsing"] == uitsplitsing)]
    if uitsplitsing != "totaal":
        rows = rows[rows[uitsplitsing] == value]
    if jaar is not None:
        rows = rows[rows["jaar"] == jaar]
    assert len(rows) == 1, (definition, uitsplitsing, value, len(rows))
    return rows.iloc[0]


def counts(row):
    return (row["numerator"], row["denominator"])


def test_totals_of_the_breakdown_fixture(breakdowns):
    # maaskoepel: housed B1 B2 B3 B11 D1 Z1 = 6 / (17 active + D1) = 18
    assert counts(pick(breakdowns, "maaskoepel")) == (6, 18)
    # lokaal: local responders B1..B10, Z1..Z4, U1 = 15; housed in GM0484: B1 B2 B3 Z1 = 4
    assert counts(pick(breakdowns, "lokaal")) == (4, 15)
    # eenvoudig: lettings to active seekers B1 B2 B3 B11 Z1 = 5 / 17 active
    assert counts(pick(breakdowns, "eenvoudig")) == (5, 17)


def test_breakdown_by_kern(breakdowns):
    # Boskoop: maaskoepel (B1 B2 B3 B11 D1) 5 / (12 active + D1) 13; lokaal B1..B10 local, of whom
    # B1 B2 B3 housed in GM0484: 3 / 10 (B11 housed in GM0569 and only responded elsewhere: out);
    # eenvoudig 4 lettings / 12 active.
    assert counts(pick(breakdowns, "maaskoepel", "kern", "Boskoop")) == (5, 13)
    assert pick(breakdowns, "lokaal", "kern", "Boskoop")["value"] == pytest.approx(30.0)
    assert counts(pick(breakdowns, "lokaal", "kern", "Boskoop")) == (3, 10)
    assert counts(pick(breakdowns, "eenvoudig", "kern", "Boskoop")) == (4, 12)
    for definition in ("maaskoepel", "lokaal", "eenvoudig"):
        assert counts(pick(breakdowns, definition, "kern", "Zwammerdam")) == (1, 4)
        assert counts(pick(breakdowns, definition, "kern", "onbekend")) == (0, 1)  # U1 has no woonkern
    kern_rows = breakdowns[(breakdowns["uitsplitsing"] == "kern") & (breakdowns["definition_id"] == "lokaal")]
    assert kern_rows["denominator"].sum() == 15  # the kernen add up to the gemeente


def test_a_kern_below_the_threshold_is_suppressed_and_shown_empty_never_zero(breakdowns):
    published = finish(TABLE, breakdowns, snapshot="s", suppression_threshold=10)
    zwammerdam = pick(published, "lokaal", "kern", "Zwammerdam")
    assert bool(zwammerdam["suppressed"]) is True
    assert pd.isna(zwammerdam["value"]) and pd.isna(zwammerdam["numerator"])
    assert zwammerdam["denominator"] == 4
    boskoop = pick(published, "lokaal", "kern", "Boskoop")  # denominator 10 = threshold: published
    assert bool(boskoop["suppressed"]) is False and boskoop["value"] == pytest.approx(30.0)


def test_breakdown_by_doelgroep(breakdowns):
    # DAEB-doelgroep = primair + secundair = B1..B9 and D1; boven DAEB-grens = B10..B12, Z1..Z4.
    assert counts(pick(breakdowns, "maaskoepel", "doelgroep", "DAEB-doelgroep")) == (4, 10)  # B1 B2 B3 D1 / 9 + D1
    assert counts(pick(breakdowns, "lokaal", "doelgroep", "DAEB-doelgroep")) == (3, 9)
    assert counts(pick(breakdowns, "eenvoudig", "doelgroep", "DAEB-doelgroep")) == (3, 9)
    assert counts(pick(breakdowns, "maaskoepel", "doelgroep", "boven DAEB-grens")) == (2, 7)  # B11, Z1
    assert counts(pick(breakdowns, "lokaal", "doelgroep", "boven DAEB-grens")) == (1, 5)  # B10 Z1..Z4 local; Z1
    assert counts(pick(breakdowns, "eenvoudig", "doelgroep", "boven DAEB-grens")) == (2, 7)
    assert counts(pick(breakdowns, "eenvoudig", "doelgroep", "onbekend")) == (0, 1)  # U1


def test_breakdown_by_huishoudgrootte(breakdowns):
    # 1: B1..B4 + U1 (housed B1 B2 B3); 2: B5 B6 B7 Z1..Z4 (Z1); 3: B8; 4: B9;
    # 5+: B10 (5), B11 (7), D1 (6) -> maaskoepel B11 D1 / B10 B11 + D1; onbekend: B12.
    assert counts(pick(breakdowns, "maaskoepel", "huishoudgrootte", "1")) == (3, 5)
    assert counts(pick(breakdowns, "eenvoudig", "huishoudgrootte", "2")) == (1, 7)
    assert counts(pick(breakdowns, "eenvoudig", "huishoudgrootte", "3")) == (0, 1)
    assert counts(pick(breakdowns, "eenvoudig", "huishoudgrootte", "4")) == (0, 1)
    assert counts(pick(breakdowns, "maaskoepel", "huishoudgrootte", "5+")) == (2, 3)
    assert counts(pick(breakdowns, "eenvoudig", "huishoudgrootte", "5+")) == (1, 2)
    assert counts(pick(breakdowns, "lokaal", "huishoudgrootte", "5+")) == (0, 1)  # only B10 responded locally
    assert counts(pick(breakdowns, "eenvoudig", "huishoudgrootte", "onbekend")) == (0, 1)
    sizes = set(breakdowns.loc[breakdowns["uitsplitsing"] == "huishoudgrootte", "huishoudgrootte"])
    assert sizes == {"1", "2", "3", "4", "5+", "onbekend"}


def test_breakdown_by_income_band_2019_lower_exclusive_upper_inclusive(breakdowns):
    # Alphen 2019 bands: <= 22,700 | 22,700-30,825 | 30,825-38,035 | 38,035-42,436 | > 42,436
    # B1 22,700 -> 1; B2 22,700.01 and B3 30,825 -> 2; B4 38,035 -> 3; B5 38,035.50 and B6 42,436 -> 4;
    # B7 42,437 -> 5; no income (B8..B12, Z1..Z4, U1, D1) -> onbekend.
    band = "inkomensband"
    assert counts(pick(breakdowns, "eenvoudig", band, "1 (t/m 22.700)")) == (1, 1)  # B1 housed
    assert counts(pick(breakdowns, "eenvoudig", band, "2 (22.700-30.825)")) == (2, 2)  # B2, B3 housed
    assert counts(pick(breakdowns, "eenvoudig", band, "3 (30.825-38.035)")) == (0, 1)
    assert counts(pick(breakdowns, "eenvoudig", band, "4 (38.035-42.436)")) == (0, 2)
    assert counts(pick(breakdowns, "eenvoudig", band, "5 (boven 42.436)")) == (0, 1)
    # onbekend: 10 active (B8..B12, Z1..Z4, U1), lettings B11 and Z1; maaskoepel adds D1 (housed)
    assert counts(pick(breakdowns, "eenvoudig", band, "onbekend")) == (2, 10)
    assert counts(pick(breakdowns, "maaskoepel", band, "onbekend")) == (3, 11)


def test_each_row_belongs_to_exactly_one_breakdown(breakdowns):
    for _, row in breakdowns.iterrows():
        own = row["uitsplitsing"]
        others = [b for b in BREAKDOWNS if b != own]
        assert all(row[b] == "alle" for b in others), row.to_dict()
        if own != "totaal":
            assert row[own] != "alle"
    per_breakdown = breakdowns.groupby(["uitsplitsing", "definition_id"])["denominator"].sum()
    for uitsplitsing in BREAKDOWNS:  # every breakdown partitions the same population
        for definition in ("maaskoepel", "lokaal", "eenvoudig"):
            assert per_breakdown[(uitsplitsing, definition)] == per_breakdown[("totaal", definition)]


def test_a_year_without_income_bands_has_no_band_rows_and_is_reported():
    s2019, l2019 = breakdown_rows("2019")
    s2024, l2024 = breakdown_rows("2024")
    both = pd.concat([s2019, s2024], ignore_index=True)
    out = compute_slaagkans(both, pd.concat([l2019, l2024], ignore_index=True), {G: "Alphen aan den Rijn"})
    bands = out[out["uitsplitsing"] == "inkomensband"]
    assert set(bands["jaar"]) == {2019}  # 2024 has no bands in reference/inkomensklassen.csv
    assert set(out.loc[out["jaar"] == 2024, "uitsplitsing"]) == {
        "totaal", "inkomensklasse", "leeftijdsklasse", "kern", "doelgroep", "huishoudgrootte",
    }
    assert counts(pick(out, "eenvoudig", jaar=2024)) == (5, 17)  # same people, own year
    assert jaren_zonder_inkomensbanden(both, load_inkomensbanden()) == [2024]
    only_2024 = compute_slaagkans(s2024, l2024, {G: "x"})
    assert (only_2024["inkomensband"] == "alle").all()


def test_a_year_with_no_seekers_has_no_rows_not_zero():
    rows = [{"woningzoekende_id": f"A{i}", "aantal_reacties": 1, "periode_begin": f"{y}-01-01", "periode_einde": f"{y}-12-31"}
            for y in (2022, 2024) for i in range(10)]
    out = compute_slaagkans(seekers(rows), lettings([{"woningzoekende_id": "A1", "toewijzingsdatum": "2024-03-03"}]), {G: "x"})
    assert sorted(out["jaar"].unique().tolist()) == [2022, 2024]  # nothing for 2023
    assert counts(pick(out, "eenvoudig", jaar=2022)) == (0, 10)  # seekers, none housed: a real 0 %
    assert counts(pick(out, "eenvoudig", jaar=2024)) == (1, 10)


def test_no_local_responders_gives_an_empty_value_not_zero():
    rows = [{"woningzoekende_id": f"A{i}", "aantal_reacties": 4, "aantal_reacties_woongemeente": 0} for i in range(12)]
    out = compute_slaagkans(seekers(rows), lettings([{"woningzoekende_id": "A1", "toewijzingsdatum": "2024-03-03"}]), {G: "x"})
    lokaal = pick(out, "lokaal")
    assert counts(lokaal) == (0, 0) and pd.isna(lokaal["value"])
    published = finish(TABLE, out, snapshot="s", suppression_threshold=10)
    assert bool(pick(published, "lokaal")["suppressed"]) is True


def test_quarters_are_their_own_partial_periods_next_to_the_full_year():
    q1 = [{"woningzoekende_id": f"Q{i}", "aantal_reacties": 1, "periode_begin": "2025-01-01", "periode_einde": "2025-03-31"} for i in range(10)]
    q2 = [{"woningzoekende_id": f"Q{i}", "aantal_reacties": 2, "periode_begin": "2025-04-01", "periode_einde": "2025-06-30"} for i in range(11)]
    year = [{"woningzoekende_id": f"Y{i}", "aantal_reacties": 1} for i in range(10)]  # 2024 full year
    lets = lettings([
        {"woningzoekende_id": "Q1", "toewijzingsdatum": "2025-02-01"},  # in Q1 (Q1 also in the Q2 file: not in Q2)
        {"woningzoekende_id": "Q2", "toewijzingsdatum": "2025-05-01"},
        {"woningzoekende_id": "Q10", "toewijzingsdatum": "2025-06-30"},  # last day of Q2 counts
        {"woningzoekende_id": "Y1", "toewijzingsdatum": "2024-07-01"},
    ])
    out = compute_slaagkans(seekers(q1 + q2 + year), lets, {G: "x"})
    totals = out[(out["uitsplitsing"] == "totaal") & (out["definition_id"] == "eenvoudig")].set_index("periode_begin")
    assert len(totals) == 3
    q1_row, q2_row = totals.loc[pd.Timestamp("2025-01-01")], totals.loc[pd.Timestamp("2025-04-01")]
    assert counts(q1_row) == (1, 10) and bool(q1_row["partial_period"]) is True
    assert counts(q2_row) == (2, 11) and bool(q2_row["partial_period"]) is True
    assert q1_row["jaar"] == q2_row["jaar"] == 2025
    full = totals.loc[pd.Timestamp("2024-01-01")]
    assert counts(full) == (1, 10) and bool(full["partial_period"]) is False


def test_income_band_table_reads_and_refuses_a_gap(tmp_path):
    bands = load_inkomensbanden()
    assert bands["year"].tolist() == [2019] * 5
    assert bands["lower"].tolist()[1:] == [22700, 30825, 38035, 42436]
    assert set(bands["confidence"]) == {"unverified"}
    gap = tmp_path / "inkomensklassen.csv"
    gap.write_text(
        "year,band,lower,upper,source,confidence\n"
        "2020,laag,,20000,test,unverified\n"
        "2020,hoog,21000,,test,unverified\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"rij 2: bovengrens 20000.0 sluit niet aan"):
        load_inkomensbanden(gap)


def test_the_asset_reports_years_without_income_bands_in_metadata(tmp_path):
    s2019, l2019 = breakdown_rows("2019")
    s2024, l2024 = breakdown_rows("2024")
    staged = pd.concat([s2019, s2024], ignore_index=True)
    staged["woongemeente_naam"] = "Alphen aan den Rijn"

    @dg.asset(name="stg_woningzoekenden", group_name="staging")
    def stub_seekers() -> pd.DataFrame:
        return staged

    @dg.asset(name="stg_toewijzingen", group_name="staging")
    def stub_lettings() -> pd.DataFrame:
        return pd.concat([l2019, l2024], ignore_index=True)

    result = dg.materialize(
        [stub_seekers, stub_lettings, kpi_slaagkans],
        resources={"kpi_settings": KpiSettings(), "io_manager": ParquetIOManager(base_path=str(tmp_path))},
        tags=ALLE_GEMEENTEN,
    )
    assert result.success
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("kpi_slaagkans")]
    metadata = events[0].materialization.metadata
    assert metadata["inkomensband_ontbreekt_jaren"].value == [2024]
    assert metadata["inkomensband_jaren"].value == [2019]
    assert metadata["inkomensband_confidence"].value == "unverified"
    frame = result.output_for_node("kpi_slaagkans")
    zwammerdam = frame[(frame["kern"] == "Zwammerdam") & (frame["definition_id"] == "lokaal")]
    assert zwammerdam["suppressed"].all() and zwammerdam["value"].isna().all()  # default threshold 10


def test_lettings_in_period_count_the_seekers_lettings_within_its_period_ends_included():
    periods = pd.DataFrame(
        {
            "woningzoekende_id": pd.array(["Z1", "Z1", "Z2", None, "Z3"], dtype="str"),
            "periode_begin": pd.to_datetime(["2024-01-01", "2025-01-01", "2024-01-01", "2024-01-01", "2024-01-01"]),
            "periode_einde": pd.to_datetime(["2024-12-31", "2025-12-31", "2024-12-31", "2024-12-31", "2024-12-31"]),
        },
        index=[10, 11, 12, 13, 14],  # the seekers' own index: the counts follow the row order
    )
    lettings = pd.DataFrame(
        {
            "woningzoekende_id": pd.array(["Z1", "Z1", "Z1", "Z2", None, "Z9"], dtype="str"),
            # Z1: on the first day of 2024 and the last, and once in 2025; Z2: a day after its period
            "toewijzingsdatum": pd.to_datetime(
                ["2024-01-01", "2024-12-31", "2025-06-01", "2025-01-01", "2024-05-01", "2024-05-01"]
            ),
        }
    )
    # Z1 2024: 2 (both ends count); Z1 2025: 1; Z2: 0; no id: 0 (a letting without a seeker is no
    # match); Z3 had none
    assert lettings_in_period(periods, lettings).tolist() == [2, 1, 0, 0, 0]
