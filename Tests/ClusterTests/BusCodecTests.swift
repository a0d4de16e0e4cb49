import Cluster
import Signaling
import SignalingCore
import SwitchboardTestSupport
import Testing

/// The bus's wire format: round trips, batching rules and bad input.
@Suite struct BusCodecTests {
    let a = NodeID("node-a")
    let b = NodeID("node-b")
    let room = RoomName("room")!

    var sampleEvents: [BusEvent] {
        [
            .joined(
                RemoteMember(
                    peer: PeerInfo(id: SessionID("s1"), name: "Ada \"A\"", identity: "ada", canPublish: false), room: room, node: a,
                    capacity: 4)),
            .joined(RemoteMember(peer: PeerInfo(id: SessionID("s2"), name: nil), room: room, node: b, capacity: 8)),
            .left(SessionID("s1"), room: room, reason: .evicted),
            .delivery(
                .direct(room: room, from: SessionID("s1"), to: Recipient(SessionID("s2"), seq: 7), data: ["sdp": "v=0\r\n", "n": 1])),
            .delivery(.copy(room: room, from: SessionID("s1"), to: Recipient(SessionID("s2")), data: "held")),
            .moved(SessionID("s1"), room: room, node: .parked),
            .delivery(
                .broadcast(
                    room: room, from: SessionID("s2"), data: [1, 2.5, nil, true],
                    to: [Recipient(SessionID("s1"), seq: 3), Recipient(SessionID("s3"))])),
            .kick(SessionID("s2")),
            .handOver(SessionID("s1")),
            .nodeDown(b),
        ]
    }

    /// One encoded batch of `events`, all for `target`.
    func encoded(_ events: [BusEvent], to target: NodeID?) -> EncodedBatch {
        var batcher = BusBatcher(node: a)
        let batches = batcher.encode(events: events.map { (target, $0) })
        #expect(batches.count == 1)
        return batches[0]
    }

    @Test func batchesRoundTrip() throws {
        let batch = encoded(sampleEvents, to: b)
        #expect(try BusBatch(parsing: batch.text) == BusBatch(from: a, to: b, sequence: 1, events: sampleEvents))
        let broadcast = encoded([.nodeDown(a)], to: nil)
        #expect(broadcast.text.hasPrefix("sb1 node-a * 1\n"))
        #expect(try BusBatch(parsing: broadcast.text) == BusBatch(from: a, to: nil, sequence: 1, events: [.nodeDown(a)]))
    }

    @Test func headersAreReadWithoutTheEvents() throws {
        let header = try BusHeader(parsing: "sb1 node-a node-b 7\n[not even json")
        #expect(header.from == a && header.to == b && header.sequence == 7 && header.storedPayload == nil)
        #expect(header.isFor(b) && !header.isFor(a))
        let stored = try BusHeader(parsing: "sb1 node-a * 8\n@123")
        #expect(stored.storedPayload == 123 && stored.isFor(a))
    }

    @Test func consecutiveEventsForOneTargetShareABatchAndOrderIsKept() throws {
        var batcher = BusBatcher(node: a)
        let publications: [ClusterPublication] = [
            .delivery(b, .broadcast(room: room, from: SessionID("s1"), data: 1, to: [Recipient(SessionID("s2"))])),
            .delivery(b, .broadcast(room: room, from: SessionID("s1"), data: 2, to: [Recipient(SessionID("s2"))])),
            .left(SessionID("s1"), room: room, reason: .left),
            .delivery(b, .broadcast(room: room, from: SessionID("s1"), data: 1, to: [Recipient(SessionID("s2"))])),
        ]
        let batches = batcher.encode(publications)
        #expect(batches.count == 3)
        let decoded = try batches.map { try BusBatch(parsing: $0.text) }
        #expect(decoded.map(\.to) == [b, nil, b])
        #expect(decoded.map(\.events.count) == [2, 1, 1])
        #expect(Set(decoded.map(\.sequence)).count == 3, "identical payloads in one transaction would be folded into one")
    }

    @Test func theDeepestDataAClientMaySendCrossesTheBus() throws {
        // `data` nested as deep as a client frame allows; the batch wraps it in two more levels.
        let depth = JSONValue.maximumDepth - 1
        let frame = #"{"type":"message","data":\#(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))}"#
        guard case .message(_, let data) = try ClientRequest.decode(Array(frame.utf8)).message else {
            Issue.record("not a message")
            return
        }
        var batcher = BusBatcher(node: a)
        let delivery = RemoteDelivery.broadcast(room: room, from: SessionID("s1"), data: data, to: [Recipient(SessionID("s2"))])
        let batches = batcher.encode([.delivery(b, delivery)])
        let events = try batches.flatMap { try BusBatch(parsing: $0.text).events }
        #expect(events == [.delivery(delivery)])
    }

