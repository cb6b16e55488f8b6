"""The report in a real browser: headless Chromium renders it offline, and the rendered DOM holds
every stoplight row and every chart <svg>.

Needs /usr/bin/chromium (or `chromium` on PATH). Without it the test skips on a workstation and
FAILS in CI (environment variable CI set), where `apt-get install chromium` must have run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assets.monitor import load_monitor_agreements
from assets.monitor.report import rows_for_year, write_reports
from assets.monitor.stoplight import stoplight_rows
from tests.test_report import AGREEMENTS, AS_OF, sample_tables

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def chromium() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    found = shutil.which("chromium")
    if found:
        return found
    message = "Chromium ontbreekt: installeer het met `apt-get install chromium` (nodig voor de browsertest van het rapport)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def browse(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    binary = chromium()
    sets = load_monitor_agreements(AGREEMENTS)
    tables = sample_tables()
    rows = stoplight_rows(sets, tables, AS_OF)
    directory = tmp_path_factory.mktemp("rapport")
    files = {f.html.name: f for f in write_reports(rows, sets, tables, directory)}
    haarlem = files["haarlem-2025.html"]
    shown = rows_for_year(rows, sets, haarlem.gemeente_code, haarlem.jaar)
    return {"binary": binary, "file": haarlem.html, "rows": shown, "profile": tmp_path_factory.mktemp("profiel")}


def test_the_rendered_dom_holds_the_stoplight_rows_and_the_charts(report):
    result = browse(report["binary"], report["profile"], "--dump-dom", report["file"].as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "<h1>Monitor prestatieafspraken Haarlem 2025</h1>" in dom
    rendered = re.findall(r'<tr class="afspraak"[^>]*data-afspraak="([^"]+)"[^>]*data-status="([^"]+)"', dom)
    expected = list(zip(report["rows"]["agreement_id"], report["rows"]["status"], strict=True))
    assert sorted(rendered) == sorted(expected)
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", dom, flags=re.S)
    assert len(svgs) == int(report["rows"]["berekend"].sum()) > 0
    assert all('class="doel"' in svg for svg in svgs)
    assert any("<circle" in svg and 'class="realisatie"' in svg for svg in svgs)


def test_the_report_renders_to_a_screenshot(report, tmp_path):
    shot = tmp_path / "haarlem-2025.png"
    result = browse(report["binary"], report["profile"], "--window-size=1280,2000", f"--screenshot={shot}",
                    report["file"].as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_chromium_ci_fails_and_a_workstation_skips(monkeypatch, tmp_path):
    import tests.test_report_browser as module

    monkeypatch.setattr(module, "CHROMIUM", tmp_path / "geen-chromium")
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        module.chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        module.chromium()
