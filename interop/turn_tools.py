"""Helpers for black-box STUN/TURN tests: start a TURN server (Switchboard or coturn) on free
ports, run coturn's own clients (``turnutils_uclient``, ``turnutils_stunclient``, ``turnutils_peer``)
against it, and parse their output.

``TURN_INTEROP_TARGET=coturn`` runs the same tests against Debian's ``turnserver`` (coturn 4.6.1)
configured the same way, which proves every client invocation and output pattern used here; the
default target is the Switchboard binary (``$SWITCHBOARD_BIN`` or ``.build/debug/switchboard``).

Output formats of turnutils_uclient 4.6.1 relied on (each line is prefixed ``<seconds>: : ``, and
some lines are printed twice):

    start_mclient: tot_send_msgs=100, tot_recv_msgs=100          (final totals, no ``msz=``)
    Total transmit time is 5
    Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
    Average round trip delay 0.000000 ms; min = 0 ms, max = 0 ms
    channel bind: error 403 (Forbidden IP)                         (refusals; exit code 255)
    create permission error 403 (Forbidden IP)
    ERROR: Cannot complete Allocation                             (401 that never clears; exit 255)
    tls_connect: client session connected with cipher ..., method=TLSv1.2
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TOOLS = ("turnserver", "turnutils_uclient", "turnutils_peer", "turnutils_stunclient")
TARGET = os.environ.get("TURN_INTEROP_TARGET", "switchboard").strip().lower() or "switchboard"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
READY_LINE = "STUN/TURN listening"

REALM = "example.test"
USER = "alice"
PASSWORD = "secretpw"
SECRET = "s3cr3tKey"


def require_coturn_tools() -> None:
    """Fail (not skip) when coturn's tools are missing: they are the third-party clients here."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"install coturn (apt-get install coturn): missing {', '.join(missing)}", pytrace=False)


def free_port(host: str = "127.0.0.1") -> int:
    """A port number free for both UDP and TCP on `host` at the time of the call."""
    for _ in range(200):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            try:
                tcp.bind((host, port))
            except OSError:
                continue
            return port
        finally:
            udp.close()
            tcp.close()
    raise RuntimeError("no port free for both UDP and TCP")


