"""Shared helpers for the pytest ports of the official Engine.IO v4 / Socket.IO v5 protocol test suites.

The originals are the mocha suites in the socketio/socket.io monorepo:
``docs/engine.io-protocol/v4-test-suite/test-suite.js`` (25 tests) and
``docs/socket.io-protocol/v5-test-suite/test-suite.js`` (32 tests). They talk to ``http://localhost:3000`` with
``fetch`` and ``WebSocket``; the ports talk to the server given by the module-scoped ``sio_target`` fixture:

* ``SIO_COMPLIANCE_URL=http://127.0.0.1:3000``: an already running server (nothing is started);
* ``SIO_COMPLIANCE_TARGET=reference``: ``sio_reference_fixture.py`` (python-socketio / python-engineio on aiohttp),
  started on a free port;
* otherwise (unset or ``switchboard``): the ``socketio-conformance-fixture`` executable from
  ``$SWITCHBOARD_FIXTURE_BIN`` or ``<repo>/.build/debug/socketio-conformance-fixture``, started with ``--port P``.
  If it is missing, every test FAILS (not skips) telling you to run ``swift build``.

HTTP goes through a tiny raw HTTP/1.1 client on asyncio streams (one connection per request,
``Connection: close``) so that a test knows when a request has been sent and can abort a pending request, like
``fetch`` + ``AbortController``. WebSockets use ``websockets``; incoming frames are buffered like the EIO suite's
``createWebSocket``/``waitFor`` (text frames as ``str``, binary frames as ``bytes``).

Timing mirrors mocha: each test must finish within 2 s (mocha's default timeout), tests of the "heartbeat"
``describe`` within 5 s (``this.timeout(5000)``); no single wait lasts longer than 5 s.

Where the port is stricter than the JavaScript (each spot is commented in the tests): a WebSocket expected to be
closed because of an invalid/close packet or a missing CONNECT answers pings meanwhile (so the heartbeat cannot be
what closes it); ``waitFor(socket, "close")`` calls the JS forgot to ``await`` are awaited; a refused TCP connection
does not count as a WebSocket "close"; a response to an invalid POST must be 400 (the JS swallows that assertion).

Tests marked with ``reference_differs(reason)`` are strict xfails against the python reference only (known
deviations of python-engineio/python-socketio from the Node server). ``pytest --runxfail`` shows their failures.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from turn_tools import stop_process

REPO = Path(__file__).resolve().parent.parent
INTEROP = Path(__file__).resolve().parent
DEFAULT_FIXTURE_BIN = REPO / ".build" / "debug" / "socketio-conformance-fixture"
REFERENCE_FIXTURE = INTEROP / "sio_reference_fixture.py"

PING_INTERVAL = 300  # ms, as configured in both suites' server fixtures
PING_TIMEOUT = 200  # ms
MAX_PAYLOAD = 1_000_000

MOCHA_TIMEOUT = 2.0  # mocha's default per-test timeout
HEARTBEAT_TIMEOUT = 5.0  # describe("heartbeat") sets this.timeout(5000)
WAIT_TIMEOUT = 5.0  # upper bound of any single wait
STARTUP_TIMEOUT = 30.0
# Pause between sending the upgrade packet "5" and the next polling request on another connection (not in the JS).
UPGRADE_SETTLE_MS = 50

TARGET = os.environ.get("SIO_COMPLIANCE_TARGET", "switchboard").strip().lower() or "switchboard"
AGAINST_REFERENCE = TARGET == "reference"  # also with SIO_COMPLIANCE_URL: the URL then points at a reference server


# What the running test is waiting for, for the message of a mocha-timeout failure (tests run one at a time).
_waiting: list = [lambda: "nothing in particular"]


def _wait_for(describe) -> None:
    _waiting[0] = describe


async def sleep_ms(ms: float) -> None:
    """``await sleep(ms)`` of the suites."""
    await asyncio.sleep(ms / 1000)


def reference_differs(reason: str):
    """Known deviation of python-engineio/python-socketio from the Node reference server.

    The test keeps its full assertion; it is expected to fail (strictly: an unexpected pass is an error) only when
    running against the Python reference fixture, and must pass against Switchboard.
    """
    return pytest.mark.xfail(AGAINST_REFERENCE, reason=reason, strict=True)


# ---------------------------------------------------------------------------------------------
# Target server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts_tcp(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Target:
    """The server the tests talk to. ``error`` is set when it could not be started (reported in each test)."""

    base_url: str | None = None
    error: str | None = None
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    description: str = ""

    def url(self) -> str:
        if self.error:
            pytest.fail(self.error, pytrace=False)
        assert self.base_url
        return self.base_url

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size if self.log_path else 0
        except OSError:
            return 0

    def log_since(self, offset: int, limit: int = 8000) -> str:
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            return ""
        text = data.decode("utf-8", errors="replace")
        return text if len(text) <= limit else "[...]\n" + text[-limit:]

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path:
            return ""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive_error(self) -> str | None:
        if self.proc is not None and self.proc.poll() is not None:
            return f"{self.description} exited with status {self.proc.returncode}:\n{self.log_tail()}"
        return None

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


def _fixture_command(port: int) -> tuple[list[str], str] | str:
    """Command line of the fixture to start, or an error message."""
    if TARGET == "reference":
        return [sys.executable, str(REFERENCE_FIXTURE), "--port", str(port)], "python reference fixture"
    if TARGET != "switchboard":
        return f"unknown SIO_COMPLIANCE_TARGET={TARGET!r} (use 'switchboard' or 'reference')"
    path = Path(os.environ.get("SWITCHBOARD_FIXTURE_BIN", str(DEFAULT_FIXTURE_BIN)))
    if not (path.is_file() and os.access(path, os.X_OK)):
        return (
            f"socketio-conformance-fixture not found at {path}; run `swift build` first "
            "(or set SWITCHBOARD_FIXTURE_BIN, SIO_COMPLIANCE_URL, or SIO_COMPLIANCE_TARGET=reference)"
        )
    return [str(path), "--port", str(port)], f"socketio-conformance-fixture ({path})"


def start_target() -> Target:
    url = os.environ.get("SIO_COMPLIANCE_URL")
    if url:
        return Target(base_url=url.rstrip("/"), description=f"server at {url}")
    port = free_port()
    command = _fixture_command(port)
    if isinstance(command, str):
        return Target(error=command)
    args, description = command
    log_fd, log_name = tempfile.mkstemp(prefix="sio-compliance-", suffix=".log")
    log_path = Path(log_name)
    # Keep our own SWITCHBOARD_* variables (e.g. SWITCHBOARD_FIXTURE_BIN) out of the server's configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    busy_until = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            proc = subprocess.Popen(args, stdout=log_fd, stderr=log_fd, stdin=subprocess.DEVNULL, env=env, cwd=REPO)
            break
        except OSError as exc:
            # ETXTBSY: the binary is being rewritten by a concurrent `swift build`; wait for it.
            if exc.errno != errno.ETXTBSY or time.monotonic() > busy_until:
                os.close(log_fd)
                return Target(error=f"cannot start {description}: {exc}")
            time.sleep(0.5)
    os.close(log_fd)
    target = Target(base_url=f"http://127.0.0.1:{port}", proc=proc, log_path=log_path, description=description)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            target.error = f"{description} exited with status {proc.returncode} before listening:\n{target.log_tail()}"
            return target
        if _accepts_tcp("127.0.0.1", port):
            return target
        time.sleep(0.05)
    target.stop()
    target.error = f"{description} did not accept TCP on port {port} within {STARTUP_TIMEOUT}s:\n{target.log_tail()}"
    return target


@pytest.fixture(scope="module")
def sio_target():
    """Module-scoped server under test (see the module docstring); stopped by PID after the module."""
    target = start_target()
    try:
        yield target
    finally:
        target.stop()
        if target.log_path:
            target.log_path.unlink(missing_ok=True)


def run(target: Target, body, timeout: float = MOCHA_TIMEOUT):
    """Run ``await body(client)`` against the target, bounded by the mocha timeout; closes everything after."""
    base = target.url()  # fails the test (in the call phase) when the target is unavailable
    dead = target.alive_error()
    if dead:
        pytest.fail(dead, pytrace=False)

    log_offset = target.log_size()

    async def bounded():
        client = Client(base)
        _wait_for(lambda: "nothing in particular")
        try:
            try:
                return await asyncio.wait_for(body(client), timeout)
            except asyncio.TimeoutError:
                pass
            pytest.fail(f"test did not complete within the mocha timeout ({timeout * 1000:.0f} ms) "
                        f"while {_waiting[0]()}", pytrace=False)
        finally:
            await client.close()

    try:
        return asyncio.run(bounded())
    except BaseException:
        log = target.log_since(log_offset)
        if log:
            print(f"--- {target.description} log during this test ---\n{log}")
        raise


# ---------------------------------------------------------------------------------------------
# HTTP (fetch)
# ---------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class RequestAborted(Exception):
    """The server closed the connection without a (complete) response (fetch rejects in that case)."""


async def _read_response(reader: asyncio.StreamReader) -> Response:
    try:
        status_line = await reader.readline()
        if not status_line:
            raise RequestAborted("connection closed before a response")
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError(f"malformed HTTP status line {status_line!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if not line:
                raise RequestAborted("connection closed inside the response headers")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if status in (101, 204, 304):
            return Response(status, headers, b"")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            while True:
                size_line = await reader.readline()
                if not size_line:
                    raise RequestAborted("connection closed inside a chunked body")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
            return Response(status, headers, bytes(body))
        if "content-length" in headers:
            return Response(status, headers, await reader.readexactly(int(headers["content-length"])))
        return Response(status, headers, await reader.read())
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise RequestAborted(f"connection dropped: {exc!r}") from exc


class PendingRequest:
    """An HTTP request that has been fully sent; ``response()`` waits for the answer, ``abort()`` cancels it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, description: str):
        self.reader = reader
        self.writer = writer
        self.description = description

    async def response(self, timeout: float = WAIT_TIMEOUT) -> Response:
        _wait_for(lambda: f"waiting for the HTTP response to {self.description}")
        try:
            return await asyncio.wait_for(_read_response(self.reader), timeout)
        except asyncio.TimeoutError:
            pytest.fail(f"no HTTP response to {self.description} within {timeout}s")
        finally:
            self.abort()

    def abort(self) -> None:
        """Like AbortController.abort(): drop the connection (FIN) without waiting for the response."""
        if not self.writer.is_closing():
            self.writer.close()


