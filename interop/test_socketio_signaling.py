"""Socket.IO signaling at /socket.io/ with python-socketio, a client nobody here wrote.

Every scenario runs over HTTP long-polling only, WebSocket only, and polling upgraded to WebSocket.
The vocabularies and their mapping onto the room core are documented in docs/PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid

import aiohttp
import pytest
import socketio
from websockets.asyncio.client import connect as ws_connect

from conftest import connect, recv_json, send_json
from server_process import start_server

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}
EVENT_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Every client here joins from 127.0.0.1: lift the per-address join limit that would otherwise apply.
    server = start_server(tmp_path_factory.mktemp("sio"), ["--join-rate", "1000", "--join-burst", "1000"])
    yield server
    server.stop()


@pytest.fixture(params=list(TRANSPORTS))
def transports(request):
    return request.param


def room_name() -> str:
    return "r-" + uuid.uuid4().hex[:12]


class Peer:
    """A python-socketio AsyncClient that records every event it receives, in order."""

    def __init__(self, port: int, transport: str):
        self.port = port
        self.transport = transport
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, list]] = []
        self.consumed: set[int] = set()
        self.changed = asyncio.Event()
        self.sio.on("*", self._record)

    async def _record(self, event, *args):
        self.events.append((event, list(args)))
        self.changed.set()

    async def connect(self) -> "Peer":
        await self.sio.connect(
            f"http://127.0.0.1:{self.port}", transports=TRANSPORTS[self.transport], wait_timeout=10)
        expected = "polling" if self.transport == "polling" else "websocket"
        assert self.sio.transport() == expected, f"{self.transport}: the client ended on {self.sio.transport()}"
        return self

    @property
    def sid(self) -> str:
        return self.sio.get_sid("/")

    async def next(self, name: str, timeout: float = EVENT_TIMEOUT) -> list:
        """The arguments of the first not yet consumed `name` event, waiting up to `timeout`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index, (event, args) in enumerate(self.events):
                if event == name and index not in self.consumed:
                    self.consumed.add(index)
                    return args
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                pytest.fail(f"no '{name}' event within {timeout}s; events so far: {self.events}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def assert_no(self, name: str, window: float = 0.4) -> None:
        await asyncio.sleep(window)
        unexpected = [args for index, (event, args) in enumerate(self.events) if event == name and index not in self.consumed]
        assert not unexpected, f"unexpected '{name}' events: {unexpected}"

    def names(self) -> list[str]:
        return [event for event, _ in self.events]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@contextlib.asynccontextmanager
async def peers(port: int, transport: str, count: int):
    """`count` connected peers, all disconnected on the way out (also when a later one fails to connect)."""
    opened: list[Peer] = []
    try:
        for _ in range(count):
            opened.append(await Peer(port, transport).connect())
        yield opened
    finally:
        for peer in opened:
            await peer.close()


# ---------------------------------------------------------------------------------------------
# The codelab vocabulary
# ---------------------------------------------------------------------------------------------


def test_codelab_vocabulary_end_to_end(server, transports):
    async def scenario():
        async with peers(server.port, transports, 4) as (a, b, c, outsider):
            room = room_name()
            await a.sio.emit("create or join", room)
            assert await a.next("created") == [room, a.sid]
            await b.sio.emit("create or join", room)
            assert await a.next("join") == [room]
            assert await a.next("ready") == []
            assert await b.next("joined") == [room, b.sid]
            assert await b.next("ready") == []

            # A second room on the same server, to check isolation.
            await outsider.sio.emit("create or join", room_name())
            await outsider.next("created")

            offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
            await a.sio.emit("message", offer)
            assert await b.next("message") == [offer]
            await b.sio.emit("message", {"type": "answer", "sdp": "v=0\r\n"})
            assert await a.next("message") == [{"type": "answer", "sdp": "v=0\r\n"}]
            await a.sio.emit("message", "got user media")
            assert await b.next("message") == ["got user media"]

            # Rooms hold two: a third gets `full` and nothing else of the room.
            await c.sio.emit("create or join", room)
            assert await c.next("full") == [room]
            await a.sio.emit("message", {"type": "candidate", "label": 0, "id": "0", "candidate": "candidate:1"})
            assert (await b.next("message"))[0]["type"] == "candidate"
            await c.assert_no("message")
            await outsider.assert_no("message", window=0.1)
            # `log` events are off by default.
            for peer in (a, b, c, outsider):
                assert "log" not in peer.names()

    asyncio.run(scenario())


# ---------------------------------------------------------------------------------------------
# The join/leave vocabulary
# ---------------------------------------------------------------------------------------------


def test_join_leave_vocabulary_end_to_end(server, transports):
    async def scenario():
        async with peers(server.port, transports, 3) as (a, b, c):
            room = room_name()
            await a.sio.emit("join", room)
            assert await a.next("joined") == [room, a.sid]
            await b.sio.emit("join", room)
            assert await b.next("joined") == [room, b.sid]
            assert await a.next("otherjoin") == [room, b.sid]
            await c.sio.emit("join", room)
            assert await c.next("full") == [room, c.sid]

            await a.sio.emit("message", (room, {"type": "offer", "sdp": "o"}))
            assert await b.next("message") == [room, {"type": "offer", "sdp": "o"}]
            await b.sio.emit("message", (room, {"type": "answer", "sdp": "a"}))
            assert await a.next("message") == [room, {"type": "answer", "sdp": "a"}]
            await c.assert_no("message")

            # A message naming a room the sender is not in is refused, and reaches no one.
            await a.sio.emit("message", ("elsewhere", {"x": 1}))
            error = (await a.next("error"))[0]
            assert error["code"] == "not_in_room", error
            await b.assert_no("message")

            await a.sio.emit("leave", room)
            assert await a.next("leaved") == [room, a.sid]
            assert await b.next("bye") == [room, a.sid]
            # The room has space again.
            await c.sio.emit("join", room)
            assert await c.next("joined") == [room, c.sid]
            assert await b.next("otherjoin") == [room, c.sid]

    asyncio.run(scenario())


# ---------------------------------------------------------------------------------------------
# Acks, errors, binary
# ---------------------------------------------------------------------------------------------


def test_every_event_is_acknowledged(server, transports):
    async def scenario():
        async with peers(server.port, transports, 3) as (a, b, c):
            room = room_name()
            created = await a.sio.call("create or join", room, timeout=EVENT_TIMEOUT)
            assert created == {"ok": True, "room": room, "id": a.sid, "peers": [], "capacity": 2}
            assert await a.next("created") == [room, a.sid]
            joined = await b.sio.call("join", room, timeout=EVENT_TIMEOUT)
            assert joined == {"ok": True, "room": room, "id": b.sid, "peers": [a.sid], "capacity": 2}
            assert await b.sio.call("message", (room, {"n": 1}), timeout=EVENT_TIMEOUT) == {"ok": True}
            assert await a.next("message") == [{"n": 1}]

            full = await c.sio.call("create or join", room, timeout=EVENT_TIMEOUT)
            assert full["ok"] is False and full["code"] == "room_full", full
            assert await c.next("full") == [room]

            for event, arguments, code in [
                ("create or join", ["bad room!"], "invalid_room_name"),
                ("create or join", [], "missing_field"),
                ("join", [room_name(), "not an object"], "invalid_field"),
                ("message", [], "missing_field"),
                ("leave", [], "not_in_room"),
                ("no such event", [1], "unknown_type"),
            ]:
                data = tuple(arguments) if len(arguments) > 1 else (arguments[0] if arguments else None)
                answer = await c.sio.call(event, data, timeout=EVENT_TIMEOUT)
                assert answer["ok"] is False and answer["code"] == code, (event, arguments, answer)
            # Acked errors come only in the ack; unacked ones as an `error` event.
            assert "error" not in c.names()
            await c.sio.emit("no such event")
            assert (await c.next("error"))[0]["code"] == "unknown_type"

            assert await a.sio.call("leave", room, timeout=EVENT_TIMEOUT) == {"ok": True}
            assert await a.next("leaved") == [room, a.sid]

    asyncio.run(scenario())


def test_binary_event_with_two_attachments(server, transports):
    async def scenario():
        async with peers(server.port, transports, 2) as (a, b):
            room = room_name()
            await a.sio.call("create or join", room, timeout=EVENT_TIMEOUT)
            await b.sio.call("create or join", room, timeout=EVENT_TIMEOUT)
            first, second = bytes(range(256)) * 4, b"\x00\xff" * 3000
            await a.sio.emit("message", {"type": "file", "chunks": [first, second], "name": "x.bin"})
            payload = (await b.next("message"))[0]
            assert payload == {"type": "file", "chunks": [first, second], "name": "x.bin"}
            assert isinstance(payload["chunks"][0], bytes) and isinstance(payload["chunks"][1], bytes)

    asyncio.run(scenario())


# ---------------------------------------------------------------------------------------------
# Socket.IO and /ws in one room
# ---------------------------------------------------------------------------------------------


def test_mixed_room_with_a_native_websocket_client(server, transports):
    async def scenario():
        room = room_name()
        async with peers(server.port, transports, 1) as (sio,):
            sio_id = sio.sid
            async with connect(server.url) as ws:
                await send_json(ws, {"type": "join", "room": room, "name": "native"})
                joined = await recv_json(ws)
                assert joined["type"] == "joined" and joined["peers"] == []
                native_id = joined["id"]

                await sio.sio.emit("create or join", room)
                assert await sio.next("joined") == [room, sio.sid]
                other = await recv_json(ws)
                assert other["type"] == "other_joined" and other["id"] == sio.sid, other

                offer = {"type": "offer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
                await send_json(ws, {"type": "message", "data": offer})
                assert await sio.next("message") == [offer]
                answer = {"type": "answer", "sdp": "v=0\r\n"}
                await sio.sio.emit("message", answer)
                relayed = await recv_json(ws)
                assert relayed["type"] == "message" and relayed["from"] == sio.sid and relayed["data"] == answer
                for n in range(3):
                    candidate = {"type": "candidate", "candidate": f"candidate:{n} 1 udp 1 127.0.0.1 {5000 + n} typ host"}
                    await send_json(ws, {"type": "message", "to": sio.sid, "data": candidate})
                    assert await sio.next("message") == [candidate]
                    await sio.sio.emit("message", candidate)
                    assert (await recv_json(ws))["data"] == candidate

                # Binary from Socket.IO reaches /ws as {"$binary": base64}, and back as bytes.
                await sio.sio.emit("message", {"blob": b"\x01\x02\x03"})
                assert (await recv_json(ws))["data"] == {"blob": {"$binary": base64.b64encode(b"\x01\x02\x03").decode()}}
                await send_json(ws, {"type": "message", "data": {"blob": {"$binary": base64.b64encode(b"\xfe").decode()}}})
                assert await sio.next("message") == [{"blob": b"\xfe"}]

                # A clean Socket.IO disconnect is a leave: the native client sees bye at once.
                await sio.sio.disconnect()
                bye = await recv_json(ws, timeout=3)
                assert bye["type"] == "bye" and bye["id"] == sio_id and bye["reason"] == "closed", bye
                assert native_id != sio_id

    asyncio.run(scenario())


# ---------------------------------------------------------------------------------------------
# Disconnects, bad input, options
# ---------------------------------------------------------------------------------------------


async def raw_socketio(port: int):
    """An Engine.IO WebSocket joined to the default namespace, spoken by hand."""
    ws = await ws_connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", proxy=None)
    opened = await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT)
    assert opened.startswith("0{"), opened
    await ws.send("40")
    connected = await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT)
    assert connected.startswith("40{"), connected
    return ws, json.loads(connected[2:])["sid"]


