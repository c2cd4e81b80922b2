"""`run.py dashboard` in a real browser: the page loads offline, steps, plays, and follows its controls.

The dashboard runs as a subprocess, as a user starts it; headless Chromium from Debian
(no browser download) drives it through Playwright. Requests that leave the loopback
interface are blocked and fail the test, so it also checks that the page needs no internet.
Set DASHBOARD_SCREENSHOT=path to keep a screenshot of the final state.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
START_TIMEOUT_S = 60  # first start may compile the model's kernels
UI_TIMEOUT_MS = 30_000  # generous: the machine may be shared; a passing run takes far less


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return None


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """The dashboard on a free loopback port: (address, process, log file); always stopped afterwards."""
    port = _free_port()
    log = tmp_path / "dashboard.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "dashboard", "--port", str(port)], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while _get(url) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dashboard did not serve {url} within {START_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url, proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _hour(page) -> int:
    return int(re.search(r"season hour (\d+)", page.locator(".d11-summary").inner_text()).group(1))


def _gmv(page) -> float:
    return float(re.search(r"season GMV ¥([\d,.]+) bn", page.locator(".d11-summary").inner_text()).group(1).replace(",", ""))


def _wait_for(predicate, what: str, timeout_s: float = UI_TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _shot(locator) -> bytes | None:
    """A screenshot of an element, or None while the page is replacing it (a plot re-renders after Reset)."""
    from playwright.sync_api import Error
    try:
        return locator.screenshot()
    except Error:
        return None


def _settled_shot(locator) -> bytes:
    """A screenshot once two in a row agree: the plot has finished re-rendering."""
    shots = [_shot(locator)]

    def settled() -> bool:
        time.sleep(0.3)
        shots.append(_shot(locator))
        return shots[-1] is not None and shots[-1] == shots[-2]
    _wait_for(settled, "the plot to settle")
    return shots[-1]


@pytest.mark.slow  # a real browser
@pytest.mark.timeout(150)
def test_dashboard_in_browser(dashboard) -> None:
    from playwright.sync_api import expect, sync_playwright  # the test extra; missing = failure, not a skip

    url, proc, log = dashboard
    assert f"Dashboard at {url}" in log.read_text()
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} not found: apt-get install -y chromium"
    outside: list[str] = []

    def loopback_only(route) -> None:
        if re.match(r"(https?|wss?)://(127\.0\.0\.1|localhost)[:/]", route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1500})
            page.route("**/*", loopback_only)
            page.goto(url, timeout=UI_TIMEOUT_MS)
            summary = page.locator(".d11-summary")
            expect(summary).to_contain_text("season hour 0 of", timeout=UI_TIMEOUT_MS)
            plots = page.locator(".vue-grid-item img")
            expect(plots).to_have_count(6, timeout=UI_TIMEOUT_MS)
            expect(page.get_by_text("Step: 0")).to_be_visible()
            gmv_plot = plots.first
            before = _settled_shot(gmv_plot)

            # Step: the widgets take a moment to wire up after the first render, so the first
            # click is repeated until it lands (only while nothing has moved yet).
            step = page.get_by_role("button", name="Step")
            deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
            while _hour(page) == 0 and time.monotonic() < deadline:
                step.click()
                time.sleep(1.0)
            time.sleep(2.0)  # a repeated click that was still on its way may land too
            first = _hour(page)
            assert first in (1, 2) and _gmv(page) > 0, "Step did not advance the model or update the summary"
            step.click()
            step.click()
            expect(summary).to_contain_text(f"season hour {first + 2} of", timeout=UI_TIMEOUT_MS)
            expect(page.get_by_text(f"Step: {first + 2}")).to_be_visible()
            _wait_for(lambda: _shot(gmv_plot) not in (None, before), "the GMV plot to change after stepping")

            # Play, then pause: the clock runs, then stops.
            page.get_by_role("button", name="▶").click()
            _wait_for(lambda: _hour(page) >= 6, "play to advance the clock", timeout_s=40)
            page.get_by_role("button", name="❚❚").click()
            expect(page.get_by_role("button", name="▶")).to_be_visible(timeout=UI_TIMEOUT_MS)
            readings = [_hour(page)]  # a step under way when pause was clicked may still land

            def settled() -> bool:
                time.sleep(1.5)
                readings.append(_hour(page))
                return readings[-1] == readings[-2]

            _wait_for(settled, "the clock to stop after pause")
            time.sleep(2)
            assert _hour(page) == readings[-1] and _gmv(page) > 0, "the clock kept running after pause"

            # A control: another festival format, applied by Reset.
            page.locator(".v-select", has_text="Festival format").click()
            page.get_by_role("option", name="two_waves").click()
            page.get_by_role("button", name="Reset").click()
            expect(page.locator(".d11-settings")).to_contain_text("two_waves format", timeout=UI_TIMEOUT_MS)
            expect(summary).to_contain_text("season hour 0 of", timeout=UI_TIMEOUT_MS)
            reset_plot = _settled_shot(gmv_plot)
            assert reset_plot != before, "the festival windows shaded in the plot did not follow the format"
            for _ in range(2):
                step.click()
            expect(summary).to_contain_text("season hour 2 of", timeout=UI_TIMEOUT_MS)
            assert _gmv(page) > 0
            _wait_for(lambda: _shot(gmv_plot) not in (None, reset_plot), "the GMV plot to change after Reset and Step")
            if os.environ.get("DASHBOARD_SCREENSHOT"):
                page.screenshot(path=os.environ["DASHBOARD_SCREENSHOT"], full_page=True)
        finally:
            browser.close()
    assert not outside, f"the page requested addresses outside this machine: {outside[:3]}"

    # Ctrl-C stops the server cleanly.
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 130, log.read_text()
    assert "Dashboard stopped." in log.read_text()


def test_ctrl_c_stops_the_dashboard_with_status_130(dashboard) -> None:
    _, proc, log = dashboard
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 130, log.read_text()
    text = log.read_text()
    assert "Dashboard stopped." in text and "Traceback" not in text, text


@pytest.mark.parametrize("args, message", [
    (["--port", "http"], "--port: must be a non-negative integer"),
    (["--port", "70000"], "--port 70000: must be at most 65535"),
    (["--host", "0.0.0.0"], "unrecognized arguments: --host"),
])
def test_dashboard_bad_input(args: list[str], message: str) -> None:
    result = run_cli("dashboard", *args, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_dashboard_port_in_use() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        result = run_cli("dashboard", "--port", str(s.getsockname()[1]), timeout=60)
    assert result.returncode == 2 and "already in use" in result.stderr, result.stderr


@pytest.mark.filterwarnings("ignore:.*use_state.*found despite early return:UserWarning")  # Solara on Mesa's code
def test_dashboard_model_starts_at_the_season_and_records_each_hour() -> None:
    from sim.app.dashboard.components import summary_text
    from sim.app.dashboard.model import DashboardModel

    model = DashboardModel(consumers=1000, seed="7")
    assert model.season_hour == 0 and model.running and not model.input_error  # warm-up ran on construction
    for _ in range(3):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 3 and model.steps == 3
    assert frame["gmv"].sum() * 1e9 == pytest.approx(model.so_far("gmv").sum())
    assert model.archetype_shares().sum() == pytest.approx(1.0)
    assert "season hour 3 of" in summary_text(model)
    assert DashboardModel(consumers=1000, seed="abc").input_error.startswith("seed must be a non-negative integer")
