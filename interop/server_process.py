"""Starting and stopping the real `switchboard serve` binary for black-box tests.

The server is started as a subprocess on an ephemeral port (``--http-port 0``); the port is parsed
from its ``listening`` log line. Shared by interop/conftest.py and interop/browser/.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BIN = REPO / ".build" / "debug" / "switchboard"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 3.0
RECV_TIMEOUT = 5.0

_LISTENING = re.compile(r"http\.port(?:=|\":\")(\d+)")  # text or --log-format json


def server_binary() -> Path:
    """Path of the server binary: $SWITCHBOARD_BIN or <repo>/.build/debug/switchboard."""
    path = Path(os.environ.get("SWITCHBOARD_BIN", str(DEFAULT_BIN)))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"switchboard binary not found at {path}; run `swift build` first "
            "(or point SWITCHBOARD_BIN at a built binary)",
            pytrace=False,
        )
    return path


class Server:
    """One running server process."""

    def __init__(self, proc: subprocess.Popen, port: int, log_path: Path, args: list[str]):
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.args = args

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate by PID, then kill if it does not exit in time."""
        if self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            pass


def option_args(options: dict) -> list[str]:
    """{'grace_period': 1} -> ['--grace-period', '1']."""
    args: list[str] = []
    for key, value in options.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    return args


def start_server(data_dir: Path, extra: list[str], environment: dict[str, str] | None = None) -> Server:
    """Start the binary on an ephemeral port and wait for its `listening` line.

    ``environment`` adds variables (e.g. ``SWITCHBOARD_ROOM_CAPACITY``) to the server's environment.
    """
    binary = server_binary()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    args = [
        str(binary), "serve",
        "--host", "127.0.0.1",
        "--http-port", "0",
        "--data-dir", str(data_dir),
        # STUN/TURN defaults to the fixed port 3478, which another process may hold: signaling tests turn it
        # off, TURN tests pass their own free port.
        *([] if "--turn-port" in extra or "SWITCHBOARD_TURN_PORT" in (environment or {}) else ["--turn-port", "0"]),
        # Tests stop servers with SIGTERM: no drain unless a test asks for one (test_shutdown.py does).
        *([] if "--drain-period" in extra else ["--drain-period", "0"]),
        *extra,
    ]
    # The server reads SWITCHBOARD_<OPTION> from the environment; keep ours (e.g.
    # SWITCHBOARD_BIN) from leaking into its configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(environment or {})
    log_file = open(log_path, "wb")
    busy_until = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            proc = subprocess.Popen(args, stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL, env=env)
            break
        except OSError as exc:
            # ETXTBSY: the binary is being rewritten by a concurrent `swift build`; wait for it.
            if exc.errno != errno.ETXTBSY or time.monotonic() > busy_until:
                log_file.close()
                raise
            time.sleep(0.5)
    log_file.close()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        for line in text.splitlines():
            if "listening" in line:
                match = _LISTENING.search(line)
                if match:
                    return Server(proc, int(match.group(1)), log_path, args)
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before listening:\n{text}", pytrace=False)
        time.sleep(0.05)
    server = Server(proc, 0, log_path, args)
    server.stop()
    pytest.fail(f"server did not log a listening line within {STARTUP_TIMEOUT}s:\n{server.log()}", pytrace=False)
