"""Headless Chromium driving the served web client, inside a private network namespace.

Run through `scripts/test.sh`, which starts this directory's pytest under
`unshare -n -- sh -c 'ip link set lo up && pytest interop/browser'`: in a namespace of its own only
loopback exists, so every ICE candidate and all media stay on 127.0.0.1, and no other process's
ports can collide. Chromium gathers loopback host candidates only with both
`--allow-loopback-in-peer-connection` and a granted media permission (`--use-fake-ui-for-media-stream`).

Screenshots go to $SCREENSHOT_DIR, by default `interop/artifacts/screenshots/`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

# This directory is a pytest root of its own (scripts/test.sh runs it in a network namespace): reach the
# shared helpers in interop/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server_process import REPO, start_server  # noqa: E402
from turn_tools import free_port  # noqa: E402

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", str(REPO / "interop" / "artifacts" / "screenshots")))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TURN_SECRET = "browser-test-secret"

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--window-size=1024,720",
]


def pytest_collection_modifyitems(config, items):
    """Fail (never skip) when the namespace or the browser is missing, saying how to get them."""
    interfaces = sorted(name for _, name in socket.if_nameindex())  # this process's namespace, unlike /sys
    if interfaces != ["lo"]:
        pytest.exit(
            f"browser tests must run in a private network namespace (found interfaces {interfaces}): "
            "run `bash scripts/test.sh`, or as root `unshare -n -- sh -c 'ip link set lo up && "
            ".venv/bin/python -m pytest interop/browser'`", returncode=1)
    for tool, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(tool, os.X_OK):
            pytest.exit(f"{tool} is missing: apt-get install chromium chromium-driver ({package})", returncode=1)


class Browser:
    """One Chromium process (own profile) driven through chromedriver."""

    def __init__(self, profile: Path, label: str):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.label = label
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_script_timeout(20)
        self.killed = False

    def open(self, url: str) -> None:
        self.driver.get(url)

    def join(self, name: str) -> None:
        """Types the display name on the room page and presses Join."""
        from selenium.webdriver.common.by import By

        field = self.wait_for_element("#name-input")
        field.clear()
        field.send_keys(name)
        self.driver.find_element(By.CSS_SELECTOR, "#join-button").click()

    def wait_for_element(self, selector: str, timeout: float = 15.0):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(
            expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def state(self) -> dict:
        """A JSON copy of `window.switchboard` (the documented automation hook)."""
        text = self.driver.execute_script("return JSON.stringify(window.switchboard ?? null)")
        return json.loads(text) or {}

    def wait_until(self, predicate, what: str, timeout: float = 30.0) -> dict:
        """Polls `state()` until `predicate(state)` holds; fails with the last state and the console."""
        deadline = time.monotonic() + timeout
        state: dict = {}
        while time.monotonic() < deadline:
            state = self.state()
            try:
                if predicate(state):
                    return state
            except (KeyError, TypeError, IndexError):
                pass
            time.sleep(0.25)
        pytest.fail(f"{self.label}: {what} not reached within {timeout}s\nstate: {json.dumps(state, indent=1)}\n"
                    f"console:\n{self.console()}", pytrace=False)

    def console(self) -> str:
        try:
            return "\n".join(entry["message"] for entry in self.driver.get_log("browser"))[-4000:]
        except Exception as error:  # the browser may be gone
            return f"(no console: {error})"

    def click(self, selector: str) -> None:
        self.wait_for_element(selector).click()

    def send_chat(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        field = self.wait_for_element("#chat-input")
        field.send_keys(text)
        field.send_keys(Keys.ENTER)

    def remote_video(self, peer_id: str) -> dict:
        """The remote tile's video element: playing, with frames and a non-zero size on the page."""
        return self.driver.execute_script(
            """const v = document.querySelector(`.remote-tile[data-peer-id="${arguments[0]}"] video`);
               if (!v) return null;
               return {paused: v.paused, readyState: v.readyState, videoWidth: v.videoWidth,
                       videoHeight: v.videoHeight, clientWidth: v.clientWidth, clientHeight: v.clientHeight};""",
            peer_id)

    def text(self, selector: str) -> str:
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def kill(self) -> None:
        """SIGKILL the browser and its driver by PID, as a crash would: no leave, no close frame."""
        driver_pid = self.driver.service.process.pid
        for pid in [*descendants(driver_pid), driver_pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.killed = True

    def quit(self) -> None:
        if self.killed:
            return
        try:
            self.driver.quit()
        except Exception:
            self.kill()


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (children before their parents' siblings)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found.extend(children)
        frontier.extend(children)
    return found


@pytest.fixture
def web_server(tmp_path):
    """Factory: starts `switchboard serve` with TURN (REST secret, relay on 127.0.0.1, loopback peers NOT allowed)
    and short liveness timings; returns its base URL. Stopped by PID at teardown."""
    servers = []

    def start(*extra: str) -> str:
        args = ["--turn-port", str(free_port()), "--turn-secret", TURN_SECRET, "--relay-ip", "127.0.0.1",
                "--heartbeat-interval", "1", "--grace-period", "2", "--public-dir", str(REPO / "public"), *extra]
        assert "--allow-loopback-peers" not in args
        server = start_server(tmp_path / f"server{len(servers)}", args)
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    start.servers = servers
    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def browsers(tmp_path):
    """Factory: `browsers("alice")` launches a Chromium; all are closed (or already killed) at teardown."""
    launched: list[Browser] = []

    def launch(label: str) -> Browser:
        browser = Browser(tmp_path / f"profile-{label}", label)
        launched.append(browser)
        return browser

    launch.launched = launched
    yield launch
    for browser in launched:
        browser.quit()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the server log tail and each browser's console and save screenshots."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    for i, server in enumerate(getattr(funcargs.get("web_server"), "servers", []) or []):
        report.sections.append((f"server {i} log (tail)", "\n".join(server.log().splitlines()[-80:])))
    for browser in getattr(funcargs.get("browsers"), "launched", []) or []:
        if browser.killed:
            continue
        report.sections.append((f"{browser.label} console", browser.console()))
        try:
            browser.screenshot(f"failed-{item.name}-{browser.label}")
        except Exception:
            pass