def test_lost_transport_leaves_after_the_grace_period(tmp_path):
    server = start_server(tmp_path / "grace", ["--grace-period", "1.5"])

    async def scenario():
        async with peers(server.port, "websocket", 1) as (a,):
            room = room_name()
            await a.sio.emit("join", room)
            await a.next("joined")
            ws, sid = await raw_socketio(server.port)
            await ws.send(f'42["join",{json.dumps(room)}]')
            assert await a.next("otherjoin") == [room, sid]
            # The transport drops without a Socket.IO DISCONNECT: the session waits out the grace period.
            ws.transport.abort()
            await a.assert_no("bye", window=0.8)
            assert await a.next("bye", timeout=4) == [room, sid]

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_invalid_packet_closes_only_its_connection(server):
    async def scenario():
        async with peers(server.port, "websocket", 2) as (a, b):
            room = room_name()
            await a.sio.emit("create or join", room)
            await a.next("created")
            ws, sid = await raw_socketio(server.port)
            # An EVENT whose payload is not an array breaks the parser rules.
            await ws.send('42{"not":"an array"}')
            closed = False
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT)
            except Exception:
                closed = True
            assert closed
            await b.sio.emit("create or join", room)
            assert await b.next("joined") == [room, b.sid]
            await a.sio.emit("message", "still here")
            assert await b.next("message") == ["still here"]

    asyncio.run(scenario())


