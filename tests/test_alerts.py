"""The run-failure alert sensor: a failing job runs in-process, the sensor is evaluated on its failure
event and posts to a local webhook (http.server on 127.0.0.1) and mails a local SMTP server.
Secrets (webhook token, SMTP password, a password inside an error message) never reach the message,
the log or a delivery error."""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from pipelines.alerts import (
    AlertChannels,
    AlertDeliveryError,
    alert_channels_from_env,
    build_run_failure_alert_sensor,
)

TOKEN = "T0001/B0002/geheimtoken-xyz"
DB_PASSWORD = "SuperGeheim1"


@dg.asset
def raw_x() -> int:
    raise RuntimeError(f"verbinding mislukt: postgresql+psycopg://etl:{DB_PASSWORD}@db.example/warehouse")


@dg.asset(check_specs=[dg.AssetCheckSpec("gx_stg_y", asset="stg_y", blocking=True)])
def stg_y():
    yield dg.Output(1)
    yield dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.ERROR,
        description="stg_y: 1 van 5 regels niet gehaald: expect_column_values_to_be_between(toewijzingsdatum)",
    )


@dg.asset
def kpi_y(stg_y: int) -> int:
    return stg_y


class Recorder(BaseHTTPRequestHandler):
    posts: list[dict] = []
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append({"path": self.path, "body": json.loads(body), "type": self.headers["Content-Type"]})
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    Recorder.posts = []
    Recorder.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{TOKEN}", Recorder
    server.shutdown()
    server.server_close()


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO (with AUTH PLAIN), AUTH, MAIL, RCPT, DATA, QUIT."""

    received: list[dict] = []

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 localhost test-smtp")
        mail: dict = {"rcpt": []}
        while True:
            line = self.rfile.readline().decode().rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ")[0].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                mail["auth"] = line
                self.reply("235 ok")
            elif verb == "MAIL":
                self.reply("250 ok")
            elif verb == "RCPT":
                mail["rcpt"].append(line)
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = []
                while (chunk := self.rfile.readline().decode()) not in (".\r\n", ""):
                    data.append(chunk)
                mail["data"] = "".join(data)
                type(self).received.append(mail)
                mail = {"rcpt": []}
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_server():
    SmtpHandler.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], SmtpHandler
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def failed_run():
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([raw_x, stg_y, kpi_y], instance=instance, raise_on_error=False)
    assert not result.success
    return instance, result


def evaluate(failed_run, channels: AlertChannels, sensor: dg.SensorDefinition | None = None):
    instance, result = failed_run
    sensor = sensor or build_run_failure_alert_sensor()
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"alerts": channels},
    ).for_run_failure()
    return sensor(context)


def logged(caplog, capfd) -> str:
    """Everything logged: python logging (caplog) and Dagster's own stderr handler (capfd)."""
    captured = capfd.readouterr()
    return caplog.text + captured.err + captured.out


def test_webhook_gets_run_job_failed_steps_assets_and_checks(failed_run, webhook, caplog, capfd):
    url, recorder = webhook
    caplog.set_level(logging.DEBUG)
    evaluate(failed_run, AlertChannels(webhook_url=url, dagster_ui_url="https://dagster.example.nl/"))
    [post] = recorder.posts
    assert post["path"] == f"/hooks/{TOKEN}" and post["type"] == "application/json"
    body = post["body"]
    run = failed_run[1].dagster_run
    assert body["run_id"] == run.run_id and body["job"] == run.job_name
    assert body["run_url"] == f"https://dagster.example.nl/runs/{run.run_id}"
    steps = {s["step"]: s["error"] for s in body["failed_steps"]}
    assert set(steps) == {"raw_x", "stg_y"} and "verbinding mislukt" in steps["raw_x"]
    assert "blocking asset check failed" in steps["stg_y"]
    assert [c["check"] for c in body["failed_checks"]] == ["stg_y:gx_stg_y"]
    assert body["failed_checks"][0]["severity"] == "ERROR" and "toewijzingsdatum" in body["failed_checks"][0]["description"]
    assert set(body["failed_assets"]) == {"raw_x", "kpi_y"}  # stg_y itself was written, its check failed
    text = body["text"]
    assert run.run_id in text and "raw_x" in text and "gx_stg_y" in text and "kpi_y" in text
    log = logged(caplog, capfd)
    assert DB_PASSWORD not in json.dumps(body) and "postgresql+psycopg://etl:***@" in text
    assert TOKEN not in log and "verstuurd via webhook (127.0.0.1)" in log


