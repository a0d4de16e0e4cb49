"""Black-box tests of the native signaling protocol over WebSocket (docs/PROTOCOL.md).

Everything asserted here is taken from PROTOCOL.md ("Native signaling over WebSocket") and from
`switchboard serve --help`; nothing depends on the server's source. Each test starts its own server
on an ephemeral port with the options it needs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed

from conftest import RECV_TIMEOUT, assert_silent, connect, expect_close, recv_json, send_json

# Joins are rate limited per client IP and every test connects from 127.0.0.1, so tests that are not
# about the join limit run with a generous one.
FAST_JOINS = {"join_rate": 10000, "join_burst": 10000}
TEST_TIMEOUT = 60.0

SEQUENCED_TYPES = {"joined", "other_joined", "left", "bye", "message"}
BYE_REASONS = {"left", "closed", "timeout", "removed"}

_request_ids = itertools.count(1)


def run(coro, timeout: float = TEST_TIMEOUT):
    """Drive an async test body; no test can run longer than `timeout`."""

    async def bounded():
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            # A failed test may leave connections open; drop them so the server stops promptly.
            for peer in Peer.opened:
                if not peer.ws.transport.is_closing():
                    peer.ws.transport.abort()
            Peer.opened.clear()

    return asyncio.run(bounded())


def serve(server_factory, **options) -> str:
    """Start a server (fast joins unless overridden) and return its ws URL."""
    return server_factory(**{**FAST_JOINS, **options})


def is_sequenced(msg: dict) -> bool:
    """Room events carry `seq`; so does the asynchronous `held_message_expired` error."""
    if msg.get("type") in SEQUENCED_TYPES:
        return True
    return msg.get("type") == "error" and msg.get("code") == "held_message_expired"


def next_id() -> str:
    return f"r{next(_request_ids)}"


class Peer:
    """A client connection that checks the documented `seq` numbering on every frame it reads.

    Sequenced events must carry `seq` counting up by one from 1 per session; direct replies must
    carry none.
    """

    def __init__(self, ws, name: str | None = None, last_seq: int = 0):
        self.ws = ws
        self.name = name
        self.id: str | None = None
        self.token: str | None = None
        self.room: str | None = None
        self.last_seq = last_seq

    opened: list["Peer"] = []  # every peer of the running test, cleaned up by run()

    @classmethod
    async def open(cls, url: str, name: str | None = None, **kwargs) -> "Peer":
        peer = cls(await connect(url, **kwargs), name)
        cls.opened.append(peer)
        return peer

    async def send(self, **fields) -> None:
        await send_json(self.ws, fields)

    async def send_raw(self, frame) -> None:
        await self.ws.send(frame)

    async def recv(self, timeout: float = RECV_TIMEOUT) -> dict:
        msg = await recv_json(self.ws, timeout)
        self.check_seq(msg)
        return msg

    def check_seq(self, msg: dict) -> None:
        if is_sequenced(msg):
            seq = msg.get("seq")
            assert isinstance(seq, int) and not isinstance(seq, bool), f"sequenced event without int seq: {msg}"
            if msg["type"] == "joined" and msg.get("id") != self.id:
                expected = 1  # a new session counts from 1
            else:
                expected = self.last_seq + 1
            assert seq == expected, f"seq {seq}, expected {expected}: {msg}"
            self.last_seq = seq
        else:
            assert "seq" not in msg, f"direct reply carries seq: {msg}"

    async def expect(self, type_: str, timeout: float = RECV_TIMEOUT, **fields) -> dict:
        msg = await self.recv(timeout)
        assert msg.get("type") == type_, f"expected {type_!r} with {fields}, got {msg}"
        for key, value in fields.items():
            assert msg.get(key) == value, f"{type_}.{key}: expected {value!r}, got {msg}"
        return msg

    async def expect_error(self, code: str, request: str | None = None, id=None, timeout: float = RECV_TIMEOUT) -> dict:
        msg = await self.expect("error", timeout=timeout, code=code)
        assert isinstance(msg.get("message"), str) and msg["message"], f"error without human message: {msg}"
        if request is not None:
            assert msg.get("request") == request, f"error.request: expected {request!r}, got {msg}"
        if id is not None:
            assert msg.get("id") == id, f"error.id: expected {id!r}, got {msg}"
        return msg

    async def join(self, room: str, **fields) -> dict:
        """Join `room` and check the documented `joined` fields."""
        if self.name is not None:
            fields.setdefault("name", self.name)
        await self.send(type="join", room=room, **fields)
        msg = await self.expect("joined", room=room)
        assert isinstance(msg.get("id"), str) and msg["id"], msg
        assert isinstance(msg.get("token"), str) and msg["token"], msg
        assert isinstance(msg.get("peers"), list), msg
        assert isinstance(msg.get("capacity"), int), msg
        for peer in msg["peers"]:
            assert set(peer) >= {"id"} and set(peer) <= {"id", "name"}, f"peer entry {peer} in {msg}"
        self.id, self.token, self.room = msg["id"], msg["token"], room
        return msg

    async def ping_ok(self, timeout: float = RECV_TIMEOUT, **fields) -> dict:
        """Round-trip an application ping; proves the connection is still usable."""
        pid = next_id()
        await self.send(type="ping", id=pid, **fields)
        return await self.expect("pong", timeout=timeout, id=pid)

    async def silent(self, window: float = 0.3) -> None:
        await assert_silent(self.ws, window)

    def abort(self) -> None:
        """Drop the TCP connection with no WebSocket close frame."""
        self.ws.transport.abort()

    async def close(self) -> None:
        try:
            await self.ws.close()
        except Exception:
            pass


async def expect_fatal(peer: Peer, code: str, timeout: float = RECV_TIMEOUT) -> list[dict]:
    """Fatal errors: `error` with `code`, then a close with code 1008 whose reason is the code."""
    frames = await expect_close(peer.ws, timeout)
    errors = [f for f in frames if f.get("type") == "error"]
    assert errors, f"no error frame before close (close {peer.ws.close_code} {peer.ws.close_reason!r}); frames: {frames}"
    assert errors[-1].get("code") == code, f"expected error {code}, frames: {frames}"
    assert frames[-1] is errors[-1], f"frames after the fatal error: {frames}"
    assert peer.ws.close_code == 1008, f"close code {peer.ws.close_code} {peer.ws.close_reason!r}, expected 1008"
    assert peer.ws.close_reason == code, f"close reason {peer.ws.close_reason!r}, expected {code!r}"
    return frames


async def joined_pair(url: str, room: str = "pair", names=("alice", "bob"), **join_fields) -> tuple[Peer, Peer]:
    """The first peer creates `room`, the second joins; both have drained their join events."""
    alice = await Peer.open(url, names[0])
    await alice.join(room, **join_fields)
    bob = await Peer.open(url, names[1])
    joined = await bob.join(room)
    assert joined["peers"] == [{"id": alice.id, "name": names[0]}], joined
    await alice.expect("other_joined", room=room, id=bob.id, name=names[1])
    return alice, bob


async def close_all(*peers: Peer) -> None:
    await asyncio.gather(*(p.close() for p in peers))


async def request_error(url: str, request: dict, code: str, room: str | None = None) -> None:
    """On a fresh connection (in `room` if given) send `request` with an `id`, expect error `code`
    echoing the request type and id, then prove the connection is still usable."""
    peer = await Peer.open(url, "probe")
    try:
        if room is not None:
            await peer.join(room)
        rid = next_id()
        await peer.send(**request, id=rid)
        await peer.expect_error(code, request=request.get("type"), id=rid)
        await peer.ping_ok()
    finally:
        await peer.close()


async def collect_failures(cases) -> list[str]:
    """Run (label, coroutine-factory) cases, returning the assertion failures instead of stopping."""
    failures = []
    for label, make in cases:
        try:
            await make()
        except (AssertionError, pytest.fail.Exception, ConnectionClosed) as exc:
            failures.append(f"{label}: {str(exc).splitlines()[0] if str(exc) else repr(exc)}")
    return failures


# ---------------------------------------------------------------------------------------------
# Joining, messages, ping
# ---------------------------------------------------------------------------------------------


def test_join_creates_room_and_reports_members(server_factory):
    """`joined` carries room, id, peers, capacity (default 8), token and seq 1; existing members get
    `other_joined` with the newcomer's id and name; ids and tokens are distinct."""
    url = serve(server_factory)

    async def body():
        alice = await Peer.open(url, "Alice")
        a = await alice.join("demo", id=1)
        assert a["peers"] == [] and a["capacity"] == 8 and a["seq"] == 1, a
        assert "id" in a and a["id"] != 1, "joined.id is the session id, not the request id"
        bob = await Peer.open(url, "Bob")
        b = await bob.join("demo")
        assert b["peers"] == [{"id": alice.id, "name": "Alice"}] and b["capacity"] == 8 and b["seq"] == 1, b
        o = await alice.expect("other_joined", room="demo", id=bob.id, name="Bob", seq=2)
        assert set(o) == {"type", "room", "id", "name", "seq"}, o
        carol = await Peer.open(url, "Carol")
        c = await carol.join("demo")
        assert sorted(p["id"] for p in c["peers"]) == sorted([alice.id, bob.id]), c
        assert {p["id"]: p.get("name") for p in c["peers"]} == {alice.id: "Alice", bob.id: "Bob"}, c
        await alice.expect("other_joined", id=carol.id, name="Carol")
        await bob.expect("other_joined", id=carol.id, name="Carol")
        assert len({alice.id, bob.id, carol.id}) == 3
        assert len({alice.token, bob.token, carol.token}) == 3
        await close_all(alice, bob, carol)

    run(body())


