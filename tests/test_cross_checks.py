"""The cross-source checks' choice of dwellings: in exploitation, at their corporation's latest peildatum."""

from __future__ import annotations

import pandas as pd

from assets.staging.cross_checks import _latest_dwellings


def test_latest_dwellings_are_those_at_the_latest_peildatum_of_their_corporations_dwellings():
    stock = pd.DataFrame({
        "corporatie": pd.Series(["Elan", "Elan", "Elan", "Pre", "Pre", "Pre", None, "Ymere"], dtype="str"),
        "peildatum": pd.to_datetime([
            "2024-12-31", "2025-12-31", "2025-12-31", "2024-12-31", "2025-12-31", "2024-12-31", "2025-12-31", "2025-12-31",
        ]),
        "vhe_id": pd.Series(["e1", "e2", "e3", "p1", "p2", "p3", "x1", "y1"], dtype="str"),
        "is_woning": [True, True, True, True, False, True, True, False],
        "in_exploitatie": [True, True, False, True, True, True, True, True],
    }).set_axis(pd.RangeIndex(10, 18))
    got = _latest_dwellings(stock)
    # Elan: 2025 is its latest, e3 is not in exploitation. Pre: its only 2025 row is no dwelling, so
    # its latest dwellings are those of 2024. A row without corporation and Ymere (no dwelling at all)
    # give nothing. Rows keep their order and index.
    assert got["vhe_id"].tolist() == ["e2", "p1", "p3"]
    assert got.index.tolist() == [11, 13, 15]
    assert list(got.columns) == list(stock.columns)
