#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ from the test vectors of the unit tests.

Run from anywhere: `python3 fuzz/make-corpus.py`. It replaces each target's seed folder with exactly the inputs
below, so the committed seeds can always be made again. The STUN vectors are read from
Sources/SwitchboardTestSupport/STUNTestVectors.swift (RFC 5769 and RFC 8489 bytes); every other seed is a copy of
an input in the tests named beside it. Inputs that fuzzing finds go to fuzz/regressions/, never here.
"""

import hashlib
import hmac
import re
import shutil
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
COOKIE = 0x2112A442
TRANSACTION = bytes.fromhex("b7e7a701bc34d686fa87dfae")
SHORT_TERM_KEY = b"VOkJxbRl1RmTxUk/WvJxBt"  # RFC 5769's password, the key the stun-message target checks with


def stun_vectors():
    """The byte arrays of STUNTestVectors.swift, by name."""
    text = (ROOT / "Sources/SwitchboardTestSupport/STUNTestVectors.swift").read_text()
    vectors = {}
    for name, body in re.findall(r"static let (\w+)Bytes: \[UInt8\] = \[(.*?)\n    \]", text, re.S):
        body = re.sub(r"//[^\n]*", "", body)
        vectors[name] = bytes(int(h, 16) for h in re.findall(r"0x[0-9a-fA-F]{2}", body))
    return vectors


def attribute(kind, value):
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def xor_address(family, port, address, transaction=TRANSACTION):
    mask = struct.pack("!I", COOKIE) + transaction
    xored = bytes(a ^ b for a, b in zip(address, mask))
    return struct.pack("!BBH", 0, family, port ^ (COOKIE >> 16)) + xored


def stun(message_type, attributes, integrity=None, fingerprint=True, transaction=TRANSACTION):
    """A STUN message, with MESSAGE-INTEGRITY ("sha1") or -SHA256 ("sha256") and FINGERPRINT computed."""
    body = b"".join(attributes)

    def header(length):
        return struct.pack("!HHI", message_type, length, COOKIE) + transaction

    if integrity:
        size = 20 if integrity == "sha1" else 32
        digest = hashlib.sha1 if integrity == "sha1" else hashlib.sha256
        mac = hmac.new(SHORT_TERM_KEY, header(len(body) + 4 + size) + body, digest).digest()
        body += attribute(0x0008 if integrity == "sha1" else 0x001C, mac)
    if fingerprint:
        crc = zlib.crc32(header(len(body) + 8) + body) ^ 0x5354554E
        body += attribute(0x8028, struct.pack("!I", crc))
    return header(len(body)) + body


def stun_seeds():
    """RFC vectors, then one message per attribute family (AttributeRoundTripTests), then MalformedInputTests."""
    seeds = {"rfc-" + re.sub(r"([A-Z])", r"-\1", name).lower(): data for name, data in stun_vectors().items()}
    v4 = bytes([192, 0, 2, 1])
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    text = {0x0006: b"user", 0x0014: b"example.org", 0x0015: b"obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"}
    seeds["allocate-request"] = stun(0x0003, [
        attribute(0x0019, bytes([17, 0, 0, 0])), attribute(0x000D, struct.pack("!I", 600)), attribute(0x001A, b""),
        attribute(0x0018, b"\x80"), attribute(0x0017, bytes([1, 0, 0, 0])),
    ] + [attribute(kind, value) for kind, value in text.items()], integrity="sha1")
    seeds["allocate-success-sha256"] = stun(0x0103, [
        attribute(0x0016, xor_address(1, 49152, v4)), attribute(0x0020, xor_address(2, 32853, v6)),
        attribute(0x000D, struct.pack("!I", 600)), attribute(0x0022, struct.pack("!Q", 0x0102030405060708)),
        attribute(0x8022, b"switchboard"),
    ], integrity="sha256")
    seeds["allocate-401"] = stun(0x0113, [
        attribute(0x0009, bytes([0, 0, 4, 1]) + b"Unauthenticated"), attribute(0x0014, text[0x0014]),
        attribute(0x0015, text[0x0015]), attribute(0x8002, bytes.fromhex("0001000000020000")),
    ])
    seeds["binding-420"] = stun(0x0111, [
        attribute(0x0009, bytes([0, 0, 4, 20]) + b"Unknown Attribute"), attribute(0x000A, bytes.fromhex("00317777")),
    ])
    seeds["allocate-300"] = stun(0x0113, [
        attribute(0x0009, bytes([0, 0, 3, 0]) + b"Try Alternate"), attribute(0x8023, struct.pack("!BBH", 0, 1, 3478) + v4),
        attribute(0x0001, struct.pack("!BBH", 0, 2, 3478) + v6),
    ])
    seeds["allocate-dual-family"] = stun(0x0103, [
        attribute(0x8000, bytes([2, 0, 0, 0])),
        attribute(0x8001, bytes([2, 0, 4, 40]) + b"Address Family not Supported"),
    ], integrity="sha1")
    seeds["channel-bind"] = stun(0x0009, [
        attribute(0x000C, bytes([0x40, 0x01, 0, 0])), attribute(0x0012, xor_address(1, 5000, v4)),
        attribute(0x0006, text[0x0006]), attribute(0x0014, text[0x0014]), attribute(0x0015, text[0x0015]),
    ], integrity="sha1")
    seeds["create-permission-ipv6"] = stun(0x0008, [
        attribute(0x0012, xor_address(2, 5000, v6)), attribute(0x0012, xor_address(2, 5001, v6)),
    ], integrity="sha256", fingerprint=False)
    seeds["send-indication"] = stun(0x0016, [
        attribute(0x0012, xor_address(1, 5000, v4)), attribute(0x0013, b"hello, peer"),
    ], fingerprint=False)
    seeds["password-algorithm"] = stun(0x0003, [
        attribute(0x001D, bytes.fromhex("00020000")), attribute(0x001E, hashlib.sha256(b"user:example.org").digest()),
    ], integrity="sha256")
    seeds["binding-request"] = stun(0x0001, [], fingerprint=False)

    # MalformedInputTests: each message-level and attribute-level case.
    header = bytes([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42]) + bytes([0xAB] * 12)

    def message(attributes, length=None):
        data = bytearray(header + attributes)
        data[2:4] = struct.pack("!H", len(attributes) if length is None else length)
        return bytes(data)

    malformed = [
        header[:19], bytes([0xC0]) + header[1:], header[:4] + bytes(4) + header[8:],
        message(bytes.fromhex("80220000"), length=8), message(bytes([1, 2, 3]), length=3),
        message(bytes.fromhex("0006000961626364")), message(bytes.fromhex("00060008"), length=4),
        message(bytes.fromhex("80280004010203048022 0000".replace(" ", ""))), message(bytes.fromhex("80280000")),
        message(bytes.fromhex("0008000401020304")), message(bytes.fromhex("001c000401020304")),
        message(bytes.fromhex("002000080003000101020304")), message(bytes.fromhex("0012000c00010001") + bytes([1] * 8)),
        message(bytes.fromhex("000d000200010000")), message(bytes.fromhex("000c000240000000")),
        message(bytes.fromhex("0019000111000000")), message(bytes.fromhex("0017000407000000")),
        message(bytes.fromhex("0009000400000901")), message(bytes.fromhex("001a000401020304")),
        message(bytes.fromhex("001e000401020304")), message(bytes.fromhex("00060004fffe6162")),
        message(bytes.fromhex("0022000401020304")), message(bytes.fromhex("0018000480000000")),
        message(bytes.fromhex("00310000 7fff0000 00310000 c0570000".replace(" ", ""))),
        message(bytes.fromhex("00080014") + bytes(20) + bytes.fromhex("0006000461626364")),
    ]
    for index, data in enumerate(malformed, 1):
        seeds[f"malformed-{index:02}"] = data
    return seeds


def channel_data(channel, payload, padded):
    return struct.pack("!HH", channel, len(payload)) + payload + (b"\0" * (-len(payload) % 4) if padded else b"")


def main():
    stun_seeds_by_name = stun_seeds()
    sample = stun_seeds_by_name["rfc-sample-request"]
    seeds = {"stun-message": stun_seeds_by_name}

    # FramingAndAddressTests.
    seeds["channel-data"] = {
        "five-bytes": channel_data(0x4001, bytes([1, 2, 3, 4, 5]), False),
        "five-bytes-padded": channel_data(0x4001, bytes([1, 2, 3, 4, 5]), True),
        "shorter-than-length": bytes([0x40, 0x01, 0x00, 0x08, 1, 2, 3]),
        "empty": bytes([0x40, 0x01, 0x00, 0x00]),
        "rfc5766-channel": channel_data(0x7FFE, b"old client", False),
    }
    mixed = sample + channel_data(0x4002, bytes([9, 8, 7]), True) + channel_data(0x4003, b"", True) + sample
    # The first byte chooses how the stream is cut into reads (FuzzTarget+STUNStream.swift).
    seeds["stun-stream"] = {
        "mixed-one-byte-reads": bytes([0x00]) + mixed,
        "mixed-small-reads": bytes([0x2B]) + mixed,
        "mixed-large-reads": bytes([0x97]) + mixed,
        "rfc5766-channel": bytes([0x05]) + channel_data(0x5001, b"old client", True) + sample,
        "http": bytes([0x03]) + b"POST / HTTP/1.1\r\n\r\n",
        "tls-record": bytes([0x07, 0x16, 0x03, 0x01, 0x02, 0x00]),
        "bad-cookie": bytes([0x01, 0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4]),
        "truncated": bytes([0x04]) + sample[:60],
    }

    # EngineIOPacketTests, and the handshake EngineIOHandshake writes.
    seeds["engineio-packet"] = {f"packet-{index:02}": text.encode() for index, text in enumerate([
        '0{"maxPayload":1000000,"pingInterval":300,"pingTimeout":200,"sid":"abc","upgrades":["websocket"]}',
        "1", "2", "2probe", "3probe", "4hello", "4€", "5", "6", "bAQIDBA==", "b!!", "", "7", "a", "x4hello", "-1",
        '40{"token":"123"}', '42["hey","Jude"]',
    ], 1)}
    seeds["engineio-payload"] = {f"body-{index:02}": text.encode() for index, text in enumerate([
        "4hello\x1e2\x1e4€\x1ebAQIDBA==", "4a\x1e\x1e4b", "abc", "2", '40\x1e42["a"]\x1e3', "",
    ], 1)}

    # SocketIOPacketTests.
    seeds["socketio-packet"] = {f"packet-{index:02}": text.encode() for index, text in enumerate([
        "0", '0{"token":"123"}', "0/admin,", "0/custom", "1/custom", '2["hey","Jude"]', '2/admin,1["tellme"]',
        '3/admin,13["bar"]', "3456[]", "2[42]",
        '52-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
        '61-/custom,789[{"_placeholder":true,"num":0}]', '51-["b",{"_placeholder":true,"num":3}]',
        '50-["b",{"_placeholder":true,"num":0}]', '2["b",{"_placeholder":true,"num":0}]',
        '4/random,{"message":"Invalid namespace"}', '2["file",{"$binary":"AAEC"}]',
        "", "7", "a", "2", "2{}", "2[]", '2["connect"]', '2["disconnect",1]', "2[null]", "2[{}]", "0[]", '0"x"',
        "1{}", "3{}", "4", '5["a"]', '5x-["a"]', '511-["a"]', '52["a"]', '2["a"', '2/admin,["a"',
        '21234567890123456789["a"]',
    ], 1)}

    # JSONValueTests.
    seeds["json"] = {f"json-{index:02}": (text.encode() if isinstance(text, str) else text) for index, text in enumerate([
        '{"a":[1,-2.5,true,false,null,"x"]}', '  "esc\\"\\\\\\/\\b\\f\\n\\r\\t"  ', '"\\u00e9\\ud83d\\ude00"', "1e3", "-0",
        "9223372036854775807", "92233720368547758080", "[]", "{}",
        '{"f":0.25,"list":[null,true,"\\u0001"],"n":12,"nested":{"quote":"\\"","slash":"\\\\"},'
        '"sdp":"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n"}',
        "", "{", "[1,]", '{"a"}', '{"a":1,}', "01", "1.", "-", "tru", '"unterminated', '"\x01"', '"\\x"', '"\\ud800"',
        '"\\udc00"', "1 2", "nan", "{'a':1}", "[1e999]", bytes([0x22, 0xFF, 0xFE, 0x22]), "[" * 60 + "]" * 60,
    ], 1)}

    # ClientRequestDecodingTests and WebSocketEdgeTests.
    seeds["ws-client-message"] = {f"frame-{index:02}": text.encode() for index, text in enumerate([
        '{"type":"join","room":"r.1","name":"Al","password":"p","capacity":3,"id":1}', '{"type":"leave"}',
        '{"type":"message","to":"abc","data":{"type":"offer"},"id":"m1"}', '{"type":"message","data":null}',
        '{"type":"ping","ack":7}', '{"type":"resume","token":"tok","last_seq":4}', '{"type":"leave","extra":"ignored"}',
        "[1]", "nope", "{}", '{"type":5}', '{"type":"dance"}', '{"type":"join"}', '{"type":"join","room":""}',
        '{"type":"join","room":"a b"}', '{"type":"join","room":".hidden"}', '{"type":"join","room":"ok","capacity":0}',
        '{"type":"join","room":"ok","capacity":"2"}', '{"type":"join","room":"ok","name":"a\\u0007b"}',
        '{"type":"join","room":"ok","password":7}', '{"type":"message"}', '{"type":"message","data":1,"to":5}',
        '{"type":"ping","ack":-1}', '{"type":"resume"}', '{"type":"ping","id":[1]}', '{"type":"ping","id":1.5}',
        '{"type":"join","room":"","id":"j1"}', '{"type":"ping","id":{"x":1}}', '{"type":"ping","id":"whole"}',
        '{"type":"message","data":{"type":"answer","sdp":"v=0\\r\\n","n":2.5}}',
    ], 1)}

    for target, inputs in seeds.items():
        folder = CORPUS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in inputs.items():
            (folder / name).write_bytes(data)
        print(f"{target}: {len(inputs)} seeds")


if __name__ == "__main__":
    main()