def test_broadcast_message_stamps_from_and_ignores_spoofing(server_factory):
    """A `message` without `to` reaches every other member (not the sender) with `from` stamped by the
    server even when the client sent its own `from`; there is no `to`; `data` is unchanged."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url)
        carol = await Peer.open(url, "carol")
        await carol.join("pair")
        await alice.expect("other_joined", id=carol.id)
        await bob.expect("other_joined", id=carol.id)
        data = {"type": "offer", "sdp": "v=0\r\n", "nested": {"list": [1, 2.5, None, True], "s": "é✓"}}
        await alice.send(type="message", data=data, **{"from": "evil", "custom_field": 1})
        for receiver in (bob, carol):
            msg = await receiver.expect("message", room="pair", data=data)
            assert msg["from"] == alice.id, f"from not stamped by server: {msg}"
            assert "to" not in msg, f"broadcast carries to: {msg}"
        await alice.silent()
        await close_all(alice, bob, carol)

    run(body())


def test_direct_message_reaches_only_target_and_echoes_to(server_factory):
    """A `message` with `to` reaches only that member, with `to` echoed and `from` stamped."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url)
        carol = await Peer.open(url, "carol")
        await carol.join("pair")
        await alice.expect("other_joined", id=carol.id)
        await bob.expect("other_joined", id=carol.id)
        await alice.send(type="message", to=bob.id, data={"answer": 42}, **{"from": carol.id})
        msg = await bob.expect("message", room="pair", to=bob.id, data={"answer": 42})
        assert msg["from"] == alice.id, f"from spoofed: {msg}"
        await carol.silent()
        await alice.silent(0.1)
        await close_all(alice, bob, carol)

    run(body())


def test_data_may_be_any_json(server_factory):
    """`data` is any JSON value and is relayed unchanged."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url)
        values = [0, -7, 3.25, "", "text", [], [1, "two", {"three": 3}], {}, False, True, {"a": {"b": [None]}}]
        for value in values:
            await alice.send(type="message", data=value)
        for value in values:
            msg = await bob.expect("message", **{"from": alice.id})
            assert msg["data"] == value and type(msg["data"]) is type(value), f"sent {value!r}, got {msg}"
        await close_all(alice, bob)

    run(body())


def test_ping_pong_echoes_id_and_carries_no_seq(server_factory):
    """`ping` is answered by `pong` echoing an integer or string `id` (up to 128 bytes) exactly, with no
    `seq`, in or out of a room; a ping without id gets a pong without id; a valid `ack` is accepted."""
    url = serve(server_factory)

    async def body():
        peer = await Peer.open(url, "p")
        for pid in (7, 0, "abc", "i" * 128, "ü" * 64):
            await peer.send(type="ping", id=pid)
            pong = await peer.expect("pong")
            assert pong.get("id") == pid and type(pong["id"]) is type(pid), f"sent id {pid!r}, got {pong}"
        await peer.send(type="ping")
        pong = await peer.expect("pong")
        assert pong.get("id") is None, pong
        await peer.join("room")
        await peer.ping_ok(ack=1)
        await peer.ping_ok()
        await peer.close()

    run(body())


def test_leave_sends_left_and_peers_get_bye_left(server_factory):
    """`leave` is answered by `left` (room, seq); the others get `bye` reason `left` at once; the
    leaver is then in no room and may join another one (same session, seq keeps counting)."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url, "one")
        await alice.send(type="leave", id="L")
        left = await alice.expect("left", room="one")
        assert set(left) == {"type", "room", "seq"}, f"left fields: {left}"
        bye = await bob.expect("bye", room="one", id=alice.id, reason="left")
        assert set(bye) == {"type", "room", "id", "reason", "seq"}, bye
        await alice.send(type="message", data=1, id="m")
        await alice.expect_error("not_in_room", request="message", id="m")
        await alice.join("two")  # Peer checks seq continues (same id) or restarts at 1 (new id)
        await bob.silent()
        await close_all(alice, bob)

    run(body())


