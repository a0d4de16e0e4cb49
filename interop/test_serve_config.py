"""The `switchboard serve` executable: options from flags, environment and config file, and shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

from conftest import recv_json, start_server
from websockets.asyncio.client import connect as ws_connect


async def second_join_outcome(url: str) -> str:
    """Two clients join one room; returns the second one's reply type ('joined' or 'full')."""
    async with ws_connect(url) as first, ws_connect(url) as second:
        await first.send(json.dumps({"type": "join", "room": "cfg"}))
        assert (await recv_json(first))["type"] == "joined"
        await second.send(json.dumps({"type": "join", "room": "cfg"}))
        return (await recv_json(second))["type"]


def test_environment_variable_sets_an_option(tmp_path):
    """SWITCHBOARD_ROOM_CAPACITY=1 makes every room hold one member."""
    server = start_server(tmp_path / "env", [], {"SWITCHBOARD_ROOM_CAPACITY": "1"})
    try:
        assert asyncio.run(second_join_outcome(server.url)) == "full"
    finally:
        server.stop()


def test_config_file_sets_options_and_the_command_line_wins(tmp_path):
    """`room-capacity = 1` in --config applies; a command-line flag overrides the file and environment."""
    config = tmp_path / "switchboard.conf"
    config.write_text("# test config\nroom-capacity = 1\n")
    server = start_server(tmp_path / "file", ["--config", str(config)])
    try:
        assert asyncio.run(second_join_outcome(server.url)) == "full"
    finally:
        server.stop()
    server = start_server(tmp_path / "flag", ["--config", str(config), "--room-capacity", "2"],
                          {"SWITCHBOARD_ROOM_CAPACITY": "1"})
    try:
        assert asyncio.run(second_join_outcome(server.url)) == "joined"
    finally:
        server.stop()


def test_unknown_config_option_fails_start_up(tmp_path):
    """A typo in the config file stops the server at start-up with the line named."""
    import subprocess

    from conftest import server_binary

    config = tmp_path / "bad.conf"
    config.write_text("room-capacityy = 3\n")
    result = subprocess.run([str(server_binary()), "serve", "--config", str(config), "--http-port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "bad.conf:1: unknown option 'room-capacityy'" in result.stderr


def test_sigterm_shuts_down_gracefully(tmp_path):
    """SIGTERM tells connected clients to reconnect, closes them when the drain period ends, and exits 0."""
    server = start_server(tmp_path / "term", ["--drain-period", "2"])

    async def scenario() -> float:
        async with ws_connect(server.url) as client:
            await client.send(json.dumps({"type": "join", "room": "bye"}))
            assert (await recv_json(client))["type"] == "joined"
            started = time.monotonic()
            os.kill(server.proc.pid, signal.SIGTERM)
            assert (await recv_json(client))["type"] == "reconnect"
            await asyncio.wait_for(client.wait_closed(), 10)
            return time.monotonic() - started

    try:
        assert 2 <= asyncio.run(scenario()) < 6
        assert server.proc.wait(timeout=10) == 0
    finally:
        server.stop()
