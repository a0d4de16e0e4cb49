"""RFC 6455 framing rules on every WebSocket endpoint (/ws and Socket.IO's), with a raw socket client.

A client frame must be masked (§5.1); a continuation frame must continue a fragmented message, and a new data
frame must not start inside one (§5.4). Breaking a rule closes the connection with status 1002; following them,
including control frames between fragments, works.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import struct
import time
import urllib.request

import pytest


def frame(opcode: int, payload: bytes = b"", fin: bool = True, masked: bool = True) -> bytes:
    header = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header += bytes([mask_bit | length])
    else:
        header += bytes([mask_bit | 126]) + struct.pack("!H", length)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exactly(8))[0]
    return first & 0x0F, exactly(length)


def upgrade(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        assert chunk, f"closed during the upgrade: {answer!r}"
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def close_code(sock: socket.socket) -> int | None:
    """The status of the server's close frame, skipping other frames (pings, Engine.IO open)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            opcode, payload = read_frame(sock)
        except (ConnectionError, OSError):
            return None
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


@pytest.fixture
def server(server_factory):
    server_factory()
    return server_factory.servers[0]


PATHS = ["/ws", "/socket.io/?EIO=4&transport=websocket"]
VIOLATIONS = {
    "unmasked": [frame(0x1, b'{"type":"ping"}', masked=False)],
    "stray continuation": [frame(0x0, b"tail")],
    "data frame inside a fragmented message": [frame(0x1, b'{"type":', fin=False), frame(0x1, b'"ping"}')],
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("violation", list(VIOLATIONS))
def test_a_broken_framing_rule_closes_with_1002(server, path, violation):
    sock = upgrade(server.port, path)
    for data in VIOLATIONS[violation]:
        sock.sendall(data)
    assert close_code(sock) == 1002
    sock.settimeout(5)
    try:
        assert sock.recv(4096) == b"", "the connection must end after the close frame"
    except ConnectionResetError:
        pass
    sock.close()
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5).read().decode()
    assert re.search(r'switchboard_connections_closed_total\{[^}]*listener="http"[^}]*reason="protocol_error"[^}]*\} [1-9]', metrics)


def test_fragments_with_a_ping_between_them_make_one_message(server):
    sock = upgrade(server.port, "/ws")
    message = json.dumps({"type": "ping", "id": 7}).encode()
    sock.sendall(frame(0x1, message[:5], fin=False) + frame(0x9, b"hi") + frame(0x0, message[5:9], fin=False)
                 + frame(0x0, message[9:]))
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(op == 0x1 for op, _ in seen):
        seen.append(read_frame(sock))
    assert (0xA, b"hi") in seen, seen
    text = [json.loads(payload) for op, payload in seen if op == 0x1]
    assert text and text[0]["type"] == "pong" and text[0]["id"] == 7, seen
    sock.sendall(frame(0x8, struct.pack("!H", 1000)))
    assert close_code(sock) == 1000
    sock.close()