def test_seq_counts_up_from_one_on_every_sequenced_event(server_factory):
    """Every room event carries `seq` counting up by one from 1 per session, interleaved with direct
    replies (pong, error) that carry none."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url)  # alice: joined 1, other_joined 2; bob: joined 1
        assert (alice.last_seq, bob.last_seq) == (2, 1)
        for i in range(5):
            await alice.send(type="message", data=i)
            await bob.send(type="message", to=alice.id, data=i)
            await bob.send(type="ping", id=i)  # direct reply, unsequenced
        seqs = []
        for i in range(5):
            m = await alice.expect("message", data=i)
            seqs.append(m["seq"])
        assert seqs == [3, 4, 5, 6, 7], seqs
        got = [await bob.recv() for _ in range(10)]
        assert [m["seq"] for m in got if m["type"] == "message"] == [2, 3, 4, 5, 6], got
        assert [m["id"] for m in got if m["type"] == "pong"] == [0, 1, 2, 3, 4], got
        await bob.send(type="leave")
        await bob.expect("left", seq=7)
        await alice.expect("bye", seq=8, reason="left")
        await close_all(alice, bob)

    run(body())


# ---------------------------------------------------------------------------------------------
# Error codes (recoverable)
# ---------------------------------------------------------------------------------------------


def test_bad_json_is_recoverable(server_factory):
    """Frames that are not valid JSON, or not a JSON object, get `bad_json`; the connection stays usable."""
    url = serve(server_factory)

    async def body():
        peer = await Peer.open(url)
        for frame in ("nope", "{", '{"type": "ping",}', "[1, 2]", "42", '"str"', "null", ""):
            await peer.send_raw(frame)
            err = await peer.expect_error("bad_json")
            assert "id" not in err and "seq" not in err, f"{frame!r}: {err}"
            await peer.ping_ok()
        await peer.close()

    run(body())


def test_binary_frame_is_recoverable(server_factory):
    """A binary frame (even one holding valid JSON) gets `binary_frame`; the connection stays usable."""
    url = serve(server_factory)

    async def body():
        peer = await Peer.open(url)
        await peer.join("bin")
        for frame in (b"\x00\x01\x02", json.dumps({"type": "ping", "id": 1}).encode()):
            await peer.send_raw(frame)
            await peer.expect_error("binary_frame")
            await peer.ping_ok()
        await peer.close()

    run(body())


def test_unknown_type_echoes_request_and_id(server_factory):
    """A `type` naming no request gets `unknown_type` with `request` = that type and `id` echoed."""
    url = serve(server_factory)

    async def body():
        peer = await Peer.open(url)
        await peer.send(type="dance", id=5)
        await peer.expect_error("unknown_type", request="dance", id=5)
        await peer.send(type="JOIN", room="x", id="s")
        await peer.expect_error("unknown_type", request="JOIN", id="s")
        await peer.ping_ok()
        await peer.close()

    run(body())


def test_missing_field(server_factory):
    """Absent required fields (`type`, `room`, `data`, `token`) get `missing_field`; recoverable."""
    url = serve(server_factory)

    async def missing_type():
        peer = await Peer.open(url)
        await peer.send(id=1, room="x")
        await peer.expect_error("missing_field", id=1)
        await peer.ping_ok()
        await peer.close()

    async def body():
        failures = await collect_failures([
            ("no type", missing_type),
            ("join without room", lambda: request_error(url, {"type": "join", "name": "n"}, "missing_field")),
            ("message without data", lambda: request_error(url, {"type": "message"}, "missing_field", room="m")),
            ("direct message without data", lambda: request_error(url, {"type": "message", "to": "x"}, "missing_field", room="m2")),
            ("resume without token", lambda: request_error(url, {"type": "resume", "last_seq": 0}, "missing_field")),
        ])
        if failures:
            pytest.fail("\n".join(failures), pytrace=False)

    run(body())


def test_invalid_field(server_factory):
    """Fields of the wrong type or out of range (`id`, `name`, `password`, `to`, `capacity`, `ack`,
    `last_seq`) get `invalid_field`; recoverable. Limits: id ≤128 bytes, name ≤64 chars without
    control characters, password ≤256 bytes, to ≤128 bytes, capacity 1…--max-room-capacity."""
    url = serve(server_factory)

    async def bad_id(value):
        peer = await Peer.open(url)
        await peer.send(type="ping", id=value)
        err = await peer.expect_error("invalid_field")
        assert "id" not in err, f"an invalid id must not be echoed: {err}"
        await peer.ping_ok()
        await peer.close()

    join = lambda **f: {"type": "join", "room": "inv-" + next_id(), **f}  # noqa: E731
    cases = [(f"id={v!r:.40}", (lambda v=v: bad_id(v))) for v in ({"a": 1}, [1], True, 1.5, "i" * 129, "é" * 65)]
    for label, fields in [
        ("name too long", {"name": "n" * 65}),
        ("name newline", {"name": "a\nb"}),
        ("name bell", {"name": "a\u0007b"}),
        ("name DEL", {"name": "a\u007fb"}),
        ("name number", {"name": 5}),
        ("password 257 bytes", {"password": "p" * 257}),
        ("password 258 bytes in 129 chars", {"password": "é" * 129}),
        ("password number", {"password": 5}),
        ("capacity 0", {"capacity": 0}),
        ("capacity -1", {"capacity": -1}),
        ("capacity 65", {"capacity": 65}),
        ("capacity string", {"capacity": "2"}),
        ("capacity 2.5", {"capacity": 2.5}),
    ]:
        cases.append((label, lambda fields=fields: request_error(url, join(**fields), "invalid_field")))
    for label, fields in [
        ("to number", {"to": 5}),
        ("to 129 bytes", {"to": "t" * 129}),
        ("to object", {"to": {"id": "x"}}),
    ]:
        cases.append((label, lambda fields=fields: request_error(url, {"type": "message", "data": 1, **fields}, "invalid_field", room="inv-to")))
    for label, value in [("ack string", "x"), ("ack -1", -1), ("ack 1.5", 1.5)]:
        cases.append((label, lambda value=value: request_error(url, {"type": "ping", "ack": value}, "invalid_field", room="inv-ack")))
    for label, value in [("last_seq string", "x"), ("last_seq -1", -1)]:
        cases.append((label, lambda value=value: request_error(url, {"type": "resume", "token": "no-such-token", "last_seq": value}, "invalid_field")))

    async def boundaries_accepted():
        peer = await Peer.open(url)
        joined = await peer.join("inv-ok", name="é" * 64, password="p" * 256, capacity=64)
        assert joined["capacity"] == 64
        await peer.ping_ok()
        await peer.send(type="ping", id="i" * 128)
        await peer.expect("pong", id="i" * 128)
        other = await Peer.open(url)
        assert (await other.join("inv-one", capacity=1))["capacity"] == 1
        await close_all(peer, other)

    cases.append(("boundary values accepted", boundaries_accepted))

    async def body():
        failures = await collect_failures(cases)
        if failures:
            pytest.fail("\n".join(failures), pytrace=False)

    run(body())


def test_error_for_invalid_id_names_the_request(server_factory):
    """`request` is the `type` of the offending request: a ping whose `id` is invalid still has a
    valid type, so its `invalid_field` error says `request: "ping"` (and of a join, `"join"`)."""
    url = serve(server_factory)

    async def body():
        peer = await Peer.open(url)
        await peer.send(type="ping", id={"a": 1})
        await peer.expect_error("invalid_field", request="ping")
        await peer.send(type="join", room="x", id="i" * 129)
        await peer.expect_error("invalid_field", request="join")
        await peer.ping_ok()
        await peer.close()

    run(body())


def test_invalid_room_name(server_factory):
    """`room` must be 1–64 characters from A-Z a-z 0-9 - _ . not starting with '.', else
    `invalid_room_name` (recoverable); names at the edges of the rule are accepted."""
    url = serve(server_factory)
    bad = ["", "r" * 65, ".hidden", "a b", "a/b", "a:b", "é", "room!", "a\nb", "..", "💥"]
    good = ["r" * 64, "a", "A-z_0.9", "-x", "_", "x.", "a..b"]

    async def accepted(name):
        peer = await Peer.open(url)
        await peer.join(name)
        await peer.close()

    async def body():
        cases = [(f"bad {n!r}", lambda n=n: request_error(url, {"type": "join", "room": n}, "invalid_room_name")) for n in bad]
        cases += [(f"good {n!r}", lambda n=n: accepted(n)) for n in good]
        failures = await collect_failures(cases)
        if failures:
            pytest.fail("\n".join(failures), pytrace=False)

    run(body())


def test_password_required_and_wrong_password(server_factory):
    """A room created with `password` refuses joins without one (`password_required`) or with the wrong
    one (`wrong_password`), both recoverable; the right password admits."""
    url = serve(server_factory)

    async def body():
        owner = await Peer.open(url, "owner")
        await owner.join("vault", password="s3cret")
        guest = await Peer.open(url, "guest")
        await guest.send(type="join", room="vault", id=1)
        await guest.expect_error("password_required", request="join", id=1)
        await guest.ping_ok()
        await guest.send(type="join", room="vault", password="S3CRET", id=2)
        await guest.expect_error("wrong_password", request="join", id=2)
        await guest.ping_ok()
        # An empty password is either "none given" or a wrong one; the doc does not say which.
        await guest.send(type="join", room="vault", password="", id=3)
        err = await guest.recv()
        assert err.get("type") == "error" and err.get("code") in ("wrong_password", "password_required"), err
        await owner.silent(0.1)
        joined = await guest.join("vault", password="s3cret")
        assert joined["peers"] == [{"id": owner.id, "name": "owner"}]
        await owner.expect("other_joined", id=guest.id)
        await close_all(owner, guest)

    run(body())


def test_room_full_default_capacity(server_factory):
    """Rooms hold --room-capacity (default 8) members; the next join gets `full` with room, capacity,
    code room_full, message and the request id, no seq; the refused client stays usable."""
    url = serve(server_factory)

    async def body():
        members = []
        for i in range(8):
            peer = await Peer.open(url, f"m{i}")
            await peer.join("crowd")
            members.append(peer)
        extra = await Peer.open(url, "extra")
        await extra.send(type="join", room="crowd", id="full-1")
        full = await extra.expect("full", room="crowd", capacity=8, code="room_full", id="full-1")
        assert isinstance(full.get("message"), str) and full["message"], full
        await extra.ping_ok()
        await extra.join("elsewhere")
        async def drain(peer):  # members saw each other join, but never the refused client
            while True:
                try:
                    msg = await peer.recv(0.2)
                except pytest.fail.Exception:
                    return
                assert msg["type"] == "other_joined" and msg["id"] != extra.id, msg

        await asyncio.gather(*(drain(p) for p in members))
        await close_all(extra, *members)

    run(body())


def test_room_capacity_per_room_and_server_options(server_factory):
    """A creating join's `capacity` overrides --room-capacity (up to --max-room-capacity); for an existing
    room it is ignored; a freed place can be taken again."""
    url = serve(server_factory, room_capacity=3, max_room_capacity=5)

    async def body():
        d = await Peer.open(url)
        assert (await d.join("default"))["capacity"] == 3
        too_big = await Peer.open(url)
        await too_big.send(type="join", room="big", capacity=6, id=1)
        await too_big.expect_error("invalid_field", request="join", id=1)
        assert (await too_big.join("big", capacity=5))["capacity"] == 5

        alice, bob = await joined_pair(url, "duo", capacity=2)
        carol = await Peer.open(url, "carol")
        await carol.send(type="join", room="duo", capacity=5, id="c")
        await carol.expect("full", room="duo", capacity=2, code="room_full", id="c")
        await bob.send(type="leave")
        await bob.expect("left")
        await alice.expect("bye", id=bob.id, reason="left")
        joined = await carol.join("duo", capacity=5)
        assert joined["capacity"] == 2, f"capacity of an existing room must not change: {joined}"
        await close_all(d, too_big, alice, bob, carol)

    run(body())


def test_already_in_room(server_factory):
    """A session is in at most one room: `join` (or `resume`) while in a room is `already_in_room`;
    after `leave` it can join another room."""
    url = serve(server_factory)

    async def body():
        other = await Peer.open(url, "other")
        await other.join("elsewhere")
        peer = await Peer.open(url, "p")
        await peer.join("first")
        await peer.send(type="join", room="second", id=1)
        await peer.expect_error("already_in_room", request="join", id=1)
        await peer.send(type="join", room="first", id=2)
        await peer.expect_error("already_in_room", request="join", id=2)
        await peer.send(type="resume", token=other.token, last_seq=other.last_seq, id=3)
        await peer.expect_error("already_in_room", request="resume", id=3)
        await peer.ping_ok()
        await other.silent(0.1)
        await peer.send(type="leave")
        await peer.expect("left", room="first")
        await peer.join("second")
        await close_all(peer, other)

    run(body())


def test_resume_own_session_while_in_room_is_already_in_room(server_factory):
    """`resume` while in a room is `already_in_room`, also when the token is the connection's own
    (live, valid) session token; the session is unaffected."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url, "self")
        await bob.send(type="resume", token=bob.token, last_seq=bob.last_seq, id=4)
        await bob.expect_error("already_in_room", request="resume", id=4)
        await alice.send(type="message", to=bob.id, data="still here")
        await bob.expect("message", data="still here")
        await close_all(alice, bob)

    run(body())


