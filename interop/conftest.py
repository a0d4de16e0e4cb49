"""Fixtures and helpers for black-box tests of the Switchboard native WebSocket protocol.

The server process helpers live in server_process.py (re-exported here). Nothing here knows
anything about the server beyond ``docs/PROTOCOL.md`` and ``switchboard serve --help``.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from turn_tools import require_coturn_tools, start_peer
from server_process import (  # noqa: F401  (re-exported for the test modules)
    DEFAULT_BIN, RECV_TIMEOUT, REPO, STARTUP_TIMEOUT, STOP_TIMEOUT, Server, option_args, server_binary, start_server,
)


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """One UDP echo peer (coturn's turnutils_peer) per test module: stateless, it echoes every datagram to its sender."""
    require_coturn_tools()
    p = start_peer(tmp_path_factory.mktemp("peer"))
    yield p
    p.stop()


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
        funcargs = getattr(item, "funcargs", {})
        servers = list(getattr(funcargs.get("server_factory"), "servers", []) or [])
        for value in funcargs.values():  # test_cluster.py's clusters
            nodes = getattr(value, "nodes", None)
            servers += list(nodes) if isinstance(nodes, list) else []
        for i, server in enumerate(servers):
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