class Client:
    """Per-test client: fetch-like HTTP and buffered WebSockets against one base URL."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        split = urlsplit(self.base_url)
        self.host = split.hostname or "127.0.0.1"
        self.port = split.port or 80
        self.ws_base = "ws" + self.base_url[len("http"):]
        self._pending: list[PendingRequest] = []
        self._sockets: list[WebSocket] = []

    async def start(self, path: str, method: str = "GET", body: str | bytes | None = None,
                    content_type: str | None = None) -> PendingRequest:
        """Send a request and return without waiting for the response."""
        if isinstance(body, str):
            body = body.encode("utf-8")
            content_type = content_type or "text/plain;charset=UTF-8"  # what fetch sends for a string body
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: */*",
                "Connection: close"]
        if body is not None:
            if content_type:
                head.append(f"Content-Type: {content_type}")
            head.append(f"Content-Length: {len(body)}")
        elif method in ("POST", "PUT"):
            head.append("Content-Length: 0")  # fetch sends an explicit zero length for a body-less POST/PUT
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), WAIT_TIMEOUT)
        except (OSError, asyncio.TimeoutError) as exc:
            pytest.fail(f"cannot connect to {self.host}:{self.port} for {method} {path}: {exc!r}")
        writer.write(request)
        await asyncio.wait_for(writer.drain(), WAIT_TIMEOUT)
        pending = PendingRequest(reader, writer, f"{method} {path}")
        self._pending.append(pending)
        return pending

    async def fetch(self, path: str, method: str = "GET", body: str | bytes | None = None,
                    timeout: float = WAIT_TIMEOUT) -> Response:
        """Like ``fetch(URL + path, {method, body})``; raises RequestAborted where fetch would reject."""
        pending = await self.start(path, method, body)
        return await pending.response(timeout)

    async def websocket(self, path: str, timeout: float = WAIT_TIMEOUT) -> "WebSocket":
        """``new WebSocket(WS_URL + path)`` + ``waitFor(socket, "open")``: fails if the connection is not opened."""
        _wait_for(lambda: f"opening WebSocket {path}")
        try:
            conn = await ws_connect(self.ws_base + path, open_timeout=timeout, ping_interval=None, close_timeout=1,
                                    proxy=None, max_size=None)
        except (OSError, InvalidHandshake, asyncio.TimeoutError) as exc:
            pytest.fail(f"WebSocket {path} did not open: {exc!r}")
        ws = WebSocket(conn, path)
        self._sockets.append(ws)
        return ws

    async def websocket_closes(self, path: str, timeout: float = WAIT_TIMEOUT) -> str:
        """``waitFor(new WebSocket(WS_URL + path), "close")``: the handshake is refused or the socket gets closed.

        Returns how it ended (for failure messages); fails if the socket is still open after ``timeout``.
        """
        _wait_for(lambda: f"opening WebSocket {path} (expected to be refused or closed)")
        try:
            conn = await ws_connect(self.ws_base + path, open_timeout=timeout, ping_interval=None, close_timeout=1,
                                    proxy=None, max_size=None)
        except InvalidHandshake as exc:
            return f"handshake refused: {exc}"
        except ConnectionRefusedError as exc:
            # A browser would fire "close" here too, but then nothing was tested: no server is listening.
            pytest.fail(f"WebSocket {path}: connection refused ({exc}); is the server running?")
        except OSError as exc:
            return f"connection failed: {exc!r}"
        except asyncio.TimeoutError:
            pytest.fail(f"WebSocket {path}: no handshake response within {timeout}s")
        ws = WebSocket(conn, path)
        self._sockets.append(ws)
        await ws.wait_close(timeout)
        return "closed after open"

    async def close(self) -> None:
        for pending in self._pending:
            pending.abort()
        for ws in self._sockets:
            ws.abort()


class WebSocket:
    """A connected WebSocket whose frames are buffered until read (the EIO v4 suite's ``createWebSocket``)."""

    def __init__(self, conn, path: str):
        self.conn = conn
        self.path = path
        self.received: list[str | bytes] = []  # every frame seen, for failure messages

    async def send(self, data: str | bytes) -> None:
        """``socket.send(data)``; a ``bytes`` value is sent as a binary frame."""
        try:
            await asyncio.wait_for(self.conn.send(data), WAIT_TIMEOUT)
        except ConnectionClosed as exc:
            pytest.fail(f"WebSocket {self.path}: cannot send {data!r}, connection closed ({exc}); "
                        f"frames so far: {self.received!r}")

    async def recv(self, timeout: float = WAIT_TIMEOUT) -> str | bytes:
        """``(await waitFor(socket, "message")).data``: the next frame, ``str`` for text and ``bytes`` for binary."""
        _wait_for(lambda: f"waiting for a message on WebSocket {self.path} (frames so far: {self.received!r})")
        try:
            data = await asyncio.wait_for(self.conn.recv(), timeout)
        except asyncio.TimeoutError:
            pytest.fail(f"WebSocket {self.path}: no message within {timeout}s; frames so far: {self.received!r}")
        except ConnectionClosed as exc:
            pytest.fail(f"WebSocket {self.path}: closed ({exc}) while a message was expected; "
                        f"frames so far: {self.received!r}")
        self.received.append(data)
        return data

    async def recv_packets(self, count: int, timeout: float = WAIT_TIMEOUT) -> list[str | bytes]:
        """The SIO suite's ``waitForPackets(socket, count)``: the next ``count`` frames, skipping PING (``"2"``)."""
        packets: list[str | bytes] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(packets) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                pytest.fail(f"WebSocket {self.path}: only {len(packets)} of {count} packets within {timeout}s: "
                            f"{packets!r}")
            data = await self.recv(remaining)
            if data == "2":
                continue
            packets.append(data)
        return packets

    async def wait_close(self, timeout: float = WAIT_TIMEOUT, answer_pings: bool = False) -> list[str | bytes]:
        """``waitFor(socket, "close")``: frames may still arrive first; fails if not closed within ``timeout``.

        With ``answer_pings`` every PING (``"2"``) is answered with a PONG (``"3"``) meanwhile, so that the close
        cannot come from the heartbeat (pingInterval 300 + pingTimeout 200 ms): in the JS suites the client never
        answers pings, so every "closes the connection upon ..." test would also pass on a server that ignores the
        cause under test and merely times the session out.
        """
        frames: list[str | bytes] = []
        _wait_for(lambda: f"waiting for WebSocket {self.path} to close (frames meanwhile: {frames!r}"
                          f"{', pings answered' if answer_pings else ''})")
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                pytest.fail(f"WebSocket {self.path} not closed within {timeout}s; frames meanwhile: {frames!r}")
            try:
                data = await asyncio.wait_for(self.conn.recv(), remaining)
            except asyncio.TimeoutError:
                continue
            except ConnectionClosed:
                return frames
            frames.append(data)
            self.received.append(data)
            if answer_pings and data == "2":
                try:
                    await self.conn.send("3")
                except ConnectionClosed:
                    return frames

    def abort(self) -> None:
        transport = getattr(self.conn, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.abort()

    async def close(self) -> None:
        """``socket.close()`` (normal closure, bounded)."""
        try:
            await asyncio.wait_for(self.conn.close(), 1.0)
        except (asyncio.TimeoutError, ConnectionClosed, OSError):
            self.abort()


# ---------------------------------------------------------------------------------------------
# Assertions shared by both suites
# ---------------------------------------------------------------------------------------------


def parse_open_packet(content: str, upgrades: list[str]) -> dict:
    """The handshake assertions of both suites on an Engine.IO OPEN packet (``0{...}``)."""
    assert isinstance(content, str), f"expected a text open packet, got {content!r}"
    assert content.startswith("0"), f"expected the open packet to start with '0', got {content!r}"
    value = json.loads(content[1:])
    assert isinstance(value, dict), f"open packet payload is not an object: {content!r}"
    # expect(value).to.have.all.keys(...): exactly these keys
    assert set(value) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}, \
        f"open packet keys {sorted(value)} != sid, upgrades, pingInterval, pingTimeout, maxPayload: {content!r}"
    assert isinstance(value["sid"], str), f"sid is not a string: {content!r}"
    assert value["upgrades"] == upgrades, f"upgrades {value['upgrades']!r} != {upgrades!r}"
    assert value["pingInterval"] == PING_INTERVAL and type(value["pingInterval"]) is int, \
        f"pingInterval {value['pingInterval']!r} != {PING_INTERVAL}"
    assert value["pingTimeout"] == PING_TIMEOUT and type(value["pingTimeout"]) is int, \
        f"pingTimeout {value['pingTimeout']!r} != {PING_TIMEOUT}"
    assert value["maxPayload"] == MAX_PAYLOAD and type(value["maxPayload"]) is int, \
        f"maxPayload {value['maxPayload']!r} != {MAX_PAYLOAD}"
    return value


def assert_status(response: Response, expected: int | tuple[int, ...], what: str) -> None:
    allowed = expected if isinstance(expected, tuple) else (expected,)
    assert response.status in allowed, \
        f"{what}: HTTP {response.status} (expected {' or '.join(map(str, allowed))}), body {response.body[:200]!r}"


async def init_long_polling_session(client: Client, path: str) -> str:
    """``initLongPollingSession()``: GET ``<path>?EIO=4&transport=polling`` and return the sid of the open packet."""
    response = await client.fetch(f"{path}?EIO=4&transport=polling")
    assert_status(response, 200, "handshake")
    content = response.text
    assert content.startswith("0"), f"handshake body does not start with '0': {content!r}"
    return json.loads(content[1:])["sid"]
