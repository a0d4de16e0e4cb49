"""Calls between real browsers through the served client, Switchboard's signaling and its TURN server.

Each test starts its own server and Chromium instances (each with its own profile, so they are separate
browsers, not tabs), drives the page the way a user does (name, Join, chat box) and reads
`window.switchboard` (docs/CLIENT.md) for what the page knows.
"""

from __future__ import annotations

import uuid


def room_name() -> str:
    return "room-" + uuid.uuid4().hex[:8]


def joined(state: dict) -> bool:
    return bool(state.get("id")) and state.get("signaling") == "open"


def receiving_video_from(peer_id: str):
    def check(state: dict) -> bool:
        peer = state["peers"][peer_id]
        return peer["framesDecoded"] > 0 and peer["connectionState"] == "connected"
    return check


def assert_video_playing(browser, peer_id: str) -> None:
    video = browser.remote_video(peer_id)
    assert video is not None, f"{browser.label}: no video tile for {peer_id}"
    assert not video["paused"] and video["readyState"] >= 2, f"{browser.label}: video not playing: {video}"
    assert video["videoWidth"] > 0 and video["videoHeight"] > 0, f"{browser.label}: no decoded size: {video}"
    assert video["clientWidth"] > 0 and video["clientHeight"] > 0, f"{browser.label}: video element has no size: {video}"


def start_call(web_server, browsers, names: list[str], query: str = "", room: str | None = None):
    """Opens /r/<room> in one browser per name, joins each, and waits until everyone has an id."""
    base = web_server()
    room = room or room_name()
    people = []
    for name in names:
        browser = browsers(name.lower())
        browser.open(f"{base}/r/{room}{query}")
        browser.join(name)
        people.append((browser, browser.wait_until(joined, "joined the room")["id"]))
    return base, room, people


def wait_for_media_and_chat(people, expected_type: str | None = None) -> None:
    """Every browser decodes video from every other, sees it playing, and chat crosses every data channel."""
    for browser, own_id in people:
        for _, other_id in people:
            if other_id == own_id:
                continue
            state = browser.wait_until(receiving_video_from(other_id), f"video from {other_id}", timeout=45)
            assert_video_playing(browser, other_id)
            browser.wait_until(lambda s: s["peers"][other_id]["dataChannel"] == "open", "data channel open")
            if expected_type:
                peer = browser.wait_until(
                    lambda s: s["peers"][other_id]["candidateType"] == expected_type, f"{expected_type} candidate pair"
                )["peers"][other_id]
                assert peer["remoteCandidateType"] == expected_type, peer
            else:
                assert state["peers"][other_id]["candidateType"] in ("host", "srflx", "prflx", "relay")
    for browser, own_id in people:
        browser.send_chat(f"hello from {browser.label}")
    for browser, own_id in people:
        for sender, sender_id in people:
            if sender_id == own_id:
                continue
            text = f"hello from {sender.label}"
            state = browser.wait_until(
                lambda s: any(m["text"] == text and m["from"] == sender_id for m in s["chat"]), f"chat '{text}'")
            message = next(m for m in state["chat"] if m["text"] == text)
            assert message["via"] == "datachannel", message


def test_two_browsers_call_through_a_room_link(web_server, browsers):
    _, _, people = start_call(web_server, browsers, ["Alice", "Bob"])
    wait_for_media_and_chat(people)
    (alice, alice_id), (bob, bob_id) = people
    assert alice.state()["peers"][bob_id]["name"] == "Bob"
    assert bob.state()["peers"][alice_id]["name"] == "Alice"
    alice.screenshot("call-host-alice")
    bob.screenshot("call-host-bob")


def test_relay_only_call_goes_through_switchboards_turn(web_server, browsers):
    base = web_server("--relay-ports", "50000-50999")
    args = web_server.servers[0].args
    turn_port = int(args[args.index("--turn-port") + 1])
    _, _, people = start_call(lambda: base, browsers, ["Alice", "Bob"], query="?relay=1")
    for browser, _ in people:
        state = browser.state()
        assert state["relayOnly"] is True
        turn_urls = [url for url in state["iceServers"] if url.startswith("turn:")]
        assert turn_urls, f"the page must have TURN URIs from /api/ice-servers: {state['iceServers']}"
    wait_for_media_and_chat(people, expected_type="relay")
    for browser, own_id in people:
        for peer in browser.state()["peers"].values():
            # Both ends are relay addresses of this server (127.0.0.1, from its --relay-ports) through its TURN URI.
            assert peer["relayURL"] and peer["relayURL"].startswith(f"turn:127.0.0.1:{turn_port}?"), peer
            for address in (peer["localAddress"], peer["remoteAddress"]):
                host, port = address.rsplit(":", 1)
                assert host == "127.0.0.1" and 50000 <= int(port) <= 50999, peer
    for browser, _ in people:
        browser.click("#toggle-stats")
        browser.wait_until(lambda s: all((p["stats"] or {}).get("inKbps") for p in s["peers"].values()), "bitrates sampled")
    for browser, other_id in ((people[0][0], people[1][1]), (people[1][0], people[0][1])):
        overlay = browser.text(f'.remote-tile[data-peer-id="{other_id}"]')
        assert "relay" in overlay, f"the stats overlay names the relay pair: {overlay!r}"
        browser.screenshot(f"call-relay-{browser.label}")


def test_three_party_mesh(web_server, browsers):
    _, _, people = start_call(web_server, browsers, ["Alice", "Bob", "Carol"])
    wait_for_media_and_chat(people)
    for browser, own_id in people:
        assert len(browser.state()["peers"]) == 2
    people[0][0].screenshot("call-mesh-alice")


def test_a_killed_browser_is_shown_as_gone(web_server, browsers):
    _, _, people = start_call(web_server, browsers, ["Alice", "Bob", "Carol"])
    (alice, alice_id), (bob, bob_id), (carol, carol_id) = people
    for browser, own_id in (people[0], people[1]):
        for other in {alice_id, bob_id, carol_id} - {own_id}:
            browser.wait_until(receiving_video_from(other), f"video from {other}", timeout=45)
    carol.kill()
    for browser in (alice, bob):
        state = browser.wait_until(
            lambda s: carol_id not in s["peers"] and any(p["id"] == carol_id for p in s["departed"]),
            "Carol shown as gone", timeout=30)
        assert browser.remote_video(carol_id) is None, "Carol's tile must be removed"
        assert "Carol left" in browser.text("body")
        other = bob_id if browser is alice else alice_id
        assert state["peers"][other]["connectionState"] == "connected", "the others' call goes on"


def test_a_third_browser_finds_a_room_of_two_full(web_server, browsers):
    base = web_server()
    room = room_name()
    alice, bob, carol = browsers("alice"), browsers("bob"), browsers("carol")
    alice.open(f"{base}/r/{room}?capacity=2")
    alice.join("Alice")
    alice.wait_until(joined, "Alice joined")
    bob.open(f"{base}/r/{room}")
    bob.join("Bob")
    bob.wait_until(joined, "Bob joined")
    carol.open(f"{base}/r/{room}")
    carol.join("Carol")
    state = carol.wait_until(lambda s: (s.get("error") or {}).get("code") == "room_full", "room full shown")
    assert not state.get("id")
    assert "full" in carol.text("#error").lower(), carol.text("#error")
    assert len(alice.state()["peers"]) == 1, "the full room is untouched"
