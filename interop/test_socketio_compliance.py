"""pytest port of the official Socket.IO protocol v5 test suite (32 tests: 16 Engine.IO-level tests on
``/socket.io/`` and 16 Socket.IO tests).

Source: socketio/socket.io ``docs/socket.io-protocol/v5-test-suite/test-suite.js`` (mocha + chai; formerly
socketio/socket.io-protocol ``test-suite/test-suite.js``). Every mocha ``it`` is one test below, in the same order;
nested classes mirror the ``describe`` blocks and each test carries the original names in a comment.

Server fixture the suite expects (see sio_reference_fixture.py): a Socket.IO server at ``/socket.io/`` with
pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000, connectTimeout 1000 ms, CORS ``*``; on connection it
emits ``auth`` with the CONNECT payload; ``message`` -> emit ``message-back`` with the same arguments;
``message-with-ack`` -> ack with the same arguments; namespace ``/custom`` behaves the same; other namespaces are
refused. Target selection: see sio_compliance_tools.py.

Differences from the JavaScript: this suite's ``waitFor`` is not buffered (a frame arriving while nobody listens
is lost); the port buffers frames like the newer Engine.IO suite, which only makes the JS's implicit ordering
explicit. Three WebSocket tests of the JS do not ``await`` the ``close`` they wait for (so they cannot fail); the
port awaits it, as the Engine.IO suite does. Tests marked ``reference_differs`` are expected to fail only against
the python-socketio reference (a known deviation from the Node server); they run strictly otherwise.
"""

from __future__ import annotations

import json

from sio_compliance_tools import (  # noqa: F401  (sio_target is a fixture)
    HEARTBEAT_TIMEOUT, PING_INTERVAL, PING_TIMEOUT, UPGRADE_SETTLE_MS, Client, WebSocket, assert_status,
    init_long_polling_session, parse_open_packet, reference_differs, run, sio_target, sleep_ms,
)

PATH = "/socket.io/"
SESSION = f"{PATH}?EIO=4&transport=polling"
WS_SESSION = f"{PATH}?EIO=4&transport=websocket"


def poll_url(sid: str) -> str:
    return f"{PATH}?EIO=4&transport=polling&sid={sid}"


async def init_socketio_connection(c: Client) -> WebSocket:
    """``initSocketIOConnection()``: WebSocket session, CONNECT to ``/``, consume the CONNECT reply and ``auth``."""
    socket = await c.websocket(WS_SESSION)
    await socket.recv()  # Engine.IO handshake
    await socket.send("40")
    await socket.recv()  # Socket.IO handshake
    await socket.recv()  # "auth" packet
    return socket


def assert_connect_reply(data, prefix: str) -> None:
    """``expect(data).to.startsWith(prefix)``; the rest is an object with exactly the key ``sid`` (a string)."""
    assert isinstance(data, str) and data.startswith(prefix), f"CONNECT reply {data!r} does not start with {prefix!r}"
    handshake = json.loads(data[len(prefix):])
    assert isinstance(handshake, dict) and set(handshake) == {"sid"}, \
        f"CONNECT reply payload must have exactly the key 'sid': {data!r}"
    assert isinstance(handshake["sid"], str), f"CONNECT reply sid is not a string: {data!r}"


