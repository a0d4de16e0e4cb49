"""Engine.IO behaviour beyond the official suites, against socketio-conformance-fixture's `/engine.io/` echo."""

from __future__ import annotations

import asyncio

from sio_compliance_tools import (  # noqa: F401  (sio_target is a fixture)
    Client, _read_response, assert_status, init_long_polling_session, run, sio_target, sleep_ms,
)

PATH = "/engine.io/"


def poll_url(sid: str) -> str:
    return f"{PATH}?EIO=4&transport=polling&sid={sid}"


def test_closing_an_idle_keep_alive_connection_does_not_end_the_session(sio_target):
    """Only the connection of the *pending* GET counts as a cancelled poll: a browser polls over several
    keep-alive connections, and an older one closing must not end the session."""
    async def body(c: Client):
        sid = await init_long_polling_session(c, PATH)
        assert_status(await c.fetch(poll_url(sid), method="POST", body="4first"), 200, "POST")
        # One completed GET over a keep-alive connection that then stays open, idle.
        reader, writer = await asyncio.open_connection(c.host, c.port)
        writer.write(f"GET {poll_url(sid)} HTTP/1.1\r\nHost: {c.host}:{c.port}\r\n\r\n".encode())
        first = await asyncio.wait_for(_read_response(reader), 2)
        assert first.status == 200 and first.text == "4first", first
        pending = await c.start(poll_url(sid))  # a new GET, pending on another connection
        await sleep_ms(30)
        writer.close()  # the idle keep-alive connection goes away
        await sleep_ms(60)
        assert_status(await c.fetch(poll_url(sid), method="POST", body="4second"), 200, "POST after the close")
        second = await pending.response(2)
        assert second.status == 200 and second.text == "4second", f"the pending GET must carry the echo: {second}"

    run(sio_target, body)


def test_an_invalid_chunked_body_is_a_bad_request_and_an_oversized_one_too_large(sio_target):
    """A POST whose chunked encoding is broken is answered 400 (the request is malformed), not 413."""
    async def body(c: Client):
        sid = await init_long_polling_session(c, PATH)
        reader, writer = await asyncio.open_connection(c.host, c.port)
        writer.write(
            f"POST {poll_url(sid)} HTTP/1.1\r\nHost: {c.host}:{c.port}\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: text/plain\r\n\r\n4\r\n4abc\r\nzz\r\nnot hex\r\n0\r\n\r\n".encode())
        answer = await asyncio.wait_for(_read_response(reader), 5)
        assert answer.status == 400, answer
        writer.close()
        sid = await init_long_polling_session(c, PATH)
        oversized = await c.fetch(poll_url(sid), method="POST", body="4" + "x" * 2_000_000)
        assert_status(oversized, 413, "POST over maxPayload")

    run(sio_target, body)
