#!/usr/bin/env python3
"""STUN Binding load generator (RFC 8489 section 3, UDP), stdlib only.

Sends ``--count`` Binding requests (20-byte header, no attributes) to ``--server`` from
``--sockets`` UDP sockets, keeping at most ``--window`` requests outstanding per socket (a closed
loop: a new request goes out when a response arrives or an outstanding one times out). A response
counts when it is a Binding success response (0x0101) carrying the transaction ID of a request still
outstanding. The first response on each socket must carry an XOR-MAPPED-ADDRESS equal to that
socket's own address, otherwise the run fails.

Bounded: stops after ``--count`` requests have been answered or timed out, or after ``--max-seconds``.
Prints one line of ``key=value`` pairs (and JSON with ``--json``); exit code 0 if at least one response
arrived and the address check passed, 1 otherwise.

``--count 1`` doubles as a readiness probe: ``stun_binding_load.py --server 127.0.0.1:3478 --count 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
XOR_MAPPED_ADDRESS = 0x0020


def xor_mapped_address(msg: bytes) -> tuple[str, int] | None:
    """The XOR-MAPPED-ADDRESS of a STUN message, or None."""
    length = struct.unpack_from("!H", msg, 2)[0]
    pos, end = 20, min(len(msg), 20 + length)
    while pos + 4 <= end:
        atype, alen = struct.unpack_from("!HH", msg, pos)
        value = msg[pos + 4: pos + 4 + alen]
        if atype == XOR_MAPPED_ADDRESS and len(value) >= 8:
            family = value[1]
            port = struct.unpack_from("!H", value, 2)[0] ^ (MAGIC >> 16)
            if family == 1:
                raw = struct.unpack_from("!I", value, 4)[0] ^ MAGIC
                return socket.inet_ntoa(struct.pack("!I", raw)), port
            if family == 2 and len(value) >= 20:
                key = struct.pack("!I", MAGIC) + msg[8:20]
                raw = bytes(a ^ b for a, b in zip(value[4:20], key))
                return socket.inet_ntop(socket.AF_INET6, raw), port
        pos += 4 + alen + ((4 - alen % 4) % 4)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="HOST:PORT of the STUN server (IPv4)")
    ap.add_argument("--count", type=int, default=100000, help="requests to send in all")
    ap.add_argument("--sockets", type=int, default=4, help="client sockets (distinct source ports)")
    ap.add_argument("--window", type=int, default=32, help="outstanding requests per socket")
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds before a request counts as lost")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="hard bound on the whole run")
    ap.add_argument("--json", action="store_true", help="print JSON instead of key=value")
    args = ap.parse_args()

    host, _, port_s = args.server.rpartition(":")
    server = (host, int(port_s))
    nsock = max(1, min(args.sockets, args.count))
    window = max(1, args.window)

    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(nsock):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        s.connect(server)
        s.setblocking(False)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        except OSError:
            pass
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, len(socks) - 1)

    outstanding: list[dict[bytes, float]] = [dict() for _ in socks]
    checked = [False] * nsock
    sent = received = lost = bad = 0
    address_error = ""
    header = struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC)

    def send_one(i: int) -> bool:
        nonlocal sent
        tid = os.urandom(12)
        try:
            socks[i].send(header + tid)
        except (BlockingIOError, ConnectionRefusedError, OSError):
            return False
        outstanding[i][tid] = time.monotonic()
        sent += 1
        return True

    start = time.monotonic()
    last_response = start
    hard_stop = start + args.max_seconds
    last_sweep = start
    # Fill the windows.
    for i in range(nsock):
        while sent < args.count and len(outstanding[i]) < window:
            if not send_one(i):
                break

    while received + lost < sent or sent < args.count:
        now = time.monotonic()
        if now > hard_stop:
            break
        for key, _ in sel.select(timeout=0.05):
            i = key.data
            s = socks[i]
            while True:
                try:
                    data = s.recv(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    break
                if len(data) < 20:
                    bad += 1
                    continue
                mtype, _, cookie = struct.unpack_from("!HHI", data, 0)
                tid = data[8:20]
                if mtype != BINDING_SUCCESS or cookie != MAGIC or tid not in outstanding[i]:
                    bad += 1
                    continue
                del outstanding[i][tid]
                received += 1
                last_response = time.monotonic()
                if not checked[i]:
                    checked[i] = True
                    mapped = xor_mapped_address(data)
                    local = s.getsockname()[:2]
                    if mapped != local:
                        address_error = f"XOR-MAPPED-ADDRESS {mapped} != local {local}"
                if sent < args.count:
                    send_one(i)
        now = time.monotonic()
        if now - last_sweep >= min(0.1, args.timeout / 2):
            last_sweep = now
            for i in range(nsock):
                expired = [t for t, ts in outstanding[i].items() if now - ts > args.timeout]
                for t in expired:
                    del outstanding[i][t]
                lost += len(expired)
                while sent < args.count and len(outstanding[i]) < window:
                    if not send_one(i):
                        break
    # Time spent waiting out the last timeouts is not throughput time: the rate runs to the last response.
    elapsed = last_response - start
    for s in socks:
        s.close()
    result = {
        "sent": sent,
        "received": received,
        "lost": sent - received,
        "bad": bad,
        "seconds": round(elapsed, 3),
        "req_per_s": round(received / elapsed, 1) if elapsed > 0 else 0.0,
        "address_check": address_error or "ok",
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0 if received > 0 and not address_error else 1


if __name__ == "__main__":
    sys.exit(main())