# describe("Engine.IO protocol")
class TestEngineIOProtocol:
    # describe("handshake")
    class TestHandshake:
        # describe("HTTP long-polling")
        class TestHttpLongPolling:
            # it("should successfully open a session")
            @reference_differs("python-engineio announces pingInterval as int(0.3)*1000 == 0 instead of 300")
            def test_should_successfully_open_a_session(self, sio_target):
                async def body(c: Client):
                    response = await c.fetch(SESSION)
                    assert_status(response, 200, "GET handshake")
                    parse_open_packet(response.text, ["websocket"])

                run(sio_target, body)

            # it("should fail with an invalid 'EIO' query parameter")
            def test_should_fail_with_an_invalid_eio_query_parameter(self, sio_target):
                async def body(c: Client):
                    response = await c.fetch(f"{PATH}?transport=polling")
                    assert_status(response, 400, "GET without EIO")
                    response2 = await c.fetch(f"{PATH}?EIO=abc&transport=polling")
                    assert_status(response2, 400, "GET with EIO=abc")

                run(sio_target, body)

            # it("should fail with an invalid 'transport' query parameter")
            @reference_differs("python-engineio defaults a missing 'transport' to polling and opens a session "
                               "(200) instead of answering 400")
            def test_should_fail_with_an_invalid_transport_query_parameter(self, sio_target):
                async def body(c: Client):
                    response = await c.fetch(f"{PATH}?EIO=4")
                    assert_status(response, 400, "GET without transport")
                    response2 = await c.fetch(f"{PATH}?EIO=4&transport=abc")
                    assert_status(response2, 400, "GET with transport=abc")

                run(sio_target, body)

            # it("should fail with an invalid request method")
            @reference_differs("python-engineio answers a PUT with 405 Method Not Found instead of 400")
            def test_should_fail_with_an_invalid_request_method(self, sio_target):
                async def body(c: Client):
                    response = await c.fetch(SESSION, method="POST")
                    assert_status(response, 400, "POST without sid")
                    response2 = await c.fetch(SESSION, method="PUT")
                    assert_status(response2, 400, "PUT")

                run(sio_target, body)

        # describe("WebSocket")
        class TestWebSocket:
            # it("should successfully open a session")
            @reference_differs("python-engineio announces pingInterval as int(0.3)*1000 == 0 instead of 300")
            def test_should_successfully_open_a_session(self, sio_target):
                async def body(c: Client):
                    socket = await c.websocket(WS_SESSION)
                    data = await socket.recv()
                    parse_open_packet(data, [])
                    await socket.close()

                run(sio_target, body)

            # it("should fail with an invalid 'EIO' query parameter")
            def test_should_fail_with_an_invalid_eio_query_parameter(self, sio_target):
                async def body(c: Client):
                    # (the JS calls waitFor(socket, "close") without await; the port waits for the close)
                    await c.websocket_closes(f"{PATH}?transport=websocket")
                    await c.websocket_closes(f"{PATH}?EIO=abc&transport=websocket")

                run(sio_target, body)

            # it("should fail with an invalid 'transport' query parameter")
            def test_should_fail_with_an_invalid_transport_query_parameter(self, sio_target):
                async def body(c: Client):
                    # (the JS calls waitFor(socket, "close") without await; the port waits for the close)
                    await c.websocket_closes(f"{PATH}?EIO=4")
                    await c.websocket_closes(f"{PATH}?EIO=4&transport=abc")

                run(sio_target, body)

    # describe("heartbeat") -- this.timeout(5000)
    class TestHeartbeat:
        # describe("HTTP long-polling")
        class TestHttpLongPolling:
            # it("should send ping/pong packets")
            def test_should_send_ping_pong_packets(self, sio_target):
                async def body(c: Client):
                    sid = await init_long_polling_session(c, PATH)
                    for i in range(3):
                        poll = await c.fetch(poll_url(sid))
                        assert_status(poll, 200, f"GET #{i + 1}")
                        assert poll.text == "2", f"GET #{i + 1} body {poll.text!r} != '2' (ping)"
                        push = await c.fetch(poll_url(sid), method="POST", body="3")
                        assert_status(push, 200, f"POST pong #{i + 1}")

                run(sio_target, body, HEARTBEAT_TIMEOUT)

            # it("should close the session upon ping timeout")
            @reference_differs("python-engineio checks for a missing pong lazily; a GET 500 ms (pingInterval + "
                               "pingTimeout) after the handshake still gets the queued ping '2' (200) instead of 400")
            def test_should_close_the_session_upon_ping_timeout(self, sio_target):
                async def body(c: Client):
                    sid = await init_long_polling_session(c, PATH)
                    await sleep_ms(PING_INTERVAL + PING_TIMEOUT)
                    poll = await c.fetch(poll_url(sid))
                    assert_status(poll, 400,
                                  f"GET {PING_INTERVAL + PING_TIMEOUT} ms after the handshake without pong")

                run(sio_target, body, HEARTBEAT_TIMEOUT)

        # describe("WebSocket")
        class TestWebSocket:
            # it("should send ping/pong packets")
            def test_should_send_ping_pong_packets(self, sio_target):
                async def body(c: Client):
                    socket = await c.websocket(WS_SESSION)
                    await socket.recv()  # handshake
                    for i in range(3):
                        data = await socket.recv()
                        assert data == "2", f"message #{i + 1} {data!r} != '2' (ping)"
                        await socket.send("3")
                    await socket.close()

                run(sio_target, body, HEARTBEAT_TIMEOUT)

            # it("should close the session upon ping timeout")
            def test_should_close_the_session_upon_ping_timeout(self, sio_target):
                async def body(c: Client):
                    socket = await c.websocket(WS_SESSION)
                    await socket.wait_close()  # (the JS comment says "handshake")

                run(sio_target, body, HEARTBEAT_TIMEOUT)

    # describe("close")
    class TestClose:
        # describe("HTTP long-polling")
        class TestHttpLongPolling:
            # it("should forcefully close the session")
            @reference_differs("python-engineio answers the pending GET with 400 instead of a noop '6' when the "
                               "client POSTs a close packet '1'")
            def test_should_forcefully_close_the_session(self, sio_target):
                async def body(c: Client):
                    sid = await init_long_polling_session(c, PATH)
                    # Promise.all([GET, POST "1"]): the GET is issued first; the short delay keeps it ahead of the
                    # POST on the server side, which the JS assumes.
                    poll = await c.start(poll_url(sid))
                    await sleep_ms(5)
                    push = await c.start(poll_url(sid), method="POST", body="1")
                    poll_response = await poll.response()
                    await push.response()
                    assert_status(poll_response, 200, "pending GET")
                    assert poll_response.text == "6", f"pending GET body {poll_response.text!r} != '6' (noop)"
                    poll2 = await c.fetch(poll_url(sid))
                    assert_status(poll2, 400, "GET after close (session must be gone)")

                run(sio_target, body)

        # describe("WebSocket")
        class TestWebSocket:
            # it("should forcefully close the session")
            def test_should_forcefully_close_the_session(self, sio_target):
                async def body(c: Client):
                    socket = await c.websocket(WS_SESSION)
                    await socket.recv()  # handshake
                    await socket.send("1")
                    await socket.wait_close(answer_pings=True)

                run(sio_target, body)

    # describe("upgrade")
    class TestUpgrade:
        # it("should successfully upgrade from HTTP long-polling to WebSocket")
        def test_should_successfully_upgrade_from_http_long_polling_to_websocket(self, sio_target):
            async def body(c: Client):
                sid = await init_long_polling_session(c, PATH)
                socket = await c.websocket(f"{PATH}?EIO=4&transport=websocket&sid={sid}")
                await socket.send("2probe")  # send probe
                probe_response = await socket.recv()
                assert probe_response == "3probe", f"probe response {probe_response!r} != '3probe'"
                await socket.send("5")  # complete upgrade

            run(sio_target, body)

        # it("should ignore HTTP requests with same sid after upgrade")
        def test_should_ignore_http_requests_with_same_sid_after_upgrade(self, sio_target):
            async def body(c: Client):
                sid = await init_long_polling_session(c, PATH)
                socket = await c.websocket(f"{PATH}?EIO=4&transport=websocket&sid={sid}")
                await socket.send("2probe")
                await socket.send("5")
                # Settle time (not in the JS): the GET travels on another connection, so without it the server may see
                # it before the "5" and legitimately answer it like a poll during the upgrade (200 "6").
                await sleep_ms(UPGRADE_SETTLE_MS)
                poll = await c.fetch(poll_url(sid))
                assert_status(poll, 400, "GET after upgrade")

            run(sio_target, body)

        # it("should ignore WebSocket connection with same sid after upgrade")
        def test_should_ignore_websocket_connection_with_same_sid_after_upgrade(self, sio_target):
            async def body(c: Client):
                sid = await init_long_polling_session(c, PATH)
                socket = await c.websocket(f"{PATH}?EIO=4&transport=websocket&sid={sid}")
                await socket.send("2probe")
                await socket.send("5")
                await c.websocket_closes(f"{PATH}?EIO=4&transport=websocket&sid={sid}")

            run(sio_target, body)


