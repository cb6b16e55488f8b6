"""Alerts when a run fails: a JSON POST to a webhook (Slack, Mattermost and Teams incoming webhooks
read its ``text``) and, when configured, an e-mail through SMTP.

The alert names the run, its job, the failed steps with their error, the assets the run planned but
did not materialise, and the failed asset checks with their description. Secrets (the webhook URL,
which carries its token in the path, and the SMTP password) come from ``dagster.EnvVar``; they are
never logged, never put in the message, and a delivery error names only the host.

Wiring (pipelines/definitions.py):

    from pipelines.alerts import alert_channels_from_env, build_run_failure_alert_sensor
    sensors=[..., build_run_failure_alert_sensor()],
    resources={..., "alerts": alert_channels_from_env()},

Environment: PRESTATIEMONITOR_ALERT_WEBHOOK_URL (secret), PRESTATIEMONITOR_DAGSTER_UI_URL (link to the
run), and for e-mail PRESTATIEMONITOR_SMTP_HOST, _SMTP_PORT (587), _SMTP_STARTTLS (true), _SMTP_USER,
_SMTP_PASSWORD (secret), _MAIL_FROM, _MAIL_TO (comma-separated). Nothing set: the sensor logs the
alert and sends nothing.
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import urlsplit

import dagster as dg
from dagster._core.events import DagsterEventType

ALERT_RESOURCE_KEY = "alerts"
MAX_ITEMS = 15
MAX_TEXT = 300
_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<secret>[^@/\s]+)@", re.I)


class AlertChannels(dg.ConfigurableResource):
    """Where run-failure alerts go. Empty fields switch a channel off."""

    webhook_url: str = ""
    dagster_ui_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    mail_to: str = ""
    timeout_seconds: float = 10.0

    def secrets(self) -> list[str]:
        return [s for s in (self.webhook_url, self.smtp_password) if s]


def _env(name: str, default: str = "") -> str | dg.EnvVar:
    return dg.EnvVar(name) if os.environ.get(name) else default


def alert_channels_from_env() -> AlertChannels:
    """The resource as configured by environment variables (EnvVar where set, so values are read at
    run time and the UI shows only the variable's name)."""
    port = os.environ.get("PRESTATIEMONITOR_SMTP_PORT", "587")
    starttls = os.environ.get("PRESTATIEMONITOR_SMTP_STARTTLS", "true").strip().lower() not in ("0", "false", "no")
    return AlertChannels(
        webhook_url=_env("PRESTATIEMONITOR_ALERT_WEBHOOK_URL"),
        dagster_ui_url=_env("PRESTATIEMONITOR_DAGSTER_UI_URL"),
        smtp_host=_env("PRESTATIEMONITOR_SMTP_HOST"),
        smtp_port=int(port),
        smtp_starttls=starttls,
        smtp_user=_env("PRESTATIEMONITOR_SMTP_USER"),
        smtp_password=_env("PRESTATIEMONITOR_SMTP_PASSWORD"),
        mail_from=_env("PRESTATIEMONITOR_MAIL_FROM"),
        mail_to=_env("PRESTATIEMONITOR_MAIL_TO"),
    )


@dataclass
class FailureAlert:
    run_id: str
    job_name: str
    message: str
    failed_steps: list[tuple[str, str]] = field(default_factory=list)
    failed_assets: list[str] = field(default_factory=list)
    failed_checks: list[tuple[str, str, str]] = field(default_factory=list)  # (asset:check, severity, description)
    retry: str = ""
    run_url: str = ""

    @property
    def label(self) -> str:
        return f"run {self.run_id}"

    @property
    def subject(self) -> str:
        return f"[Prestatiemonitor] run mislukt: {self.job_name} ({self.run_id[:8]})"

    def text(self) -> str:
        lines = [f"Prestatiemonitor: run {self.run_id} van job '{self.job_name}' is MISLUKT.{self.retry}"]
        if self.run_url:
            lines.append(f"Details: {self.run_url}")
        if self.failed_steps:
            lines.append("Mislukte stappen:")
            lines += [f"  - {step}: {error}" for step, error in self.failed_steps]
        if self.failed_checks:
            lines.append("Mislukte checks:")
            lines += [f"  - {name} [{severity}]: {description}" for name, severity, description in self.failed_checks]
        if self.failed_assets:
            lines.append("Niet bijgewerkt in deze run: " + ", ".join(self.failed_assets))
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        return {
            "text": self.text(),
            "run_id": self.run_id,
            "job": self.job_name,
            "failed_steps": [{"step": s, "error": e} for s, e in self.failed_steps],
            "failed_assets": self.failed_assets,
            "failed_checks": [{"check": c, "severity": s, "description": d} for c, s, d in self.failed_checks],
            "run_url": self.run_url or None,
        }

    def redacted(self, secrets: Iterable[str]) -> FailureAlert:
        clean = _redactor(secrets)
        return FailureAlert(
            run_id=self.run_id,
            job_name=self.job_name,
            message=clean(self.message),
            failed_steps=[(s, clean(e)) for s, e in self.failed_steps],
            failed_assets=list(self.failed_assets),
            failed_checks=[(c, s, clean(d)) for c, s, d in self.failed_checks],
            retry=self.retry,
            run_url=clean(self.run_url),
        )


@dataclass
class FreshnessAlert:
    """Assets that went past their freshness policy (see pipelines/freshness.py)."""

    stale: list[tuple[str, str]]  # (asset, since when, ISO)
    policy: str
    ui_url: str = ""

    @property
    def label(self) -> str:
        return "verouderde assets " + ", ".join(a for a, _ in self.stale)

    @property
    def subject(self) -> str:
        return f"[Prestatiemonitor] verouderd: {', '.join(a for a, _ in self.stale[:3])}"

    def text(self) -> str:
        lines = [f"Prestatiemonitor: {len(self.stale)} asset(s) niet op tijd bijgewerkt ({self.policy}):"]
        lines += [f"  - {asset} (verouderd sinds {since})" for asset, since in self.stale]
        if self.ui_url:
            lines.append(f"Details: {self.ui_url.rstrip('/')}/assets")
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        return {"text": self.text(), "stale_assets": [{"asset": a, "since": t} for a, t in self.stale], "policy": self.policy}

    def redacted(self, secrets: Iterable[str]) -> FreshnessAlert:
        return self


class AlertDeliveryError(RuntimeError):
    """An alert could not be delivered; the message names the channel and host, never the secret."""


def _redactor(secrets: Iterable[str]):
    values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def clean(text: str) -> str:
        for value in values:
            text = text.replace(value, "***")
        return _CREDENTIALS_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)

    return clean


