"""Validate one staged dataset with its GX suite and turn the outcome into what Dagster and the
steward need: the rows that flow on, the rows for the quarantine, a blocking check result, and an
HTML validation report.

Each suite's `meta` says the dataset's policy:
- `reject`: any ERROR-severity failure fails the check with ERROR; the KPIs downstream do not run
  and keep yesterday's tables. The failing rows are quarantined for the steward.
- `partial`: rows failing an ERROR-severity row rule are removed and quarantined; valid rows flow
  on; the check then fails with WARN (informing, not blocking). A table-level ERROR (e.g. the row
  count collapsed) still blocks.
and optionally `rijenaantal: {marge, ernst}`: bounds on the row count against the previous load.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from expectations.checks import outcome_metadata
from expectations.corrections import key_strings
from expectations.runner import SEVERITY_ERROR, SuiteOutcome, load_suite_definition, run_suite
from sources.pseudonym import VELDEN, Behandeling, identifier_fields, is_token

# Business key per staged dataset: how the quarantine and the corrections file name a row.
DATASET_KEYS: dict[str, list[str]] = {
    "stg_bezit": ["corporatie", "peildatum", "vhe_id"],
    "stg_toewijzingen": ["toewijzing_id"],
    "stg_woningzoekenden": ["woningzoekende_id", "periode_begin"],
    "stg_energielabels": ["corporatie", "vhe_id", "registratiedatum", "energieklasse"],
    "stg_leefbaarometer": ["niveau", "gebied_code", "jaar"],
    "stg_voorraadmutaties": ["corporatie", "jaar", "vhe_id"],
    "stg_referentiedata": ["tabel", "threshold", "year", "valid_from"],
}
POLICIES = ("reject", "partial")
# Personal data (AVG) never leave staging: in the quarantine their value is masked; the steward
# finds it through file and row number in the delivery itself.
PERSONAL_COLUMNS = {
    "huishoudinkomen", "leeftijd_hoofdaanvrager", "huishoudgrootte", "inschrijfdatum", "leeftijdsklasse",
    "inkomensklasse", "woonkern",
}
MASKED = "<persoonsgegeven>"
# For the Woonservice datasets: every column sources/pseudonym.py classifies as personal data too
# (the hashed identifiers excepted: they are pseudonyms already and form the quarantine key).
PERSONAL_COLUMNS_PER_DATASET: dict[str, set[str]] = {
    f"stg_{dataset}": {c for c, v in velden.items() if v.behandeling in (Behandeling.ALLEEN_STAGING, Behandeling.GEGENERALISEERD)}
    for dataset, velden in VELDEN.items()
}


def personal_columns(dataset: str) -> set[str]:
    return PERSONAL_COLUMNS | PERSONAL_COLUMNS_PER_DATASET.get(dataset, set())


def mask_personal_corrections(audit: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The corrections audit (it goes to the warehouse) with old and new values of personal columns
    masked, and an identifier in the key that is not a pseudonym (copied from the delivery instead of
    the quarantine: it matches no row) masked and explained."""
    if audit.empty or "kolom" not in audit.columns:
        return audit
    audit = audit.copy()
    personal = audit["kolom"].isin(personal_columns(dataset))
    for column in ("oude_waarde", "nieuwe_waarde"):
        if column in audit.columns:
            audit[column] = audit[column].astype("object")
            audit.loc[personal & audit[column].notna() & (audit[column].astype("str") != ""), column] = MASKED
    identifiers = identifier_fields(dataset.removeprefix("stg_")) if dataset.removeprefix("stg_") in VELDEN else {}
    for index, key in audit["sleutel"].items():
        parts = [part.split("=", 1) for part in str(key).split(";")]
        raw = [p for p in parts if len(p) == 2 and p[0].strip() in identifiers and not is_token(p[0].strip(), p[1].strip())]
        if raw:
            audit.at[index, "sleutel"] = ";".join(
                f"{p[0]}={MASKED}" if p in raw else "=".join(p) for p in parts
            )
            audit.at[index, "status"] = (
                f"{audit.at[index, 'status']}: sleutel bevat een nummer uit de levering, geen pseudoniem; "
                "neem de sleutel over uit dq.quarantaine"
            )
    return audit


