"""Assets that read sources retry a transient failure with backoff, and never retry a bad delivery."""

from __future__ import annotations

import dagster as dg

import sources.woonservice as woonservice
from assets import raw
from assets.ep_online_mutaties import raw_ep_online_mutaties
from pipelines.definitions import all_assets
from tests.pipeline_helpers import Workspace


def test_every_asset_that_reads_a_source_has_a_retry_policy_with_backoff():
    readers = [a for a in all_assets if isinstance(a, dg.AssetsDefinition) and a.group_names_by_key
               and set(a.group_names_by_key.values()) == {"raw"}]
    assert {k.to_user_string() for a in readers for k in a.keys} >= {
        "raw_bezit", "raw_ep_online", "raw_leefbaarometer", "raw_toewijzingen", "raw_woningzoekenden",
        "raw_planlijst", "raw_ep_online_mutaties",
    }
    for asset in readers:
        policy = asset.op.retry_policy
        assert policy is not None and policy.max_retries >= 2, asset.key
        assert policy.backoff == dg.Backoff.EXPONENTIAL, asset.key
    assert raw_ep_online_mutaties.op.retry_policy.delay >= raw.SOURCE_RETRY.delay


def _events(result: dg.ExecuteInProcessResult, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type == kind]


def test_a_transient_read_error_is_retried_and_the_run_succeeds(tmp_path, monkeypatch):
    workspace = Workspace(tmp_path)
    real = woonservice.read_toewijzingen
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("Stale file handle (NFS)")
        return real(*args, **kwargs)

    monkeypatch.setattr(woonservice, "read_toewijzingen", flaky)
    # the real policy: the one retry waits its 10 s (with jitter)
    result = dg.materialize([raw.raw_toewijzingen], resources=workspace.resources(), raise_on_error=False)
    assert result.success
    assert len(_events(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)) == 1


def test_a_bad_delivery_is_not_retried(tmp_path):
    workspace = Workspace(tmp_path)
    lettings = next((workspace.landing / "woonservice").glob("toewijzingen_2021-2025.csv"))
    lines = lettings.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    date_column = header.index("toewijzingsdatum")
    cells = lines[5].split(";")
    cells[date_column] = "31-02-2024"
    lines[5] = ";".join(cells)
    lettings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = dg.materialize([raw.raw_toewijzingen], resources=workspace.resources(), raise_on_error=False)
    assert not result.success
    assert _events(result, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = _events(result, dg.DagsterEventType.STEP_FAILURE)
    assert "31-02-2024" in str(failure.step_failure_data.user_failure_data.description)
