"""The EP-online match and the label choice run in DuckDB (assets/relational.py); these tests hold
them to the plain pandas formulation they replaced, row for row, dtype for dtype, on generated
stocks and certificate files full of ties, missing keys, shared addresses and repeated units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets import relational
from assets.kpi.energielabels import GEEN_LABEL, label_at_peildatum
from assets.staging.bezit import match_certificates, unmatched_sample
from sources.formats import address_key

# --------------------------------------------------------------------------------------------
# the pandas formulation (the code before the DuckDB version), as the oracle
# --------------------------------------------------------------------------------------------


def reference_match(certificates: pd.DataFrame, stock: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    units = stock[stock["is_woning"]].drop_duplicates(["corporatie", "vhe_id"], keep="last")
    units = units[["corporatie", "vhe_id", "bag_vbo_id", "adres_sleutel"]]
    certs = certificates.copy(deep=False)
    certs["adres_sleutel"] = address_key(
        certs["postcode"], certs["huisnummer"], certs["huisletter"], certs["huisnummertoevoeging"]
    )
    by_bag = units.dropna(subset=["bag_vbo_id"]).merge(certs.drop(columns=["adres_sleutel"]), on="bag_vbo_id", how="inner")
    by_bag["match_methode"] = "bag"
    matched_units = set(zip(by_bag["corporatie"], by_bag["vhe_id"], strict=True))
    # a boolean array: the original list comprehension selected no *columns* when the stock had no dwellings
    rest = units[np.array([(c, v) not in matched_units for c, v in zip(units["corporatie"], units["vhe_id"], strict=True)], dtype=bool)]
    by_address = rest.dropna(subset=["adres_sleutel"]).drop(columns=["bag_vbo_id"]).merge(
        certs.dropna(subset=["adres_sleutel"]), on="adres_sleutel", how="inner"
    )
    by_address["match_methode"] = "adres"
    matched = pd.concat(
        [by_bag.drop(columns=["adres_sleutel"], errors="ignore"), by_address.drop(columns=["adres_sleutel"])],
        ignore_index=True,
    )
    address_units = set(zip(by_address["corporatie"], by_address["vhe_id"], strict=True))
    counts = {
        "woningen": len(units),
        "gekoppeld_op_bag": len(matched_units),
        "gekoppeld_op_adres": len(address_units),
        "zonder_certificaat": len(units) - len(matched_units) - len(address_units),
    }
    return matched, counts


def reference_label(units: pd.DataFrame, certificates: pd.DataFrame) -> pd.DataFrame:
    keys = ["corporatie", "vhe_id"]
    certs = certificates[[*keys, "registratiedatum", "geldig_tot", "opnamedatum", "energieklasse", "energie_index", "_source_row"]]
    pairs = units[[*keys, "peildatum"]].drop_duplicates().merge(certs, on=keys, how="inner")
    valid = pairs[(pairs["registratiedatum"] <= pairs["peildatum"]) & (pairs["geldig_tot"] >= pairs["peildatum"])]
    valid = valid.sort_values([*keys, "peildatum", "registratiedatum", "opnamedatum", "_source_row"], na_position="first", kind="stable")
    chosen = valid.drop_duplicates([*keys, "peildatum"], keep="last")
    chosen = chosen[[*keys, "peildatum", "energieklasse", "energie_index", "registratiedatum", "geldig_tot"]].rename(
        columns={"energieklasse": "label_op_peildatum", "registratiedatum": "label_registratiedatum", "geldig_tot": "label_geldig_tot"}
    )
    out = units.merge(chosen, on=[*keys, "peildatum"], how="left")
    out["label_op_peildatum"] = out["label_op_peildatum"].fillna(GEEN_LABEL)
    return out


# --------------------------------------------------------------------------------------------
# generated stocks and certificate files: few distinct values, so ties and collisions are common
# --------------------------------------------------------------------------------------------

BAG = [f"03630100000{n:05d}" for n in range(6)]
POSTCODES = ["2011AB", "2011 AB", "2012CD", None]
DAYS = pd.to_datetime(["2020-01-01", "2021-06-30", "2022-12-31", "2023-12-31", "2024-12-31", "2030-01-01"])
PEILDATA = pd.to_datetime(["2023-12-31", "2024-12-31"])

@st.composite
def stocks(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 14))
    rows = []
    for _ in range(n):
        postcode = draw(st.sampled_from(POSTCODES))
        huisnummer = draw(st.sampled_from([1, 2, None]))
        rows.append({
            "corporatie": draw(st.sampled_from(["Elan", "Pre"])),
            "vhe_id": draw(st.sampled_from(["V1", "V2", "V3", "V4"])),
            "peildatum": draw(st.sampled_from(list(PEILDATA))),
            "bag_vbo_id": draw(st.none() | st.sampled_from(BAG)),
            "postcode": postcode,
            "huisnummer": huisnummer,
            "huisletter": draw(st.sampled_from([None, "A"])),
            "huisnummertoevoeging": None,
            "is_woning": draw(st.booleans()),
        })
    frame = pd.DataFrame(rows, columns=["corporatie", "vhe_id", "peildatum", "bag_vbo_id", "postcode", "huisnummer",
                                        "huisletter", "huisnummertoevoeging", "is_woning"])
    for column in ("corporatie", "vhe_id", "bag_vbo_id", "postcode", "huisletter", "huisnummertoevoeging"):
        frame[column] = frame[column].astype("str")
    frame["peildatum"] = frame["peildatum"].astype("datetime64[ns]")
    frame["huisnummer"] = frame["huisnummer"].astype("Int64")
    frame["is_woning"] = frame["is_woning"].astype("bool")
    frame["adres_sleutel"] = address_key(frame["postcode"], frame["huisnummer"], frame["huisletter"], frame["huisnummertoevoeging"])
    return frame


@st.composite
def certificate_files(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 16))
    rows = []
    for line in range(n):
        rows.append({
            "bag_vbo_id": draw(st.none() | st.sampled_from(BAG)),
            "postcode": draw(st.sampled_from(POSTCODES)),
            "huisnummer": draw(st.sampled_from([1, 2, None])),
            "huisletter": draw(st.sampled_from([None, "A", "a"])),
            "huisnummertoevoeging": None,
            "opnamedatum": draw(st.none() | st.sampled_from(list(DAYS))),
            "registratiedatum": draw(st.none() | st.sampled_from(list(DAYS[:4]))),
            "geldig_tot": draw(st.none() | st.sampled_from(list(DAYS[2:]))),
            "energieklasse": draw(st.sampled_from(["A", "C", "E", "G"])),
            "energie_index": draw(st.none() | st.sampled_from([1.1, 2.5])),
            # repeated rows of one file share a line number only in a corrupt file; ties must still be stable
            "_source_row": draw(st.sampled_from([4 + line, 4])),
        })
    frame = pd.DataFrame(rows, columns=["bag_vbo_id", "postcode", "huisnummer", "huisletter", "huisnummertoevoeging",
                                        "opnamedatum", "registratiedatum", "geldig_tot", "energieklasse",
                                        "energie_index", "_source_row"])
    for column in ("bag_vbo_id", "postcode", "huisletter", "huisnummertoevoeging", "energieklasse"):
        frame[column] = frame[column].astype("str")
    for column in ("opnamedatum", "registratiedatum", "geldig_tot"):
        frame[column] = frame[column].astype("datetime64[ns]")
    frame["huisnummer"] = frame["huisnummer"].astype("Int64")
    frame["energie_index"] = frame["energie_index"].astype("float64")
    frame["_source_row"] = frame["_source_row"].astype("Int64")
    frame["_source_file"] = "v20251101_v4_csv.csv"
    return frame


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(stock=stocks(), certificates=certificate_files())
def test_match_and_label_equal_the_pandas_formulation(stock: pd.DataFrame, certificates: pd.DataFrame) -> None:
    expected, expected_counts = reference_match(certificates, stock)
    matched, counts = match_certificates(certificates, stock)
    assert counts == expected_counts
    pd.testing.assert_frame_equal(matched, expected, check_index_type=False)

    units = stock[stock["is_woning"]]
    pd.testing.assert_frame_equal(label_at_peildatum(units, matched), reference_label(units, expected))


def test_a_bag_match_wins_over_an_address_and_ties_go_to_the_last_row_of_the_file() -> None:
    stock = pd.DataFrame({
        "corporatie": ["Elan", "Elan"], "vhe_id": ["V1", "V2"], "peildatum": pd.to_datetime(["2024-12-31"] * 2),
        "bag_vbo_id": [BAG[0], None], "postcode": ["2011AB", "2011AB"], "huisnummer": pd.array([1, 1], dtype="Int64"),
        "huisletter": [None, None], "huisnummertoevoeging": [None, None], "is_woning": [True, True],
    }).astype({"bag_vbo_id": "str", "huisletter": "str", "huisnummertoevoeging": "str"})
    stock["adres_sleutel"] = address_key(stock["postcode"], stock["huisnummer"], stock["huisletter"], stock["huisnummertoevoeging"])
    day = pd.Timestamp("2023-05-01")
    certificates = pd.DataFrame({
        "bag_vbo_id": [BAG[0], None, None, None],
        "postcode": ["2011AB"] * 4, "huisnummer": pd.array([1] * 4, dtype="Int64"),
        "huisletter": [None] * 4, "huisnummertoevoeging": [None] * 4,
        "opnamedatum": [day] * 4, "registratiedatum": [day] * 4,
        "geldig_tot": pd.to_datetime(["2033-05-01"] * 4), "energieklasse": ["B", "E", "C", "D"],
        "energie_index": [np.nan] * 4,
        # the last row: line 6 of a daily mutation file, after line 6 of the total file
        "_source_row": pd.array([4, 5, 6, 6], dtype="Int64"),
    }).astype({"bag_vbo_id": "str", "huisletter": "str", "huisnummertoevoeging": "str"})
    matched, counts = match_certificates(certificates, stock)
    # V1 has its BAG id in EP-online: matched on it alone; V2 (no BAG id) takes both address rows
    assert counts == {"woningen": 2, "gekoppeld_op_bag": 1, "gekoppeld_op_adres": 1, "zonder_certificaat": 0}
    assert matched[["vhe_id", "match_methode", "_source_row"]].values.tolist() == [
        ["V1", "bag", 4], ["V2", "adres", 4], ["V2", "adres", 5], ["V2", "adres", 6], ["V2", "adres", 6]
    ]
    labels = label_at_peildatum(stock, matched).set_index("vhe_id")["label_op_peildatum"]
    # same registration and opname day: the highest line, and of two line 6s the later one (D)
    assert labels.to_dict() == {"V1": "B", "V2": "D"}


def test_nothing_to_match_gives_empty_frames_with_every_column() -> None:
    empty_stock = pd.DataFrame({
        "corporatie": pd.Series([], dtype="str"), "vhe_id": pd.Series([], dtype="str"),
        "peildatum": pd.Series([], dtype="datetime64[ns]"), "bag_vbo_id": pd.Series([], dtype="str"),
        "adres_sleutel": pd.Series([], dtype="str"), "is_woning": pd.Series([], dtype="bool"),
    })
    certificates = pd.DataFrame({
        "bag_vbo_id": pd.Series([None], dtype="object"), "postcode": ["2011AB"], "huisnummer": pd.array([1], dtype="Int64"),
        "huisletter": pd.Series([None], dtype="object"), "huisnummertoevoeging": pd.Series([None], dtype="object"),
        "opnamedatum": pd.to_datetime(["2023-01-01"]), "registratiedatum": pd.to_datetime(["2023-01-01"]),
        "geldig_tot": pd.to_datetime(["2033-01-01"]), "energieklasse": ["A"], "energie_index": [np.nan],
        "_source_row": pd.array([4], dtype="Int64"),
    })
    matched, counts = match_certificates(certificates, empty_stock)
    assert counts == {"woningen": 0, "gekoppeld_op_bag": 0, "gekoppeld_op_adres": 0, "zonder_certificaat": 0}
    assert matched.empty and {"corporatie", "vhe_id", "energieklasse", "match_methode"} <= set(matched.columns)
    labelled = label_at_peildatum(empty_stock, matched)
    assert labelled.empty and "label_op_peildatum" in labelled.columns
    assert len(unmatched_sample(empty_stock, matched, 20)) == 0


def test_take_fills_missing_positions_with_missing_values_of_the_same_dtype() -> None:
    frame = pd.DataFrame({"s": pd.Series(["a", "b"], dtype="str"), "n": pd.array([1, 2], dtype="Int64"),
                          "d": pd.to_datetime(["2024-01-01", "2024-01-02"]), "f": [1.5, 2.5]})
    out = relational.take(frame, np.array([1, -1, 0]))
    assert list(out.dtypes) == list(frame.dtypes)
    assert out["s"].tolist()[0] == "b" and pd.isna(out["s"].iloc[1]) and out["n"].iloc[2] == 1
    assert pd.isna(out["d"].iloc[1]) and np.isnan(out["f"].iloc[1])


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_the_unmatched_sample_is_the_first_dwellings_without_a_certificate(limit: int) -> None:
    stock = pd.DataFrame({
        "corporatie": ["Elan"] * 5, "vhe_id": ["V1", "V2", "V2", "V3", "V4"],
        "is_woning": [True, True, True, False, True],
    }).astype({"corporatie": "str", "vhe_id": "str"})
    matched = pd.DataFrame({"corporatie": ["Elan"], "vhe_id": ["V1"]}).astype("str")
    # V1 matched, V2's first row (position 1), V3 is no dwelling, then V4 (position 4)
    assert unmatched_sample(stock, matched, limit).tolist() == [1, 4][:limit]


def reference_outside(lettings: pd.DataFrame, stock: pd.DataFrame) -> list[bool]:
    units = set(zip(stock["corporatie"], stock["vhe_id"], strict=True))
    bags = set(stock["bag_vbo_id"].dropna())
    addresses = set(stock["adres_sleutel"].dropna())
    keys = address_key(lettings["postcode"], lettings["huisnummer"], lettings["huisletter"], lettings["huisnummertoevoeging"])
    return [
        not ((c, v) in units or b in bags or k in addresses)
        for c, v, b, k in zip(lettings["corporatie"], lettings["vhe_id"], lettings["bag_vbo_id"], keys, strict=True)
    ]


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(stock=stocks(), lettings=stocks())
def test_lettings_outside_the_stock_equal_the_set_formulation(stock: pd.DataFrame, lettings: pd.DataFrame) -> None:
    from assets.staging.cross_checks import lettings_outside_stock

    lettings = lettings.set_axis(pd.RangeIndex(100, 100 + len(lettings)))  # the flags keep the lettings' index
    outside = lettings_outside_stock(lettings, stock)
    assert outside.index.equals(lettings.index) and outside.dtype == bool
    assert outside.tolist() == reference_outside(lettings, stock)
