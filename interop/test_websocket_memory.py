"""A WebSocket connection's memory is returned when it closes.

Opening and closing /ws connections used to keep each connection's channel alive (a reference cycle
through the upgrade handler): about 5 KB per connection, never returned. This soak opens and closes
connections in rounds and fails if resident anonymous memory keeps growing after a warm-up round.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import connect
from server_process import start_server

ROUND = 1000
ROUNDS = 3
# Caches and allocator arenas settle after a few thousand connections (measured: flat from about 4,000 on).
WARM_UP = 5000
# Allocator slack and caches, far below the 5 KB per connection (15 MB over the rounds) of the old leak.
ALLOWED_GROWTH_KIB = 2048


def rss_anon_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc status")


def test_opening_and_closing_websockets_returns_their_memory(tmp_path):
    server = start_server(tmp_path / "srv", [])

    async def churn(count: int):
        for _ in range(count):
            async with connect(server.url):
                pass

    try:
        asyncio.run(churn(WARM_UP))  # pools, caches and arenas reach their working size
        asyncio.run(asyncio.sleep(1))
        after_warm_up = rss_anon_kib(server.proc.pid)
        samples = []
        for _ in range(ROUNDS):
            asyncio.run(churn(ROUND))
            asyncio.run(asyncio.sleep(1))
            samples.append(rss_anon_kib(server.proc.pid))
        growth = samples[-1] - after_warm_up
        assert growth < ALLOWED_GROWTH_KIB, (
            f"RssAnon grew {growth} KiB over {ROUND * ROUNDS} connections after warm-up "
            f"({after_warm_up} KiB, then {samples}): about {growth * 1024 // (ROUND * ROUNDS)} bytes per connection")
    finally:
        server.stop()
