"""Soak: hours of churn against one server, watching its memory and file descriptors.

Drives, all at once and bounded in count: WebSocket clients that connect, join a room, relay messages to a
partner and leave (join/leave churn); Socket.IO-free steady pairs relaying all along; TURN allocations over TCP
that come and go. Every SAMPLE seconds it prints the server's RssAnon, open file descriptors and the churn done.
At the end it compares the last quarter of samples with the second (after warm-up): RSS must not grow by more
than 10% + 8 MiB and fds by more than 20, else it exits 1.

Usage: python bench/soak.py --binary .build/release/switchboard --duration 3600 [--sample 30]
(bench/soak.sh builds the release binary and runs it for an hour.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "interop"))
from turn_tools import allocate_over, free_port  # noqa: E402

import websockets  # noqa: E402


def status(pid: int) -> tuple[int, int]:
    """(RssAnon in KiB, open file descriptors) of a process."""
    text = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"RssAnon:\s+(\d+)", text).group(1))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


class Counters:
    def __init__(self) -> None:
        self.sessions = self.messages = self.allocations = self.errors = 0


async def churn_client(url: str, counters: Counters, stop: float, index: int) -> None:
    """Connect, join a room of two, exchange a few messages with whoever is there, leave; again until `stop`."""
    while time.monotonic() < stop:
        try:
            async with websockets.connect(url, open_timeout=10) as ws:
                await ws.send(json.dumps({"type": "join", "room": f"churn-{index // 2}-{random.randrange(4)}"}))
                for _ in range(5):
                    await ws.send(json.dumps({"type": "message", "data": {"sdp": "v=0\r\n" * 20}}))
                    await asyncio.sleep(0.05)
                await ws.send(json.dumps({"type": "leave"}))
                counters.sessions += 1
        except Exception:
            counters.errors += 1
            await asyncio.sleep(0.5)
        await asyncio.sleep(random.uniform(0.05, 0.3))


async def steady_pair(url: str, counters: Counters, stop: float, index: int) -> None:
    """Two peers in one room relaying to each other at 5 msg/s each, for the whole run."""
    room = f"steady-{index}"
    async with websockets.connect(url) as a, websockets.connect(url) as b:
        for ws in (a, b):
            await ws.send(json.dumps({"type": "join", "room": room}))
        async def drain(ws) -> None:
            async for frame in ws:
                if json.loads(frame).get("type") == "message":
                    counters.messages += 1
        readers = [asyncio.create_task(drain(ws)) for ws in (a, b)]
        while time.monotonic() < stop:
            for ws in (a, b):
                await ws.send(json.dumps({"type": "message", "data": {"candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ host"}}))
            await asyncio.sleep(0.2)
        for task in readers:
            task.cancel()


def allocation_churn(port: int, counters: Counters, stop: float) -> None:
    """TURN allocations over TCP: allocate, hold briefly, close (the allocation ends with the connection)."""
    while time.monotonic() < stop:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                allocate_over(sock, b"soak", b"soak-password")
                counters.allocations += 1
                time.sleep(random.uniform(0.05, 0.5))
        except Exception:
            counters.errors += 1
            time.sleep(0.5)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--duration", type=float, default=3600)
    parser.add_argument("--sample", type=float, default=30)
    parser.add_argument("--churn-clients", type=int, default=40)
    parser.add_argument("--steady-pairs", type=int, default=50)
    parser.add_argument("--allocation-threads", type=int, default=4)
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="switchboard-soak-")
    turn_port = free_port()
    log = open(Path(data) / "server.log", "wb")
    server = subprocess.Popen(
        [args.binary, "serve", "--host", "127.0.0.1", "--http-port", "0", "--data-dir", data, "--turn-port", str(turn_port),
         "--relay-ip", "127.0.0.1", "--turn-user", "soak:soak-password", "--drain-period", "0",
         "--join-rate", "1000", "--join-burst", "1000"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (match := re.search(rb"http\.port=(\d+)", (Path(data) / "server.log").read_bytes())):
            if time.monotonic() > deadline or server.poll() is not None:
                print((Path(data) / "server.log").read_text(errors="replace"))
                return 2
            await asyncio.sleep(0.1)
        url = f"ws://127.0.0.1:{int(match.group(1))}/ws"
        counters = Counters()
        stop = time.monotonic() + args.duration
        tasks = [asyncio.create_task(churn_client(url, counters, stop, i)) for i in range(args.churn_clients)]
        tasks += [asyncio.create_task(steady_pair(url, counters, stop, i)) for i in range(args.steady_pairs)]
        loop = asyncio.get_running_loop()
        tasks += [loop.run_in_executor(None, allocation_churn, turn_port, counters, stop) for _ in range(args.allocation_threads)]
        samples: list[tuple[float, int, int]] = []
        began = time.monotonic()
        print(f"{'seconds':>8} {'RssAnon KiB':>12} {'fds':>6} {'sessions':>9} {'messages':>10} {'allocations':>12} {'errors':>7}")
        while time.monotonic() < stop:
            await asyncio.sleep(min(args.sample, max(0.0, stop - time.monotonic())))
            rss, fds = status(server.pid)
            samples.append((time.monotonic() - began, rss, fds))
            print(f"{samples[-1][0]:8.0f} {rss:12d} {fds:6d} {counters.sessions:9d} {counters.messages:10d} "
                  f"{counters.allocations:12d} {counters.errors:7d}", flush=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        quarter = max(1, len(samples) // 4)
        early, late = samples[quarter:2 * quarter], samples[-quarter:]
        rss_early, rss_late = statistics.median(s[1] for s in early), statistics.median(s[1] for s in late)
        fds_early, fds_late = statistics.median(s[2] for s in early), statistics.median(s[2] for s in late)
        flat = rss_late <= rss_early * 1.10 + 8192 and fds_late <= fds_early + 20
        print(json.dumps({
            "duration_s": args.duration, "sessions": counters.sessions, "messages": counters.messages,
            "allocations": counters.allocations, "errors": counters.errors,
            "rss_anon_kib": {"second_quarter": rss_early, "last_quarter": rss_late},
            "fds": {"second_quarter": fds_early, "last_quarter": fds_late}, "flat": flat}))
        return 0 if flat and server.poll() is None else 1
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
