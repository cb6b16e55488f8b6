"""How a suite's outcome is shown in the Dagster UI: counts, the failed rules and the failing rows.

The checks themselves are declared on the staged assets (expectations/quality.py, assets/quality.py).
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from expectations.runner import SAMPLE_ROWS, SuiteOutcome


def outcome_metadata(outcome: SuiteOutcome, rows: pd.DataFrame | None = None) -> dict[str, dg.MetadataValue]:
    """`rows`: the failing rows to show (already masked for personal data); default all of them."""
    summary = pd.DataFrame(
        [
            {
                "regel": f.rule,
                "ernst": "ERROR" if f.severity == "critical" else "WARN",
                "onverwacht": f.unexpected_count,
                "onverwacht_pct": None if f.unexpected_percent is None else round(f.unexpected_percent, 3),
                "waargenomen": None if f.observed_value is None else str(f.observed_value),
            }
            for f in outcome.failed
        ]
    )
    if rows is None:
        rows = outcome.failing_rows().drop(columns=["_row"])
    return {
        "suite": dg.MetadataValue.text(outcome.suite),
        "verwachtingen_geevalueerd": dg.MetadataValue.int(outcome.evaluated),
        "verwachtingen_mislukt": dg.MetadataValue.int(len(outcome.failed)),
        "rijen_gevalideerd": dg.MetadataValue.int(outcome.row_count),
        "onverwacht_totaal": dg.MetadataValue.int(int(sum(f.unexpected_count or 0 for f in outcome.failed))),
        "mislukte_verwachtingen": dg.MetadataValue.md(summary.to_markdown(index=False) if len(summary) else "geen"),
        "foute_rijen": dg.MetadataValue.md(
            rows.head(SAMPLE_ROWS).astype("str").to_markdown(index=False) if len(rows) else "geen"
        ),
    }
