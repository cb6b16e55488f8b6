"""Freshness policies on the KPI assets (26 hours, warn at 25), evaluated by Dagster's own freshness
daemon logic under a frozen clock, and the sensor that alerts on a stale KPI once per episode."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.loader import LoadingContextForTest
from dagster._core.test_utils import freeze_time
from dagster._daemon.freshness import FreshnessDaemon

from assets.resources import DataQuality, LandingFolder
from pipelines.alerts import AlertChannels
from pipelines.config import SAMPLE_LANDING
from pipelines.definitions import all_assets, all_checks, resources
from pipelines.freshness import build_freshness_alert_sensor, kpi_freshness_policy, with_kpi_freshness
from tests.test_alerts import webhook  # noqa: F401  (fixture: local http.server recording POSTs)

T0 = datetime(2026, 1, 31, 1, 25, tzinfo=UTC)  # 02:25 in Amsterdam: the night's run is done


@pytest.fixture(scope="module")
def defs():
    return dg.Definitions(
        assets=with_kpi_freshness(all_assets), asset_checks=all_checks, sensors=[build_freshness_alert_sensor()],
        resources={**resources(), "alerts": AlertChannels()},
    )


def test_every_kpi_monitor_asset_and_the_publication_get_the_policy_and_nothing_else(defs):
    graph = defs.resolve_asset_graph()
    with_policy = {n.key.to_user_string() for n in graph.asset_nodes if n.freshness_policy is not None}
    published = {n.key.to_user_string() for n in graph.asset_nodes if n.key.path[-1].startswith(("kpi_", "monitor_"))}
    assert published and with_policy == published | {"warehouse_publicatie"}
    node = graph.get(dg.AssetKey("kpi_zon"))
    assert node.freshness_policy == kpi_freshness_policy()
    assert node.freshness_policy.fail_window.to_timedelta() == timedelta(hours=26)
    # the checks stay attached to their (re-specced) assets
    assert {k.name for k in graph.asset_check_keys} >= {"gx_stg_toewijzingen", "voorraad_balans"}


def evaluate(instance, node, at: datetime) -> FreshnessState:
    with freeze_time(at):
        asyncio.run(FreshnessDaemon()._evaluate_asset(LoadingContextForTest(instance), node))
    return instance.get_freshness_state_records([node.key])[node.key].freshness_state


def test_kpi_is_fresh_then_warn_at_25_hours_then_fail_at_26(defs):
    instance = dg.DagsterInstance.ephemeral()
    node = defs.resolve_asset_graph().get(dg.AssetKey("kpi_zon"))
    with freeze_time(T0):
        instance.report_runless_asset_event(dg.AssetMaterialization("kpi_zon"))
    assert evaluate(instance, node, T0 + timedelta(hours=23)) == FreshnessState.PASS
    assert evaluate(instance, node, T0 + timedelta(hours=25, minutes=10)) == FreshnessState.WARN
    assert evaluate(instance, node, T0 + timedelta(hours=26, minutes=1)) == FreshnessState.FAIL


# No nightly load recorded in the instance: "nothing new" cannot hold, staleness is alerted.
NO_LOAD_YET = {"landing": LandingFolder(path=str(SAMPLE_LANDING)), "data_quality": DataQuality()}


def test_stale_kpi_is_alerted_once_per_episode(defs, webhook):  # noqa: F811
    url, recorder = webhook
    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    zon, publicatie = graph.get(dg.AssetKey("kpi_zon")), graph.get(dg.AssetKey("warehouse_publicatie"))
    sensor = defs.resolve_sensor_def("freshness_alert")
    repository = defs.get_repository_def()
    channels = AlertChannels(webhook_url=url)

    def tick(cursor):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository,
                                          resources={"alerts": channels, **NO_LOAD_YET})
        return sensor.evaluate_tick(context).cursor

    with freeze_time(T0):
        instance.report_runless_asset_event(dg.AssetMaterialization("kpi_zon"))
        instance.report_runless_asset_event(dg.AssetMaterialization("warehouse_publicatie"))
    evaluate(instance, zon, T0 + timedelta(hours=2))
    evaluate(instance, publicatie, T0 + timedelta(hours=2))
    cursor = tick(None)
    assert recorder.posts == []

    with freeze_time(T0 + timedelta(hours=24, minutes=30)):  # tonight's run refreshes only the publication
        instance.report_runless_asset_event(dg.AssetMaterialization("warehouse_publicatie"))
    assert evaluate(instance, zon, T0 + timedelta(hours=26, minutes=5)) == FreshnessState.FAIL
    assert evaluate(instance, publicatie, T0 + timedelta(hours=26, minutes=5)) == FreshnessState.PASS
    cursor = tick(cursor)
    [post] = recorder.posts
    assert [s["asset"] for s in post["body"]["stale_assets"]] == ["kpi_zon"]
    assert "kpi_zon" in post["body"]["text"] and "26 uur" in post["body"]["text"]
    cursor = tick(cursor)
    assert len(recorder.posts) == 1  # same episode: no repeat

    with freeze_time(T0 + timedelta(hours=27)):
        instance.report_runless_asset_event(dg.AssetMaterialization("kpi_zon"))
    evaluate(instance, zon, T0 + timedelta(hours=27, minutes=5))
    cursor = tick(cursor)
    assert json.loads(cursor) == {}
    assert evaluate(instance, zon, T0 + timedelta(hours=54)) == FreshnessState.FAIL
    tick(cursor)
    assert len(recorder.posts) == 2  # a new stale episode alerts again