def test_webhook_url_from_env_var_is_resolved_at_run_time(failed_run, webhook, monkeypatch, caplog, capfd):
    url, recorder = webhook
    monkeypatch.setenv("PRESTATIEMONITOR_ALERT_WEBHOOK_URL", url)
    channels = alert_channels_from_env()
    assert isinstance(channels.webhook_url, dg.EnvVar)  # never a literal in config or the UI
    caplog.set_level(logging.DEBUG)
    evaluate(failed_run, channels)
    assert len(recorder.posts) == 1
    log = logged(caplog, capfd)
    assert TOKEN not in log and "verstuurd via webhook" in log


def test_delivery_errors_name_the_host_never_the_token(failed_run, webhook):
    url, recorder = webhook
    recorder.status = 500
    with pytest.raises(AlertDeliveryError, match=r"127\.0\.0\.1.*HTTP 500") as caught:
        evaluate(failed_run, AlertChannels(webhook_url=url))
    assert TOKEN not in str(caught.value)
    closed = "http://127.0.0.1:9/hooks/" + TOKEN  # discard port: nothing listens
    with pytest.raises(AlertDeliveryError, match="niet bereikt") as caught:
        evaluate(failed_run, AlertChannels(webhook_url=closed, timeout_seconds=2))
    assert TOKEN not in str(caught.value)
    chain = caught.value
    while chain is not None:  # nor anywhere in the exception chain Dagster would show
        assert TOKEN not in str(chain)
        chain = chain.__cause__ or (None if chain.__suppress_context__ else chain.__context__)


def test_mail_is_sent_when_configured_and_the_password_stays_out(failed_run, smtp_server, webhook, caplog, capfd):
    port, handler = smtp_server
    url, recorder = webhook
    caplog.set_level(logging.DEBUG)
    channels = AlertChannels(
        webhook_url=url, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False, smtp_user="alerts",
        smtp_password="mail-geheim-42", mail_from="dagster@example.nl", mail_to="beheer@example.nl, steward@example.nl",
    )
    evaluate(failed_run, channels)
    [mail] = handler.received
    assert len(mail["rcpt"]) == 2 and "auth" in mail
    run_id = failed_run[1].dagster_run.run_id
    assert f"[Prestatiemonitor] run mislukt: __ephemeral_asset_job__ ({run_id[:8]})" in mail["data"]
    assert "raw_x" in mail["data"] and "gx_stg_y" in mail["data"]
    log = logged(caplog, capfd)
    assert "mail-geheim-42" not in mail["data"] and "mail-geheim-42" not in log and "e-mail (127.0.0.1)" in log
    assert len(recorder.posts) == 1  # both channels


def test_without_channels_the_alert_is_logged_only(failed_run, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    logged(caplog, capfd)  # drop what the failing run itself printed
    caplog.clear()
    evaluate(failed_run, AlertChannels())
    log = logged(caplog, capfd)
    assert "geen alertkanaal ingesteld" in log and "raw_x" in log and DB_PASSWORD not in log


def test_sensor_loads_in_definitions_with_the_resource(monkeypatch):
    monkeypatch.delenv("PRESTATIEMONITOR_ALERT_WEBHOOK_URL", raising=False)
    job = dg.define_asset_job("nightly", selection=[kpi_y])
    defs = dg.Definitions(
        assets=[stg_y, kpi_y], jobs=[job],
        sensors=[build_run_failure_alert_sensor(monitored_jobs=[job])],
        resources={"alerts": alert_channels_from_env()},
    )
    sensor = defs.resolve_sensor_def("run_failure_alert")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert "alerts" in sensor.required_resource_keys
