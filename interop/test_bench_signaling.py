"""`switchboard bench signaling` and `bench socketio`, the load generators behind bench/signaling.sh and
bench/socketio.sh, against the real server binary (and, for Socket.IO, the python-socketio anchor).

Their figures go into bench/README.md, so they must count what they claim: every message sent is received once, in
order, and a failure (a server that is not there, a join the server refuses) is reported, not hidden. Both
peer engines are checked: channel handlers on one event loop (the default) and the task-based ones (`--sdk` for
`/ws`, `--tasks` for Socket.IO).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, server_binary

LOAD_OPTIONS = dict(message_rate=100000, message_burst=100000, join_rate=100000, join_burst=100000,
                    max_connections_per_address=0)


def run_bench(url: str, *extra: str, timeout: float = 90, command: str = "signaling") -> tuple[int, dict]:
    """Runs the generator with --json; returns its exit code and its report."""
    args = [str(server_binary()), "bench", command, "--url", url, "--json", *extra]
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON report (exit {done.returncode}): {done.stdout}\n{done.stderr}"
    return done.returncode, json.loads(lines[-1])


@pytest.mark.parametrize("engine", [[], ["--sdk"]], ids=["event-loop", "sdk"])
def test_every_message_arrives_once_in_order(server_factory, engine):
    url = server_factory(**LOAD_OPTIONS)
    pid = str(server_factory.servers[0].proc.pid)
    code, report = run_bench(url, "--connections", "40", "--rate", "10", "--duration", "2", "--drain", "10",
                             "--server-pid", pid, *engine)
    assert_complete(code, report)
    # The server's figures are read from /proc around the measured part.
    assert report["server_cpu_us_per_message"] > 0, report
    assert "server_idle_rss_per_connection_bytes" in report and "server_rss_per_connection_bytes" in report, report
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p99"], report


def test_a_server_that_is_not_there_is_a_failed_run():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now: every connection is refused.
    code, report = run_bench(f"ws://127.0.0.1:{port}/ws", "--connections", "4", "--duration", "1")
    assert code == 2, report
    assert report["errors"] == 4 and report["received"] == 0, report
    assert all(kind.startswith("connect") for kind in report["error_kinds"]), report


def test_a_refused_join_is_reported(server_factory):
    # Rooms need a join token here, and the generator has none: the server answers every join with an error.
    url = server_factory(join_secret="bench-test-secret-0123456789abcdef", **LOAD_OPTIONS)
    code, report = run_bench(url, "--connections", "4", "--duration", "1")
    assert code == 2, report
    assert report["errors"] >= 4 and report["sent"] == 0, report


def test_an_answer_that_is_not_the_upgrade_is_a_failed_run(server_factory):
    # /healthz answers plain HTTP: every peer's upgrade is refused at once, not left to time out.
    url = server_factory(**LOAD_OPTIONS).replace("/ws", "/healthz")
    code, report = run_bench(url, "--connections", "4", "--duration", "1", timeout=30)
    assert code == 2, report
    assert report["errors"] == 4 and report["sent"] == 0, report
    assert all(kind.startswith("upgrade refused") for kind in report["error_kinds"]), report


def assert_complete(code: int, report: dict) -> None:
    assert code == 0, report
    # 20 rooms of two, each peer paced at 10 msg/s for 2 s.
    assert report["sent"] == report["received"] >= 40 * 15, report
    assert report["lost"] == 0 and report["out_of_order"] == 0 and report["errors"] == 0, report


@pytest.mark.parametrize("engine", [[], ["--tasks"]], ids=["event-loop", "tasks"])
def test_socketio_every_message_arrives_once_in_order(server_factory, engine):
    base = server_factory(**LOAD_OPTIONS).removesuffix("/ws")
    assert_complete(*run_bench(base, "--connections", "40", "--rate", "10", "--duration", "2", "--drain", "10", *engine,
                               command="socketio"))


def test_socketio_against_the_python_socketio_anchor(tmp_path):
    log = open(tmp_path / "anchor.log", "w")
    anchor = subprocess.Popen([sys.executable, str(Path(REPO) / "bench" / "sio_reference_server.py"), "--port", "0"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        deadline = time.monotonic() + 20
        while port is None and time.monotonic() < deadline:
            found = re.search(r"listening port=(\d+)", (tmp_path / "anchor.log").read_text())
            port = int(found.group(1)) if found else time.sleep(0.1)
        assert port, (tmp_path / "anchor.log").read_text()
        assert_complete(*run_bench(f"ws://127.0.0.1:{port}", "--connections", "40", "--rate", "10", "--duration", "2",
                                   "--drain", "10", command="socketio"))
    finally:
        anchor.terminate()
        anchor.wait(timeout=10)