def test_not_in_room(server_factory):
    """`leave` or `message` while in no room is `not_in_room` (recoverable), also after leaving."""
    url = serve(server_factory)

    async def body():
        peer = await Peer.open(url)
        await peer.send(type="leave", id=1)
        await peer.expect_error("not_in_room", request="leave", id=1)
        await peer.send(type="message", data={"x": 1}, id=2)
        await peer.expect_error("not_in_room", request="message", id=2)
        await peer.join("r")
        await peer.send(type="leave")
        await peer.expect("left")
        await peer.send(type="leave", id=3)
        await peer.expect_error("not_in_room", request="leave", id=3)
        await peer.ping_ok()
        await peer.close()

    run(body())


def test_unknown_peer(server_factory):
    """`to` naming anyone but another member of your room (nobody, yourself, a member of another room,
    a member who left) is `unknown_peer`, and nothing is delivered."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url, "ours")
        other = await Peer.open(url, "other")
        await other.join("theirs")
        for i, target in enumerate(["nobody", alice.id, other.id]):
            await alice.send(type="message", to=target, data=i, id=i)
            await alice.expect_error("unknown_peer", request="message", id=i)
        await bob.send(type="leave")
        await bob.expect("left")
        await alice.expect("bye", id=bob.id, reason="left")
        await alice.send(type="message", to=bob.id, data="gone", id=9)
        await alice.expect_error("unknown_peer", request="message", id=9)
        await alice.ping_ok()
        await bob.silent(0.1)
        await other.silent(0.1)
        await close_all(alice, bob, other)

    run(body())


# ---------------------------------------------------------------------------------------------
# Room rules
# ---------------------------------------------------------------------------------------------


def test_messages_never_cross_rooms(server_factory):
    """Broadcasts, direct messages and membership events stay in their room."""
    url = serve(server_factory)

    async def body():
        a1, b1 = await joined_pair(url, "room-1")
        a2, b2 = await joined_pair(url, "room-2")
        await a1.send(type="message", data="for room 1")
        await a2.send(type="message", to=b2.id, data="for room 2")
        await b1.expect("message", room="room-1", data="for room 1", **{"from": a1.id})
        await b2.expect("message", room="room-2", data="for room 2", to=b2.id, **{"from": a2.id})
        await b1.send(type="leave")
        await b1.expect("left")
        await a1.expect("bye", room="room-1", id=b1.id)
        await asyncio.gather(a2.silent(), b2.silent(), a1.silent(0.05), b1.silent(0.05))
        await close_all(a1, b1, a2, b2)

    run(body())


def test_session_changes_rooms_cleanly(server_factory):
    """After leaving room 1 for room 2, a session gets nothing from room 1 and room 1 sees it gone."""
    url = serve(server_factory)

    async def body():
        alice, bob = await joined_pair(url, "r1")
        carol = await Peer.open(url, "carol")
        await carol.join("r2")
        await bob.send(type="leave")
        await bob.expect("left", room="r1")
        await alice.expect("bye", room="r1", id=bob.id, reason="left")
        joined = await bob.join("r2")
        assert joined["peers"] == [{"id": carol.id, "name": "carol"}], joined
        await carol.expect("other_joined", room="r2", id=bob.id)
        await alice.send(type="message", data="r1 only")
        await carol.send(type="message", data="r2 only")
        await bob.expect("message", room="r2", data="r2 only", **{"from": carol.id})
        await bob.silent()
        await close_all(alice, bob, carol)

    run(body())


def test_held_messages_delivered_in_order_right_after_joined(server_factory):
    """Broadcasts sent while alone are held and delivered in order to the next joiner right after its
    `joined` (before anything else), and to that joiner only."""
    url = serve(server_factory)

    async def body():
        alice = await Peer.open(url, "alice")
        await alice.join("lobby")
        for i in range(5):
            await alice.send(type="message", data={"offer": i}, id=i)
        await alice.silent()  # holding is silent
        bob = await Peer.open(url, "bob")
        await bob.join("lobby")
        for i in range(5):
            msg = await bob.expect("message", room="lobby", data={"offer": i}, seq=2 + i)
            assert msg["from"] == alice.id and "to" not in msg, msg
        await alice.expect("other_joined", id=bob.id)
        carol = await Peer.open(url, "carol")
        await carol.join("lobby")
        await carol.silent()
        await bob.expect("other_joined", id=carol.id)
        await close_all(alice, bob, carol)

    run(body())


def test_held_messages_discarded_when_sender_leaves(server_factory):
    """Held messages are discarded when their sender leaves."""
    url = serve(server_factory)

    async def body():
        alice = await Peer.open(url, "alice")
        await alice.join("lobby")
        await alice.send(type="message", data="held")
        await alice.send(type="leave")
        await alice.expect("left")
        bob = await Peer.open(url, "bob")
        await bob.join("lobby")
        await bob.silent(0.5)
        await close_all(alice, bob)

    run(body())


def test_held_message_expired(server_factory):
    """A held message not delivered within --held-message-ttl produces an asynchronous, sequenced
    `error` held_message_expired with that message's id, and is never delivered afterwards."""
    url = serve(server_factory, held_message_ttl=1)

    async def body():
        alice = await Peer.open(url, "alice")
        await alice.join("lonely")
        start = time.monotonic()
        await alice.send(type="message", data="offer", id="held-7")
        err = await alice.expect_error("held_message_expired", id="held-7", timeout=4)
        elapsed = time.monotonic() - start
        assert err["seq"] == 2, err
        assert err.get("request") == "message", f"error.request should name the request type: {err}"
        assert 0.9 <= elapsed <= 3.5, f"expired after {elapsed:.2f}s with ttl 1s"
        await alice.ping_ok()
        bob = await Peer.open(url, "bob")
        await bob.join("lonely")
        await bob.silent()
        await alice.expect("other_joined", id=bob.id, seq=3)
        await close_all(alice, bob)

    run(body())


