from datetime import date

import pytest

from sources.reference import MissingReferenceError, load_huurgrenzen, load_inkomensgrenzen


def test_thresholds_by_year_and_by_date():
    huur = load_huurgrenzen()
    assert huur.value("liberalisatiegrens", 2024) == 879.66
    assert huur.value("aftoppingsgrens_laag", 2023) == 647.19
    assert huur.value_at("middenhuur_bovengrens", date(2024, 8, 1)) == 1157.95
    assert huur.confidence("aftoppingsgrens_laag", 2025) == "unverified"
    assert load_inkomensgrenzen().value("daeb_meerpersoons", 2024) == 52671


def test_a_missing_year_fails_with_threshold_and_year_named():
    with pytest.raises(MissingReferenceError, match=r"liberalisatiegrens.*2018"):
        load_huurgrenzen().value("liberalisatiegrens", 2018)
    with pytest.raises(MissingReferenceError, match="2024-06-30"):
        load_huurgrenzen().value_at("middenhuur_bovengrens", date(2024, 6, 30))
