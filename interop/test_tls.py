"""TLS end to end through the real binary: `--tls self-signed` serving HTTPS, WSS and TURN over TLS to clients
that trust exactly that certificate (and relaying through coturn's uclient over TLS), and certificate reloads on
SIGHUP and on a file change that serve the new certificate while an old connection stays up, with a bad new
pair refused and the old one kept."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import connect, recv_json, send_json
from server_process import start_server
from turn_tools import free_port, require_coturn_tools, run_uclient, start_peer, stop_process


def https_port(server) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        match = re.search(r"https\.port=(\d+)", server.log())
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    pytest.fail(f"no 'listening https' line:\n{server.log()}", pytrace=False)


def trusting(cert: Path) -> ssl.SSLContext:
    """A client context that trusts only `cert` and checks the host name."""
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = True
    return context


def served_fingerprint(port: int, host: str = "127.0.0.1") -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=5) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def make_pair(directory: Path, name: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def stun_binding_over_tls(port: int, context: ssl.SSLContext) -> bytes:
    """One RFC 8489 Binding request over TLS; returns the response header's type and magic cookie."""
    request = struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, os.urandom(12))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(request)
        header = tls.recv(20)
    return header


def test_self_signed_serves_https_wss_and_turns_to_clients_that_trust_it(tmp_path):
    require_coturn_tools()
    turn_port, tls_port = free_port(), free_port()
    server = start_server(tmp_path, ["--tls", "self-signed", "--https-port", "0", "--turn-port", str(turn_port),
                                     "--turn-tls-port", str(tls_port), "--relay-ip", "127.0.0.1",
                                     "--allow-loopback-peers", "--turn-user", "alice:pw", "--rfc5766-channel-numbers"])
    peer = start_peer(tmp_path / "peer")
    try:
        port = https_port(server)
        cert = tmp_path / "tls" / "self-signed-cert.pem"
        assert cert.is_file() and (tmp_path / "tls" / "self-signed-key.pem").stat().st_mode & 0o077 == 0
        printed = re.search(r"TLS: SHA-256 fingerprint ([0-9A-F:]{95})", server.log()).group(1)
        assert served_fingerprint(port) == printed
        context = trusting(cert)

        with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=context, timeout=5) as response:
            assert response.read() == b"ok\n"
        with pytest.raises(ssl.SSLCertVerificationError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            ssl.create_default_context().wrap_socket(socket.create_connection(("127.0.0.1", port)),
                                                     server_hostname="127.0.0.1")

        async def wss():
            async with connect(f"wss://127.0.0.1:{port}/ws", ssl=context) as ws:
                await send_json(ws, {"type": "join", "room": "secure"})
                assert (await recv_json(ws))["type"] == "joined"
        asyncio.run(wss())

        header = stun_binding_over_tls(tls_port, context)
        assert struct.unpack("!HHI", header[:8])[0] == 0x0101 and header[4:8] == b"\x21\x12\xa4\x42"
        assert served_fingerprint(tls_port) == printed, "TURN over TLS serves the same certificate"
        result = run_uclient(["-t", "-S", "-n", "20", "-m", "1", "-l", "170", "-X", "-g", "-e", "127.0.0.1",
                              "-r", str(peer.port), "-u", "alice", "-w", "pw", "-p", str(tls_port), "127.0.0.1"])
        assert result.completed and result.sent > 0 and result.received == result.sent, result.describe()
    finally:
        stop_process(peer.proc)
        server.stop()


def test_certificates_reload_on_sighup_and_on_file_change_without_dropping_connections(tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    first = make_pair(tmp_path / "pairs", "first")
    second = make_pair(tmp_path / "pairs", "second")
    third = make_pair(tmp_path / "pairs", "third")
    cert, key = live / "cert.pem", live / "key.pem"
    shutil.copy(first[0], cert)
    shutil.copy(first[1], key)

    def fingerprint_of(pem: Path) -> str:
        out = subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-fingerprint", "-sha256"],
                             capture_output=True, text=True, check=True).stdout
        return out.strip().split("=", 1)[1]

    server = start_server(tmp_path / "srv", ["--tls-cert", str(cert), "--tls-key", str(key), "--https-port", "0"])
    try:
        port = https_port(server)
        assert served_fingerprint(port) == fingerprint_of(first[0])

        async def run():
            async with connect(f"wss://127.0.0.1:{port}/ws", ssl=trusting(first[0])) as old:
                await send_json(old, {"type": "join", "room": "stays"})
                assert (await recv_json(old))["type"] == "joined"

                # SIGHUP: new connections get the second certificate …
                shutil.copy(second[0], cert)
                shutil.copy(second[1], key)
                os.kill(server.proc.pid, signal.SIGHUP)
                deadline = time.monotonic() + 5
                while served_fingerprint(port) != fingerprint_of(second[0]) and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                assert served_fingerprint(port) == fingerprint_of(second[0])
                # … while the old connection, on the first, stays up.
                await send_json(old, {"type": "ping"})
                assert (await recv_json(old))["type"] == "pong"

                # A bad pair (the third certificate with the second's key) is refused; the second stays.
                shutil.copy(third[0], cert)
                os.kill(server.proc.pid, signal.SIGHUP)
                deadline = time.monotonic() + 5
                while "TLS certificate not reloaded" not in server.log() and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                assert "TLS certificate not reloaded: keeping the old one" in server.log()
                assert served_fingerprint(port) == fingerprint_of(second[0])

                # A file change alone (no signal) is picked up too: the matching key arrives.
                shutil.copy(third[1], key)
                os.utime(key)
                deadline = time.monotonic() + 8
                while served_fingerprint(port) != fingerprint_of(third[0]) and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                assert served_fingerprint(port) == fingerprint_of(third[0])
                await send_json(old, {"type": "ping"})
                assert (await recv_json(old))["type"] == "pong"
        asyncio.run(run())
        assert server.proc.poll() is None, "SIGHUP must not stop the server"
        assert "BEGIN" not in server.log() and "PRIVATE" not in server.log(), "key material is never logged"
    finally:
        server.stop()


def test_an_unusable_certificate_stops_start_up_with_a_clear_error(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    from server_process import server_binary
    result = subprocess.run([str(server_binary()), "serve", "--host", "127.0.0.1", "--http-port", "0", "--turn-port", "0",
                             "--data-dir", str(tmp_path / "data"), "--tls-cert", str(junk), "--tls-key", str(junk)],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode != 0
    assert f"cannot load --tls-cert '{junk}'" in result.stderr, result.stderr