def _short(text: str | None) -> str:
    first = (text or "").strip().splitlines()
    line = first[0] if first else ""
    return line if len(line) <= MAX_TEXT else line[: MAX_TEXT - 1] + "…"


def _cap(items: Sequence[str]) -> list[str]:
    return list(items[:MAX_ITEMS]) + ([f"... en {len(items) - MAX_ITEMS} meer"] if len(items) > MAX_ITEMS else [])


def describe_failure(context: dg.RunFailureSensorContext, ui_url: str = "") -> FailureAlert:
    """What failed in the run, from its failure event and its event log."""
    run = context.dagster_run
    failed_steps = []
    for failure in context.get_step_failure_events():
        data = failure.step_failure_data
        error = ""
        if data is not None:
            if data.user_failure_data is not None and data.user_failure_data.description:
                error = data.user_failure_data.description
            elif data.error is not None:
                cause = data.error
                while cause.cause is not None:  # the innermost error: the reader's or warehouse's own words
                    cause = cause.cause
                error = cause.message
        failed_steps.append((failure.step_key or "?", _short(error)))

    planned: list[str] = []
    done: set[str] = set()
    failed_checks = []
    kinds = {
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    for entry in context.instance.all_logs(run.run_id, of_type=kinds):
        logged = entry.dagster_event
        if logged is None:
            continue
        event = logged
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation is not None and not evaluation.passed:  # type: ignore[union-attr]
                key = evaluation.asset_check_key  # type: ignore[union-attr]
                failed_checks.append((
                    f"{key.asset_key.to_user_string()}:{key.name}",
                    evaluation.severity.value,  # type: ignore[union-attr]
                    _short(evaluation.description),  # type: ignore[union-attr]
                ))
        elif event.asset_key is not None:
            name = event.asset_key.to_user_string()
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
                planned.append(name)
            else:
                done.add(name)
    failed_assets = _cap(sorted(set(planned) - done))

    retry = ""
    number = run.tags.get("dagster/retry_number")
    if number:
        retry = f" (automatische herhaling {number})"
    elif run.tags.get("dagster/max_retries") not in (None, "0"):
        retry = f" (herhaling mogelijk: max. {run.tags['dagster/max_retries']})"
    run_url = f"{ui_url.rstrip('/')}/runs/{run.run_id}" if ui_url else ""
    return FailureAlert(
        run_id=run.run_id,
        job_name=run.job_name,
        message=_short(context.failure_event.message),
        failed_steps=failed_steps[:MAX_ITEMS],
        failed_assets=failed_assets,
        failed_checks=failed_checks[:MAX_ITEMS],
        retry=retry,
        run_url=run_url,
    )


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


Alert = FailureAlert | FreshnessAlert


def post_webhook(url: str, alert: Alert, timeout: float) -> None:
    """POST the alert as JSON. Plain urllib on purpose: requests/urllib3 log the full URL (with the
    token in its path) at DEBUG level, and put it in their exception messages."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise AlertDeliveryError(f"alert-webhook: alleen http(s) toegestaan, niet {urlsplit(url).scheme!r}")
    request = urllib.request.Request(
        url,
        data=json.dumps(alert.payload()).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "prestatiemonitor-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            response.read()
    except urllib.error.HTTPError as exc:
        raise AlertDeliveryError(f"alert-webhook op {_host(url)} antwoordde HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise AlertDeliveryError(f"alert-webhook op {_host(url)} niet bereikt ({type(exc).__name__})") from None


def send_mail(channels: AlertChannels, alert: Alert) -> None:
    recipients = [r.strip() for r in channels.mail_to.split(",") if r.strip()]
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = channels.mail_from or channels.smtp_user
    message["To"] = ", ".join(recipients)
    message.set_content(alert.text())
    try:
        with smtplib.SMTP(channels.smtp_host, channels.smtp_port, timeout=channels.timeout_seconds) as smtp:
            if channels.smtp_starttls:
                smtp.starttls()
            if channels.smtp_user:
                smtp.login(channels.smtp_user, channels.smtp_password)
            smtp.send_message(message, to_addrs=recipients)
    except (OSError, smtplib.SMTPException) as exc:
        raise AlertDeliveryError(f"alert-mail via {channels.smtp_host}:{channels.smtp_port} mislukt ({type(exc).__name__})") from None


def deliver(alert: Alert, channels: AlertChannels, log) -> list[str]:
    """Send on every configured channel; returns the channels used. Raises AlertDeliveryError after
    trying all of them when any failed (the sensor tick then fails visibly and is retried)."""
    alert = alert.redacted(channels.secrets())
    used, errors = [], []
    if channels.webhook_url:
        try:
            post_webhook(channels.webhook_url, alert, channels.timeout_seconds)
            used.append(f"webhook ({_host(channels.webhook_url)})")
        except AlertDeliveryError as exc:
            errors.append(str(exc))
    if channels.smtp_host and channels.mail_to:
        try:
            send_mail(channels, alert)
            used.append(f"e-mail ({channels.smtp_host})")
        except AlertDeliveryError as exc:
            errors.append(str(exc))
    if used:
        log.info(f"alert voor {alert.label} verstuurd via {', '.join(used)}")
    elif not errors:
        log.warning(f"geen alertkanaal ingesteld; alert voor {alert.label}:\n{alert.text()}")
    if errors:
        raise AlertDeliveryError("; ".join(errors))
    return used


def build_run_failure_alert_sensor(
    monitored_jobs: Sequence[dg.JobDefinition | dg.UnresolvedAssetJobDefinition] | None = None,
    *,
    name: str = "run_failure_alert",
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A run-failure sensor (all jobs of the code location unless ``monitored_jobs`` is given) that
    sends each failed run to the channels of resource ``alerts`` (:class:`AlertChannels`)."""

    @dg.run_failure_sensor(
        name=name,
        monitored_jobs=monitored_jobs,
        default_status=default_status,
        description=(
            "Stuurt bij een mislukte run een melding (webhook, optioneel e-mail) met run, job, mislukte "
            "stappen, niet bijgewerkte assets en mislukte checks."
        ),
    )
    def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertChannels) -> None:
        alert = describe_failure(context, ui_url=alerts.dagster_ui_url)
        deliver(alert, alerts, context.log)

    return run_failure_alert
