"""Reference server for the Engine.IO v4 / Socket.IO v5 compliance ports, built on python-engineio/python-socketio.

    python interop/sio_reference_fixture.py --port 3000

One aiohttp application serves both fixtures of the official mocha suites:

* ``/engine.io/``: a raw Engine.IO server (engine.io-protocol v4 test suite) with pingInterval 300 ms,
  pingTimeout 200 ms, maxPayload 1000000, CORS ``*``, echoing every message back (text as text, binary as binary);
* ``/socket.io/``: a Socket.IO server (socket.io-protocol v5 test suite) with the same ping values,
  maxPayload 1000000, CORS ``*``, namespaces ``/`` and ``/custom`` (any other namespace is refused). On connection
  it emits ``auth`` with the CONNECT payload (``{}`` when there is none, like ``socket.handshake.auth`` in Node);
  ``message`` -> emits ``message-back`` with the same arguments; ``message-with-ack`` -> acks with the same arguments.
  The Node fixture's ``connectTimeout: 1000`` has no python-socketio equivalent (without a CONNECT the session
  still ends by ping timeout after ~500 ms, before 1000 ms would matter).

The two servers are independent (``engineio.AsyncServer`` attached with ``engineio_path='engine.io'``,
``socketio.AsyncServer`` with ``socketio_path='socket.io'``); they only share the aiohttp router. The Node
engine.io server sees every HTTP method on its path, so PUT is routed to the Engine.IO handlers as well.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import engineio
import socketio
from aiohttp import web

PING_INTERVAL = 0.3  # seconds (python-engineio/python-socketio take seconds)
PING_TIMEOUT = 0.2
MAX_PAYLOAD = 1_000_000


def build_app() -> web.Application:
    app = web.Application()

    # --- engine.io-protocol v4 fixture: raw Engine.IO echo server ------------------------------
    eio = engineio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=PING_INTERVAL,
        ping_timeout=PING_TIMEOUT,
        max_http_buffer_size=MAX_PAYLOAD,
        cors_allowed_origins="*",
    )

    @eio.on("message")
    async def echo(sid, data):
        await eio.send(sid, data)

    eio.attach(app, engineio_path="engine.io")

    # --- socket.io-protocol v5 fixture ----------------------------------------------------------
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=PING_INTERVAL,
        ping_timeout=PING_TIMEOUT,
        max_http_buffer_size=MAX_PAYLOAD,
        cors_allowed_origins="*",
        namespaces=["/", "/custom"],
        # Send the CONNECT reply before running the connect handler, so that "auth" follows it (Node emits
        # "connection" after the CONNECT packet has been sent).
        always_connect=True,
    )

    def register(namespace: str) -> None:
        async def connect(sid, environ, auth=None):
            await sio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)

        async def message(sid, *args):
            await sio.emit("message-back", args, to=sid, namespace=namespace)

        async def message_with_ack(sid, *args):
            return args

        sio.on("connect", connect, namespace=namespace)
        sio.on("message", message, namespace=namespace)
        sio.on("message-with-ack", message_with_ack, namespace=namespace)

    register("/")
    register("/custom")
    sio.attach(app, socketio_path="socket.io")

    for server, path in ((eio, "/engine.io/"), (sio.eio, "/socket.io/")):
        app.router.add_route("PUT", path, server.handle_request)
    return app


async def main(host: str, port: int) -> None:
    runner = web.AppRunner(build_app())
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    print(f"sio reference fixture listening on http://{host}:{port} (/engine.io/, /socket.io/)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--verbose", action="store_true", help="log Engine.IO / Socket.IO traffic")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO if options.verbose else logging.WARNING)
    asyncio.run(main(options.host, options.port))