def free_udp_pair(host: str = "127.0.0.1") -> int:
    """A port P with P and P+1 free for UDP (turnutils_peer -p P listens on both: RTP and RTCP)."""
    for _ in range(200):
        first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        second = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            first.bind((host, 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            try:
                second.bind((host, port + 1))
            except OSError:
                continue
            return port
        finally:
            first.close()
            second.close()
    raise RuntimeError("no UDP port pair free")


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM by PID, SIGKILL if it does not exit in time."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------------------------------------
# STUN Binding over a plain socket (used as a readiness probe and to check XOR-MAPPED-ADDRESS)
# ---------------------------------------------------------------------------------------------

MAGIC = 0x2112A442


def stun_binding(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> tuple[tuple[str, int], tuple[str, int]] | None:
    """Send one Binding request; returns (XOR-MAPPED-ADDRESS, our local address), or None on no answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, 0))
        sock.settimeout(timeout)
        tid = os.urandom(12)
        sock.sendto(struct.pack("!HHI", 0x0001, 0, MAGIC) + tid, (host, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(2048)
            except (socket.timeout, ConnectionRefusedError):
                return None
            if len(data) < 20 or data[8:20] != tid or struct.unpack_from("!H", data)[0] != 0x0101:
                continue
            length = struct.unpack_from("!H", data, 2)[0]
            pos = 20
            while pos + 4 <= min(len(data), 20 + length):
                atype, alen = struct.unpack_from("!HH", data, pos)
                value = data[pos + 4: pos + 4 + alen]
                if atype == 0x0020 and alen >= 8 and value[1] == 1:
                    mport = struct.unpack_from("!H", value, 2)[0] ^ (MAGIC >> 16)
                    addr = struct.unpack_from("!I", value, 4)[0] ^ MAGIC
                    return (socket.inet_ntoa(struct.pack("!I", addr)), mport), sock.getsockname()[:2]
                pos += 4 + alen + ((4 - alen % 4) % 4)
            return ("", 0), sock.getsockname()[:2]
        return None
    finally:
        sock.close()


# Stream STUN (TCP/TLS), for tests and benchmarks that need an allocation without coturn's clients.


def stun(message_type: int, attributes: bytes = b"", tid: bytes | None = None) -> bytes:
    """A STUN message with a fresh transaction id unless given."""
    return struct.pack("!HHI", message_type, len(attributes), MAGIC) + (tid or os.urandom(12)) + attributes


def attribute(kind: int, value: bytes) -> bytes:
    """One STUN attribute, padded to 4 bytes."""
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * ((4 - len(value) % 4) % 4)


def read_stun(sock: socket.socket) -> tuple[int, dict[int, bytes]]:
    """One STUN message from a stream: its type and attributes by type."""
    sock.settimeout(5)
    header = b""
    while len(header) < 20:
        header += sock.recv(20 - len(header))
    kind, length = struct.unpack_from("!HH", header)
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    attributes, pos = {}, 0
    while pos + 4 <= len(body):
        atype, alen = struct.unpack_from("!HH", body, pos)
        attributes[atype] = body[pos + 4: pos + 4 + alen]
        pos += 4 + alen + ((4 - alen % 4) % 4)
    return kind, attributes


def allocate_over(sock: socket.socket, user: bytes = b"alice", password: bytes = b"pw") -> None:
    """A TURN Allocate (UDP relay) with long-term credentials (RFC 8656), over an open TCP or TLS connection."""
    transport = attribute(0x0019, bytes([17, 0, 0, 0]))
    sock.sendall(stun(0x0003, transport))
    kind, attributes = read_stun(sock)
    assert kind == 0x0113, hex(kind)  # 401 first: realm and nonce
    realm, nonce = attributes[0x0014], attributes[0x0015]
    body = transport + attribute(0x0006, user) + attribute(0x0014, realm) + attribute(0x0015, nonce)
    key = hashlib.md5(user + b":" + realm + b":" + password).digest()
    tid = os.urandom(12)
    # MESSAGE-INTEGRITY covers the header with a length that already counts the integrity attribute.
    header = struct.pack("!HHI", 0x0003, len(body) + 24, MAGIC) + tid
    integrity = hmac.new(key, header + body, hashlib.sha1).digest()
    sock.sendall(header + body + attribute(0x0008, integrity))
    kind, _ = read_stun(sock)
    assert kind == 0x0103, f"Allocate failed: {hex(kind)}"


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------


@dataclass
class TurnServer:
    """One running TURN server process (Switchboard or coturn)."""

    kind: str
    proc: subprocess.Popen
    port: int
    log_path: Path
    args: list[str]
    tls_port: int | None = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def warnings(self) -> str:
        """The server's warning and error lines: what a failed assertion should show besides the client's output."""
        return "\n".join(line for line in self.log().splitlines() if re.search(r" (warning|error|critical) ", line))

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    @property
    def http_port(self) -> int:
        """Switchboard's HTTP port, from its `listening` line (it starts on --http-port 0)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(r"http\.port=(\d+)", self.log())
            if match:
                return int(match.group(1))
            time.sleep(0.05)
        raise AssertionError(f"no HTTP `listening` line in the {self.kind} log:\n{self.log_tail()}")

    def stop(self) -> None:
        stop_process(self.proc)


def _popen(args: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    log_file = open(log_path, "wb")
    try:
        return subprocess.Popen(args, stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL, env=env)
    finally:
        log_file.close()


def make_test_certificate(directory: Path) -> tuple[Path, Path]:
    """Self-signed RSA certificate for CN=localhost; returns (cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
             "-days", "2", "-subj", "/CN=localhost"],
            check=True, capture_output=True, timeout=60,
        )
    return cert, key


def start_switchboard(workdir: Path, *, allow_loopback: bool = True, user: bool = True, secret: str | None = None,
                      tls: bool = False, rfc5766_channels: bool = True, extra: tuple[str, ...] = ()) -> TurnServer:
    """`switchboard serve` with TURN on a free port; waits for its `STUN/TURN listening` line.

    `extra` is appended to the command line as is.

    `rfc5766_channels` passes --rfc5766-channel-numbers: turnutils_uclient picks channel numbers at
    random in 0x4000-0x7FFF, and RFC 8656 alone allows only 0x4000-0x4FFF (400 otherwise).
    """
    from server_process import server_binary  # the interop suite's own binary lookup ($SWITCHBOARD_BIN)

    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [str(server_binary()), "serve", "--host", "127.0.0.1", "--http-port", "0",
            "--data-dir", str(workdir / "data"), "--turn-port", str(port), "--realm", REALM,
            "--relay-ip", "127.0.0.1", "--log-level", "info"]
    if "--drain-period" not in extra:
        args += ["--drain-period", "0"]  # stopped with SIGTERM: no drain
    if user:
        args += ["--turn-user", f"{USER}:{PASSWORD}"]
    if secret:
        args += ["--turn-secret", secret]
    if allow_loopback:
        args += ["--allow-loopback-peers"]
    if rfc5766_channels:
        args += ["--rfc5766-channel-numbers"]
    # No per-user quota, like coturn's default: every uclient client also makes a "probe" allocation
    # on a socket it then closes without deallocating, so -m 10 holds 15 allocations (20 with -c)
    # until they expire, more than the default quota of 10.
    args += ["--user-quota", "0"]
    tls_port = None
    if tls:
        cert, key = make_test_certificate(workdir / "tls")
        tls_port = free_port()
        args += ["--turn-tls-port", str(tls_port), "--tls-cert", str(cert), "--tls-key", str(key)]
    args += list(extra)
    # The server reads SWITCHBOARD_<OPTION> from the environment; keep ours (SWITCHBOARD_BIN) out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    log_path = workdir / "server.log"
    proc = _popen(args, log_path, env)
    server = TurnServer("switchboard", proc, port, log_path, args, tls_port)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if READY_LINE in server.log():
            return server
        if proc.poll() is not None:
            pytest.fail(f"switchboard exited with {proc.returncode} before `{READY_LINE}`:\n{server.log()}",
                        pytrace=False)
        time.sleep(0.05)
    server.stop()
    pytest.fail(f"switchboard did not log `{READY_LINE}` within {STARTUP_TIMEOUT}s:\n{server.log()}", pytrace=False)


def start_coturn(workdir: Path, *, allow_loopback: bool = True, user: bool = True, secret: str | None = None,
                 tls: bool = False, rfc5766_channels: bool = True) -> TurnServer:
    """Debian's turnserver configured like `start_switchboard` (coturn cannot mix static users and a
    REST secret: the secret wins, so `secret` replaces the static user; it always accepts channel
    numbers 0x4000-0x7FFF, so `rfc5766_channels` changes nothing)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = ["turnserver", "-n", "--log-file", "stdout", "--simple-log",
            "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--listening-port", str(port),
            "--realm", REALM, "--fingerprint", "--no-cli", "--no-dtls",
            "--userdb", str(workdir / "turndb"), "--pidfile", str(workdir / "turnserver.pid")]
    if secret:
        args += ["--use-auth-secret", f"--static-auth-secret={secret}"]
    elif user:
        args += ["--lt-cred-mech", "--user", f"{USER}:{PASSWORD}"]
    if allow_loopback:
        args += ["--allow-loopback-peers"]
    tls_port = None
    if tls:
        cert, key = make_test_certificate(workdir / "tls")
        tls_port = free_port()
        args += ["--tls-listening-port", str(tls_port), "--cert", str(cert), "--pkey", str(key)]
    else:
        args += ["--no-tls"]
    log_path = workdir / "server.log"
    proc = _popen(args, log_path)
    server = TurnServer("coturn", proc, port, log_path, args, tls_port)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"turnserver exited with {proc.returncode}:\n{server.log()}", pytrace=False)
        if stun_binding(port, timeout=0.2) is not None:
            if tls_port is None or _tcp_open(tls_port):
                return server
        time.sleep(0.05)
    server.stop()
    pytest.fail(f"turnserver did not answer STUN within {STARTUP_TIMEOUT}s:\n{server.log()}", pytrace=False)


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_turn_server(workdir: Path, **options) -> TurnServer:
    """Start the server under test (TURN_INTEROP_TARGET: switchboard (default) or coturn)."""
    if TARGET == "coturn":
        return start_coturn(workdir, **options)
    if TARGET != "switchboard":
        pytest.fail(f"TURN_INTEROP_TARGET must be switchboard or coturn, not {TARGET!r}", pytrace=False)
    return start_switchboard(workdir, **options)


@dataclass
class Peer:
    """A turnutils_peer UDP echo peer on 127.0.0.1: it echoes on `port` and `port + 1` (uclient's RTCP
    allocations send to the peer port + 1, and every allocation binds a channel to both)."""

    proc: subprocess.Popen
    port: int

    def stop(self) -> None:
        stop_process(self.proc)


def start_peer(workdir: Path) -> Peer:
    workdir.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        port = free_udp_pair()
        proc = _popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(port)], workdir / f"peer-{port}.log")
        time.sleep(0.3)
        if proc.poll() is None:
            return Peer(proc, port)
    pytest.fail("turnutils_peer did not start", pytrace=False)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