def test_log_events_and_cors_are_opt_in(tmp_path, server):
    configured = start_server(
        tmp_path / "options", ["--socketio-log-events", "--cors-origin", "https://app.example"])

    async def scenario():
        async with peers(configured.port, "websocket", 1) as (a,):
            await a.sio.emit("create or join", room_name())
            note = (await a.next("log"))[0]
            assert note[0] == "Message from server:" and "create or join" in note[1], note
        async with aiohttp.ClientSession() as http:
            for target, allowed in [(configured, True), (server, False)]:
                async with http.get(
                    f"http://127.0.0.1:{target.port}/socket.io/?EIO=4&transport=polling",
                    headers={"Origin": "https://app.example"},
                ) as response:
                    assert response.status == 200
                    assert response.headers.get("Access-Control-Allow-Origin") == (
                        "https://app.example" if allowed else None)
                async with http.get(
                    f"http://127.0.0.1:{target.port}/socket.io/?EIO=4&transport=polling",
                    headers={"Origin": "https://evil.example"},
                ) as response:
                    assert "Access-Control-Allow-Origin" not in response.headers

    try:
        asyncio.run(scenario())
    finally:
        configured.stop()


def test_fatal_error_is_acked_once_then_disconnects(tmp_path):
    server = start_server(tmp_path / "limits", ["--message-rate", "1", "--message-burst", "3"])

    async def scenario():
        async with peers(server.port, "websocket", 1) as (a,):
            disconnected = asyncio.Event()
            a.sio.on("disconnect", lambda *reason: disconnected.set())
            assert (await a.sio.call("create or join", room_name(), timeout=EVENT_TIMEOUT))["ok"] is True
            for _ in range(2):
                assert await a.sio.call("message", {"n": 1}, timeout=EVENT_TIMEOUT) == {"ok": True}
            answer = await a.sio.call("message", {"n": 2}, timeout=EVENT_TIMEOUT)
            assert answer["ok"] is False and answer["code"] == "rate_limited", answer
            await asyncio.wait_for(disconnected.wait(), EVENT_TIMEOUT)
            # The ack carried the error: no separate `error` event, and no second one from the close.
            assert "error" not in a.names(), a.events

    try:
        asyncio.run(scenario())
    finally:
        server.stop()


def test_a_client_that_stops_polling_is_closed_not_buffered(tmp_path):
    """More than 1024 packets waiting for a polling client that does not poll end its session."""
    server = start_server(
        tmp_path / "slow", ["--message-rate", "100000", "--message-burst", "100000", "--outbound-queue", "100000"])

    async def scenario():
        base = f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=polling"
        room = room_name()
        async with aiohttp.ClientSession() as http, connect(server.url) as ws:
            async with http.get(base) as response:
                sid = json.loads((await response.text())[1:])["sid"]
            session = f"{base}&sid={sid}"
            async with http.post(session, data=f'40\x1e42["join",{json.dumps(room)}]') as response:
                assert response.status == 200
            async with http.get(session) as response:
                assert '42["joined"' in await response.text()
            await send_json(ws, {"type": "join", "room": room})
            assert (await recv_json(ws))["type"] == "joined"
            # The polling client now stops polling while its partner sends 1,100 messages.
            for n in range(1100):
                await send_json(ws, {"type": "message", "data": n})
            await asyncio.sleep(1)
            async with http.get(session) as response:
                assert response.status == 400, await response.text()
                assert (await response.json())["code"] == 1  # "Session ID unknown": it was closed

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
