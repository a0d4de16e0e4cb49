"""STUN/TURN interop: Switchboard's TURN server (RFC 8489/8656) driven by coturn's own clients.

Every test starts its own server on free ports and a `turnutils_peer` UDP echo peer, runs
`turnutils_uclient` / `turnutils_stunclient` with bounded counts and subprocess timeouts, and
asserts on the parsed output (messages sent/received, loss, `error NNN` codes).

    TURN_INTEROP_TARGET=coturn pytest interop/test_turn.py     # the same tests against coturn 4.6.1

The coturn run is the evidence that each client invocation and output pattern is right, so a failure
against Switchboard is Switchboard's. Every test not marked `switchboard_only` passes against coturn
4.6.1. `switchboard_only` tests cover where coturn differs from what we implement (coturn always
accepts channel numbers 0x5000-0x7FFF). Not covered: coturn 4.6.1 relaying on both families accepts
the peer ::ffff:127.0.0.1 without --allow-loopback-peers (CVE-2026-27624); that needs an IPv6 relay.

Client facts (turnutils_uclient 4.6.1, observed on the wire):
- `-m N` is the number of allocations that carry data. Without `-c` they come in RTP/RTCP pairs: the
  first Allocate carries EVEN-PORT with the R bit and the second one a RESERVATION-TOKEN; with `-c`
  the Allocate still carries EVEN-PORT, with R = 0.
- Before those, each client (each pair without `-c`) makes a "probe" allocation on a separate socket
  and closes that socket without deallocating: the probe allocations stay until they expire, so
  `-m 10` holds 15 allocations of the user (20 with `-c`). turn_tools runs Switchboard with
  --user-quota 0 (coturn's default) for that reason.
- Channel numbers are random in 0x4000-0x7FFF (the RFC 5766 range), not only RFC 8656's
  0x4000-0x4FFF, so Switchboard runs with --rfc5766-channel-numbers here (turn_tools does it).
  Each allocation binds two channels, each twice: one to the peer port + 1, then one to the peer port
  (turnutils_peer echoes on both). If the two random numbers collide, coturn answers 400 and uclient
  exits: about 1 allocation in 16k fails that way.
- On 437 to an Allocate, uclient sleeps 1 s, opens a new socket and allocates again.
- `-W secret -u bob` makes the username `<now+86400>:bob`, password base64(HMAC-SHA1(secret, username)).
- A refused ChannelBind prints `channel bind: error 403 (...)`, a refused CreatePermission (`-s`)
  prints `create permission error 403 (...)`; an Allocate that keeps getting 401 prints
  `ERROR: Cannot complete Allocation`. All three exit with code 255.
"""

from __future__ import annotations

import time

import pytest

from turn_tools import (
    PASSWORD,
    SECRET,
    TARGET,
    USER,
    require_coturn_tools,
    rest_credentials,
    run_stunclient,
    run_uclient,
    start_turn_server,
    stun_binding,
)

switchboard_only = pytest.mark.skipif(TARGET == "coturn", reason="Switchboard-only: coturn 4.6.1 behaves differently")