def test_held_queue_full(server_factory):
    """Beyond --held-messages held messages a broadcast is refused with `held_queue_full` (recoverable,
    id echoed); the held ones are still delivered in order."""
    url = serve(server_factory, held_messages=2)

    async def body():
        alice = await Peer.open(url, "alice")
        await alice.join("lobby")
        await alice.send(type="message", data=1, id=1)
        await alice.send(type="message", data=2, id=2)
        await alice.send(type="message", data=3, id=3)
        await alice.expect_error("held_queue_full", request="message", id=3)
        await alice.ping_ok()
        bob = await Peer.open(url, "bob")
        await bob.join("lobby")
        await bob.expect("message", data=1)
        await bob.expect("message", data=2)
        await bob.silent()
        await close_all(alice, bob)

    run(body())


# ---------------------------------------------------------------------------------------------
# Resume
# ---------------------------------------------------------------------------------------------


async def resume(url: str, old: Peer, last_seq: int | None = None, **kwargs) -> tuple[Peer, dict]:
    """Open a new connection and send `resume` as its first frame; returns the new peer and reply."""
    peer = await Peer.open(url, old.name, **kwargs)
    peer.id, peer.token, peer.room = old.id, old.token, old.room
    peer.last_seq = old.last_seq if last_seq is None else last_seq
    await peer.send(type="resume", token=old.token, last_seq=peer.last_seq, id="res")
    reply = await peer.recv()
    return peer, reply


