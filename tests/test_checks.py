"""Validation rules per dataset: failing rows named by file, row, key and rule; reject vs partial;
row-count bounds against the previous load; corrections; the quarantine's lifecycle."""

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from expectations.corrections import GEEN_RIJ, TOEGEPAST, apply_corrections, load_corrections
from expectations.quality import validate_dataset
from expectations.runner import run_suite
from sources.errors import SourceError
from warehouse import Warehouse
from warehouse.quality import open_quarantine, record_quarantine

TODAY = date(2025, 6, 30)


def lettings(n=3, **overrides):
    frame = pd.DataFrame(
        {
            "toewijzing_id": [f"T{i}" for i in range(1, n + 1)],
            "toewijzingsdatum": pd.to_datetime(["2024-01-05"] * n),
            "inschrijfdatum": pd.to_datetime(["2020-01-05"] * n),
            "gemeente_code": ["GM0392"] * n,
            "publicatiemodel": ["AAN"] * n,
            "voorrang": [None] * n,
            "netto_kale_huur": [600.0] * n,
            "passendheid": ["PAS"] * n,
            "woongemeente_code": ["GM0392"] * n,
            "aantal_reacties": [10] * n,
            "leeftijd_hoofdaanvrager": [30] * n,
            "zoekduur_maanden": [12.0] * n,
            "huishoudgrootte": [2] * n,
            "huishoudinkomen": [30000.0] * n,
            "kamers": pd.array([3] * n, dtype="Int64"),
            "_source_file": ["woonservice/t.csv"] * n,
            "_source_row": pd.array(range(2, n + 2), dtype="Int64"),
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_failing_rows_name_file_row_column_value_and_rule():
    outcome = run_suite(lettings(publicatiemodel=["AAN", "XYZ", "AAN"]), "stg_toewijzingen",
                        parameters={"vandaag": pd.Timestamp(TODAY)})
    rows = outcome.failing_rows().drop(columns=["_row"])
    assert rows.to_dict("records") == [
        {"bestand": "woonservice/t.csv", "rij": 3, "kolom": "publicatiemodel", "waarde": "XYZ",
         "regel": "expect_column_values_to_be_in_set(publicatiemodel)", "ernst": "ERROR"}
    ]


def test_reject_policy_blocks_and_keeps_every_row():
    v = validate_dataset(lettings(netto_kale_huur=[600.0, -5.0, 700.0]), "stg_toewijzingen", today=TODAY)
    assert v.policy == "reject" and v.blocking and len(v.frame) == 3
    result = v.check_result("stg_toewijzingen")
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    [row] = v.quarantine.to_dict("records")
    assert (row["rij"], row["sleutel"], row["actie"]) == (3, "toewijzing_id=T2", "lading geblokkeerd")


def test_warning_rules_inform_without_blocking():
    v = validate_dataset(lettings(passendheid=["PAS", "???", "PAS"]), "stg_toewijzingen", today=TODAY)
    assert not v.blocking
    result = v.check_result("stg_toewijzingen")
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert v.quarantine["actie"].tolist() == ["gemeld"]


def test_dates_after_today_are_refused():
    frame = lettings(toewijzingsdatum=pd.to_datetime(["2024-01-05", "2025-07-01", "2025-06-30"]))
    v = validate_dataset(frame, "stg_toewijzingen", today=TODAY)
    assert v.blocking and v.quarantine["rij"].tolist() == [3]


def seekers(n=4, **overrides):
    frame = pd.DataFrame(
        {
            "woningzoekende_id": [f"W{i}" for i in range(n)],
            "periode_begin": pd.to_datetime(["2024-01-01"] * n),
            "periode_einde": pd.to_datetime(["2024-12-31"] * n),
            "woongemeente_code": ["GM0392"] * n,
            "aantal_reacties": pd.array([3] * n, dtype="Int64"),
            "aantal_reacties_woongemeente": pd.array([1] * n, dtype="Int64"),
            "gehuisvest": [False] * n,
            "inkomensklasse": ["primair"] * n,
            "leeftijdsklasse": ["23-34"] * n,
            "gehuisvest_via": [None] * n,
            "_source_file": ["woonservice/w.csv"] * n,
            "_source_row": pd.array(range(2, n + 2), dtype="Int64"),
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_partial_policy_removes_failing_rows_and_lets_the_rest_flow():
    v = validate_dataset(seekers(woongemeente_code=["GM0392", "Haarlem", "GM0392", "GM0392"]), "stg_woningzoekenden", today=TODAY)
    assert v.policy == "partial" and not v.blocking
    assert v.removed_rows == 1 and v.frame["woningzoekende_id"].tolist() == ["W0", "W2", "W3"]
    assert v.quarantine["sleutel"].tolist() == ["woningzoekende_id=W1;periode_begin=2024-01-01"]
    assert v.check_result("stg_woningzoekenden").severity == dg.AssetCheckSeverity.WARN


def test_row_count_collapse_against_the_previous_load_blocks_even_a_partial_dataset():
    v = validate_dataset(seekers(4), "stg_woningzoekenden", today=TODAY, previous_row_count=100)
    # stg_woningzoekenden allows +-50 %: 4 rows against 100 fails; its severity is warning
    assert [f.expectation for f in v.outcome.failed] == ["expect_table_row_count_to_be_between"]
    assert not v.blocking


def stock_rows(n):
    return pd.DataFrame(
        {
            "corporatie": ["X"] * n, "peildatum": pd.to_datetime(["2024-12-31"] * n), "vhe_id": [str(i) for i in range(n)],
            "gemeente_code": ["GM0392"] * n, "eenheidsoort": ["WOO"] * n, "netto_kale_huur": [600.0] * n,
            "uit_exploitatie_reden": [None] * n, "herkomst": ["bestaand"] * n, "energielabel": ["B"] * n,
            "bag_vbo_id": ["0392010000000001"] * n, "bouwjaar": pd.array([1970] * n, dtype="Int64"),
            "zonnepanelen_aantal": pd.array([0] * n, dtype="Int64"), "zonnepanelen_kwp": [None] * n,
            "zonnepanelen_wp": [None] * n, "daeb": [True] * n, "in_exploitatie_datum": pd.to_datetime(["1970-01-01"] * n),
            "uit_exploitatie_datum": pd.to_datetime([None] * n), "oppervlakte_m2": [60.0] * n, "kamers": pd.array([3] * n, dtype="Int64"),
            "huurklasse": ["betaalbaar_laag"] * n,
            "_source_file": ["bezit/x.csv"] * n, "_source_row": pd.array(range(2, n + 2), dtype="Int64"),
        }
    )


def test_stock_that_shrinks_by_half_is_blocked():
    v = validate_dataset(stock_rows(50), "stg_bezit", today=TODAY, previous_row_count=100)
    assert v.blocking  # stg_bezit allows +-30 % with severity critical
    [row] = v.quarantine.to_dict("records")
    assert (row["regel"], row["waarde"]) == ("expect_table_row_count_to_be_between", "50")
    assert not validate_dataset(stock_rows(80), "stg_bezit", today=TODAY, previous_row_count=100).blocking


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_corrections_apply_typed_values_and_audit_each_one(tmp_path):
    corrections = load_corrections(write(tmp_path / "c.csv", (
        "dataset,sleutel,kolom,nieuwe_waarde,reden,auteur,datum\n"
        "stg_toewijzingen,toewijzing_id=T2,toewijzingsdatum,15-03-2024,typefout,A,2025-01-01\n"
        "stg_toewijzingen,toewijzing_id=T3,netto_kale_huur,\"612,50\",huur uit contract,A,2025-01-01\n"
        "stg_toewijzingen,toewijzing_id=T9,netto_kale_huur,1,weg,A,2025-01-01\n"
        "stg_toewijzingen,toewijzing_id=T1,kleur,rood,?,A,2025-01-01\n"
        "stg_bezit,corporatie=X;peildatum=2024-12-31;vhe_id=1,kamers,4,telling,B,2025-01-01\n"
    )))
    fixed, audit = apply_corrections(lettings(), "stg_toewijzingen", corrections, ["toewijzing_id"])
    assert fixed.loc[1, "toewijzingsdatum"] == pd.Timestamp("2024-03-15")
    assert fixed.loc[2, "netto_kale_huur"] == 612.5
    assert audit["status"].tolist() == [TOEGEPAST, TOEGEPAST, GEEN_RIJ, "kolom 'kleur' bestaat niet in stg_toewijzingen"]
    assert audit.loc[0, "oude_waarde"].startswith("2024-01-05")
    stock, stock_audit = apply_corrections(stock_rows(3), "stg_bezit", corrections, ["corporatie", "peildatum", "vhe_id"])
    assert stock.loc[1, "kamers"] == 4 and stock_audit["rijen_geraakt"].tolist() == [1]


def test_a_malformed_corrections_file_names_its_row(tmp_path):
    path = write(tmp_path / "c.csv", "dataset,sleutel,kolom,nieuwe_waarde,reden,auteur,datum\nstg_bezit,vhe_id,kamers,4,,B,2025\n")
    with pytest.raises(SourceError, match="rij 2"):
        load_corrections(path)


def test_quarantine_keeps_first_seen_and_resolves_what_is_gone(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    a = {"bestand": "f.csv", "rij": 3, "sleutel": "k=1", "kolom": "x", "waarde": "1", "regel": "r", "ernst": "ERROR", "actie": "lading geblokkeerd"}
    b = {**a, "rij": 4, "sleutel": "k=2"}
    t1, t2, t3 = datetime(2025, 1, 1), datetime(2025, 1, 2), datetime(2025, 1, 3)
    assert record_quarantine(warehouse, "d", pd.DataFrame([a, b]), run_id="r1", now=t1) == {"nieuw": 2, "nog_open": 0, "opgelost": 0}
    assert record_quarantine(warehouse, "d", pd.DataFrame([a]), run_id="r2", now=t2) == {"nieuw": 0, "nog_open": 1, "opgelost": 1}
    still = open_quarantine(warehouse, "d")
    assert still["rij"].tolist() == [3] and still.iloc[0]["eerst_gezien"] == t1 and still.iloc[0]["run_id"] == "r2"
    record_quarantine(warehouse, "d", pd.DataFrame(columns=list(a)), run_id="r3", now=t3)
    assert open_quarantine(warehouse, "d").empty
    everything = warehouse.read("dq", "quarantaine")
    assert sorted(pd.to_datetime(everything["opgelost_op"]).tolist()) == [pd.Timestamp(t2), pd.Timestamp(t3)]
    warehouse.dispose()


def test_leefbaarometer_codes_are_checked_except_on_grid_cells():
    frame = pd.DataFrame(
        {
            "niveau": ["buurt", "wijk", "grid", "buurt"],
            "gebied_code": ["BU0363AA06", "WK039201", "E1000N2000", "BU392"],
            "jaar": [2022] * 4,
            "klasse": [5, 6, 7, 4],
            "afw": [0.0, 0.1, 0.2, -0.1],
            "lbm": [4.1, 4.2, 4.3, 4.0],
            "_source_file": ["l.csv"] * 4,
            "_source_row": [2, 3, 4, 5],
        }
    )
    v = validate_dataset(frame, "stg_leefbaarometer", today=TODAY)
    assert v.quarantine[["rij", "kolom", "waarde"]].values.tolist() == [[5, "gebied_code", "BU392"]]
    assert v.removed_rows == 1


def test_personal_values_are_masked_in_the_quarantine():
    v = validate_dataset(lettings(huishoudinkomen=[30000.0, 900000.0, 25000.0]), "stg_toewijzingen", today=TODAY)
    [row] = v.quarantine.to_dict("records")
    assert (row["kolom"], row["rij"], row["waarde"]) == ("huishoudinkomen", 3, "<persoonsgegeven>")
    assert "900000" not in v.quarantine.to_string()
    shown = v.check_result("stg_toewijzingen").metadata["foute_rijen"].value
    assert "900000" not in shown and "<persoonsgegeven>" in shown
