"""Socket.IO's WebSocket transport runs on the connection's event loop with no task of its own: the server assembles
fragmented messages, refuses one over the payload limit with 1009, hands packets on in the order they were sent,
answers WebSocket pings without queueing pongs for a client that does not read, and takes a close frame as the
client leaving (its peers hear `bye` at once, not after the grace period). Raw frames, so the server's own
behaviour is what is checked, not a client library's."""

from __future__ import annotations

import json
import struct
import time
import urllib.request

from test_native_ws_connection import (
    TEXT, CLOSE, PING, PONG, assert_ping_flood_gets_bounded_pongs, joined_peer, next_message, port_of,
)
from test_websocket_framing import frame, read_frame, upgrade

CONTINUATION = 0x0
PATH = "/socket.io/?EIO=4&transport=websocket"


def next_text(sock) -> str:
    while True:
        opcode, payload = read_frame(sock)
        if opcode in (PING, PONG):
            continue
        assert opcode == TEXT, f"expected a text frame, got opcode {opcode}: {payload!r}"
        return payload.decode()


def socketio_peer(port: int, room: str):
    """A raw Socket.IO client over the WebSocket transport that has joined `room` (codelab vocabulary)."""
    sock = upgrade(port, PATH)
    assert next_text(sock).startswith("0{")
    sock.sendall(frame(TEXT, b"40"))
    assert next_text(sock).startswith("40{")
    sock.sendall(frame(TEXT, json.dumps(["create or join", room]).encode().join([b"42", b""])))
    return sock


def pair(port: int, room: str):
    """A `/ws` peer (alice) and a raw Socket.IO peer (bob) in `room`, once alice has seen bob arrive."""
    alice = joined_peer(port, room)
    bob = socketio_peer(port, room)
    assert next_message(alice)["type"] == "other_joined"
    return alice, bob


def test_fragmented_messages_are_assembled_and_kept_in_order(server_factory):
    alice, bob = pair(port_of(server_factory()), "fragments")
    first = b'42["message",{"n":1,"pad":"' + b"x" * 3000 + b'"}]'
    # The first message in three frames, the second whole, in one write: both arrive, in order.
    bob.sendall(frame(TEXT, first[:1000], fin=False) + frame(CONTINUATION, first[1000:2000], fin=False)
                + frame(CONTINUATION, first[2000:]) + frame(TEXT, b'42["message",{"n":2}]'))
    relayed = [next_message(alice) for _ in range(2)]
    assert [m["type"] for m in relayed] == ["message", "message"], relayed
    assert [m["data"]["n"] for m in relayed] == [1, 2], relayed
    assert relayed[0]["data"]["pad"] == "x" * 3000
    alice.close()
    bob.close()


def test_a_message_over_the_payload_limit_closes_the_connection_with_1009(server_factory):
    port = port_of(server_factory())
    sock = upgrade(port, PATH)
    assert next_text(sock).startswith("0{")
    # Frames each under the frame limit, together over the payload limit (256 KiB with the default message limit).
    chunk = b"x" * 60_000
    sock.sendall(frame(TEXT, b"4" + chunk, fin=False) + b"".join(frame(CONTINUATION, chunk, fin=False) for _ in range(5)))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        opcode, payload = read_frame(sock)
        if opcode == CLOSE:
            assert struct.unpack("!H", payload[:2])[0] == 1009, payload
            break
    else:
        raise AssertionError("no close frame within 5 s")
    sock.close()


def test_a_close_frame_is_the_client_leaving(server_factory):
    alice, bob = pair(port_of(server_factory(grace_period=30)), "goodbye")
    started = time.monotonic()
    bob.sendall(frame(CLOSE, struct.pack("!H", 1000)))
    opcode, payload = read_frame(bob)
    while opcode != CLOSE:
        opcode, payload = read_frame(bob)
    assert struct.unpack("!H", payload[:2])[0] == 1000, payload
    bye = next_message(alice)
    assert bye["type"] == "bye" and bye["reason"] == "closed", bye
    assert time.monotonic() - started < 5, "at once, not after the 30 s grace period"
    alice.close()
    bob.close()


