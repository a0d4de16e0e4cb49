"""The SSE + POST fallback (GET /events, POST /send) with an EventSource-style client written here.

The client follows the WHATWG event-stream rules (fields, comments, `id`, reconnect with
`Last-Event-ID`), as a browser's EventSource does; docs/PROTOCOL.md documents the endpoints.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
import pytest

from conftest import connect, recv_json, send_json
from server_process import start_server

EVENT_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(
        tmp_path_factory.mktemp("sse"), ["--join-rate", "1000", "--join-burst", "1000", "--max-message-bytes", "4096"])
    yield server
    server.stop()


class EventSource:
    """One event stream, parsed as EventSource parses it; `reconnect()` resumes from the last id."""

    def __init__(self, http: aiohttp.ClientSession, base: str):
        self.http = http
        self.base = base
        self.last_event_id: str | None = None
        self.token: str | None = None
        self.response: aiohttp.ClientResponse | None = None
        self.queue: asyncio.Queue = asyncio.Queue()
        self.reader: asyncio.Task | None = None
        self.comments = 0

    async def open(self) -> "EventSource":
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        self.response = await self.http.get(f"{self.base}/events", headers=headers)
        assert self.response.status == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.queue = asyncio.Queue()
        self.reader = asyncio.create_task(self._read(self.response))
        name, data = await self.next_event()
        assert name == "session", (name, data)
        self.token = json.loads(data)["token"]
        return self

    async def _read(self, response):
        name, data, event_id = None, [], None
        try:
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if line == "":
                    if data:
                        if event_id is not None:
                            self.last_event_id = event_id
                        await self.queue.put((name or "message", "\n".join(data)))
                    name, data, event_id = None, [], None
                    continue
                if line.startswith(":"):
                    self.comments += 1
                    continue
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    name = value
                elif field == "data":
                    data.append(value)
                elif field == "id":
                    event_id = value
        except (aiohttp.ClientError, asyncio.CancelledError):
            pass
        finally:
            await self.queue.put(None)

    async def next_event(self, timeout: float = EVENT_TIMEOUT):
        try:
            item = await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            pytest.fail(f"no event within {timeout}s")
        assert item is not None, "the stream ended"
        return item

    async def next(self, timeout: float = EVENT_TIMEOUT) -> dict:
        """The next default (`message`) event's JSON, as a /ws frame would be."""
        name, data = await self.next_event(timeout)
        assert name == "message", (name, data)
        return json.loads(data)

    async def ended(self, timeout: float = EVENT_TIMEOUT) -> list[dict]:
        """Events until the server ends the stream."""
        seen = []
        while True:
            item = await asyncio.wait_for(self.queue.get(), timeout)
            if item is None:
                return seen
            seen.append(json.loads(item[1]))

    async def send(self, message: dict | str, token: str | None = None) -> aiohttp.ClientResponse:
        body = message if isinstance(message, str) else json.dumps(message)
        async with self.http.post(
            f"{self.base}/send", data=body,
            headers={"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json"},
        ) as response:
            await response.read()
            return response

    async def drop(self):
        """The network drops the stream (no leave)."""
        self.response.close()
        self.reader.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)


def room_name() -> str:
    return "sse-" + uuid.uuid4().hex[:10]