@dataclass
class Validation:
    frame: pd.DataFrame  # the rows that flow on
    outcome: SuiteOutcome
    quarantine: pd.DataFrame  # bestand, rij, sleutel, kolom, waarde, regel, ernst, actie
    policy: str
    blocking: bool
    removed_rows: int

    def check_result(self, dataset: str, extra_metadata: dict[str, Any] | None = None) -> dg.AssetCheckResult:
        metadata: dict[str, Any] = {
            **outcome_metadata(self.outcome, self.quarantine),
            "beleid": dg.MetadataValue.text(self.policy),
            "rijen_verwijderd_naar_quarantaine": dg.MetadataValue.int(self.removed_rows),
            **(extra_metadata or {}),
        }
        if not self.outcome.failed:
            return dg.AssetCheckResult(
                check_name=check_name(dataset), passed=True, metadata=metadata, description="alle verwachtingen gehaald"
            )
        rules = ", ".join(sorted({f.rule for f in self.outcome.failed}))
        if self.blocking:
            text = f"{dataset}: verwachtingen met ernst ERROR niet gehaald ({rules}); de KPI's erna draaien niet"
        elif self.removed_rows:
            text = f"{dataset}: {self.removed_rows} rij(en) naar de quarantaine, de rest gaat door ({rules})"
        else:
            text = f"{dataset}: waarschuwingen ({rules})"
        return dg.AssetCheckResult(
            check_name=check_name(dataset),
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR if self.blocking else dg.AssetCheckSeverity.WARN,
            metadata=metadata,
            description=text,
        )


def check_name(dataset: str) -> str:
    return f"gx_{dataset}"


def check_spec(dataset: str) -> dg.AssetCheckSpec:
    definition = load_suite_definition(dataset)
    meta = definition.get("meta", {})
    return dg.AssetCheckSpec(
        name=check_name(dataset),
        asset=dataset,
        blocking=True,
        description=(
            f"{meta.get('description', dataset)} (expectations/{dataset}.json, beleid {policy_of(dataset)}; "
            "ERROR blokkeert de KPI's, WARN informeert)"
        ),
    )


def policy_of(dataset: str) -> str:
    policy = load_suite_definition(dataset).get("meta", {}).get("policy", "reject")
    if policy not in POLICIES:
        raise ValueError(f"expectations/{dataset}.json: onbekend beleid {policy!r}; kies uit {POLICIES}")
    return str(policy)


def row_count_bounds(dataset: str, previous: int | None) -> list[dict[str, Any]]:
    """The run-time expectation on the row count against the previous load, if the suite asks for it."""
    rule = load_suite_definition(dataset).get("meta", {}).get("rijenaantal")
    if not rule or previous is None or previous == 0:
        return []
    margin = float(rule.get("marge", 0.5))
    return [
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": int(previous * (1 - margin)), "max_value": int(previous * (1 + margin)) + 1},
            "meta": {"vorige_lading": previous, "marge": margin},
            "severity": rule.get("ernst", "critical"),
        }
    ]


