"""What every staged asset does before its rows flow on: apply the steward's corrections, validate
with the dataset's GX suite, record failing rows in the quarantine and corrections in the audit,
write the HTML report, and report the blocking check (expectations/quality.py has the rules)."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from assets.raw import reported_source_errors
from assets.resources import DataQuality, WarehouseResource
from expectations.corrections import TOEGEPAST, apply_corrections, load_corrections
from expectations.quality import (
    DATASET_KEYS,
    check_name,
    check_spec,
    mask_personal_corrections,
    validate_dataset,
    write_report,
)
from warehouse.quality import record_corrections, record_quarantine

__all__ = ["check_spec", "validated"]


def previous_row_count(context: dg.AssetExecutionContext) -> int | None:
    event = context.instance.get_latest_materialization_event(context.asset_key)
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("rijen_aangeleverd")
    return int(value.value) if value is not None else None  # type: ignore[arg-type]


def validated(
    context: dg.AssetExecutionContext,
    frame: pd.DataFrame,
    dataset: str,
    *,
    warehouse: WarehouseResource,
    data_quality: DataQuality,
    metadata: dict[str, Any] | None = None,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    run_id = context.run.run_id
    now = datetime.now(UTC).replace(tzinfo=None)
    today = date.fromisoformat(data_quality.vandaag) if data_quality.vandaag else now.date()
    with reported_source_errors():
        corrections = load_corrections(Path(data_quality.corrections_path))
    frame, audit = apply_corrections(frame, dataset, corrections, DATASET_KEYS[dataset])
    audit = mask_personal_corrections(audit, dataset)
    validation = validate_dataset(frame, dataset, today=today, previous_row_count=previous_row_count(context))
    report = write_report(validation, dataset, run_id=run_id, directory=Path(data_quality.report_dir) / run_id)
    client = warehouse.client()
    try:
        counts = record_quarantine(client, dataset, validation.quarantine, run_id=run_id, now=now)
        record_corrections(client, audit, run_id=run_id, now=now)
    finally:
        client.dispose()
    unmatched = audit[audit["status"] != TOEGEPAST] if len(audit) else audit
    yield dg.Output(
        validation.frame,
        metadata={
            **(metadata or {}),
            "dagster/row_count": len(validation.frame),
            "rijen_aangeleverd": len(frame),
            "correcties_toegepast": int((audit["status"] == TOEGEPAST).sum()) if len(audit) else 0,
        },
    )
    extra: dict[str, Any] = {
        "rapport": dg.MetadataValue.path(str(report)),
        "quarantaine": dg.MetadataValue.json(counts),
        "correcties": dg.MetadataValue.md(audit.astype("str").to_markdown(index=False) if len(audit) else "geen"),
    }
    result = validation.check_result(dataset, extra)
    if len(unmatched) and result.passed:
        result = dg.AssetCheckResult(
            check_name=check_name(dataset),
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=result.metadata,
            description=f"{len(unmatched)} correctie(s) niet toegepast: "
            + "; ".join(f"{r.sleutel} {r.kolom}: {r.status}" for r in unmatched.itertuples()),
        )
    yield result
