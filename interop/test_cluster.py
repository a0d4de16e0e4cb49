"""Clustering end to end: real `serve` nodes sharing one throwaway PostgreSQL, real clients (websockets,
python-socketio, an EventSource-style SSE reader) on different nodes of one room.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request

import aiohttp
import pytest
import socketio

from cluster_tools import DEAD_AFTER, Cluster, PrivatePostgres, fresh_database, http_get, postgres_base, psql, wait_until
from conftest import connect, recv_json, send_json, assert_silent


@pytest.fixture
def cluster(tmp_path):
    nodes = Cluster(tmp_path, fresh_database(postgres_base()))
    yield nodes
    nodes.stop()


async def join(url: str, room: str, name: str, **fields):
    ws = await connect(url)
    await send_json(ws, {"type": "join", "room": room, "name": name, **fields})
    return ws, await recv_json(ws)


async def meet(first, second, room: str, first_name: str, second_name: str):
    """A member on `first`, then one on `second`; the first has read its other_joined. ((ws, joined), (ws, joined))"""
    ws_1, joined_1 = await join(first.url, room, first_name)
    ws_2, joined_2 = await join(second.url, room, second_name)
    other = await recv_json(ws_1)
    assert other["type"] == "other_joined" and other["id"] == joined_2["id"], other
    return (ws_1, joined_1), (ws_2, joined_2)


def test_a_room_spans_nodes(cluster):
    a, b, c = cluster.start_all("alpha", "beta", "gamma")

    async def scenario():
        ws_a, joined_a = await join(a.url, "span", "Ada")
        assert joined_a["type"] == "joined" and joined_a["peers"] == []
        ws_b, joined_b = await join(b.url, "span", "Bo")
        assert joined_b["peers"] == [{"id": joined_a["id"], "name": "Ada"}]
        other = await recv_json(ws_a)
        assert other["type"] == "other_joined" and other["id"] == joined_b["id"] and other["name"] == "Bo"
        ws_c, joined_c = await join(c.url, "span", "Cy")
        assert [p["id"] for p in joined_c["peers"]] == [joined_a["id"], joined_b["id"]]
        for ws in (ws_a, ws_b):
            assert (await recv_json(ws))["id"] == joined_c["id"]

        # Broadcast reaches both other nodes, with `from` stamped by the sender's node.
        offer = {"type": "offer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}
        await send_json(ws_a, {"type": "message", "data": offer})
        for ws in (ws_b, ws_c):
            relayed = await recv_json(ws)
            assert relayed["type"] == "message" and relayed["from"] == joined_a["id"] and relayed["data"] == offer
            assert "to" not in relayed
        # Addressed messages reach only their target, across nodes.
        await send_json(ws_c, {"type": "message", "to": joined_b["id"], "data": "for-b"})
        relayed = await recv_json(ws_b)
        assert relayed["from"] == joined_c["id"] and relayed["to"] == joined_b["id"] and relayed["data"] == "for-b"
        await assert_silent(ws_a)
        # A client cannot speak as someone else: `from` is always the sender's own id.
        await send_json(ws_b, {"type": "message", "from": joined_a["id"], "data": "spoof"})
        assert (await recv_json(ws_a))["from"] == joined_b["id"]
        assert (await recv_json(ws_c))["from"] == joined_b["id"]
        # An unknown peer is refused on the sender's node.
        await send_json(ws_a, {"type": "message", "to": "nobody", "data": 1})
        assert (await recv_json(ws_a))["code"] == "unknown_peer"

        # A leave on one node is a bye on the others; a clean close too.
        await send_json(ws_b, {"type": "leave"})
        assert (await recv_json(ws_b))["type"] == "left"
        for ws in (ws_a, ws_c):
            bye = await recv_json(ws)
            assert bye["type"] == "bye" and bye["id"] == joined_b["id"] and bye["reason"] == "left"
        await ws_c.close()
        bye = await recv_json(ws_a)
        assert bye["type"] == "bye" and bye["id"] == joined_c["id"] and bye["reason"] == "closed"
        for ws in (ws_a, ws_b):
            await ws.close()

    asyncio.run(scenario())


def test_per_sender_order_and_zero_loss_across_nodes(cluster):
    a, b = cluster.start_all("alpha", "beta", extra=("--message-rate", "100000", "--message-burst", "100000", "--outbound-queue", "10000"))
    count = 2000

    async def scenario():
        (ws_a, joined_a), (ws_b, joined_b) = await meet(a, b, "order", "Ada", "Bo")

        async def send_all(ws, tag):
            for n in range(count):
                await send_json(ws, {"type": "message", "data": {"from": tag, "n": n, "pad": "x" * (n % 300)}})

        async def receive_all(ws, tag):
            seen = []
            while len(seen) < count:
                message = await recv_json(ws, timeout=15)
                assert message["type"] == "message" and message["data"]["from"] == tag, message
                seen.append(message["data"]["n"])
            return seen

        results = await asyncio.gather(send_all(ws_a, "a"), send_all(ws_b, "b"), receive_all(ws_b, "a"), receive_all(ws_a, "b"))
        assert results[2] == list(range(count))
        assert results[3] == list(range(count))
        await ws_a.close()
        await ws_b.close()

    asyncio.run(scenario())
    _, metrics = http_get(a.port, "/metrics")
    assert 'switchboard_cluster_messages_total{direction="out"}' in metrics
    assert "switchboard_cluster_peers 1" in metrics


def test_large_messages_cross_through_the_payload_table(cluster):
    a, b = cluster.start_all("alpha", "beta")

    async def scenario():
        (ws_a, joined_a), (ws_b, _) = await meet(a, b, "large", "Ada", "Bo")
        big = {"type": "offer", "sdp": "a=candidate:" + "y" * 30_000}
        await send_json(ws_a, {"type": "message", "data": big})
        await send_json(ws_a, {"type": "message", "data": "after"})
        first = await recv_json(ws_b)
        assert first["data"] == big and first["from"] == joined_a["id"]
        assert (await recv_json(ws_b))["data"] == "after"
        await ws_a.close()
        await ws_b.close()

    asyncio.run(scenario())
    assert int(psql(cluster.database, "SELECT count(*) FROM cluster_payloads")) >= 1


def test_every_transport_meets_across_nodes(cluster):
    a, b, c = cluster.start_all("alpha", "beta", "gamma")

    async def scenario():
        ws, joined = await join(a.url, "mixed", "native")
        sio = socketio.AsyncClient(reconnection=False)
        sio_events: asyncio.Queue = asyncio.Queue()
        sio.on("*", lambda event, *args: sio_events.put_nowait((event, list(args))))
        await sio.connect(f"http://127.0.0.1:{b.port}", transports=["websocket"], wait_timeout=10)
        await sio.emit("create or join", "mixed")
        event, args = await asyncio.wait_for(sio_events.get(), 5)
        assert (event, args) == ("joined", ["mixed", sio.get_sid("/")])
        other = await recv_json(ws)
        assert other["type"] == "other_joined" and other["id"] == sio.get_sid("/")

        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{c.port}"
            async with http.get(f"{base}/events", timeout=aiohttp.ClientTimeout(total=None, sock_read=10)) as stream:
                async def next_event():
                    name, data = None, []
                    while True:
                        line = (await stream.content.readline()).decode().rstrip("\n")
                        if line.startswith("event:"):
                            name = line[6:].strip()
                        elif line.startswith("data:"):
                            data.append(line[5:].strip())
                        elif line == "" and data:
                            return name, json.loads("\n".join(data))

                name, session = await next_event()
                assert name == "session"
                post = await http.post(f"{base}/send", json={"type": "join", "room": "mixed", "name": "sse"},
                                       headers={"Authorization": f"Bearer {session['token']}"})
                assert post.status == 202, await post.text()
                name, joined_sse = await next_event()
                assert joined_sse["type"] == "joined"
                assert {p["id"] for p in joined_sse["peers"]} == {joined["id"], sio.get_sid("/")}
                assert (await recv_json(ws))["id"] == joined_sse["id"]

                await send_json(ws, {"type": "message", "data": {"hello": "all"}})
                event, args = await asyncio.wait_for(sio_events.get(), 5)
                while event != "message":
                    event, args = await asyncio.wait_for(sio_events.get(), 5)
                assert args == [{"hello": "all"}]
                name, relayed = await next_event()
                assert relayed["type"] == "message" and relayed["from"] == joined["id"] and relayed["data"] == {"hello": "all"}

                await sio.emit("message", {"from": "sio"})
                relayed = await recv_json(ws)
                assert relayed["from"] == sio.get_sid("/") and relayed["data"] == {"from": "sio"}
                name, relayed = await next_event()
                assert relayed["from"] == sio.get_sid("/")
        await sio.disconnect()
        await ws.close()

    asyncio.run(scenario())


def test_capacity_holds_across_nodes_under_a_race(cluster):
    a, b = cluster.start_all("alpha", "beta")

    async def scenario():
        sockets = [await connect(node.url) for node in (a, b) for _ in range(6)]
        await asyncio.gather(*(send_json(ws, {"type": "join", "room": "race", "capacity": 3}) for ws in sockets))
        answers = [await recv_json(ws) for ws in sockets]
        admitted = [answer for answer in answers if answer["type"] == "joined"]
        refused = [answer for answer in answers if answer["type"] == "full"]
        assert len(admitted) == 3, answers
        assert len(refused) == 9 and all(r["capacity"] == 3 for r in refused)
        for ws in sockets:
            await ws.close()

    for _ in range(3):
        asyncio.run(scenario())


def test_passwords_and_identity_eviction_hold_across_nodes(cluster):
    secret = "cluster-join-secret-" + "0123456789abcdef" * 2
    a, b = cluster.start_all("alpha", "beta", extra=("--join-secret", secret))

    def token(identity: str) -> str:
        import subprocess
        from server_process import server_binary
        result = subprocess.run([str(server_binary()), "token", "--secret", secret, "--room", "locked", "--identity", identity],
                                capture_output=True, text=True, timeout=30, check=True)
        return result.stdout.strip()

    async def scenario():
        ws_a, joined_a = await join(a.url, "locked", "Ada", password="s3cret", token=token("ada"))
        assert joined_a["type"] == "joined"
        for fields, code in (({}, "password_required"), ({"password": "nope"}, "wrong_password")):
            ws, answer = await join(b.url, "locked", "Eve", token=token("eve"), **fields)
            assert answer["type"] == "error" and answer["code"] == code, answer
            await ws.close()
        ws_b, joined_b = await join(b.url, "locked", "Bo", password="s3cret", token=token("bo"))
        assert joined_b["type"] == "joined" and joined_b["peers"][0]["identity"] == "ada"
        assert (await recv_json(ws_a))["type"] == "other_joined"
        # Ada again, on the other node: the older session is evicted everywhere.
        ws_a2, joined_a2 = await join(b.url, "locked", "Ada", password="s3cret", token=token("ada"))
        assert joined_a2["type"] == "joined"
        assert [p["identity"] for p in joined_a2["peers"]] == ["bo"]
        evicted = await recv_json(ws_a)
        assert evicted["type"] == "error" and evicted["code"] == "duplicate_identity"
        bye = await recv_json(ws_b)
        assert bye["type"] == "bye" and bye["id"] == joined_a["id"] and bye["reason"] == "evicted"
        other = await recv_json(ws_b)
        assert other["type"] == "other_joined" and other["id"] == joined_a2["id"]
        for ws in (ws_a, ws_b, ws_a2):
            await ws.close()

    asyncio.run(scenario())


def test_a_killed_node_is_declared_dead_and_the_room_stays_usable(cluster):
    a, b = cluster.start_all("alpha", "beta")

    async def scenario():
        (ws_a, joined_a), (ws_b, joined_b) = await meet(a, b, "crash", "Ada", "Bo")
        killed = time.monotonic()
        os.kill(b.proc.pid, signal.SIGKILL)
        bye = await recv_json(ws_a, timeout=DEAD_AFTER * 4)
        elapsed = time.monotonic() - killed
        assert bye["type"] == "bye" and bye["id"] == joined_b["id"] and bye["reason"] == "timeout", bye
        assert elapsed < DEAD_AFTER * 4
        ws_c, joined_c = await join(a.url, "crash", "Cy")
        assert [p["id"] for p in joined_c["peers"]] == [joined_a["id"]]
        assert (await recv_json(ws_a))["id"] == joined_c["id"]
        await send_json(ws_c, {"type": "message", "data": "still here"})
        assert (await recv_json(ws_a))["data"] == "still here"
        for ws in (ws_a, ws_c):
            await ws.close()

    asyncio.run(scenario())
    wait_until(lambda: "0 peer(s) alive" in http_get(a.port, "/readyz")[1], 10, "the dead node gone from /readyz")


def test_a_stopped_node_leaves_the_cluster_at_once_and_hands_its_members_over(cluster):
    a, b = cluster.start_all("alpha", "beta")

    async def scenario():
        (ws_a, _), (ws_b, joined_b) = await meet(a, b, "stop", "Ada", "Bo")
        # Stopped in a thread, so this loop keeps serving ws_b's close handshake meanwhile.
        await asyncio.to_thread(b.stop)
        assert "cluster node left" in b.log()
        assert "0 peer(s) alive" in http_get(a.port, "/readyz")[1]
        # Bo was handed over, not gone: Ada sees no bye while Bo may still resume elsewhere.
        await assert_silent(ws_a, 1.0)
        status, body = http_get(a.port, "/metrics")
        assert "switchboard_cluster_remote_members 1" in body
        await ws_a.close()

    asyncio.run(scenario())


def test_readyz_metrics_and_admin_api_see_the_cluster(cluster):
    a, b = cluster.start_all("alpha", "beta", extra=("--admin-token", "admin-secret-0123456789"))
    assert "node alpha (" in cluster.wait_ready(a, 1) and "beta" in cluster.wait_ready(a, 1)

    async def scenario():
        (ws_a, joined_a), (ws_b, joined_b) = await meet(a, b, "seen", "Ada", "Bo")
        status, body = http_get(a.port, "/api/admin/rooms", {"Authorization": "Bearer admin-secret-0123456789"})
        assert status == 200, body
        rooms = {room["name"]: room for room in json.loads(body)["rooms"]}
        members = {m["id"]: m for m in rooms["seen"]["members"]}
        assert members[joined_a["id"]]["node"] == "alpha" and members[joined_a["id"]]["transport"] == "websocket"
        assert members[joined_b["id"]]["node"] == "beta"
        _, metrics = http_get(a.port, "/metrics")
        assert "switchboard_cluster_connected 1" in metrics
        assert "switchboard_cluster_remote_members 1" in metrics
        # A kick through alpha's API removes Bo on beta: Bo is told and closed, Ada sees bye.
        request = urllib.request.Request(
            f"http://127.0.0.1:{a.port}/api/admin/rooms/seen/members/{joined_b['id']}", method="DELETE",
            headers={"Authorization": "Bearer admin-secret-0123456789"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 204
        kicked = await recv_json(ws_b)
        assert kicked["type"] == "error" and kicked["code"] == "kicked"
        bye = await recv_json(ws_a)
        assert bye["type"] == "bye" and bye["id"] == joined_b["id"] and bye["reason"] == "removed", bye
        for ws in (ws_a, ws_b):
            await ws.close()

    asyncio.run(scenario())


def test_bad_bus_payloads_are_dropped_and_nothing_else_is_touched(cluster):
    a, b = cluster.start_all("alpha", "beta")

    async def scenario():
        (ws_a, joined_a), (ws_b, _) = await meet(a, b, "bus", "Ada", "Bo")
        forged = 'sb1 intruder * 1\n[{"t":"b","r":"bus","f":"someone","d":"forged","to":["%s"]}]' % joined_a["id"]
        for payload in ("garbage", "sb1 x * 1\n[{", forged, "sb1 x * 1\n@999999"):
            psql(cluster.database, f"SELECT pg_notify('switchboard_cluster', $${payload}$$)")
        await assert_silent(ws_a, 0.5)
        await send_json(ws_b, {"type": "message", "data": "genuine"})
        assert (await recv_json(ws_a))["data"] == "genuine"
        for ws in (ws_a, ws_b):
            await ws.close()

    asyncio.run(scenario())
    log = a.log()
    assert "cluster bus payload dropped" in log and "which the directory does not list" in log
    assert log.count("cluster bus payload dropped") == 4


@pytest.fixture
def outage_cluster(tmp_path):
    """A cluster on a PostgreSQL server of its own, which the test may stop and start."""
    postgres = PrivatePostgres()
    nodes = Cluster(tmp_path, postgres.url)
    nodes.postgres = postgres
    yield nodes
    nodes.stop()
    postgres.remove()


def test_a_postgres_outage_keeps_local_rooms_and_resynchronises(outage_cluster):
    nodes = outage_cluster
    postgres = nodes.postgres
    a, b = nodes.start_all("alpha", "beta")

    async def scenario():
        (local_1, joined_1), (local_2, joined_2) = await meet(a, a, "local", "L1", "L2")
        (far_a, joined_far_a), (far_b, joined_far_b) = await meet(a, b, "far", "Ada", "Bo")

        postgres.halt()
        # A local room keeps working.
        await send_json(local_1, {"type": "message", "data": "during outage"})
        assert (await recv_json(local_2))["data"] == "during outage"
        # New joins are refused with a clear code once the node knows the directory is gone.
        deadline = time.monotonic() + 15
        while True:
            ws, answer = await join(a.url, "late", "Late")
            await ws.close()
            if answer.get("code") == "cluster_unavailable":
                break
            assert time.monotonic() < deadline, answer
            await asyncio.sleep(0.3)
        status, body = http_get(a.port, "/readyz")
        assert status == 503 and "cluster directory unavailable" in body

        postgres.resume()
        nodes.wait_ready(a, 1, timeout=30)
        nodes.wait_ready(b, 1, timeout=30)
        # Cross-node rooms work again, and nobody was declared dead by the outage.
        late, joined_late = await join(b.url, "far", "Late")
        assert joined_late["type"] == "joined", joined_late
        assert {p["id"] for p in joined_late["peers"]} == {joined_far_a["id"], joined_far_b["id"]}
        assert (await recv_json(far_a))["id"] == joined_late["id"]
        await send_json(far_b, {"type": "message", "data": "after"})
        assert (await recv_json(far_a))["data"] == "after"
        for ws in (local_1, local_2, far_a, far_b, late):
            await ws.close()

    asyncio.run(scenario())


def test_drain_hands_sessions_over_to_another_node(cluster):
    a = cluster.start("alpha", "--drain-period", "4")
    b = cluster.start("beta")
    cluster.wait_ready(a, 1)
    cluster.wait_ready(b, 1)

    async def scenario():
        (ws_ada, joined_ada), (ws_cy, joined_cy) = await meet(a, a, "handover", "Ada", "Cy")
        ws_bo, joined_bo = await join(b.url, "handover", "Bo")
        for ws in (ws_ada, ws_cy):
            assert (await recv_json(ws))["id"] == joined_bo["id"]
        await send_json(ws_bo, {"type": "message", "data": "before"})
        last_ada = (await recv_json(ws_ada))["seq"]
        last_cy = (await recv_json(ws_cy))["seq"]

        os.kill(a.proc.pid, signal.SIGTERM)
        for ws in (ws_ada, ws_cy):
            notice = await recv_json(ws)
            assert notice["type"] == "reconnect", notice
        # Ada leaves at once, as a client told to reconnect does; Cy stays until the drain ends.
        await ws_ada.close()
        sent = [f"meanwhile-{n}" for n in range(20)]
        for text in sent[:10]:
            await send_json(ws_bo, {"type": "message", "data": text})
        await send_json(ws_bo, {"type": "message", "to": joined_ada["id"], "data": "just for ada"})
        for text in sent[10:]:
            await send_json(ws_bo, {"type": "message", "data": text})

        # Ada resumes on the other node and gets every message sent meanwhile, in order.
        resumed_ada = await connect(b.url)
        await send_json(resumed_ada, {"type": "resume", "token": joined_ada["token"], "last_seq": last_ada})
        answer = await recv_json(resumed_ada, timeout=10)
        assert answer["type"] == "resumed" and answer["id"] == joined_ada["id"], answer
        assert {p["id"] for p in answer["peers"]} == {joined_cy["id"], joined_bo["id"]}
        got = [await recv_json(resumed_ada) for _ in range(21)]
        # Nothing is lost or reordered, although messages the sender's node routed to the old node before it saw
        # the hand-over are passed on from there, behind later ones that went to the directory directly.
        assert [m["data"] for m in got] == sent[:10] + ["just for ada"] + sent[10:]
        assert [m["seq"] for m in got] == list(range(last_ada + 1, last_ada + 22))
        assert got[10]["to"] == joined_ada["id"] and all(m["from"] == joined_bo["id"] for m in got)

        # Cy's connection is closed when the drain ends; its session is handed over too.
        frames = []
        while True:
            try:
                frames.append(await recv_json(ws_cy, timeout=10))
            except BaseException:
                break
        assert [f["data"] for f in frames if f["type"] == "message"] == sent[:10] + sent[10:]
        last_cy = max([last_cy] + [f["seq"] for f in frames if "seq" in f])
        await send_json(ws_bo, {"type": "message", "data": "after the drain"})
        resumed_cy = await connect(b.url)
        await send_json(resumed_cy, {"type": "resume", "token": joined_cy["token"], "last_seq": last_cy})
        answer = await recv_json(resumed_cy, timeout=10)
        assert answer["type"] == "resumed" and answer["id"] == joined_cy["id"], answer
        assert (await recv_json(resumed_cy))["data"] == "after the drain"

        # Bo never saw anyone leave, and the room carries on on one node.
        await send_json(resumed_ada, {"type": "message", "data": "from ada, on beta"})
        assert (await recv_json(ws_bo))["data"] == "from ada, on beta"
        assert (await recv_json(resumed_cy))["data"] == "from ada, on beta"
        await assert_silent(ws_bo, 0.5)
        for ws in (resumed_ada, resumed_cy, ws_bo):
            await ws.close()

    asyncio.run(scenario())
    assert a.proc.wait(timeout=20) == 0
    assert "cluster node left" in a.log()


def test_a_dropped_client_resumes_on_another_node_without_loss(cluster):
    a, b = cluster.start_all("alpha", "beta")

    async def scenario():
        (ws_ada, joined_ada), (ws_bo, joined_bo) = await meet(a, b, "drop", "Ada", "Bo")
        await send_json(ws_bo, {"type": "message", "data": "seen"})
        last = (await recv_json(ws_ada))["seq"]
        ws_ada.transport.abort()  # the network drops: no close frame
        for n in range(5):
            await send_json(ws_bo, {"type": "message", "data": n})
        # The load balancer sends the reconnecting client to the other node.
        again = await connect(b.url)
        await send_json(again, {"type": "resume", "token": joined_ada["token"], "last_seq": last})
        answer = await recv_json(again, timeout=10)
        assert answer["type"] == "resumed" and answer["id"] == joined_ada["id"], answer
        # All five arrive, in order.
        assert [(await recv_json(again))["data"] for _ in range(5)] == list(range(5))
        await send_json(again, {"type": "message", "data": "back"})
        relayed = await recv_json(ws_bo)
        assert relayed["data"] == "back" and relayed["from"] == joined_ada["id"]
        await assert_silent(ws_bo, 0.3)
        for ws in (again, ws_bo):
            await ws.close()

    asyncio.run(scenario())


def test_a_resume_through_another_node_takes_over_a_live_session(cluster):
    a, b = cluster.start_all("alpha", "beta")

    async def scenario():
        (ws_ada, joined_ada), (ws_bo, joined_bo) = await meet(a, b, "takeover", "Ada", "Bo")
        await send_json(ws_bo, {"type": "message", "data": "first"})
        last = (await recv_json(ws_ada))["seq"]
        # The old connection still looks alive to alpha (its drop has not been noticed yet).
        again = await connect(b.url)
        await send_json(again, {"type": "resume", "token": joined_ada["token"], "last_seq": last})
        replaced = await recv_json(ws_ada, timeout=10)
        assert replaced["type"] == "error" and replaced["code"] == "replaced", replaced
        answer = await recv_json(again, timeout=10)
        assert answer["type"] == "resumed" and answer["id"] == joined_ada["id"], answer
        await send_json(ws_bo, {"type": "message", "data": "second"})
        assert (await recv_json(again))["data"] == "second"
        await assert_silent(ws_bo, 0.3)
        # A token nobody holds is refused.
        stranger = await connect(a.url)
        await send_json(stranger, {"type": "resume", "token": "x" * 43, "last_seq": 0})
        assert (await recv_json(stranger, timeout=10))["code"] == "resume_failed"
        for ws in (again, ws_bo, stranger, ws_ada):
            await ws.close()

    asyncio.run(scenario())


def test_a_handed_over_session_nobody_resumes_leaves_after_the_grace_period(cluster):
    a = cluster.start("alpha", "--grace-period", "2")
    b = cluster.start("beta", "--grace-period", "2")
    cluster.wait_ready(a, 1)
    cluster.wait_ready(b, 1)

    async def scenario():
        (ws_ada, joined_ada), (ws_bo, _) = await meet(a, b, "orphan", "Ada", "Bo")
        os.kill(a.proc.pid, signal.SIGTERM)
        bye = await recv_json(ws_bo, timeout=2 + DEAD_AFTER * 3)
        assert bye["type"] == "bye" and bye["id"] == joined_ada["id"] and bye["reason"] == "timeout", bye
        # A late resume finds nothing.
        late = await connect(b.url)
        await send_json(late, {"type": "resume", "token": joined_ada["token"], "last_seq": 1})
        assert (await recv_json(late))["code"] == "resume_failed"
        for ws in (ws_ada, ws_bo, late):
            await ws.close()

    asyncio.run(scenario())


def test_socketio_join_leave_vocabulary_and_its_capacity_across_nodes(cluster):
    from test_socketio_signaling import Peer  # the python-socketio recorder of the single-node tests

    a, b, c = cluster.start_all("alpha", "beta", "gamma")

    async def scenario():
        peers = [await Peer(node.port, "websocket").connect() for node in (a, b, c)]
        first, second, third = peers
        try:
            await first.sio.emit("join", "sio-room")
            assert await first.next("joined") == ["sio-room", first.sid]
            await second.sio.emit("join", "sio-room")
            assert await second.next("joined") == ["sio-room", second.sid]
            assert await first.next("otherjoin") == ["sio-room", second.sid]
            # This vocabulary's rooms hold two: the third, on a third node, is refused.
            await third.sio.emit("join", "sio-room")
            assert await third.next("full") == ["sio-room", third.sid]
            await first.sio.emit("message", ("sio-room", {"type": "offer", "sdp": "o"}))
            assert await second.next("message") == ["sio-room", {"type": "offer", "sdp": "o"}]
            await second.sio.emit("message", ("sio-room", {"type": "answer", "sdp": "a"}))
            assert await first.next("message") == ["sio-room", {"type": "answer", "sdp": "a"}]
            await first.sio.emit("leave", "sio-room")
            assert await first.next("leaved") == ["sio-room", first.sid]
            assert await second.next("bye") == ["sio-room", first.sid]
            await third.sio.emit("join", "sio-room")
            assert await third.next("joined") == ["sio-room", third.sid]
            assert await second.next("otherjoin") == ["sio-room", third.sid]
        finally:
            for peer in peers:
                await peer.close()

    asyncio.run(scenario())