    @Test func batchesStayUnderTheNotificationLimit() throws {
        var batcher = BusBatcher(node: a)
        let data = JSONText.string(String(repeating: "x", count: 1_000))
        let publications = (0..<40).map { _ in
            ClusterPublication.delivery(b, .broadcast(room: room, from: SessionID("s1"), data: data, to: [Recipient(SessionID("s2"))]))
        }
        let batches = batcher.encode(publications)
        #expect(batches.count > 1)
        #expect(batches.allSatisfy { $0.fitsNotification })
        let events = try batches.flatMap { try BusBatch(parsing: $0.text).events }
        #expect(events.count == 40)
        let huge = JSONText.string(String(repeating: "y", count: 20_000))
        let oversized = batcher.encode([
            .delivery(b, .direct(room: room, from: SessionID("s1"), to: Recipient(SessionID("s2")), data: huge))
        ])
        #expect(oversized.count == 1 && !oversized[0].fitsNotification)
        let restored = try BusBatch(parsing: oversized[0].header + "@9", body: oversized[0].body)
        #expect(restored.events == [.delivery(.direct(room: room, from: SessionID("s1"), to: Recipient(SessionID("s2")), data: huge))])
    }

    @Test(arguments: [
        "", "hello", "sb1 a b\n[]", "sb2 a b 1\n[]", "sb1 a b x\n[]", "sb1  b 1\n[]", "sb1 a * 1\n{}", "sb1 a * 1\n[1]",
        "sb1 a * 1\n[{\"t\":\"q\"}]", "sb1 a * 1\n[{\"t\":\"j\",\"s\":\"x\",\"r\":\"room\",\"n\":\"a\",\"c\":0}]",
        "sb1 a * 1\n[{\"t\":\"l\",\"s\":\"x\",\"r\":\"room\",\"why\":\"bored\"}]",
        "sb1 a * 1\n[{\"t\":\"m\",\"r\":\"room\",\"f\":\"x\",\"to\":\"y\"}]",
        "sb1 a * 1\n[{\"t\":\"b\",\"r\":\"bad room name!\",\"f\":\"x\",\"d\":1,\"to\":[]}]",
        "sb1 a * 1\n[{\"t\":\"b\",\"r\":\"room\",\"f\":\"x\",\"d\":1}]",
        "sb1 a * 1\n[{\"t\":\"b\",\"r\":\"room\",\"f\":\"x\",\"d\":1,\"to\":[1]}]",
        "sb1 a * 1\n[{\"t\":\"b\",\"r\":\"room\",\"f\":\"x\",\"d\":1,\"to\":[\"y\"],\"n\":[1,2]}]",
        "sb1 a * 1\n[{\"t\":\"c\",\"r\":\"room\",\"f\":\"x\",\"d\":1,\"to\":\"y\",\"n\":-1}]",
        "sb1 a * 1\n[{\"t\":\"b\",\"r\":\"room\",\"f\":\"x\",\"d\":1,\"to\":[\"y\"],\"n\":[1,2]}]",
        "sb1 a * 1\n[{\"t\":\"c\",\"r\":\"room\",\"f\":\"x\",\"d\":1,\"to\":\"y\",\"n\":-1}]",
        "sb1 a * 1\n[{\"t\":\"v\",\"s\":\"x\",\"r\":\"room\"}]", "sb1 a * 1\n@0", "sb1 a * 1\n@x",
        "sb1 a * 1\n[{\"t\":\"x\"}",
    ])
    func malformedPayloadsAreRefused(payload: String) {
        #expect(throws: BusDecodingError.self) { try BusBatch(parsing: payload) }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SeededGenerator(seed: 0x5EED)
        let valid = Array(encoded(sampleEvents, to: nil).text.utf8)
        for _ in 0..<2_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? BusBatch(parsing: String(decoding: bytes, as: UTF8.self))
        }
    }
}

/// What the directory keeps of a parked session.
@Suite struct ParkedSessionStateTests {
    @Test func stateRoundTripsWithItsHistory() throws {
        let room = RoomName("room")!
        let history = [
            OutboundMessage(seq: 4, message: .message(room: room, from: SessionID("p"), to: nil, data: ["sdp": "v=0\r\n"])),
            OutboundMessage(seq: 5, message: .bye(room: room, id: SessionID("q"), reason: .left)),
        ]
        let parked = ParkedSession(
            peer: PeerInfo(id: SessionID("s"), name: "Ada", identity: "ada", canPublish: false), token: "secret-token", room: room,
            capacity: 3, nextSeq: 6, history: history, sent: [SessionID("p"): 3], received: [SessionID("p"): 9, SessionID("q"): 1],
            early: [.copy(room: room, from: SessionID("p"), to: Recipient(SessionID("s"), seq: 11), data: "ahead")])
        let restored = try ParkedSession(session: SessionID("s"), room: room, token: "secret-token", storedState: parked.storedState)
        #expect(restored == parked)
        #expect(!parked.storedState.contains("secret-token"), "the resume token is a secret: only its digest is stored")
        #expect(ParkedSession.tokenDigest("secret-token").count == 64)
        #expect(throws: BusDecodingError.self) {
            try ParkedSession(session: SessionID("s"), room: room, token: "t", storedState: "{\"capacity\":1}")
        }
    }
}