_FINAL = re.compile(r"start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", re.M)
_PROGRESS = re.compile(r"start_mclient: msz=\d+, tot_send_msgs=(\d+), tot_recv_msgs=(\d+)")
_LOST = re.compile(r"Total lost packets (\d+) \(([\d.]+)%\)")
_RTT = re.compile(r"Average round trip delay ([\d.]+) ms")
_TRANSMIT = re.compile(r"Total transmit time is (\d+)")
_ERROR = re.compile(r"error (\d{3})")


@dataclass
class UclientResult:
    args: list[str]
    returncode: int
    output: str
    timed_out: bool = False
    sent: int = 0
    received: int = 0
    lost: int | None = None
    loss_percent: float | None = None
    rtt_ms: float | None = None
    transmit_seconds: int | None = None
    error_codes: list[int] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        """The run reached uclient's final summary."""
        return self.lost is not None

    @property
    def allocation_failed(self) -> bool:
        return "Cannot complete Allocation" in self.output

    def describe(self) -> str:
        tail = "\n".join(self.output.splitlines()[-25:])
        return (f"turnutils_uclient {' '.join(self.args)}\n rc={self.returncode} timed_out={self.timed_out} "
                f"sent={self.sent} received={self.received} lost={self.lost} errors={self.error_codes}\n"
                f"--- output tail ---\n{tail}")