def test_resume_within_grace_loses_nothing(server_factory):
    """A dropped client (no close frame) that resumes within the grace period gets `resumed` (room, id,
    peers, last_seq) then every message sent meanwhile, in order and exactly once; it keeps its id and
    membership and its peer never sees `bye`."""
    grace = 2
    url = serve(server_factory, grace_period=grace, heartbeat_interval=1)
    n = 30

    async def body():
        alice, bob = await joined_pair(url, "calls")
        await alice.send(type="message", to=bob.id, data="before")
        await bob.expect("message", data="before")
        bob.abort()
        dropped = time.monotonic()
        for i in range(n):
            if i % 2:
                await alice.send(type="message", to=bob.id, data={"n": i})
            else:
                await alice.send(type="message", data={"n": i})
        bob2, reply = await resume(url, bob)
        assert reply.get("type") == "resumed", reply
        assert reply == {"type": "resumed", "room": "calls", "id": bob.id,
                         "peers": [{"id": alice.id, "name": "alice"}], "last_seq": bob.last_seq}, reply
        for i in range(n):
            msg = await bob2.expect("message", room="calls", data={"n": i})
            assert msg["from"] == alice.id, msg
            assert (msg.get("to") == bob.id) == bool(i % 2), msg
        await bob2.silent()
        await bob2.send(type="message", data="back")
        await alice.expect("message", data="back", **{"from": bob.id})
        remaining = grace + 0.5 - (time.monotonic() - dropped)
        await alice.silent(max(remaining, 0.3))  # no bye, even after the grace period
        await close_all(alice, bob2)

    run(body())


def test_resume_replaces_open_connection(server_factory):
    """Resuming a session whose old connection is still open closes the old one with error `replaced`
    and close 1008; the new connection gets the traffic and the peer notices nothing."""
    url = serve(server_factory, grace_period=5)

    async def body():
        alice, bob = await joined_pair(url, "dup")
        bob2, reply = await resume(url, bob)
        assert reply.get("type") == "resumed" and reply.get("id") == bob.id, reply
        await expect_fatal(bob, "replaced")
        await alice.send(type="message", to=bob.id, data="hello")
        await bob2.expect("message", data="hello", to=bob.id)
        await alice.silent()
        await close_all(alice, bob2)

    run(body())


def test_resume_failed(server_factory):
    """`resume` with an unknown token, or after the grace period ended, is `resume_failed`
    (recoverable; the client can then join)."""
    url = serve(server_factory, grace_period=1, heartbeat_interval=1)

    async def body():
        stranger = await Peer.open(url)
        await stranger.send(type="resume", token="not-a-token", last_seq=0, id=1)
        await stranger.expect_error("resume_failed", request="resume", id=1)
        await stranger.ping_ok()
        await stranger.join("after-fail")

        alice, bob = await joined_pair(url, "late")
        bob.abort()
        await alice.expect("bye", id=bob.id, reason="timeout", timeout=4)
        bob2, reply = await resume(url, bob)
        assert reply.get("type") == "error" and reply.get("code") == "resume_failed", reply
        assert reply.get("request") == "resume" and reply.get("id") == "res", reply
        await bob2.ping_ok()
        await close_all(stranger, alice, bob2)

    run(body())


def test_resume_gap(server_factory):
    """When more than --resume-history messages were missed, `resume` fails with `resume_gap`
    (recoverable), the old session is ended (peers get `bye`, the token is dead) and the client can
    join again; missing exactly --resume-history messages still resumes."""
    url = serve(server_factory, resume_history=3, grace_period=5)

    async def body():
        # exactly at the bound: resumes
        alice, bob = await joined_pair(url, "edge")
        bob.abort()
        for i in range(3):
            await alice.send(type="message", to=bob.id, data=i)
        bob2, reply = await resume(url, bob)
        assert reply.get("type") == "resumed", f"missing 3 of 3 kept messages must resume: {reply}"
        for i in range(3):
            await bob2.expect("message", data=i)

        # beyond the bound: resume_gap
        carol, dave = await joined_pair(url, "gap", names=("carol", "dave"))
        dave.abort()
        for i in range(10):
            await carol.send(type="message", to=dave.id, data=i)
        dave2, reply = await resume(url, dave)
        assert reply.get("type") == "error" and reply.get("code") == "resume_gap", reply
        assert reply.get("request") == "resume" and reply.get("id") == "res", reply
        await dave2.ping_ok()
        bye = await carol.expect("bye", id=dave.id)
        assert bye["reason"] in BYE_REASONS, bye
        await dave2.send(type="resume", token=dave.token, last_seq=dave.last_seq, id="again")
        await dave2.expect_error("resume_failed", request="resume", id="again")
        joined = await dave2.join("gap")
        assert joined["peers"] == [{"id": carol.id, "name": "carol"}], joined
        await close_all(alice, bob2, carol, dave2)

    run(body())


def test_ack_then_resume(server_factory):
    """`ping` with `ack` is answered by `pong`; a later resume from the acknowledged `seq` still
    receives everything after it."""
    url = serve(server_factory, grace_period=5)

    async def body():
        alice, bob = await joined_pair(url, "acked")
        for i in range(3):
            await alice.send(type="message", data=i)
            await bob.expect("message", data=i)
        await bob.ping_ok(ack=bob.last_seq)
        bob.abort()
        for i in range(3, 6):
            await alice.send(type="message", data=i)
        bob2, reply = await resume(url, bob)
        assert reply.get("type") == "resumed" and reply.get("last_seq") == bob.last_seq, reply
        for i in range(3, 6):
            await bob2.expect("message", data=i)
        await bob2.silent()
        await close_all(alice, bob2)

    run(body())


# ---------------------------------------------------------------------------------------------
# Liveness
# ---------------------------------------------------------------------------------------------


def test_abort_is_bye_timeout_after_grace(server_factory):
    """A client killed without a close frame is seen by its peer as `bye` reason `timeout`, not before
    the grace period and within heartbeat + grace."""
    hb, grace = 1, 1
    url = serve(server_factory, grace_period=grace, heartbeat_interval=hb)

    async def body():
        alice, bob = await joined_pair(url, "drop")
        start = time.monotonic()
        bob.abort()
        bye = await alice.expect("bye", room="drop", id=bob.id, timeout=hb + grace + 2)
        elapsed = time.monotonic() - start
        assert bye["reason"] == "timeout", bye
        assert elapsed >= grace - 0.05, f"bye after {elapsed:.2f}s, before the {grace}s grace period"
        assert elapsed <= hb + grace + 0.5, f"bye after {elapsed:.2f}s, later than heartbeat+grace"
        await close_all(alice)

    run(body())


