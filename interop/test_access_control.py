"""Access control through the real binary: join tokens (JWT HS256, minted here with the standard library as an
application backend would, and by `switchboard token`) on /ws, SSE and Socket.IO; eviction of a duplicate
identity; the WebSocket Origin check; and persistent rooms' password, capacity and lock."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import pytest
import socketio
from websockets.exceptions import InvalidStatus

from conftest import connect, expect_close, recv_json, send_json
from server_process import server_binary, start_server

SECRET = "0123456789abcdef0123456789abcdef-test"
OTHER_SECRET = "fedcba9876543210fedcba9876543210-other"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict, secret: str = SECRET) -> str:
    """An HS256 JWT, signed as any backend's JWT library would."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def claims(room: str = "meet", sub: str = "alice", **extra) -> dict:
    return {"room": room, "sub": sub, "exp": int(time.time()) + 600, **extra}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("tokens"), ["--join-secret", SECRET, "--join-rate", "1000",
                                                         "--join-burst", "1000"])
    yield s
    s.stop()


async def join(url: str, room: str, token: str | None = None, in_message: bool = True, **fields):
    """Connects and joins; returns (socket, first reply)."""
    query = "" if token is None or in_message else f"?token={token}"
    ws = await connect(url + query).__aenter__()
    message = {"type": "join", "room": room, **fields}
    if token is not None and in_message:
        message["token"] = token
    await send_json(ws, message)
    return ws, await recv_json(ws)


@pytest.mark.parametrize("in_message", [True, False], ids=["in-join", "query-parameter"])
def test_a_valid_token_admits_with_its_identity_and_name(server, in_message):
    async def run():
        a, joined = await join(server.url, "meet", jwt(claims(sub="alice", name="Alice A.")), in_message=in_message,
                               name="ignored")
        assert joined["type"] == "joined", joined
        b, joined_b = await join(server.url, "meet", jwt(claims(sub="bob", publish=False)), in_message=in_message)
        assert joined_b["type"] == "joined"
        assert joined_b["peers"] == [{"id": joined["id"], "name": "Alice A.", "identity": "alice"}]
        other = await recv_json(a)
        assert other == {"type": "other_joined", "room": "meet", "id": joined_b["id"], "identity": "bob",
                         "publish": False, "seq": other["seq"]}
        await a.close()
        await b.close()
    asyncio.run(run())


@pytest.mark.parametrize("token, code", [
    (None, "token_required"),
    ("not.a.jwt", "invalid_token"),
    (jwt(claims(), secret=OTHER_SECRET), "invalid_token"),
    (jwt(claims(exp=int(time.time()) - 5)), "token_expired"),
    (jwt(claims(nbf=int(time.time()) + 600)), "token_expired"),
    (jwt(claims(room="elsewhere")), "token_wrong_room"),
    (jwt({"room": "meet", "sub": "alice"}), "invalid_token"),  # no exp: tokens must expire
], ids=["missing", "garbage", "wrong-signature", "expired", "not-yet-valid", "wrong-room", "no-expiry"])
def test_a_bad_token_is_refused_with_a_precise_code(server, token, code):
    async def run():
        ws, reply = await join(server.url, "meet", token)
        assert reply["type"] == "error" and reply["code"] == code and reply["request"] == "join", reply
        # The connection stays open: a client can fetch a fresh token and join again.
        await send_json(ws, {"type": "join", "room": "meet", "token": jwt(claims(sub="retry"))})
        assert (await recv_json(ws))["type"] == "joined"
        await ws.close()
    asyncio.run(run())


def test_refused_tokens_are_counted_as_auth_failures(server):
    import urllib.request
    def failures() -> float:
        text = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5).read().decode()
        match = [l for l in text.splitlines() if l.startswith('switchboard_auth_failures_total{service="signaling"}')]
        return float(match[0].split()[-1]) if match else 0.0
    before = failures()

    async def run():
        ws, reply = await join(server.url, "meet", jwt(claims(), secret=OTHER_SECRET))
        assert reply["code"] == "invalid_token"
        await ws.close()
    asyncio.run(run())
    assert failures() == before + 1
    assert SECRET not in server.log() and OTHER_SECRET not in server.log()


