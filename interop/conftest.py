"""Fixtures and helpers for black-box tests of the Switchboard native WebSocket protocol.

The server is started as a subprocess on an ephemeral port (``--http-port 0``); the port is parsed
from its ``listening`` log line. Nothing here knows anything about the server beyond
``docs/PROTOCOL.md`` and ``switchboard serve --help``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BIN = REPO / ".build" / "debug" / "switchboard"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 3.0
RECV_TIMEOUT = 5.0

_LISTENING = re.compile(r"http\.port=(\d+)")


def server_binary() -> Path:
    """Path of the server binary: $SWITCHBOARD_BIN or <repo>/.build/debug/switchboard."""
    path = Path(os.environ.get("SWITCHBOARD_BIN", str(DEFAULT_BIN)))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"switchboard binary not found at {path}; run `swift build` first "
            "(or point SWITCHBOARD_BIN at a built binary)",
            pytrace=False,
        )
    return path


class Server:
    """One running server process."""

    def __init__(self, proc: subprocess.Popen, port: int, log_path: Path, args: list[str]):
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.args = args

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate by PID, then kill if it does not exit in time."""
        if self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            pass


def option_args(options: dict) -> list[str]:
    """{'grace_period': 1} -> ['--grace-period', '1']."""
    args: list[str] = []
    for key, value in options.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    return args


def start_server(data_dir: Path, extra: list[str], environment: dict[str, str] | None = None) -> Server:
    """Start the binary on an ephemeral port and wait for its `listening` line.

    ``environment`` adds variables (e.g. ``SWITCHBOARD_ROOM_CAPACITY``) to the server's environment.
    """
    binary = server_binary()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    args = [
        str(binary), "serve",
        "--host", "127.0.0.1",
        "--http-port", "0",
        "--data-dir", str(data_dir),
        # STUN/TURN defaults to the fixed port 3478, which another process may hold: signaling tests turn it
        # off, TURN tests pass their own free port.
        *([] if "--turn-port" in extra or "SWITCHBOARD_TURN_PORT" in (environment or {}) else ["--turn-port", "0"]),
        *extra,
    ]
    # The server reads SWITCHBOARD_<OPTION> from the environment; keep ours (e.g.
    # SWITCHBOARD_BIN) from leaking into its configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(environment or {})
    log_file = open(log_path, "wb")
    busy_until = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            proc = subprocess.Popen(args, stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL, env=env)
            break
        except OSError as exc:
            # ETXTBSY: the binary is being rewritten by a concurrent `swift build`; wait for it.
            if exc.errno != errno.ETXTBSY or time.monotonic() > busy_until:
                log_file.close()
                raise
            time.sleep(0.5)
    log_file.close()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        for line in text.splitlines():
            if "listening" in line:
                match = _LISTENING.search(line)
                if match:
                    return Server(proc, int(match.group(1)), log_path, args)
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before listening:\n{text}", pytrace=False)
        time.sleep(0.05)
    server = Server(proc, 0, log_path, args)
    server.stop()
    pytest.fail(f"server did not log a listening line within {STARTUP_TIMEOUT}s:\n{server.log()}", pytrace=False)


@pytest.fixture
def server_factory(tmp_path):
    """Factory: ``start(**options)`` starts a server and returns its ws URL.

    Keyword options map to command-line flags (``grace_period=1`` -> ``--grace-period 1``).
    Every server started is stopped by PID at teardown; its log is printed if the test failed.
    """
    servers: list[Server] = []

    def start(**options) -> str:
        server = start_server(tmp_path / f"server{len(servers)}", option_args(options))
        servers.append(server)
        return server.url

    start.servers = servers
    yield start
    for server in servers:
        server.stop()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Attach the server logs to a failing test's report."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        factory = item.funcargs.get("server_factory") if hasattr(item, "funcargs") else None
        for i, server in enumerate(getattr(factory, "servers", []) or []):
            tail = "\n".join(server.log().splitlines()[-60:])
            report.sections.append((f"server {i} log (tail)", tail))


# ---------------------------------------------------------------------------------------------
# WebSocket helpers
# ---------------------------------------------------------------------------------------------


def connect(url: str, **kwargs):
    """Open a client connection: no client keepalive pings, no compression, no proxy."""
    kwargs.setdefault("ping_interval", None)
    kwargs.setdefault("compression", None)
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("close_timeout", 2)
    kwargs.setdefault("proxy", None)
    return ws_connect(url, **kwargs)


async def send_json(ws, obj: dict) -> None:
    await ws.send(json.dumps(obj))


async def recv_json(ws, timeout: float = RECV_TIMEOUT) -> dict:
    """Next frame, which must be a JSON text frame holding an object; fails after `timeout`."""
    try:
        raw = await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        pytest.fail(f"no frame within {timeout}s")
    assert isinstance(raw, str), f"expected a text frame, got binary {raw!r}"
    obj = json.loads(raw)
    assert isinstance(obj, dict), f"expected a JSON object, got {raw!r}"
    return obj


async def assert_silent(ws, window: float = 0.3) -> None:
    """Assert that no frame arrives within `window` seconds (a close also counts as silence)."""
    try:
        raw = await asyncio.wait_for(ws.recv(), window)
    except asyncio.TimeoutError:
        return
    except ConnectionClosed:
        return
    pytest.fail(f"expected silence for {window}s, got {raw!r}")


async def expect_close(ws, timeout: float = RECV_TIMEOUT) -> list[dict]:
    """Read until the connection closes; returns the JSON frames seen before the close."""
    frames: list[dict] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            pytest.fail(f"connection not closed within {timeout}s; frames seen: {frames}")
        try:
            raw = await asyncio.wait_for(ws.recv(), remaining)
        except asyncio.TimeoutError:
            continue
        except ConnectionClosed:
            return frames
        frames.append(json.loads(raw) if isinstance(raw, str) else {"binary": raw})
