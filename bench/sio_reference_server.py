"""The anchor of bench/socketio.sh: python-socketio's AsyncServer on aiohttp, speaking the "join/leave"
signaling vocabulary the way the tutorials' Node servers do (rooms of two), plus an ack on `join` that
lists the members already there, as Switchboard's does.

Usage: python bench/sio_reference_server.py [--host 127.0.0.1] [--port 0]
Prints "listening port=N" once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio

import socketio
from aiohttp import web

CAPACITY = 2

sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
rooms: dict[str, list[str]] = {}
member_of: dict[str, str] = {}


@sio.on("join")
async def join(sid, room):
    members = rooms.setdefault(room, [])
    if len(members) >= CAPACITY:
        await sio.emit("full", (room, sid), to=sid)
        return {"ok": False, "code": "room_full"}
    peers = list(members)
    members.append(sid)
    member_of[sid] = room
    await sio.enter_room(sid, room)
    await sio.emit("joined", (room, sid), to=sid)
    await sio.emit("otherjoin", (room, sid), room=room, skip_sid=sid)
    return {"ok": True, "room": room, "id": sid, "peers": peers}


@sio.on("message")
async def message(sid, room, data):
    if member_of.get(sid) == room:
        await sio.emit("message", (room, data), room=room, skip_sid=sid)


async def leave_room(sid):
    room = member_of.pop(sid, None)
    if room is None:
        return None
    rooms[room].remove(sid)
    if not rooms[room]:
        del rooms[room]
    await sio.leave_room(sid, room)
    await sio.emit("bye", (room, sid), room=room)
    return room


@sio.on("leave")
async def leave(sid, room=None):
    left = await leave_room(sid)
    if left is not None:
        await sio.emit("leaved", (left, sid), to=sid)


@sio.event
async def disconnect(sid, reason=None):
    await leave_room(sid)


async def main(host: str, port: int) -> None:
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    print(f"listening port={bound}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.host, arguments.port))