def test_tokens_from_switchboard_token_command_are_accepted(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["SWITCHBOARD_JOIN_SECRET"] = SECRET
    minted = subprocess.run([str(server_binary()), "token", "--room", "cli-room", "--identity", "carol", "--name", "Carol",
                             "--ttl", "60"], capture_output=True, text=True, env=env, timeout=30, check=True).stdout.strip()
    assert minted.count(".") == 2

    async def run():
        ws, reply = await join(server.url, "cli-room", minted)
        assert reply["type"] == "joined", reply
        await ws.close()
    asyncio.run(run())
    short = subprocess.run([str(server_binary()), "token", "--room", "r", "--identity", "x", "--secret", "short"],
                           capture_output=True, text=True, env=env, timeout=30)
    assert short.returncode != 0 and "at least 32 characters" in short.stderr


def test_the_same_identity_joining_again_evicts_the_older_session(server):
    async def run():
        first, joined_first = await join(server.url, "evict", jwt(claims(room="evict", sub="dana")))
        peer, _ = await join(server.url, "evict", jwt(claims(room="evict", sub="erin")))
        await recv_json(first)  # other_joined erin
        second, joined_second = await join(server.url, "evict", jwt(claims(room="evict", sub="dana")))
        # The peer sees the ghost leave at once, not after a grace period.
        bye = await recv_json(peer, timeout=2)
        assert bye["type"] == "bye" and bye["id"] == joined_first["id"] and bye["reason"] == "evicted", bye
        assert (await recv_json(peer))["type"] == "other_joined"
        assert [p["identity"] for p in joined_second["peers"]] == ["erin"]
        frames = await expect_close(first)
        assert any(f.get("code") == "duplicate_identity" for f in frames), frames
        for ws in (peer, second):
            await ws.close()
    asyncio.run(run())


def test_socketio_clients_pass_the_token_in_the_connect_auth(server):
    async def run():
        sio = socketio.AsyncClient(reconnection=False)
        events: asyncio.Queue = asyncio.Queue()
        sio.on("joined", lambda *args: events.put_nowait(("joined", args)))
        sio.on("error", lambda *args: events.put_nowait(("error", args)))
        await sio.connect(f"http://127.0.0.1:{server.port}", transports=["websocket"],
                          auth={"token": jwt(claims(room="sio", sub="frank"))})
        await sio.emit("join", "sio")
        name, args = await asyncio.wait_for(events.get(), 5)
        assert name == "joined" and args[0] == "sio", (name, args)
        await sio.disconnect()

        unauthenticated = socketio.AsyncClient(reconnection=False)
        refused: asyncio.Queue = asyncio.Queue()
        unauthenticated.on("error", lambda *args: refused.put_nowait(args))
        await unauthenticated.connect(f"http://127.0.0.1:{server.port}", transports=["websocket"])
        ack = await unauthenticated.call("join", "sio", timeout=5)
        assert ack["ok"] is False and ack["code"] == "token_required", ack
        await unauthenticated.disconnect()
    asyncio.run(run())


def test_websocket_upgrades_from_foreign_origins_are_refused(tmp_path):
    server = start_server(tmp_path, ["--allowed-origin", "https://app.example"])
    try:
        async def run():
            for origin in (None, f"http://127.0.0.1:{server.port}", "https://app.example"):
                headers = {"Origin": origin} if origin else {}
                async with connect(server.url, additional_headers=headers) as ws:
                    await send_json(ws, {"type": "ping"})
                    assert (await recv_json(ws))["type"] == "pong"
            for origin in ("https://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(server.url, additional_headers={"Origin": origin}):
                        pass
                # hummingbird-websocket answers every refused upgrade with a bare 400.
                assert refused.value.response.status_code == 400, origin
            # Socket.IO's WebSocket transport is checked the same way.
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
                                   additional_headers={"Origin": "https://evil.example"}):
                    pass
            assert refused.value.response.status_code == 400
        asyncio.run(run())
        assert server.log().count("websocket refused: origin not allowed") == 4
    finally:
        server.stop()


def test_persistent_rooms_enforce_their_password_capacity_and_lock(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}

    def cli(*args, stdin=None):
        subprocess.run([str(server_binary()), *args, "--data-dir", str(data)], input=stdin, text=True, env=env,
                       check=True, capture_output=True, timeout=60)
    cli("room", "create", "board", "--capacity", "1", "--password-stdin", stdin="opensesame\n")
    cli("room", "create", "vault", "--locked")
    server = start_server(data, ["--join-rate", "1000", "--join-burst", "1000"])
    try:
        async def run():
            ws, reply = await join(server.url, "board")
            assert reply["code"] == "password_required", reply
            await send_json(ws, {"type": "join", "room": "board", "password": "wrong"})
            assert (await recv_json(ws))["code"] == "wrong_password"
            # The stored capacity (1) wins over what the join asks for.
            await send_json(ws, {"type": "join", "room": "board", "password": "opensesame", "capacity": 5})
            joined = await recv_json(ws)
            assert joined["type"] == "joined" and joined["capacity"] == 1, joined
            other, full = await join(server.url, "board", password="opensesame")
            assert full["type"] == "full", full
            locked, refused = await join(server.url, "vault")
            assert refused["code"] == "room_locked", refused
            # Rooms that are not stored behave as before.
            free, free_joined = await join(server.url, "ad-hoc", password="set-by-creator")
            assert free_joined["type"] == "joined"
            for s in (ws, other, locked, free):
                await s.close()
        asyncio.run(run())
    finally:
        server.stop()