def validate_dataset(
    frame: pd.DataFrame, dataset: str, *, today: date, previous_row_count: int | None = None
) -> Validation:
    keys = [k for k in DATASET_KEYS.get(dataset, []) if k in frame.columns]
    policy = policy_of(dataset)
    outcome = run_suite(
        frame,
        dataset,
        parameters={"vandaag": pd.Timestamp(today)},
        extra_expectations=row_count_bounds(dataset, previous_row_count),
        key_columns=keys,
    )
    failing = outcome.failing_rows()
    failing["sleutel"] = _keys_of_failing(failing, keys)
    row_level_errors = failing[(failing["ernst"] == "ERROR") & failing["rij"].notna()]
    table_level_error = any(f.severity == SEVERITY_ERROR and not f.rows for f in outcome.failed)
    removed = 0
    flowing = frame
    if policy == "partial" and len(row_level_errors):
        bad = set(zip(row_level_errors["bestand"], row_level_errors["rij"].astype("int64"), strict=True))
        mask = [
            (f, int(r)) in bad
            for f, r in zip(frame["_source_file"], frame["_source_row"].fillna(-1), strict=True)
        ]
        flowing = frame[[not m for m in mask]]
        removed = len(frame) - len(flowing)
    blocking = table_level_error or (policy == "reject" and bool(outcome.blocking_failures))
    failing["actie"] = failing["ernst"].map({"WARN": "gemeld"})
    failing.loc[failing["ernst"] == "ERROR", "actie"] = (
        "rij verwijderd" if policy == "partial" else "lading geblokkeerd"
    )
    if table_level_error:
        failing.loc[(failing["ernst"] == "ERROR") & failing["rij"].isna(), "actie"] = "lading geblokkeerd"
    masked = personal_columns(dataset)
    personal = failing["kolom"].fillna("").map(lambda c: bool(set(c.split(",")) & masked))
    failing.loc[personal & failing["rij"].notna(), "waarde"] = MASKED
    quarantine = failing.drop(columns=["_row"])
    return Validation(flowing, outcome, quarantine, policy, blocking, removed)


def _keys_of_failing(failing: pd.DataFrame, keys: list[str]) -> pd.Series:
    if failing.empty or not keys:
        return pd.Series([None] * len(failing), index=failing.index, dtype="object")
    rows = pd.DataFrame(list(failing["_row"]), index=failing.index)
    for key in keys:
        if key not in rows.columns:
            rows[key] = None
    for key in keys:
        converted = pd.to_datetime(rows[key], errors="coerce") if rows[key].map(_is_timestamp).any() else None
        if converted is not None:
            rows[key] = converted
    text = key_strings(rows, keys)
    return text.where(failing["rij"].notna(), None)


def _is_timestamp(value: object) -> bool:
    return isinstance(value, (pd.Timestamp, datetime))


def write_report(validation: Validation, dataset: str, *, run_id: str, directory: Path) -> Path:
    """A self-contained HTML validation report: every expectation evaluated and every failing row."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{dataset}.html"
    definition = load_suite_definition(dataset)
    failed = {(f.expectation, f.column) for f in validation.outcome.failed}
    expectations = pd.DataFrame(
        [
            {
                "regel": e["type"],
                "kolom": e.get("kwargs", {}).get("column") or ",".join(e.get("kwargs", {}).get("column_list", [])),
                "ernst": "ERROR" if e.get("severity", "critical") == "critical" else "WARN",
                "uitkomst": "NIET GEHAALD"
                if (e["type"], e.get("kwargs", {}).get("column")) in failed
                else "gehaald",
            }
            for e in definition["expectations"]
        ]
    )
    rows = validation.quarantine
    body = f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Validatie {html.escape(dataset)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}
.fout{{color:#b00}}</style></head><body>
<h1>Validatierapport {html.escape(dataset)}</h1>
<p>Run {html.escape(run_id)} &middot; beleid <b>{html.escape(validation.policy)}</b> &middot;
{validation.outcome.row_count} rijen gevalideerd &middot; {validation.outcome.evaluated} verwachtingen,
<span class="fout">{len(validation.outcome.failed)} niet gehaald</span> &middot;
{validation.removed_rows} rijen naar de quarantaine &middot;
{"<b class='fout'>blokkeert de KPI's</b>" if validation.blocking else "blokkeert niet"}</p>
<h2>Verwachtingen</h2>{expectations.to_html(index=False, escape=True)}
<h2>Foute rijen ({len(rows)})</h2>{rows.head(1000).to_html(index=False, escape=True, na_rep="")}
<p>Corrigeer in <code>corrections/correcties.csv</code> met de sleutel uit deze tabel en draai
<code>{html.escape(dataset)}</code> en alles erna opnieuw (zie README, "Voor de datasteward").</p>
</body></html>
"""
    path.write_text(body, encoding="utf-8")
    return path