# describe("Socket.IO protocol")
class TestSocketIOProtocol:
    # describe("connect")
    class TestConnect:
        # it("should allow connection to the main namespace")
        def test_should_allow_connection_to_the_main_namespace(self, sio_target):
            async def body(c: Client):
                socket = await c.websocket(WS_SESSION)
                await socket.recv()  # Engine.IO handshake
                await socket.send("40")
                assert_connect_reply(await socket.recv(), "40")
                auth_packet = await socket.recv()
                assert auth_packet == '42["auth",{}]', f"{auth_packet!r} != '42[\"auth\",{{}}]'"

            run(sio_target, body)

        # it("should allow connection to the main namespace with a payload")
        def test_should_allow_connection_to_the_main_namespace_with_a_payload(self, sio_target):
            async def body(c: Client):
                socket = await c.websocket(WS_SESSION)
                await socket.recv()  # Engine.IO handshake
                await socket.send('40{"token":"123"}')
                assert_connect_reply(await socket.recv(), "40")
                auth_packet = await socket.recv()
                assert auth_packet == '42["auth",{"token":"123"}]', \
                    f"{auth_packet!r} != '42[\"auth\",{{\"token\":\"123\"}}]'"

            run(sio_target, body)

        # it("should allow connection to a custom namespace")
        def test_should_allow_connection_to_a_custom_namespace(self, sio_target):
            async def body(c: Client):
                socket = await c.websocket(WS_SESSION)
                await socket.recv()  # Engine.IO handshake
                await socket.send("40/custom,")
                assert_connect_reply(await socket.recv(), "40/custom,")
                auth_packet = await socket.recv()
                assert auth_packet == '42/custom,["auth",{}]', f"{auth_packet!r} != '42/custom,[\"auth\",{{}}]'"

            run(sio_target, body)

        # it("should allow connection to a custom namespace with a payload")
        def test_should_allow_connection_to_a_custom_namespace_with_a_payload(self, sio_target):
            async def body(c: Client):
                socket = await c.websocket(WS_SESSION)
                await socket.recv()  # Engine.IO handshake
                await socket.send('40/custom,{"token":"abc"}')
                assert_connect_reply(await socket.recv(), "40/custom,")
                auth_packet = await socket.recv()
                assert auth_packet == '42/custom,["auth",{"token":"abc"}]', \
                    f"{auth_packet!r} != '42/custom,[\"auth\",{{\"token\":\"abc\"}}]'"

            run(sio_target, body)

        # it("should disallow connection to an unknown namespace")
        @reference_differs("python-socketio refuses an unknown namespace with '44/random,\"Unable to connect\"' "
                           "(a string payload) instead of '44/random,{\"message\":\"Invalid namespace\"}'")
        def test_should_disallow_connection_to_an_unknown_namespace(self, sio_target):
            async def body(c: Client):
                socket = await c.websocket(WS_SESSION)
                await socket.recv()  # Engine.IO handshake
                await socket.send("40/random")
                data = await socket.recv()
                assert data == '44/random,{"message":"Invalid namespace"}', \
                    f"{data!r} != '44/random,{{\"message\":\"Invalid namespace\"}}'"

            run(sio_target, body)

        # it("should disallow connection with an invalid handshake")
        @reference_differs("python-socketio logs an undecodable Socket.IO packet and keeps the connection "
                           "open instead of closing it (the test answers pings, so the heartbeat cannot close it)")
        def test_should_disallow_connection_with_an_invalid_handshake(self, sio_target):
            async def body(c: Client):
                socket = await c.websocket(WS_SESSION)
                await socket.recv()  # Engine.IO handshake
                await socket.send("4abc")
                await socket.wait_close(answer_pings=True)

            run(sio_target, body)

        # it("should close the connection if no handshake is received")
        @reference_differs("python-socketio has no connectTimeout: a session that sends no CONNECT but "
                           "answers pings stays open instead of being closed after 1000 ms")
        def test_should_close_the_connection_if_no_handshake_is_received(self, sio_target):
            async def body(c: Client):
                socket = await c.websocket(WS_SESSION)
                await socket.wait_close(answer_pings=True)

            run(sio_target, body)

    # describe("disconnect")
    class TestDisconnect:
        # it("should disconnect from the main namespace")
        def test_should_disconnect_from_the_main_namespace(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send("41")
                data = await socket.recv()
                assert data == "2", f"next message after '41' is {data!r}, expected '2' (ping; session kept)"

            run(sio_target, body)

        # it("should connect then disconnect from a custom namespace")
        def test_should_connect_then_disconnect_from_a_custom_namespace(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.recv()  # ping
                await socket.send("40/custom")
                await socket.recv()  # Socket.IO handshake
                await socket.recv()  # auth packet
                await socket.send("41/custom")
                await socket.send('42["message","message to main namespace"]')
                data = await socket.recv()
                assert data == '42["message-back","message to main namespace"]', \
                    f"{data!r} != '42[\"message-back\",\"message to main namespace\"]'"

            run(sio_target, body)

    # describe("message")
    class TestMessage:
        # it("should send a plain-text packet")
        def test_should_send_a_plain_text_packet(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send('42["message",1,"2",{"3":[true]}]')
                data = await socket.recv()
                assert data == '42["message-back",1,"2",{"3":[true]}]', \
                    f"{data!r} != '42[\"message-back\",1,\"2\",{{\"3\":[true]}}]'"

            run(sio_target, body)

        # it("should send a packet with binary attachments")
        def test_should_send_a_packet_with_binary_attachments(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
                await socket.send(bytes([1, 2, 3]))
                await socket.send(bytes([4, 5, 6]))
                packets = await socket.recv_packets(3)
                assert packets[0] == \
                    '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', \
                    f"header {packets[0]!r}"
                assert packets[1] == bytes([1, 2, 3]), f"attachment 0 {packets[1]!r} != binary 01 02 03"
                assert packets[2] == bytes([4, 5, 6]), f"attachment 1 {packets[2]!r} != binary 04 05 06"
                await socket.close()

            run(sio_target, body)

        # it("should send a plain-text packet with an ack")
        def test_should_send_a_plain_text_packet_with_an_ack(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send('42456["message-with-ack",1,"2",{"3":[false]}]')
                data = await socket.recv()
                assert data == '43456[1,"2",{"3":[false]}]', f"{data!r} != '43456[1,\"2\",{{\"3\":[false]}}]'"

            run(sio_target, body)

        # it("should send a packet with binary attachments and an ack")
        def test_should_send_a_packet_with_binary_attachments_and_an_ack(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send(
                    '452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
                await socket.send(bytes([1, 2, 3]))
                await socket.send(bytes([4, 5, 6]))
                packets = await socket.recv_packets(3)
                assert packets[0] == '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', \
                    f"header {packets[0]!r}"
                assert packets[1] == bytes([1, 2, 3]), f"attachment 0 {packets[1]!r} != binary 01 02 03"
                assert packets[2] == bytes([4, 5, 6]), f"attachment 1 {packets[2]!r} != binary 04 05 06"
                await socket.close()

            run(sio_target, body)

        # it("should close the connection upon invalid format (unknown packet type)")
        @reference_differs("python-socketio logs an undecodable Socket.IO packet and keeps the connection "
                           "open instead of closing it (the test answers pings, so the heartbeat cannot close it)")
        def test_should_close_the_connection_upon_invalid_format_unknown_packet_type(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send("4abc")
                await socket.wait_close(answer_pings=True)

            run(sio_target, body)

        # it("should close the connection upon invalid format (invalid payload format)")
        @reference_differs("python-socketio logs an undecodable Socket.IO packet and keeps the connection "
                           "open instead of closing it (the test answers pings, so the heartbeat cannot close it)")
        def test_should_close_the_connection_upon_invalid_format_invalid_payload_format(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send("42{}")
                await socket.wait_close(answer_pings=True)

            run(sio_target, body)

        # it("should close the connection upon invalid format (invalid ack id)")
        @reference_differs("python-socketio logs an undecodable Socket.IO packet and keeps the connection "
                           "open instead of closing it (the test answers pings, so the heartbeat cannot close it)")
        def test_should_close_the_connection_upon_invalid_format_invalid_ack_id(self, sio_target):
            async def body(c: Client):
                socket = await init_socketio_connection(c)
                await socket.send('42abc["message-with-ack",1,"2",{"3":[false]}]')
                await socket.wait_close(answer_pings=True)

            run(sio_target, body)
