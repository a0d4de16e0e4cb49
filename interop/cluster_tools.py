"""Clusters of real `switchboard serve` nodes on one throwaway PostgreSQL, for interop/test_cluster.py.

Each test gets a database of its own (CREATE DATABASE on $SWITCHBOARD_TEST_POSTGRES), so nodes of one
test never see another test's directory. Nodes declare a silent peer dead after DEAD_AFTER seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from server_process import REPO, Server, start_server

DEAD_AFTER = 3


def postgres_base() -> str:
    base = os.environ.get("SWITCHBOARD_TEST_POSTGRES")
    if not base:
        pytest.fail("set SWITCHBOARD_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL cluster; "
                    "apt-get install postgresql)", pytrace=False)
    return base


def fresh_database(base: str) -> str:
    """The URL of a new, empty database on the server `base` points at."""
    name = "sb_cluster_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return re.sub(r"/postgres\?", f"/{name}?", base)


def psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-At", "-c", sql], check=True, capture_output=True, text=True, timeout=30)
    return result.stdout.strip()


def http_get(port: int, path: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s", pytrace=False)
        time.sleep(interval)


class Cluster:
    """Nodes on one database; every node is stopped by PID at teardown."""

    def __init__(self, tmp_path: Path, database: str):
        self.tmp_path = tmp_path
        self.database = database
        self.nodes: list[Server] = []

    def start(self, name: str, *extra: str) -> Server:
        node = start_server(self.tmp_path / name, [
            "--database", self.database, "--node-name", name, "--cluster-dead-after", str(DEAD_AFTER),
            "--join-rate", "1000", "--join-burst", "1000", *extra])
        self.nodes.append(node)
        return node

    def wait_ready(self, node: Server, peers: int, timeout: float = 15) -> str:
        """Waits for `/readyz` to answer 200 and list `peers` other live nodes; returns its body."""
        def ready():
            status, body = http_get(node.port, "/readyz")
            return body if status == 200 and f": {peers} peer(s) alive" in body else None
        return wait_until(ready, timeout, f"node on port {node.port} ready with {peers} peers")

    def start_all(self, *names: str, extra: tuple[str, ...] = ()) -> list[Server]:
        started = [self.start(name, *extra) for name in names]
        for node in started:
            self.wait_ready(node, len(self.nodes) - 1)
        return started

    def stop(self):
        for node in self.nodes:
            node.stop()


class PrivatePostgres:
    """A PostgreSQL server of the test's own, which it may stop and start again (an outage)."""

    script = str(REPO / "scripts" / "postgres-test-cluster.sh")

    def __init__(self):
        # Not under pytest's tmp_path: initdb runs as the 'postgres' user, who cannot enter root's 0700 folders.
        self.directory = Path(tempfile.mkdtemp(prefix="switchboard-pg."))
        self.url = subprocess.run([self.script, "start", str(self.directory)], check=True, capture_output=True, text=True,
                                  timeout=120).stdout.strip()

    def halt(self):
        subprocess.run([self.script, "halt", str(self.directory)], check=True, capture_output=True, timeout=60)

    def resume(self):
        subprocess.run([self.script, "resume", str(self.directory)], check=True, capture_output=True, timeout=60)

    def remove(self):
        subprocess.run([self.script, "stop", str(self.directory)], capture_output=True, timeout=60)