def test_clean_close_is_bye_closed_at_once(server_factory):
    """A clean WebSocket close ends the session at once: the peer gets `bye` reason `closed` well
    before the grace period, and the token can no longer resume."""
    url = serve(server_factory, grace_period=5)

    async def body():
        alice, bob = await joined_pair(url, "bye")
        start = time.monotonic()
        await bob.ws.close()
        bye = await alice.expect("bye", room="bye", id=bob.id, reason="closed", timeout=2)
        assert time.monotonic() - start < 1.0
        bob2, reply = await resume(url, bob)
        assert reply.get("type") == "error" and reply.get("code") == "resume_failed", reply
        await close_all(alice, bob2)

    run(body())


async def half_open_bye(url: str, hb: float, grace: float) -> tuple[Peer, Peer, dict, float]:
    """Bob stops reading (so never answers WebSocket pings) and never closes; returns Alice's `bye`
    for him and the seconds it took."""
    alice, bob = await joined_pair(url, "zombie")
    start = time.monotonic()
    bob.ws.transport.pause_reading()
    bye = await alice.expect("bye", room="zombie", id=bob.id, timeout=2 * hb + grace + 2)
    return alice, bob, bye, time.monotonic() - start


def test_half_open_client_is_detected(server_factory):
    """A client that stops reading (so never answers WebSocket pings) and never closes is seen as gone
    (`bye`) by its peer within 2 × heartbeat + grace."""
    hb, grace = 1, 1
    url = serve(server_factory, grace_period=grace, heartbeat_interval=hb)

    async def body():
        alice, bob, bye, elapsed = await half_open_bye(url, hb, grace)
        assert bye["reason"] in BYE_REASONS, bye
        assert elapsed <= 2 * hb + grace + 0.5, f"half-open client noticed after {elapsed:.2f}s"
        assert elapsed >= hb - 0.05, f"bye after {elapsed:.2f}s, before any heartbeat could be missed"
        bob.abort()
        await close_all(alice)

    run(body())


def test_half_open_client_gets_grace_and_bye_timeout(server_factory):
    """A half-open connection is a dropped connection (no close frame from the client): the session gets
    the grace period, so the peer's `bye` has reason `timeout` and comes no earlier than one missed
    heartbeat plus the grace period."""
    hb, grace = 1, 1
    url = serve(server_factory, grace_period=grace, heartbeat_interval=hb)

    async def body():
        alice, bob, bye, elapsed = await half_open_bye(url, hb, grace)
        assert bye["reason"] == "timeout", f"after {elapsed:.2f}s: {bye}"
        assert elapsed >= hb + grace - 0.05, f"bye after {elapsed:.2f}s: no grace period was given"
        bob.abort()
        await close_all(alice)

    run(body())


# ---------------------------------------------------------------------------------------------
# Limits (fatal errors)
# ---------------------------------------------------------------------------------------------


def test_server_full(server_factory):
    """At --max-sessions (connected or in grace) a new client gets `server_full` then close 1008; a
    cleanly closed session frees its place."""
    url = serve(server_factory, max_sessions=2, grace_period=30)

    async def attempt_join() -> Peer:
        peer = await Peer.open(url)
        try:
            await peer.send(type="join", room="third")
        except ConnectionClosed:
            pass
        return peer

    async def body():
        alice, bob = await joined_pair(url, "two")
        third = await attempt_join()
        await expect_fatal(third, "server_full")
        await alice.ping_ok()
        await bob.ws.close()
        await alice.expect("bye", id=bob.id, reason="closed")
        carol = await Peer.open(url, "carol")
        await carol.join("two")
        await alice.expect("other_joined", id=carol.id)
        carol.abort()  # carol's session is in grace and still counts
        await asyncio.sleep(0.2)
        fourth = await attempt_join()
        await expect_fatal(fourth, "server_full")
        await close_all(alice)

    run(body())


def test_frame_too_large(server_factory):
    """Messages larger than --max-message-bytes (also when fragmented) get `frame_too_large` then close
    1008; exactly the limit is accepted; frames over 64 KiB are closed with 1009."""
    limit = 1024
    url = serve(server_factory, max_message_bytes=limit)

    def padded_ping(size: int, pid: str) -> str:
        frame = json.dumps({"type": "ping", "id": pid, "pad": ""})
        frame = json.dumps({"type": "ping", "id": pid, "pad": "x" * (size - len(frame))})
        assert len(frame.encode()) == size
        return frame

    async def body():
        ok = await Peer.open(url)
        await ok.send_raw(padded_ping(limit, "edge"))
        await ok.expect("pong", id="edge")
        await ok.send_raw(padded_ping(limit + 1, "over"))
        await expect_fatal(ok, "frame_too_large")

        fragmented = await Peer.open(url)
        frame = padded_ping(1600, "frag")
        await fragmented.send_raw([frame[i:i + 400] for i in range(0, len(frame), 400)])
        await expect_fatal(fragmented, "frame_too_large")

        huge = await Peer.open(url)
        await huge.send_raw(padded_ping(70_000, "huge"))
        await expect_close(huge.ws)
        assert huge.ws.close_code == 1009, f"close {huge.ws.close_code} {huge.ws.close_reason!r}"

    run(body())


def test_rate_limited(server_factory):
    """Every request type counts against --message-rate/--message-burst; a session within its budget is
    served, the first request beyond it gets `rate_limited` then close 1008."""
    url = serve(server_factory, message_rate=2, message_burst=5)

    async def body():
        steady = await Peer.open(url, "steady")
        await steady.join("rl")                          # 1
        await steady.send(type="message", data="held")   # 2
        await steady.ping_ok()                            # 3
        await steady.ping_ok()                            # 4
        await asyncio.sleep(1.1)                          # refills >= 2
        for _ in range(3):
            await steady.ping_ok()

        greedy = await Peer.open(url, "greedy")
        await greedy.join("rl2")                          # 1
        for i in range(10):
            await greedy.send(type="ping", id=i)
        frames = await expect_fatal(greedy, "rate_limited")
        pongs = [f for f in frames if f.get("type") == "pong"]
        assert 4 <= len(pongs) <= 5, f"burst 5 (1 join + pings) should allow 4 pings: {frames}"
        await asyncio.sleep(0.6)
        await steady.ping_ok()
        await steady.close()

    run(body())