def test_a_dropped_connection_waits_out_the_grace_period(server_factory):
    alice, bob = pair(port_of(server_factory(grace_period=2)), "dropped")
    started = time.monotonic()
    bob.close()  # no close frame: a lost transport
    bye = next_message(alice)
    assert bye["type"] == "bye" and bye["reason"] == "timeout", bye
    assert time.monotonic() - started >= 1.5, "the session waited for the client to come back"
    alice.close()


def test_pings_from_a_client_that_does_not_read_do_not_queue_pongs_without_bound(server_factory):
    sock = upgrade(port_of(server_factory()), PATH)
    assert next_text(sock).startswith("0{")
    assert_ping_flood_gets_bounded_pongs(sock, frame(TEXT, b"40"), lambda data: data.startswith(b"40{"))
    sock.close()


def polling(port: int, sid: str, body: bytes | None = None) -> list[str]:
    """One Engine.IO polling request (a POST when `body` is given); the packets of the answer."""
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling&sid={sid}"
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    answer = urllib.request.urlopen(request, timeout=10).read().decode()
    return [] if body is not None else answer.split("\x1e")


def numbers(packets: list[str]) -> list[int]:
    """The `n` of every relayed `message` event among Socket.IO packets."""
    found = []
    for packet in packets:
        if packet.startswith("42"):
            event = json.loads(packet[2:])
            if event[0] == "message" and isinstance(event[1], dict) and "n" in event[1]:
                found.append(event[1]["n"])
    return found


def test_a_socket_that_upgrades_mid_stream_loses_and_reorders_nothing(server_factory):
    """socket.io's default: connect over polling, then upgrade. The hub's messages wait in an outbox for polling; once
    the WebSocket is attached, the hub writes to it directly and the outbox's writer hands over after what it held."""
    url = server_factory(log_level="debug", message_rate=100000, message_burst=100000)
    port = port_of(url)
    alice = joined_peer(port, "upgrade-handover")
    opened = urllib.request.urlopen(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", timeout=10).read()
    sid = json.loads(opened.decode()[1:])["sid"]
    polling(port, sid, b"40")
    assert any(packet.startswith("40{") for packet in polling(port, sid))
    polling(port, sid, b'42["create or join","upgrade-handover"]')
    assert next_message(alice)["type"] == "other_joined"

    def burst(first: int) -> None:
        alice.sendall(b"".join(frame(TEXT, json.dumps({"type": "message", "data": {"n": n}}).encode())
                               for n in range(first, first + 100)))

    burst(0)
    received: list[int] = []
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        received += numbers(polling(port, sid))
    burst(100)
    # The upgrade, while messages are still queued for polling.
    bob = upgrade(port, f"/socket.io/?EIO=4&transport=websocket&sid={sid}")
    bob.sendall(frame(TEXT, b"2probe"))
    assert next_text(bob) == "3probe"
    bob.sendall(frame(TEXT, b"5"))
    burst(200)
    deadline = time.monotonic() + 10
    while (not received or received[-1] < 299) and time.monotonic() < deadline:
        received += numbers([next_text(bob)])
    assert received == list(range(300)), f"{len(received)} messages, first out of place at " + str(
        next((i for i, n in enumerate(received) if n != i), None))
    # The outbox writer handed over to the direct way out.
    log = server_factory.servers[0].log()
    assert "socket.io socket upgraded: hub writes go to its WebSocket" in log, log[-2000:]
    # And the direct way out keeps working.
    burst(300)
    more: list[int] = []
    while len(more) < 100:
        more += numbers([next_text(bob)])
    assert more == list(range(300, 400))
    alice.close()
    bob.close()
