"""The admin API through the real binary: bearer-token authorisation, live rooms and members, kicking a member
and closing a room, TURN users CRUD (a user created here relays through coturn's turnutils_uclient at once),
TURN allocations and call records."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request

import pytest

from conftest import connect, expect_close, recv_json, send_json
from server_process import start_server
from turn_tools import REALM, run_uclient, start_switchboard

TOKEN = "admin-token-for-tests-0123456789"


def api(port: int, method: str, path: str, token: str | None = TOKEN, body: dict | None = None):
    """(status, headers, JSON body or None)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/admin{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, error.headers, json.loads(raw) if raw else None


@pytest.fixture
def server(tmp_path):
    s = start_server(tmp_path, ["--admin-token", TOKEN, "--join-rate", "1000", "--join-burst", "1000"])
    yield s
    s.stop()


@pytest.mark.parametrize("path", ["/rooms", "/allocations", "/users", "/users/x", "/records"])
def test_no_token_is_401_and_a_wrong_one_403(server, path):
    status, headers, body = api(server.port, "GET", path, token=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, _, body = api(server.port, "GET", path, token="wrong-token-wrong-token")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert TOKEN not in server.log() and "wrong-token" not in server.log(), "tokens are never logged"


def test_without_an_admin_token_the_api_is_off(tmp_path):
    s = start_server(tmp_path, [])
    try:
        status, _, body = api(s.port, "GET", "/rooms")
        assert status == 404 and body["error"]["code"] == "admin_disabled"
    finally:
        s.stop()


def test_rooms_members_kick_and_close(server):
    async def run():
        async with connect(server.url) as a, connect(server.url) as b, connect(server.url) as c:
            ids = []
            for ws, name in ((a, "Ann"), (b, "Ben")):
                await send_json(ws, {"type": "join", "room": "ops", "name": name})
                ids.append((await recv_json(ws))["id"])
            await recv_json(a)  # other_joined
            await send_json(c, {"type": "join", "room": "other"})
            await recv_json(c)

            status, _, body = api(server.port, "GET", "/rooms")
            assert status == 200
            rooms = {room["name"]: room for room in body["rooms"]}
            assert set(rooms) == {"ops", "other"}
            assert rooms["ops"]["capacity"] == 8 and rooms["ops"]["password"] is False
            assert [(m["id"], m["name"], m["transport"]) for m in rooms["ops"]["members"]] == \
                [(ids[0], "Ann", "websocket"), (ids[1], "Ben", "websocket")]

            assert api(server.port, "DELETE", f"/rooms/ops/members/nobody")[0] == 404
            assert api(server.port, "DELETE", f"/rooms/other/members/{ids[1]}")[0] == 404  # not that room's member
            status, _, _ = api(server.port, "DELETE", f"/rooms/ops/members/{ids[1]}")
            assert status == 204
            frames = await expect_close(b)
            assert any(f.get("code") == "kicked" for f in frames), frames
            bye = await recv_json(a)
            assert bye["type"] == "bye" and bye["id"] == ids[1] and bye["reason"] == "removed", bye

            assert api(server.port, "DELETE", "/rooms/nowhere")[0] == 404
            assert api(server.port, "DELETE", "/rooms/ops")[0] == 204
            frames = await expect_close(a)
            assert any(f.get("code") == "room_closed" for f in frames), frames
            rooms = api(server.port, "GET", "/rooms")[2]["rooms"]
            assert [room["name"] for room in rooms] == ["other"]
    asyncio.run(run())
    # Records of the three stays that ended are queryable through the API too.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status, _, body = api(server.port, "GET", "/records?room=ops")
        if status == 200 and len(body["records"]) == 2:
            break
        time.sleep(0.2)
    assert sorted(r["reason"] for r in body["records"]) == ["removed", "removed"], body
    assert api(server.port, "GET", "/records?since=yesterday")[0] == 400
    assert api(server.port, "GET", "/records?kind=nope")[0] == 400


def test_users_crud_takes_effect_on_turn_at_once(tmp_path, peer):
    server = start_switchboard(tmp_path / "turn", user=False, extra=("--admin-token", TOKEN))
    try:
        port = int(re.search(r"http\.port=(\d+)", server.log()).group(1))
        assert api(port, "GET", "/users")[2] == {"users": []}
        status, _, body = api(port, "PUT", "/users/gina", body={"password": "ginapw"})
        assert status == 201 and body["username"] == "gina" and body["realm"] == REALM
        assert "ginapw" not in json.dumps(body)
        assert api(port, "PUT", "/users/gina", body={"password": "ginapw2"})[0] == 200
        assert api(port, "PUT", "/users/gina", body={"pass": "x"})[0] == 400
        assert api(port, "GET", "/users/gina")[2]["username"] == "gina"
        assert [u["username"] for u in api(port, "GET", "/users")[2]["users"]] == ["gina"]

        flags = ["-n", "20", "-m", "1", "-l", "170", "-X", "-g", "-e", "127.0.0.1", "-r", str(peer.port),
                 "-p", str(server.port), "-u", "gina", "-w", "ginapw2", "127.0.0.1"]
        result = run_uclient(flags)  # no wait: the API refreshes the node's users itself
        assert result.completed and result.sent > 0 and result.received == result.sent, result.describe()

        allocations = api(port, "GET", "/allocations")[2]["allocations"]
        mine = [a for a in allocations if a["username"] == "gina"]
        assert mine, allocations
        assert all(a["transport"] == "udp" and a["expires_in"] > 0 and a["relayed"] for a in mine)
        # uclient deletes the allocations it relayed on (their records hold the traffic) and leaves its probe
        # allocations to expire: those are the live ones.
        time.sleep(1.5)
        records = api(port, "GET", "/records?kind=allocations&user=gina")[2]["records"]
        assert sum(r["packets_sent"] for r in records) + sum(a["packets_sent"] for a in mine) == result.sent, records

        assert api(port, "DELETE", "/users/gina")[0] == 204
        assert api(port, "DELETE", "/users/gina")[0] == 404
        assert api(port, "GET", "/users/gina")[0] == 404
        refused = run_uclient(flags, timeout=20)
        assert not refused.completed, refused.describe()
    finally:
        server.stop()


@pytest.mark.parametrize("query", ["since=nan", "since=1e300", "until=-inf", "limit=abc", "limit=0",
                                   "kind=sessions&user=x", "kind=allocations&room=x"])
def test_bad_record_queries_get_400_and_the_server_lives(server, query):
    status, _, body = api(server.port, "GET", f"/records?{query}")
    assert status == 400 and body["error"]["code"] == "invalid_field", (status, body)
    assert server.proc.poll() is None
    assert api(server.port, "GET", "/records?since=2026-01-01&until=1900000000")[0] == 200


def test_user_names_in_paths_are_percent_decoded_and_bodies_checked(server):
    assert api(server.port, "PUT", "/users/ann%20lee", body={"password": "pw"})[0] == 201
    assert [u["username"] for u in api(server.port, "GET", "/users")[2]["users"]] == ["ann lee"]
    assert api(server.port, "GET", "/users/ann%20lee")[2]["username"] == "ann lee"
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/admin/users/bob", method="PUT", data=b"[1]")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400 and json.loads(refused.value.read())["error"]["code"] == "bad_json"
    assert api(server.port, "DELETE", "/users/ann%20lee")[0] == 204
