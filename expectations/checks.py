"""Each GX suite becomes one blocking Dagster asset check on its staged asset.

Severity per expectation: `critical` failures make the check fail with ERROR, which blocks the KPI
assets downstream (they keep yesterday's tables); `warning` failures make it fail with WARN, which
informs the steward without blocking.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from expectations.runner import SAMPLE_ROWS, SuiteOutcome, load_suite_definition, run_suite


def outcome_metadata(outcome: SuiteOutcome) -> dict[str, dg.MetadataValue]:
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
    rows = outcome.failing_rows()
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


def suite_check(asset_name: str, suite_name: str | None = None) -> dg.AssetChecksDefinition:
    suite_name = suite_name or asset_name
    definition = load_suite_definition(suite_name)
    description = definition.get("meta", {}).get("description", f"Great Expectations suite {suite_name}")

    @dg.asset_check(
        asset=asset_name,
        name=f"gx_{suite_name}",
        blocking=True,
        description=f"{description} (expectations/{suite_name}.json; ERROR blokkeert de KPI's, WARN informeert)",
        metadata={"suite": f"expectations/{suite_name}.json"},
    )
    def _check(staged: pd.DataFrame) -> dg.AssetCheckResult:
        outcome = run_suite(staged, suite_name)
        blocking = outcome.blocking_failures
        severity = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN
        return dg.AssetCheckResult(
            passed=not outcome.failed,
            severity=severity,
            metadata=outcome_metadata(outcome),
            description=(
                "alle verwachtingen gehaald"
                if not outcome.failed
                else f"{len(outcome.failed)} verwachting(en) niet gehaald: " + ", ".join(f.rule for f in outcome.failed)
            ),
        )

    return _check
