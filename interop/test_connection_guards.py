"""Connection guards on every TCP listener: handshake and idle deadlines, the per-address limit, their metrics.

One server with short deadlines (1 s handshake, 2 s idle) serves HTTP, HTTPS, TURN over TCP and TURN over TLS.
Half-sent and silent connections must be closed by the server; live ones (a WebSocket, a TURN allocation, a
request in time) must not be.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import struct
import time
import urllib.request

import pytest

from conftest import connect, recv_json, send_json
from server_process import start_server
from turn_tools import allocate_over, free_port, read_stun, stun

HANDSHAKE = 1.0
IDLE = 2.0
LIMIT = 12


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    turn_port, tls_port = free_port(), free_port()
    server = start_server(tmp_path_factory.mktemp("guards"), [
        "--tls", "self-signed", "--https-port", "0", "--turn-port", str(turn_port), "--turn-tls-port", str(tls_port),
        "--relay-ip", "127.0.0.1", "--turn-user", "alice:pw", "--realm", "guards",
        "--handshake-timeout", str(HANDSHAKE), "--http-idle-timeout", str(IDLE), "--turn-idle-timeout", str(IDLE),
        "--max-connections-per-address", str(LIMIT)])
    server.turn_port, server.turn_tls_port = turn_port, tls_port
    deadline = time.monotonic() + 10
    while not (match := re.search(r"https\.port=(\d+)", server.log())):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    server.https_port = int(match.group(1))
    yield server
    server.stop()


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (EOF or reset), or None if it stayed open that long."""
    start = time.monotonic()
    sock.settimeout(0.1)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            return time.monotonic() - start
    return None


def open_tcp(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    return sock


def tls_client() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def metric(server, listener: str, reason: str) -> int:
    text = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5).read().decode()
    pattern = rf'switchboard_connections_closed_total\{{[^}}]*listener="{listener}"[^}}]*reason="{reason}"[^}}]*\}} (\d+)'
    match = re.search(pattern, text)
    assert match, f"no series for {listener}/{reason} in /metrics"
    return int(match.group(1))


def test_half_sent_and_silent_connections_are_closed_on_every_listener(guarded):
    before = {listener: metric(guarded, listener, "handshake_timeout") for listener in ("http", "https", "turn-tcp", "turn-tls")}
    http_partial = open_tcp(guarded.port)
    http_partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head never ends
    tls_partial = open_tcp(guarded.https_port)
    tls_partial.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello cut short
    stun_partial = open_tcp(guarded.turn_port)
    stun_partial.sendall(stun(0x0001)[:10])  # half a STUN header
    channel_data_stall = open_tcp(guarded.turn_port)
    channel_data_stall.sendall(b"\x40\x00\xff\xff" + b"x" * 100)  # claims 65,535 bytes, sends 100
    turn_tls_silent = open_tcp(guarded.turn_tls_port)
    sockets = [http_partial, tls_partial, stun_partial, channel_data_stall, turn_tls_silent]
    # Slowloris: a byte now and then must not keep the request line alive.
    for _ in range(3):
        time.sleep(0.3)
        try:
            http_partial.sendall(b"X")
        except OSError:
            break
    for sock in sockets:
        waited = closed_within(sock, HANDSHAKE + 3)
        assert waited is not None, f"{sock.getpeername()} still open after {HANDSHAKE + 3} s"
        sock.close()
    for listener in ("http", "https", "turn-tcp", "turn-tls"):
        assert metric(guarded, listener, "handshake_timeout") > before[listener], listener
    # Expected closes are counted, not logged as errors.
    assert " error " not in guarded.log(), guarded.log()


def test_idle_connections_are_closed_after_a_complete_exchange(guarded):
    # HTTP keep-alive: one request answered, then nothing.
    http = open_tcp(guarded.port)
    http.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    http.settimeout(5)
    assert http.recv(4096).startswith(b"HTTP/1.1 200")
    assert closed_within(http, IDLE - 0.5) is None, "closed before the idle timeout"
    assert closed_within(http, 3) is not None, "a kept-alive connection idle past the timeout stays open"
    # TURN over TCP without an allocation: a Binding, then a ChannelData frame that stalls.
    turn = open_tcp(guarded.turn_port)
    turn.sendall(stun(0x0001))
    assert read_stun(turn)[0] == 0x0101
    turn.sendall(b"\x40\x00\x00\x10")
    assert closed_within(turn, IDLE + 3) is not None, "an idle TURN connection without an allocation stays open"
    assert metric(guarded, "http", "idle_timeout") >= 1 and metric(guarded, "turn-tcp", "idle_timeout") >= 1


def test_live_connections_outlast_the_deadlines(guarded):
    async def websocket_stays():
        ws = await connect(f"ws://127.0.0.1:{guarded.port}/ws")
        await send_json(ws, {"type": "join", "room": "guards"})
        assert (await recv_json(ws))["type"] == "joined"
        await asyncio.sleep(HANDSHAKE + IDLE + 1)
        await send_json(ws, {"type": "ping", "id": 1})
        assert (await recv_json(ws))["type"] == "pong"
        await ws.close()

    # A TURN allocation over TLS: the connection lives as long as the allocation, silent or not.
    raw = open_tcp(guarded.turn_tls_port)
    turn = tls_client().wrap_socket(raw)
    allocate_over(turn)
    asyncio.run(websocket_stays())
    assert closed_within(turn, 0.5) is None, "a connection holding an allocation was closed while idle"
    turn.sendall(stun(0x0001))
    assert read_stun(turn)[0] == 0x0101
    turn.close()
    # A request that completes in time is answered, over TLS too.
    https = tls_client().wrap_socket(open_tcp(guarded.https_port))
    https.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert https.recv(4096).startswith(b"HTTP/1.1 200")
    https.close()


def test_an_address_holds_at_most_the_limit_across_listeners(guarded):
    before = metric(guarded, "turn-tcp", "address_limit")
    before_http = metric(guarded, "http", "address_limit")
    held = [open_tcp(guarded.port, "127.0.0.3") for _ in range(LIMIT // 2)]
    held += [open_tcp(guarded.turn_port, "127.0.0.3") for _ in range(LIMIT - len(held))]
    for sock in held:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" if sock.getpeername()[1] == guarded.port else stun(0x0001))
        sock.settimeout(5)
        assert sock.recv(4096), "a connection under the limit was refused"
    for port in (guarded.turn_port, guarded.port):
        refused = open_tcp(port, "127.0.0.3")
        assert closed_within(refused, 1.0) is not None, f"the connection over the limit was taken on port {port}"
        refused.close()
    other = open_tcp(guarded.turn_port, "127.0.0.4")  # another address is not affected
    other.sendall(stun(0x0001))
    assert read_stun(other)[0] == 0x0101
    other.close()
    assert metric(guarded, "turn-tcp", "address_limit") == before + 1
    assert metric(guarded, "http", "address_limit") == before_http + 1
    assert guarded.log().count("refusing connections from an address at its limit") == 1, "logged once per address"
    held.pop().close()
    time.sleep(0.2)
    again = open_tcp(guarded.port, "127.0.0.3")
    again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    again.settimeout(5)
    assert again.recv(4096).startswith(b"HTTP/1.1 200"), "a freed slot is usable again"
    for sock in held + [again]:
        sock.close()
