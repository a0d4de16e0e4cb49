"""/ws connections run on their event loop with no task of their own: the server answers pings, pings the
client, runs the close handshake, and hands requests to the room core in the order they were sent, even when a
join (which waits for its admission) and the requests after it arrive in one TCP segment. Raw frames, so the
server's own behaviour is what is checked, not a client library's."""

from __future__ import annotations

import json
import socket
import struct
import time
from urllib.parse import urlparse

from test_websocket_framing import frame, read_frame, upgrade

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def port_of(url: str) -> int:
    return urlparse(url).port


def text(message: dict) -> bytes:
    return frame(TEXT, json.dumps(message).encode())


def next_message(sock, skip_pings: bool = True) -> dict:
    while True:
        opcode, payload = read_frame(sock)
        if opcode == PING and skip_pings:
            continue
        assert opcode == TEXT, f"expected a text frame, got opcode {opcode}: {payload!r}"
        return json.loads(payload)


def joined_peer(port: int, room: str):
    """A raw connection that has joined `room`."""
    sock = upgrade(port, "/ws")
    sock.sendall(text({"type": "join", "room": room}))
    assert next_message(sock)["type"] == "joined"
    return sock


def test_a_join_and_what_follows_in_one_segment_are_handled_in_order(server_factory):
    port = port_of(server_factory())
    alice = joined_peer(port, "pipelined")
    bob = upgrade(port, "/ws")
    # Join, a message to the room and a ping in one write: the message must not overtake the join.
    bob.sendall(text({"type": "join", "room": "pipelined", "id": "j"}) + text({"type": "message", "data": {"n": 1}, "id": "m"})
                + text({"type": "ping", "id": "p"}))
    joined = next_message(bob)
    assert joined["type"] == "joined" and len(joined["peers"]) == 1, joined
    pong = next_message(bob)
    assert pong == {"type": "pong", "id": "p"}, pong
    assert next_message(alice)["type"] == "other_joined"
    relayed = next_message(alice)
    assert relayed["type"] == "message" and relayed["data"] == {"n": 1} and relayed["from"] == joined["id"], relayed
    alice.close()
    bob.close()


def test_pings_are_answered_with_their_payload_and_a_close_is_echoed(server_factory):
    sock = upgrade(port_of(server_factory()), "/ws")
    sock.sendall(frame(PING, b"are you there"))
    opcode, payload = read_frame(sock)
    assert (opcode, payload) == (PONG, b"are you there")
    sock.sendall(frame(CLOSE, struct.pack("!H", 1000) + b"bye"))
    opcode, payload = read_frame(sock)
    assert opcode == CLOSE and struct.unpack("!H", payload[:2])[0] == 1000, (opcode, payload)
    assert sock.recv(1) == b"", "the server closes the connection after the close handshake"
    sock.close()


def test_the_server_pings_and_drops_a_client_that_does_not_answer(server_factory):
    sock = upgrade(port_of(server_factory(heartbeat_interval=1)), "/ws")
    started = time.monotonic()
    opcode, payload = read_frame(sock)
    assert opcode == PING and len(payload) == 8, (opcode, payload)
    # Not answered: one interval later the connection is closed as lost (1001, "Ping timeout").
    opcode, payload = read_frame(sock)
    assert opcode == CLOSE and struct.unpack("!H", payload[:2])[0] == 1001, (opcode, payload)
    assert 1.5 <= time.monotonic() - started < 4
    sock.close()


def test_a_client_that_answers_pings_stays_connected(server_factory):
    sock = upgrade(port_of(server_factory(heartbeat_interval=1)), "/ws")
    deadline = time.monotonic() + 3.5
    pings = 0
    while time.monotonic() < deadline:
        opcode, payload = read_frame(sock)
        assert opcode == PING, (opcode, payload)
        pings += 1
        sock.sendall(frame(PONG, payload))
    assert pings >= 3
    sock.sendall(text({"type": "ping", "id": "still"}))
    assert next_message(sock) == {"type": "pong", "id": "still"}
    sock.close()


def test_a_close_code_that_may_not_be_sent_is_answered_with_1002(server_factory):
    port = port_of(server_factory())
    for sent, answered in ((1005, 1002), (999, 1002), (4001, 4001)):
        sock = upgrade(port, "/ws")
        sock.sendall(frame(CLOSE, struct.pack("!H", sent)))
        opcode, payload = read_frame(sock)
        assert opcode == CLOSE and struct.unpack("!H", payload[:2])[0] == answered, (sent, opcode, payload)
        sock.close()


def test_a_close_right_after_a_join_and_a_message_loses_neither(server_factory):
    port = port_of(server_factory())
    alice = joined_peer(port, "last-words")
    bob = upgrade(port, "/ws")
    # The close frame arrives while the join is being decided: it waits for the requests before it.
    bob.sendall(text({"type": "join", "room": "last-words"}) + text({"type": "message", "data": {"bye": True}})
                + frame(CLOSE, struct.pack("!H", 1000)))
    assert next_message(alice)["type"] == "other_joined"
    relayed = next_message(alice)
    assert relayed["type"] == "message" and relayed["data"] == {"bye": True}, relayed
    left = next_message(alice)
    assert left["type"] == "bye", left
    alice.close()
    bob.close()


def test_a_fin_closes_the_connection_without_waiting_for_the_heartbeat(server_factory):
    sock = upgrade(port_of(server_factory(heartbeat_interval=30)), "/ws")
    sock.sendall(text({"type": "ping", "id": "before"}))
    assert next_message(sock) == {"type": "pong", "id": "before"}
    started = time.monotonic()
    sock.shutdown(socket.SHUT_WR)
    assert sock.recv(1) == b"", "the server closes its side once the client's FIN arrives"
    assert time.monotonic() - started < 3, "not after two heartbeat intervals"
    sock.close()


def test_a_fin_right_after_a_join_and_a_message_loses_neither(server_factory):
    port = port_of(server_factory())
    alice = joined_peer(port, "half-closed")
    bob = upgrade(port, "/ws")
    # The FIN arrives while the join is being decided: the connection closes only after the requests before it.
    bob.sendall(text({"type": "join", "room": "half-closed"}) + text({"type": "message", "data": {"last": True}}))
    bob.shutdown(socket.SHUT_WR)
    assert next_message(alice)["type"] == "other_joined"
    relayed = next_message(alice)
    assert relayed["type"] == "message" and relayed["data"] == {"last": True}, relayed
    alice.close()
    bob.close()


def assert_ping_flood_gets_bounded_pongs(sock, after: bytes, is_answer) -> None:
    """Floods `sock` with pings it does not read, then sends `after`; the server must skip pongs (about 13 MB of them
    if every ping were answered, far past the socket buffers) and still answer `after` (`is_answer(data)`)."""
    sent = 100_000
    payload = b"p" * 125
    sock.sendall(frame(PING, payload) * sent)
    sock.sendall(after)
    pongs = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        opcode, data = read_frame(sock)
        if opcode == PONG:
            assert data == payload
            pongs += 1
            continue
        assert opcode == TEXT and is_answer(data), (opcode, data)
        break
    else:
        raise AssertionError("no answer after the ping flood within 60 s")
    assert 0 < pongs < sent, pongs


def test_pings_from_a_client_that_does_not_read_do_not_queue_pongs_without_bound(server_factory):
    sock = upgrade(port_of(server_factory(heartbeat_interval=60)), "/ws")
    assert_ping_flood_gets_bounded_pongs(
        sock, text({"type": "ping", "id": "after"}), lambda data: json.loads(data) == {"type": "pong", "id": "after"})
    sock.close()
