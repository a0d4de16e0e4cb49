"""Memory and CPU of Socket.IO clients that connect the way socket.io does by default: polling, then the upgrade
to a WebSocket. `bench/socketio.sh` drives WebSocket-only clients; this drives python-socketio AsyncClients with
`transports=["polling", "websocket"]`, in rooms of two ("join/leave" vocabulary).

Usage: .venv/bin/python bench/socketio_upgraded.py BINARY [CLIENTS]   (default 600 clients)

It starts BINARY (`switchboard serve`, limits raised for load) on a free loopback port, connects the clients one
by one, and prints the server's resident memory per connection once all have joined and sat idle for 3 s, then
the server's CPU per delivered message over five rounds in which every client messages its room once. The
clients run in this one Python process, which is slower than the server; the CPU figure is the server's alone.
"""

from __future__ import annotations

import asyncio
import re
import resource
import subprocess
import sys
import tempfile
import time

import socketio


def resident_kib(pid: int) -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def start(binary: str) -> tuple[subprocess.Popen, int]:
    data = tempfile.mkdtemp()
    log = open(f"{data}/server.log", "w")
    server = subprocess.Popen(
        [binary, "serve", "--host", "127.0.0.1", "--http-port", "0", "--turn-port", "0", "--data-dir", data,
         "--drain-period", "0", "--join-rate", "1000000", "--join-burst", "1000000", "--max-sessions", "100000",
         "--max-connections-per-address", "0", "--message-rate", "1000000", "--message-burst", "1000000"],
        stdout=log, stderr=log)
    for _ in range(150):
        found = re.search(r"http.port=(\d+)", open(f"{data}/server.log").read())
        if found:
            return server, int(found.group(1))
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


async def measure(server: subprocess.Popen, port: int, count: int) -> None:
    baseline = resident_kib(server.pid)
    delivered = 0

    def received(*_):
        nonlocal delivered
        delivered += 1

    clients = []
    for index in range(count):
        client = socketio.AsyncClient(reconnection=False)
        client.on("message", received)
        await client.connect(f"http://127.0.0.1:{port}", transports=["polling", "websocket"], wait_timeout=20)
        if client.transport() != "websocket":
            raise SystemExit(f"client {index} did not upgrade")
        await client.emit("join", f"room-{index // 2}")
        clients.append(client)
    await asyncio.sleep(3)
    idle = resident_kib(server.pid)
    before = cpu_seconds(server.pid)
    for round_number in range(5):
        for index, client in enumerate(clients):
            await client.emit("message", [f"room-{index // 2}", {"n": round_number}])
        await asyncio.sleep(1)
    await asyncio.sleep(2)
    spent = cpu_seconds(server.pid) - before
    expected = 5 * count
    print(f"{count} upgraded clients: idle RSS per connection {(idle - baseline) / count:.1f} KiB; "
          f"server CPU {1e6 * spent / max(delivered, 1):.0f} us per delivered message; "
          f"{delivered} of {expected} messages delivered")
    for client in clients:
        await client.disconnect()
    if delivered != expected:
        raise SystemExit(1)


def main() -> None:
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    server, port = start(binary)
    try:
        asyncio.run(measure(server, port, count))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
