"""`/api/ice-servers` and `/api/turn` against the real binary; the credentials they mint are tried on
Switchboard's own TURN server with coturn's `turnutils_uclient`.

Also the web client's static serving: `/`, `/r/<room>`, assets, and the headers every answer carries.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from turn_tools import SECRET, require_coturn_tools, rest_credentials, run_uclient, start_switchboard


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET http://127.0.0.1:<port><path> → (status, headers with lower-case names, body); no proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def get_json(port: int, path: str, status: int = 200) -> dict:
    code, headers, body = get(port, path)
    assert code == status, f"GET {path}: {code} {body!r}"
    assert headers["content-type"].startswith("application/json"), headers
    assert headers.get("cache-control") == "no-store", "credentials must not be cached"
    return json.loads(body)


@pytest.fixture
def switchboard(tmp_path):
    """Factory: starts `switchboard serve` with TURN on free ports (static user off) and stops it by PID."""
    require_coturn_tools()
    servers = []

    def start(**options):
        server = start_switchboard(tmp_path / f"sb{len(servers)}", user=False, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def allocate_and_relay(server, peer, username: str, password: str):
    """A short uclient run with these credentials to the UDP echo peer (loopback peers allowed)."""
    return run_uclient(["-n", "5", "-m", "1", "-l", "120", "-e", "127.0.0.1", "-r", str(peer.port),
                        "-u", username, "-w", password, "-p", str(server.port), "127.0.0.1"], timeout=60)


def split_turn(answer: dict) -> tuple[dict, dict]:
    stun = [s for s in answer["iceServers"] if s["urls"][0].startswith("stun:")]
    turn = [s for s in answer["iceServers"] if s["urls"][0].startswith("turn")]
    assert len(stun) == 1 and len(turn) == 1, answer
    return stun[0], turn[0]


def test_ice_servers_mint_rest_credentials_that_turn_accepts(switchboard, peer):
    server = switchboard(secret=SECRET, extra=("--turn-credential-ttl", "600"))
    before = int(time.time())
    answer = get_json(server.http_port, "/api/ice-servers")
    after = int(time.time())
    stun, turn = split_turn(answer)
    assert stun == {"urls": [f"stun:127.0.0.1:{server.port}"]}
    assert turn["urls"] == [f"turn:127.0.0.1:{server.port}?transport=udp", f"turn:127.0.0.1:{server.port}?transport=tcp"]
    assert answer["turn"] == {"enabled": True}
    assert answer["ttl"] == 600
    expiry, user = turn["username"].split(":", 1)
    assert before + 600 <= int(expiry) <= after + 600, "the TTL sets the expiry"
    assert answer["expires"] == int(expiry)
    assert len(user) >= 8, "each answer gets its own unguessable user part"
    assert turn["credential"] == rest_credentials(SECRET, user, int(expiry))[1], "password = base64(HMAC-SHA1(secret, username))"
    second = split_turn(get_json(server.http_port, "/api/ice-servers"))[1]
    assert second["username"] != turn["username"]

    result = allocate_and_relay(server, peer, turn["username"], turn["credential"])
    assert result.returncode == 0 and result.sent > 0 and result.received == result.sent, result.describe()
    assert not result.error_codes, result.describe()


def test_expired_minted_credentials_are_refused_by_turn(switchboard, peer):
    server = switchboard(secret=SECRET, extra=("--turn-credential-ttl", "5"))
    turn = split_turn(get_json(server.http_port, "/api/ice-servers"))[1]
    fresh = allocate_and_relay(server, peer, turn["username"], turn["credential"])
    assert fresh.returncode == 0 and fresh.received == fresh.sent > 0, fresh.describe()
    expiry = int(turn["username"].split(":", 1)[0])
    time.sleep(max(0.0, expiry + 1.2 - time.time()))
    stale = allocate_and_relay(server, peer, turn["username"], turn["credential"])
    assert stale.returncode != 0 and stale.received == 0, stale.describe()
    assert stale.allocation_failed, f"an expired username must not allocate\n{stale.describe()}"


def test_turn_rest_api_answer(switchboard, peer):
    server = switchboard(secret=SECRET, extra=("--turn-credential-ttl", "900"))
    answer = get_json(server.http_port, "/api/turn?service=turn&username=bob")
    assert set(answer) == {"username", "password", "ttl", "uris"}
    assert answer["ttl"] == 900
    expiry, user = answer["username"].split(":", 1)
    assert user == "bob" and abs(int(expiry) - (time.time() + 900)) < 5
    assert answer["password"] == rest_credentials(SECRET, "bob", int(expiry))[1]
    assert answer["uris"] == [f"turn:127.0.0.1:{server.port}?transport=udp", f"turn:127.0.0.1:{server.port}?transport=tcp"]
    result = allocate_and_relay(server, peer, answer["username"], answer["password"])
    assert result.returncode == 0 and result.received == result.sent > 0, result.describe()

    assert get_json(server.http_port, "/api/turn?service=stun", status=400)["code"] == "unsupported_service"
    assert get_json(server.http_port, "/api/turn", status=400)["code"] == "unsupported_service"
    assert get_json(server.http_port, "/api/turn?service=turn&username=" + "x" * 129, status=400)["code"] == "invalid_username"
    assert get_json(server.http_port, "/api/turn?service=turn&username=a%0Ab", status=400)["code"] == "invalid_username"


def test_credential_requests_are_rate_limited_per_address(switchboard):
    server = switchboard(secret=SECRET, extra=("--join-rate", "0.2", "--join-burst", "3"))
    for path in ("/api/ice-servers", "/api/turn?service=turn", "/api/ice-servers"):
        get_json(server.http_port, path)
    for path in ("/api/ice-servers", "/api/turn?service=turn"):
        assert get_json(server.http_port, path, status=429)["code"] == "rate_limited"
    status, _, body = get(server.http_port, "/")
    assert status == 200, "the page itself is not limited"


def test_tls_and_external_address_shape_the_uris(switchboard):
    server = switchboard(secret=SECRET, tls=True, extra=("--external-ip", "203.0.113.7/127.0.0.1"))
    stun, turn = split_turn(get_json(server.http_port, "/api/ice-servers"))
    assert stun["urls"] == [f"stun:203.0.113.7:{server.port}"]
    assert turn["urls"] == [
        f"turn:203.0.113.7:{server.port}?transport=udp",
        f"turn:203.0.113.7:{server.port}?transport=tcp",
        f"turns:203.0.113.7:{server.tls_port}?transport=tcp",
    ]
    named = switchboard(secret=SECRET, extra=("--ice-host", "turn.example.org"))
    assert get_json(named.http_port, "/api/turn?service=turn")["uris"][0] == f"turn:turn.example.org:{named.port}?transport=udp"


def test_without_a_secret_only_stun_is_offered_and_the_reason_given(switchboard):
    server = switchboard()
    answer = get_json(server.http_port, "/api/ice-servers")
    assert answer["iceServers"] == [{"urls": [f"stun:127.0.0.1:{server.port}"]}]
    assert answer["turn"]["enabled"] is False and "--turn-secret" in answer["turn"]["reason"]
    rest = get_json(server.http_port, "/api/turn?service=turn")
    assert rest["uris"] == [f"stun:127.0.0.1:{server.port}"] and "--turn-secret" in rest["reason"]
    assert "username" not in rest and "password" not in rest


def test_with_turn_off_nothing_is_offered_and_the_reason_given(server_factory):
    url = server_factory(turn_secret="unused")  # start_server adds --turn-port 0
    port = int(url.split(":")[2].split("/")[0])
    answer = get_json(port, "/api/ice-servers")
    assert answer["iceServers"] == []
    assert answer["turn"]["enabled"] is False and "--turn-port 0" in answer["turn"]["reason"]


def test_web_client_is_served_with_a_strict_policy(server_factory):
    url = server_factory()
    port = int(url.split(":")[2].split("/")[0])
    status, headers, index = get(port, "/")
    assert status == 200 and headers["content-type"].startswith("text/html"), (status, headers)
    assert b'type="module"' in index
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    for path in ("/r/demo", "/r/demo/", "/r/Room-1.x?relay=1"):
        status, headers, body = get(port, path)
        assert status == 200 and body == index, f"{path} must serve the client page"
    status, headers, _ = get(port, "/js/main.js")
    assert status == 200 and "javascript" in headers["content-type"]
    assert get(port, "/r/a/b")[0] == 404
    assert get(port, "/nothing-here.js")[0] == 404
    assert get(port, "/%2e%2e/Package.swift")[0] in (400, 404), "no path traversal out of public/"
    assert get(port, "/api/ice-servers")[1]["x-content-type-options"] == "nosniff"
