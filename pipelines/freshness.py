"""Freshness of the published KPIs: a policy on every KPI, publication and monitor asset, and a sensor
that alerts (same channels as run failures) when one of them goes stale.

The nightly run starts at 02:00 Europe/Amsterdam. An asset not materialised for 25 hours is WARN
(the night's run is late or still going), for 26 hours FAIL (last night's run did not deliver it).
Dagster's freshness daemon (on by default since 1.12; ``freshness: enabled: true`` in
deploy/dagster.yaml) evaluates the policies and records state changes; OSS Dagster shows them in the UI
but alerts nobody, hence ``build_freshness_alert_sensor``.

Wiring (pipelines/definitions.py):

    from pipelines.freshness import build_freshness_alert_sensor, with_kpi_freshness
    all_assets = with_kpi_freshness(dg.load_assets_from_modules(ASSET_MODULES))
    sensors=[..., build_freshness_alert_sensor()]      # uses resource "alerts" (pipelines/alerts.py)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState

from assets.resources import DataQuality, LandingFolder
from pipelines.alerts import AlertChannels, FreshnessAlert, deliver
from pipelines.nightly import nothing_new

FAIL_AFTER = timedelta(hours=26)
WARN_AFTER = timedelta(hours=25)
FRESH_GROUPS = ("kpi", "publicatie", "monitor")

def kpi_freshness_policy() -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(fail_window=FAIL_AFTER, warn_window=WARN_AFTER)


def needs_freshness(spec: dg.AssetSpec) -> bool:
    """KPI tables, their publication and the monitor: what dashboards and municipalities read."""
    return (spec.group_name or "") in FRESH_GROUPS or spec.key.path[-1].startswith(("kpi_", "monitor_"))


def with_kpi_freshness(assets: Sequence[Any]) -> list[Any]:
    """The same definitions (e.g. what ``dg.load_assets_from_modules`` returns), with
    :func:`kpi_freshness_policy` on every asset that :func:`needs_freshness`; an explicitly set
    policy is kept, anything that is not an AssetsDefinition or AssetSpec passes through unchanged."""
    policy = kpi_freshness_policy()

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        return dg.apply_freshness_policy(spec, policy, overwrite_existing=False) if needs_freshness(spec) else spec

    return [
        item.map_asset_specs(apply) if isinstance(item, dg.AssetsDefinition)
        else apply(item) if isinstance(item, dg.AssetSpec)
        else item
        for item in assets
    ]


def _describe() -> str:
    return f"beleid: WARN na {WARN_AFTER.total_seconds() / 3600:g} uur, FAIL na {FAIL_AFTER.total_seconds() / 3600:g} uur zonder update"


def build_freshness_alert_sensor(
    *, name: str = "freshness_alert", minimum_interval_seconds: int = 300,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """Every few minutes: assets with a freshness policy whose recorded state is FAIL and that were
    not alerted for that same state change yet. One alert per asset per stale episode."""

    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Meldt (webhook/e-mail) KPI-assets die hun versheidsbeleid (26 uur) niet halen.",
    )
    def freshness_alert(
        context: dg.SensorEvaluationContext, alerts: AlertChannels, landing: LandingFolder, data_quality: DataQuality
    ) -> dg.SkipReason | None:
        graph = context.repository_def.asset_graph if context.repository_def else None
        if graph is None:
            return dg.SkipReason("geen asset-graaf")
        keys = [node.key for node in graph.asset_nodes if node.freshness_policy is not None]
        records = context.instance.get_freshness_state_records(keys)
        alerted: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
        stale = []
        for key, record in sorted(records.items(), key=lambda item: item[0].to_user_string()):
            name_ = key.to_user_string()
            if record.freshness_state != FreshnessState.FAIL:
                alerted.pop(name_, None)  # fresh again: a next stale episode alerts again
                continue
            since = record.updated_at.timestamp()
            if alerted.get(name_) != since:
                stale.append((name_, record.updated_at.isoformat(timespec="minutes")))
                alerted[name_] = since
        if stale and nothing_new(context.instance, landing, data_quality):
            # Not rematerialised because nothing changed since the last complete load: the published
            # numbers are current. Not marked as alerted: if new data then stays unprocessed, it is.
            for name_, _ in stale:
                alerted.pop(name_, None)
            context.update_cursor(json.dumps(alerted, sort_keys=True))
            return dg.SkipReason("niets nieuw sinds de laatste volledige lading: de KPI's zijn actueel")
        if not stale:
            context.update_cursor(json.dumps(alerted, sort_keys=True))
            return dg.SkipReason("alle assets met versheidsbeleid zijn vers (of al gemeld)")
        deliver(FreshnessAlert(stale=stale, policy=_describe(), ui_url=alerts.dagster_ui_url), alerts, context.log)
        context.update_cursor(json.dumps(alerted, sort_keys=True))  # only after delivery: a failed send is retried
        return None

    return freshness_alert
