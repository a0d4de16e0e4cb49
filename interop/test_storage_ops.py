"""Storage and operations through the real binary: the `user`, `room` and `records` commands, stored TURN
users authenticating coturn's turnutils_uclient, call records of a real call and a real relay, /metrics
moving with them, /readyz, JSON logs, and refusal of a newer schema. Runs on SQLite and on PostgreSQL
(the throwaway cluster scripts/test.sh starts; its URL in $SWITCHBOARD_TEST_POSTGRES)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import connect, recv_json, send_json
from server_process import server_binary, start_server
from turn_tools import REALM, run_uclient, start_switchboard

BACKENDS = ["sqlite", "postgres"]


def make_database(backend: str, workdir: Path) -> list[str]:
    """Options naming a fresh, empty database of `backend`."""
    if backend == "sqlite":
        return ["--data-dir", str(workdir / "data")]
    base = os.environ.get("SWITCHBOARD_TEST_POSTGRES")
    if not base:
        pytest.fail("set SWITCHBOARD_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL cluster; "
                    "apt-get install postgresql)", pytrace=False)
    name = "sb_interop_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return ["--data-dir", str(workdir / "data"), "--database", re.sub(r"/postgres\?", f"/{name}?", base)]


def cli(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    result = subprocess.run([str(server_binary()), *args], input=stdin, capture_output=True, text=True, env=env,
                            timeout=60)
    if check:
        assert result.returncode == 0, f"{args}: rc={result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.compile(rf"^{re.escape(name)}(\{{{re.escape(wanted)}\}})?\s+([0-9.e+-]+)$" if wanted
                         else rf"^{re.escape(name)}\s+([0-9.e+-]+)$", re.M)
    match = pattern.search(text)
    return float(match.group(match.lastindex)) if match else 0.0


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.mark.parametrize("backend", BACKENDS)
def test_user_and_room_commands_keep_keys_not_passwords(backend, tmp_path):
    db = make_database(backend, tmp_path)
    cli("user", "add", "carol", "--realm", REALM, "--password-stdin", *db, stdin="hunter2\n")
    cli("user", "add", "dave", "--realm", REALM, "--password", "pw", *db)
    listed = json.loads(cli("user", "list", "--json", *db).stdout)
    assert [(u["username"], u["realm"]) for u in listed] == [("carol", REALM), ("dave", REALM)]
    assert "hunter2" not in cli("user", "list", *db).stdout
    assert cli("user", "remove", "dave", "--realm", REALM, *db).returncode == 0
    missing = cli("user", "remove", "dave", "--realm", REALM, *db, check=False)
    assert missing.returncode != 0 and "no user 'dave'" in missing.stderr

    cli("room", "create", "standup", "--capacity", "4", "--password-stdin", *db, stdin="s3cret\n")
    duplicate = cli("room", "create", "standup", *db, check=False)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    bad = cli("room", "create", "no spaces", *db, check=False)
    assert bad.returncode != 0 and "not a valid room name" in bad.stderr
    rooms = json.loads(cli("room", "list", "--json", *db).stdout)
    assert rooms == [{"name": "standup", "capacity": 4, "password": True, "locked": False,
                      "created_at": rooms[0]["created_at"]}]
    if backend == "sqlite":
        # The file holds the scrypt hash and the RFC 8489 keys, never the passwords themselves.
        raw = (tmp_path / "data" / "switchboard.sqlite").read_bytes()
        assert b"hunter2" not in raw and b"s3cret" not in raw
        with sqlite3.connect(tmp_path / "data" / "switchboard.sqlite") as database:
            (hash_,) = database.execute("SELECT password_hash FROM rooms").fetchone()
            (key,) = database.execute("SELECT md5_key FROM turn_users").fetchone()
        assert hash_.startswith("scrypt$") and len(key) == 32
    cli("room", "remove", "standup", *db)
    assert json.loads(cli("room", "list", "--json", *db).stdout) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_stored_user_relays_and_leaves_an_allocation_record(backend, tmp_path, peer):
    db = make_database(backend, tmp_path)
    cli("user", "add", "carol", "--realm", REALM, "--password", "carolpw", *db)
    server = start_switchboard(tmp_path / "turn", user=False, extra=("--http-port", "0", *db))
    try:
        port = int(re.search(r"http\.port=(\d+)", wait_for(lambda: re.search(r"http\.port=\d+", server.log()) and server.log())).group(1))
        before = http_get(port, "/metrics")[1]
        flags = ["-n", "50", "-m", "1", "-l", "170", "-X", "-g", "-e", "127.0.0.1", "-r", str(peer.port), "-p", str(server.port)]
        result = run_uclient([*flags, "-u", "carol", "-w", "carolpw", "127.0.0.1"])
        assert result.completed and result.sent > 0 and result.received == result.sent, \
            f"{result.describe()}\n--- server warnings ---\n{server.warnings()}"
        # A user that is not stored is refused, and one added while the server runs is picked up (within 5 s).
        refused = run_uclient([*flags, "-u", "erin", "-w", "erinpw", "127.0.0.1"], timeout=20)
        assert not refused.completed, refused.describe()
        cli("user", "add", "erin", "--realm", REALM, "--password", "erinpw", *db)
        time.sleep(6)
        admitted = run_uclient([*flags, "-u", "erin", "-w", "erinpw", "127.0.0.1"])
        assert admitted.completed and admitted.sent > 0 and admitted.received == admitted.sent, \
            f"{admitted.describe()}\n--- server warnings ---\n{server.warnings()}"

        after = http_get(port, "/metrics")[1]
        assert metric(after, "switchboard_stun_messages_total") > metric(before, "switchboard_stun_messages_total")
        sent = metric(after, "switchboard_turn_relayed_packets_total", direction="to_peer")
        assert sent - metric(before, "switchboard_turn_relayed_packets_total", direction="to_peer") >= result.sent + admitted.sent
        assert metric(after, "switchboard_turn_relayed_bytes_total", direction="to_client") >= (result.received + admitted.received) * 170
        assert metric(after, "switchboard_turn_relay_ports_free", family="ipv4") > 0
        assert "switchboard_build_info{" in after
        # erin's run before she was added offered wrong credentials.
        assert metric(after, "switchboard_auth_failures_total", service="turn") > \
            metric(before, "switchboard_auth_failures_total", service="turn")
    finally:
        server.stop()
    # uclient leaves its allocations to expire; shutdown ends them, and the last flush writes their records.
    records = json.loads(cli("records", "--user", "carol", "--format", "json", *db).stdout)
    assert records, "no allocation record for carol"
    assert all(r["transport"] == "udp" and r["client"].startswith("127.0.0.1:") for r in records)
    assert sum(r["packets_sent"] for r in records) == result.sent
    assert sum(r["bytes_received"] for r in records) == result.received * 170
    assert json.loads(cli("records", "--user", "nobody", "--format", "json", *db).stdout) == []


async def call(url: str, room: str, port: int) -> tuple[str, str]:
    """Two /ws clients meet in `room`, relay a message, then one leaves and the other closes.
    Returns Alice's session id and /metrics as scraped while both were in the room."""
    async with connect(url) as alice, connect(url) as bob:
        await send_json(alice, {"type": "join", "room": room, "name": "Alice"})
        joined = await recv_json(alice)
        await send_json(bob, {"type": "join", "room": room})
        await recv_json(bob)
        await recv_json(alice)  # other_joined
        await send_json(bob, {"type": "message", "data": {"type": "offer", "sdp": "v=0"}})
        assert (await recv_json(alice))["type"] == "message"
        during = await asyncio.to_thread(http_get, port, "/metrics")
        await send_json(alice, {"type": "leave"})
        await recv_json(alice)
        return joined["id"], during[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_real_call_is_recorded_and_counted(backend, tmp_path):
    db = make_database(backend, tmp_path)
    server = start_server(tmp_path / "srv", [*db, "--log-format", "json"])
    try:
        # A PostgreSQL node is a cluster node: ready once its directory connection is up, and it says which node.
        status, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(http_get(server.port, "/readyz")), timeout=10)
        assert body.splitlines()[0] == "ready"
        assert body == "ready\n" if backend == "sqlite" else "0 peer(s) alive" in body
        assert http_get(server.port, "/healthz")[0] == 200
        before = http_get(server.port, "/metrics")[1]
        alice, during = asyncio.run(call(server.url, "recorded", server.port))
        assert metric(during, "switchboard_signaling_connections", transport="websocket") == 2
        assert metric(during, "switchboard_signaling_sessions") == 2
        assert metric(during, "switchboard_signaling_rooms") == 1
        after = http_get(server.port, "/metrics")[1]
        assert metric(after, "switchboard_signaling_messages_relayed_total") == \
            metric(before, "switchboard_signaling_messages_relayed_total") + 1
        for direction in ("in", "out"):
            grew = metric(after, "switchboard_signaling_bytes_total", direction=direction) - \
                metric(before, "switchboard_signaling_bytes_total", direction=direction)
            assert grew > 100, (direction, grew)
        for line in after.splitlines():
            assert "recorded" not in line and alice not in line, "metrics must not be labelled by room or session"

        def stays():
            found = json.loads(cli("records", "--room", "recorded", "--format", "json", *db).stdout)
            return found if len(found) == 2 else None
        records = wait_for(stays, timeout=5)
        assert records, "the call's two stays were not recorded within 5 s"
        by_session = {r["session"]: r for r in records}
        assert by_session[alice]["name"] == "Alice" and by_session[alice]["reason"] == "left"
        (other,) = [r for s, r in by_session.items() if s != alice]
        assert "name" not in other and other["reason"] == "closed"
        assert all(r["transport"] == "websocket" and r["left_at"] >= r["joined_at"] for r in records)
    finally:
        server.stop()
    # --log-format json: every line is one JSON object with the namespaced metadata as keys.
    lines = [line for line in server.log().splitlines() if line.strip()]
    objects = [json.loads(line) for line in lines]
    assert any(o.get("message") == "listening" and "http.port" in o for o in objects)
    assert all({"time", "level", "label", "message"} <= o.keys() for o in objects)


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path):
    data = tmp_path / "data"
    cli("user", "list", "--data-dir", str(data))  # creates and migrates the database
    with sqlite3.connect(data / "switchboard.sqlite") as database:
        database.execute("INSERT INTO switchboard_schema (version, applied_at) VALUES (999, 0)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    result = subprocess.run([str(server_binary()), "serve", "--host", "127.0.0.1", "--http-port", "0", "--turn-port", "0",
                             "--data-dir", str(data)], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode != 0
    assert "schema is version 999, newer than this binary supports" in result.stderr, result.stderr
    listed = cli("user", "list", "--data-dir", str(data), check=False)
    assert listed.returncode != 0 and "newer than this binary" in listed.stderr