def test_join_rate_limited(server_factory):
    """Joins per client IP beyond --join-rate/--join-burst, counted before password checks and across
    connections, get `join_rate_limited` then close 1008."""
    url = server_factory(join_rate=0.1, join_burst=3)

    async def body():
        owner = await Peer.open(url, "owner")
        await owner.join("locked", password="pw")                      # 1
        guesser = await Peer.open(url, "guesser")
        for i in (2, 3):
            await guesser.send(type="join", room="locked", password=f"guess{i}", id=i)
            await guesser.expect_error("wrong_password", request="join", id=i)
        await guesser.send(type="join", room="locked", password="pw", id=4)  # 4th join from this IP
        frames = await expect_fatal(guesser, "join_rate_limited")
        assert frames[-1].get("id") == 4 and frames[-1].get("request") == "join", frames
        other = await Peer.open(url, "other")                          # same IP, new connection
        await other.send(type="join", room="fresh", id=5)
        await expect_fatal(other, "join_rate_limited")
        await owner.ping_ok()
        await owner.close()

    run(body())


# The flood is 500 messages of 32 KB: the resume history is raised past both its bounds (count and bytes).
SLOW_CONSUMER_OPTIONS = dict(outbound_queue=4, grace_period=30, message_rate=100000, message_burst=100000,
                             resume_history=10000, resume_history_bytes=32_000_000)


async def flood_slow_consumer(url: str, flood: int = 500, pad_bytes: int = 32000):
    """Bob stops reading while Alice sends him `flood` large direct messages (16 MB by default, far
    beyond the socket buffers); then Bob reads again until his connection closes.

    Checks what the doc promises for the slow consumer (error `slow_consumer`, then close 1008) and
    for the flooder (served throughout, never sees `bye`). Returns (alice, bob, messages bob got)."""
    alice, bob = await joined_pair(url, "flood")
    pad = "x" * pad_bytes
    bob.ws.transport.pause_reading()
    for n in range(flood):
        await alice.send(type="message", to=bob.id, data={"n": n, "pad": pad})
        if n % 100 == 99:
            await alice.ping_ok(timeout=10)  # the flooder is served throughout, and sees no bye
    bob.ws.transport.resume_reading()
    frames = await expect_close(bob.ws, timeout=20)
    messages = [f for f in frames if f.get("type") == "message"]
    assert [m["data"]["n"] for m in messages] == list(range(len(messages))), "order broken"
    assert len(messages) < flood, "bob received everything: the outbound queue bound was not enforced"
    for m in messages:
        bob.check_seq(m)
    errors = [f for f in frames if f.get("type") == "error"]
    assert errors and errors[-1].get("code") == "slow_consumer", \
        f"no slow_consumer error (close {bob.ws.close_code} {bob.ws.close_reason!r}); last frames {frames[-3:]}"
    assert frames[-1] is errors[-1], f"frames after the fatal error: {frames[-3:]}"
    assert bob.ws.close_code == 1008 and bob.ws.close_reason == "slow_consumer", \
        f"close {bob.ws.close_code} {bob.ws.close_reason!r}"
    return alice, bob, messages


def test_slow_consumer(server_factory):
    """A client that stops reading while a peer floods it overflows --outbound-queue: the messages it
    got are in order, then error `slow_consumer` and close 1008; the flooding peer stays connected and
    sees no `bye` while the slow session is within its grace period."""
    url = serve(server_factory, **SLOW_CONSUMER_OPTIONS)

    async def body():
        alice, bob, _ = await flood_slow_consumer(url)
        await alice.ping_ok()
        await alice.silent()
        await close_all(alice)

    run(body(), timeout=90)


def test_slow_consumer_session_can_resume(server_factory):
    """After `slow_consumer` "the session may resume within the grace period": a resume with the last
    seq received gets `resumed` and then every message after it, in order."""
    url = serve(server_factory, **SLOW_CONSUMER_OPTIONS)
    flood = 500

    async def body():
        alice, bob, messages = await flood_slow_consumer(url, flood)
        bob2, reply = await resume(url, bob)
        assert reply.get("type") == "resumed" and reply.get("last_seq") == bob.last_seq, \
            f"resume (last_seq {bob.last_seq}, {flood - len(messages)} messages missed) got {reply}"
        for n in range(len(messages), flood):
            msg = await bob2.recv()
            assert msg.get("type") == "message" and msg.get("to") == bob.id, \
                f"replay of messages {len(messages)}..{flood - 1} broke at {n}: got {msg}"
            assert msg["data"]["n"] == n, f"expected message {n}, got {msg['data']['n']}"
        await bob2.ping_ok()
        await alice.ping_ok()
        await alice.silent()
        await close_all(alice, bob2)

    run(body(), timeout=90)


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------


def test_load_200_rooms_20000_messages(server_factory):
    """200 rooms × 2 peers exchange 20,000 messages with zero loss, per-sender order kept and nothing
    crossing rooms (every message names its room and sender, checked against the receiver's room and
    partner)."""
    rooms, per_peer = 200, 50
    url = serve(server_factory, message_rate=100000, message_burst=100000)

    async def open_room(r: int, gate: asyncio.Semaphore) -> tuple[Peer, Peer]:
        async with gate:
            a = await Peer.open(url, f"a{r}", open_timeout=30)
            await a.join(f"load-{r}")
            b = await Peer.open(url, f"b{r}", open_timeout=30)
            await b.join(f"load-{r}")
            await a.expect("other_joined", id=b.id, timeout=30)
            return a, b

    async def send_all(me: Peer, partner: Peer):
        for i in range(per_peer):
            data = {"room": me.room, "sender": me.name, "n": i}
            if i % 2:
                await me.send(type="message", to=partner.id, data=data)
            else:
                await me.send(type="message", data=data)

    async def receive_all(me: Peer, partner: Peer) -> int:
        for i in range(per_peer):
            msg = await me.expect("message", timeout=60)
            assert msg["room"] == me.room and msg["from"] == partner.id, f"{me.name} in {me.room}: {msg}"
            assert msg["data"] == {"room": me.room, "sender": partner.name, "n": i}, f"{me.name} in {me.room}: {msg}"
        return per_peer

    async def body():
        gate = asyncio.Semaphore(32)
        pairs = await asyncio.gather(*(open_room(r, gate) for r in range(rooms)))
        start = time.monotonic()
        jobs = []
        for a, b in pairs:
            jobs += [send_all(a, b), send_all(b, a), receive_all(a, b), receive_all(b, a)]
        results = await asyncio.gather(*jobs)
        received = sum(r for r in results if r)
        assert received == rooms * 2 * per_peer == 20_000
        elapsed = time.monotonic() - start
        await asyncio.gather(*(p.silent(0.2) for pair in pairs[:20] for p in pair))
        await asyncio.gather(*(close_all(a, b) for a, b in pairs))
        print(f"load: {received} messages in {elapsed:.1f}s")

    run(body(), timeout=120)
