"""kpi_energielabels tallies the wijk level from the dwellings and the gemeente level from the wijk
level's sums (issue 8: a second pass over the national dwellings). The gemeente rows must be the
ones a direct tally of the dwellings gives, including a label that only one wijk has, a wijk without
any energy index, and the denominators (every dwelling of the gemeente, not of the wijken with that
label)."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.kpi.energielabels import GEEN_LABEL, _rows, _tally

KEYS = ["gemeente_code", "gemeente_naam", "corporatie", "peildatum"]


def _labelled() -> pd.DataFrame:
    frame = pd.DataFrame({
        "gemeente_code": ["GM0392"] * 4 + ["GM0397"],
        "gemeente_naam": ["Haarlem"] * 4 + ["Heemstede"],
        "corporatie": ["Elan"] * 5,
        "peildatum": pd.to_datetime(["2025-01-01"] * 5),
        "wijk_code": ["WK039201", "WK039201", "WK039202", "WK039202", "WK039701"],
        "label_op_peildatum": ["A", "E", "G", "A", GEEN_LABEL],
        "is_efg": [False, True, True, False, False],
        "vrijgesteld": [False, False, True, False, False],
        "label_geldig_tot": pd.to_datetime(["2034-01-01", "2025-06-01", "2030-01-01", "2031-01-01", None]),
        "energie_index": [1.0, None, None, None, None],
    })
    frame.loc[2, "energie_index"] = 2.5  # the G in WK039202; WK039202's A and all of Heemstede have none
    text = ["gemeente_code", "gemeente_naam", "corporatie", "wijk_code", "label_op_peildatum"]
    return frame.astype({c: "category" for c in text})


def _by(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({c: "str" for c in [*KEYS[:3], "energieklasse", "indicator", "unit"]})
    return frame.sort_values(["gemeente_code", "indicator", "energieklasse"]).reset_index(drop=True)


def test_the_gemeente_level_from_the_wijk_sums_is_the_direct_tally() -> None:
    labelled = _labelled()
    direct = _rows(_tally(labelled, KEYS))
    from_wijken = _rows(_tally(labelled, [*KEYS, "wijk_code"]).coarser(KEYS))
    pd.testing.assert_frame_equal(_by(from_wijken), _by(direct))


def test_gemeente_numbers_worked_out_by_hand() -> None:
    rows = _by(_rows(_tally(_labelled(), [*KEYS, "wijk_code"]).coarser(KEYS)))
    haarlem = rows[rows["gemeente_code"] == "GM0392"].set_index(["indicator", "energieklasse"])
    # four dwellings in two wijken: A twice, E once, G once; every share is over all four
    assert haarlem.loc[("label_verdeling", "A"), ["numerator", "denominator"]].tolist() == [2.0, 4.0]
    assert haarlem.loc[("label_verdeling", "G"), ["numerator", "denominator"]].tolist() == [1.0, 4.0]
    assert ("label_verdeling", GEEN_LABEL) not in haarlem.index
    assert haarlem.loc[("efg_aantal", "alle"), "numerator"] == 1.0  # the E; the G is exempt
    assert haarlem.loc[("efg_vrijgesteld", "alle"), "numerator"] == 1.0
    # the E's label ends 2025-06-01, within 12 months of the peildatum
    assert haarlem.loc[("verloopt_binnen_12_maanden", "alle"), "numerator"] == 1.0
    # two indices (1.0 in WK039201, 2.5 in WK039202): sum 3.5 over 2
    assert haarlem.loc[("gemiddelde_energie_index", "alle"), ["numerator", "denominator"]].tolist() == [3.5, 2.0]
    heemstede = rows[rows["gemeente_code"] == "GM0397"].set_index(["indicator", "energieklasse"])
    assert heemstede.loc[("zonder_geldig_label", "alle"), "numerator"] == 1.0
    assert ("gemiddelde_energie_index", "alle") not in heemstede.index  # no index, no mean


@pytest.mark.parametrize("keep", [["WK039201"], ["WK039202", "WK039701"]])
def test_a_subset_of_wijken_tallies_the_same_both_ways(keep: list[str]) -> None:
    labelled = _labelled()
    labelled = labelled[labelled["wijk_code"].isin(keep)]
    direct = _rows(_tally(labelled, KEYS))
    from_wijken = _rows(_tally(labelled, [*KEYS, "wijk_code"]).coarser(KEYS))
    pd.testing.assert_frame_equal(_by(from_wijken), _by(direct))