def parse_uclient(args: list[str], returncode: int, output: str, timed_out: bool = False) -> UclientResult:
    result = UclientResult(args, returncode, output, timed_out)
    final = _FINAL.findall(output)
    if final:
        result.sent, result.received = map(int, final[-1])
    else:
        progress = _PROGRESS.findall(output)
        if progress:
            result.sent, result.received = map(int, progress[-1])
    if (m := _LOST.search(output)):
        result.lost, result.loss_percent = int(m.group(1)), float(m.group(2))
    if (m := _RTT.search(output)):
        result.rtt_ms = float(m.group(1))
    if (m := _TRANSMIT.search(output)):
        result.transmit_seconds = int(m.group(1))
    result.error_codes = sorted({int(code) for code in _ERROR.findall(output)})
    return result


def run_uclient(args: list[str], timeout: float = 60.0) -> UclientResult:
    """Run turnutils_uclient with `args` (server address last), bounded by `timeout` seconds."""
    cmd = ["turnutils_uclient", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=STOP_TIMEOUT)
    return parse_uclient(args, proc.returncode, out.decode(errors="replace"), timed_out)


_REFLEXIVE = re.compile(r"IPv4\. UDP reflexive addr: (\d+\.\d+\.\d+\.\d+):(\d+)")


def run_stunclient(port: int, timeout: float = 10.0) -> tuple[int | None, str, tuple[str, int] | None]:
    """turnutils_stunclient -p PORT 127.0.0.1 -> (returncode or None on timeout, output, reflexive address)."""
    proc = subprocess.Popen(["turnutils_stunclient", "-p", str(port), "127.0.0.1"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:  # it waits forever when nobody answers
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=STOP_TIMEOUT)
        rc = None
    text = out.decode(errors="replace")
    m = _REFLEXIVE.search(text)
    return rc, text, ((m.group(1), int(m.group(2))) if m else None)


def rest_credentials(secret: str, user: str, expires_at: int) -> tuple[str, str]:
    """TURN REST credentials: username `<expiry>:<user>`, password base64(HMAC-SHA1(secret, username))."""
    username = f"{expires_at}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password