def test_a_call_over_sse_with_a_dropped_stream_resumed_without_loss(server):
    async def scenario():
        room = room_name()
        async with aiohttp.ClientSession() as http, connect(server.url) as ws:
            sse = await EventSource(http, f"http://127.0.0.1:{server.port}").open()
            response = await sse.send({"type": "join", "room": room, "name": "sse"})
            assert response.status == 202
            joined = await sse.next()
            assert joined["type"] == "joined" and joined["peers"] == [] and joined["seq"] == 1
            assert sse.last_event_id == f"{joined['token']}:1"

            await send_json(ws, {"type": "join", "room": room, "name": "native"})
            native = await recv_json(ws)
            assert native["peers"] == [{"id": joined["id"], "name": "sse"}]
            other = await sse.next()
            assert other["type"] == "other_joined" and other["id"] == native["id"]

            # Offer, answer and trickled candidates both ways.
            await sse.send({"type": "message", "to": native["id"], "data": {"type": "offer", "sdp": "v=0"}})
            assert (await recv_json(ws))["data"] == {"type": "offer", "sdp": "v=0"}
            await send_json(ws, {"type": "message", "data": {"type": "answer", "sdp": "v=0"}})
            answer = await sse.next()
            assert answer["from"] == native["id"] and answer["data"]["type"] == "answer"
            for n in range(10):
                await sse.send({"type": "message", "data": {"candidate": f"c{n}"}})
                await send_json(ws, {"type": "message", "data": {"candidate": f"n{n}"}})
            assert [(await recv_json(ws))["data"]["candidate"] for _ in range(10)] == [f"c{n}" for n in range(10)]
            assert [(await sse.next())["data"]["candidate"] for _ in range(10)] == [f"n{n}" for n in range(10)]

            # The stream drops; the peer goes on sending; the EventSource reconnects and misses nothing.
            last_seen = sse.last_event_id
            old_token = sse.token
            await sse.drop()
            for n in range(5):
                await send_json(ws, {"type": "message", "data": {"while_away": n}})
            await asyncio.sleep(0.3)
            await sse.open()
            assert sse.token != old_token
            resumed = await sse.next()
            assert resumed["type"] == "resumed" and resumed["id"] == joined["id"], resumed
            assert resumed["last_seq"] == int(last_seen.rsplit(":", 1)[1])
            missed = [await sse.next() for _ in range(5)]
            assert [m["data"] for m in missed] == [{"while_away": n} for n in range(5)]
            assert [m["seq"] for m in missed] == list(range(resumed["last_seq"] + 1, resumed["last_seq"] + 6))

            # The old stream's token is dead; the new one works, and the peer never saw the drop.
            dead = await sse.send({"type": "message", "data": "x"}, token=old_token)
            assert dead.status == 401
            await sse.send({"type": "message", "data": {"back": True}})
            relayed = await recv_json(ws)
            assert relayed["type"] == "message" and relayed["data"] == {"back": True}, relayed

            await sse.send({"type": "leave"})
            assert (await sse.next())["type"] == "left"
            bye = await recv_json(ws)
            assert bye["type"] == "bye" and bye["reason"] == "left"
            await sse.drop()

    asyncio.run(scenario())


def test_errors_match_the_websocket_protocol(server):
    async def scenario():
        base = f"http://127.0.0.1:{server.port}"
        async with aiohttp.ClientSession() as http:
            # No token, or a made-up one: 401 with the JSON error.
            async with http.post(f"{base}/send", data="{}") as response:
                assert response.status == 401
                assert (await response.json())["code"] == "unknown_stream"
            sse = await EventSource(http, base).open()
            forged = await sse.send({"type": "ping"}, token="x" * 43)
            assert forged.status == 401

            # Bad requests are answered on the stream, with the /ws codes; the stream stays open.
            for body, code in [("not json", "bad_json"), ({"type": "nope"}, "unknown_type"),
                               ({"type": "message", "data": 1}, "not_in_room"), ({"type": "join"}, "missing_field")]:
                assert (await sse.send(body)).status == 202
                error = await sse.next()
                assert error["type"] == "error" and error["code"] == code, (body, error)
            await sse.send({"type": "ping", "id": 7})
            assert await sse.next() == {"type": "pong", "id": 7}

            # Over --max-message-bytes: 413, then the stream gets frame_too_large and ends (fatal, as on /ws).
            big = {"type": "message", "data": "x" * 5000}
            assert (await sse.send(big)).status == 413
            tail = await sse.ended()
            assert [e["code"] for e in tail] == ["frame_too_large"], tail

            # A Last-Event-ID this server never sent: resume_failed, on a fresh, usable session.
            stray = EventSource(http, base)
            stray.last_event_id = "garbage"
            await stray.open()
            assert (await stray.next())["code"] == "resume_failed"
            await stray.send({"type": "join", "room": room_name()})
            assert (await stray.next())["type"] == "joined"
            await stray.drop()

    asyncio.run(scenario())


def test_idle_streams_get_keepalive_comments(tmp_path):
    server = start_server(tmp_path / "keepalive", ["--heartbeat-interval", "0.3"])

    async def scenario():
        async with aiohttp.ClientSession() as http:
            sse = await EventSource(http, f"http://127.0.0.1:{server.port}").open()
            await asyncio.sleep(1.2)
            assert sse.comments >= 2, sse.comments
            await sse.send({"type": "ping"})
            assert (await sse.next())["type"] == "pong"
            await sse.drop()

    try:
        asyncio.run(scenario())
    finally:
        server.stop()
