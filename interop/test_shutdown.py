"""Graceful shutdown through the real binary: on SIGTERM readiness turns false, new joins and TURN allocations
are refused, a live signaling session is told to reconnect, and the process exits once the drain period is
over; a second SIGTERM exits at once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import connect, recv_json, send_json
from server_process import server_binary, start_server
from turn_tools import free_port, require_coturn_tools, run_uclient


def readyz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_exit(proc, timeout: float) -> float:
    started = time.monotonic()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server did not exit within {timeout}s", pytrace=False)
    return time.monotonic() - started


def test_sigterm_drains_then_exits_within_the_drain_period(tmp_path):
    require_coturn_tools()
    drain = 3
    turn_port = free_port()
    server = start_server(tmp_path, ["--drain-period", str(drain), "--turn-port", str(turn_port), "--relay-ip",
                                     "127.0.0.1", "--turn-user", "alice:pw", "--rfc5766-channel-numbers"])
    try:
        assert readyz(server.port) == (200, "ready\n")

        async def run() -> float:
            async with connect(server.url) as ws:
                await send_json(ws, {"type": "join", "room": "live", "name": "Ann"})
                assert (await recv_json(ws))["type"] == "joined"
                os.kill(server.proc.pid, signal.SIGTERM)
                sent = time.monotonic()
                notice = await recv_json(ws, timeout=2)
                assert notice == {"type": "reconnect", "reason": "draining", "within": drain}, notice
                assert readyz(server.port) == (503, "draining\n")
                async with connect(server.url) as late:
                    await send_json(late, {"type": "join", "room": "live"})
                    refused = await recv_json(late)
                    assert refused["type"] == "error" and refused["code"] == "server_draining", refused
                result = run_uclient(["-n", "5", "-m", "1", "-e", "127.0.0.1", "-r", "9", "-u", "alice", "-w", "pw",
                                      "-p", str(turn_port), "127.0.0.1"], timeout=20)
                assert 508 in result.error_codes or result.allocation_failed, result.describe()
                # The live session keeps working during the drain.
                await send_json(ws, {"type": "ping"})
                assert (await recv_json(ws))["type"] == "pong"
                return sent
        sent = asyncio.run(run())
        wait_exit(server.proc, timeout=drain + 10)
        total = time.monotonic() - sent
        assert total <= drain + 3, f"exited {total:.1f}s after SIGTERM with a {drain}s drain period"
        assert server.proc.returncode == 0
        assert "SIGTERM: shutting down" in server.log()
    finally:
        server.stop()
    # The stay that the shutdown ended was recorded.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    out = subprocess.run([str(server_binary()), "records", "--room", "live", "--format", "json", "--data-dir",
                          str(tmp_path)], capture_output=True, text=True, env=env, timeout=30, check=True).stdout
    assert [r["name"] for r in json.loads(out)] == ["Ann"]


def test_a_second_sigterm_exits_at_once(tmp_path):
    server = start_server(tmp_path, ["--drain-period", "60"])
    try:
        async def run():
            async with connect(server.url) as ws:
                await send_json(ws, {"type": "join", "room": "r"})
                await recv_json(ws)
                os.kill(server.proc.pid, signal.SIGTERM)
                assert (await recv_json(ws, timeout=2))["type"] == "reconnect"
                os.kill(server.proc.pid, signal.SIGTERM)
                return wait_exit(server.proc, timeout=5)
        elapsed = asyncio.run(run())
        assert elapsed < 2, f"took {elapsed:.1f}s after the second SIGTERM"
        assert server.proc.returncode != 0
        assert "second SIGTERM: exiting now" in server.log()
    finally:
        server.stop()