@pytest.fixture
def turn(tmp_path):
    """Factory: ``turn(allow_loopback=True, user=True, secret=None, tls=False)`` starts a server.

    Every server is stopped by PID at teardown. `user` adds the static user alice:secretpw,
    `secret` a TURN REST shared secret (coturn: the secret replaces the static user).
    """
    require_coturn_tools()
    servers = []

    def start(**options):
        server = start_turn_server(tmp_path / f"turn{len(servers)}", **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def uclient(server, peer, *flags: str, auth: tuple[str, ...] = ("-u", USER, "-w", PASSWORD), port: int | None = None,
            timeout: float = 60.0):
    """turnutils_uclient against `server` (peer 127.0.0.1:<peer.port> unless `flags` sets -e/-y)."""
    args = list(flags)
    if peer is not None and "-e" not in args and "-y" not in args:
        args += ["-e", "127.0.0.1"]
    if peer is not None:
        args += ["-r", str(peer.port)]
    args += [*auth, "-p", str(port or server.port), "127.0.0.1"]
    return run_uclient(args, timeout=timeout)


def assert_all_relayed(result, server, expected: int | None = None) -> None:
    """The run completed, nothing was lost, no STUN error appeared, and (optionally) `expected` were sent."""
    context = f"{result.describe()}\n--- {server.kind} log tail ---\n{server.log_tail()}"
    assert not result.timed_out, f"uclient timed out\n{context}"
    assert result.returncode == 0, f"uclient exit code {result.returncode}\n{context}"
    assert result.completed, f"no final summary\n{context}"
    assert not result.error_codes, f"STUN errors {result.error_codes}\n{context}"
    assert not result.allocation_failed, context
    if expected is not None:
        assert result.sent == expected, context
    assert result.sent > 0, context
    assert result.received == result.sent, context
    assert result.lost == 0 and result.loss_percent == 0.0, context


def assert_refused(result, server, *, code: int | None = None, allocation: bool = False) -> None:
    """The run failed the way coturn's client reports it, and not one message came back."""
    context = f"{result.describe()}\n--- {server.kind} log tail ---\n{server.log_tail()}"
    assert not result.timed_out, f"uclient timed out\n{context}"
    assert result.returncode != 0, f"uclient succeeded\n{context}"
    assert result.received == 0, context
    assert "Total transmit time" not in result.output, context
    if code is not None:
        assert code in result.error_codes, f"expected `error {code}`\n{context}"
    if allocation:
        assert result.allocation_failed, f"expected `Cannot complete Allocation`\n{context}"


# ---------------------------------------------------------------------------------------------
# STUN
# ---------------------------------------------------------------------------------------------


def test_stunclient_gets_its_reflexive_address(turn):
    server = turn()
    rc, output, reflexive = run_stunclient(server.port, timeout=10)
    assert rc == 0, f"turnutils_stunclient rc={rc}\n{output}\n{server.log_tail()}"
    assert reflexive is not None, output
    assert reflexive[0] == "127.0.0.1" and 0 < reflexive[1] < 65536, output
    # The mapped address is exactly the sender's address (checked with a socket whose port we know).
    answer = stun_binding(server.port, timeout=2)
    assert answer is not None, "no Binding response to a bare RFC 8489 request"
    mapped, local = answer
    assert mapped == local


# ---------------------------------------------------------------------------------------------
# Relaying
# ---------------------------------------------------------------------------------------------


def test_udp_channels_paced_10_allocations_zero_loss(turn, peer):
    """10,000 ChannelData round trips, 170 B every 20 ms per allocation (about 25 s)."""
    server = turn()
    result = uclient(server, peer, "-n", "1000", "-m", "10", "-l", "170", "-X", "-g", timeout=120)
    assert_all_relayed(result, server, expected=10000)


def test_udp_send_and_data_indications(turn, peer):
    server = turn()
    result = uclient(server, peer, "-s", "-n", "50", "-m", "2", "-l", "170", "-X", "-g")
    assert_all_relayed(result, server, expected=100)


def test_tcp_to_server(turn, peer):
    server = turn()
    result = uclient(server, peer, "-t", "-n", "50", "-m", "2", "-l", "170", "-X", "-g")
    assert_all_relayed(result, server, expected=100)


def test_tls_to_server(turn, peer):
    """TLS (`-t -S`) to the TLS listener; uclient does not verify the self-signed certificate."""
    server = turn(tls=True)
    result = uclient(server, peer, "-t", "-S", "-n", "50", "-m", "2", "-l", "170", "-X", "-g", port=server.tls_port)
    assert "tls_connect: client session connected" in result.output, result.describe()
    assert_all_relayed(result, server, expected=100)


def test_client_to_client(turn):
    """`-y`: allocations send to each other's relayed addresses (-m 2 becomes 4 allocations)."""
    server = turn()
    result = uclient(server, None, "-y", "-n", "50", "-m", "2", "-l", "170", "-X", "-g")
    assert_all_relayed(result, server, expected=200)


def test_static_user_without_even_port_or_options(turn, peer):
    """`-c`: single allocations (no EVEN-PORT reservation), no -X/-g: the plainest Allocate."""
    server = turn()
    result = uclient(server, peer, "-c", "-n", "50", "-m", "2", "-l", "170", auth=("-u", USER, "-w", PASSWORD))
    assert_all_relayed(result, server, expected=100)


def test_rest_secret_credentials_from_uclient(turn, peer):
    """`-W secret -u bob`: uclient builds `<now+86400>:bob` and the HMAC password itself."""
    server = turn(secret=SECRET)
    result = uclient(server, peer, "-n", "50", "-m", "2", "-l", "170", "-X", "-g", auth=("-u", "bob", "-W", SECRET))
    assert_all_relayed(result, server, expected=100)


def test_rest_credentials_computed_here(turn, peer):
    """Positive control for the expiry test: the same formula with a future timestamp works."""
    server = turn(secret=SECRET)
    username, password = rest_credentials(SECRET, "bob", int(time.time()) + 3600)
    result = uclient(server, peer, "-c", "-n", "20", "-m", "1", "-l", "170", auth=("-u", username, "-w", password))
    assert_all_relayed(result, server, expected=20)


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------


def test_expired_rest_credentials_are_refused(turn, peer):
    server = turn(secret=SECRET)
    username, password = rest_credentials(SECRET, "bob", int(time.time()) - 3600)
    result = uclient(server, peer, "-c", "-n", "5", "-m", "1", "-l", "170", auth=("-u", username, "-w", password),
                     timeout=60)
    assert_refused(result, server, allocation=True)


def test_wrong_password_is_refused(turn, peer):
    server = turn()
    result = uclient(server, peer, "-c", "-n", "5", "-m", "1", "-l", "170", auth=("-u", USER, "-w", "not-the-password"),
                     timeout=60)
    assert_refused(result, server, allocation=True)


def test_unknown_user_is_refused(turn, peer):
    server = turn()
    result = uclient(server, peer, "-c", "-n", "5", "-m", "1", "-l", "170", auth=("-u", "mallory", "-w", PASSWORD),
                     timeout=60)
    assert_refused(result, server, allocation=True)


@pytest.mark.parametrize("mode", ["channel", "indication"])
@pytest.mark.parametrize("peer_ip", ["127.0.0.1", "127.0.0.2", "0.0.0.0"])
def test_loopback_and_unspecified_peers_are_forbidden_by_default(turn, peer, peer_ip, mode):
    """Without --allow-loopback-peers, ChannelBind / CreatePermission to 127.0.0.0/8 or 0.0.0.0 get 403."""
    server = turn(allow_loopback=False)
    flags = ["-e", peer_ip, "-c", "-n", "5", "-m", "1", "-l", "170"] + (["-s"] if mode == "indication" else [])
    result = uclient(server, peer, *flags, timeout=60)
    assert_refused(result, server, code=403)
    expected = "channel bind: error 403" if mode == "channel" else "create permission error 403"
    assert expected in result.output, result.describe()


def test_unspecified_peer_is_forbidden_even_with_loopback_allowed(turn, peer):
    """--allow-loopback-peers opens 127.0.0.0/8 and ::1, never 0.0.0.0."""
    server = turn(allow_loopback=True)
    result = uclient(server, peer, "-e", "0.0.0.0", "-c", "-n", "5", "-m", "1", "-l", "170", timeout=60)
    assert_refused(result, server, code=403)


def test_ipv6_peer_on_an_ipv4_only_server_is_refused(turn, peer):
    """`-e ::ffff:127.0.0.1` makes uclient ask for an IPv6 relay; an IPv4-only relay answers 440.

    (coturn 4.6.1 relaying on both families *allows* ::ffff:127.0.0.1 as a peer even without
    --allow-loopback-peers, CVE-2026-27624; that case needs an IPv6 relay address and is not
    covered here.)
    """
    server = turn(allow_loopback=False)
    result = uclient(server, peer, "-e", "::ffff:127.0.0.1", "-c", "-n", "5", "-m", "1", "-l", "170", timeout=60)
    assert_refused(result, server)
    assert set(result.error_codes) & {440, 443, 403}, result.describe()


@switchboard_only
def test_rfc8656_channel_range_by_default(turn, peer):
    """Switchboard only: without --rfc5766-channel-numbers a ChannelBind outside 0x4000-0x4FFF gets 400.
    uclient draws each channel number uniformly from 0x4000-0x7FFF, so with 10 channels the chance that
    all of them fall inside the RFC 8656 range (and the run passes by luck) is 0.25**10, about 1e-6."""
    server = turn(rfc5766_channels=False)
    result = uclient(server, peer, "-c", "-n", "5", "-m", "10", "-l", "170", timeout=60)
    assert_refused(result, server, code=400)
    assert "channel bind: error 400" in result.output, result.describe()
