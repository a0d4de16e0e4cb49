import SwitchboardClient
import SwitchboardTestSupport
import Testing

@Suite("Swift SDK against the real server", .timeLimit(.minutes(2)))
struct SignalingClientTests {
    @Test func twoClientsJoinExchangeOfferAnswerAndCandidatesThenLeave() async throws {
        try await withRunningSwitchboard { port in
            let url = "ws://127.0.0.1:\(port)/ws"
            try await SignalingClient.withConnection(to: url) { alice in
                let aliceEvents = EventReader(alice)
                try await alice.join("call-1", name: "Alice", capacity: 2)
                guard case .joined(let room, let aliceID, let peers, 2, let token) = try await aliceEvents.message() else {
                    Issue.record("expected joined")
                    return
                }
                #expect(room.rawValue == "call-1" && peers.isEmpty && !token.isEmpty)
                try await SignalingClient.withConnection(to: url) { bob in
                    let bobEvents = EventReader(bob)
                    try await bob.join("call-1", name: "Bob")
                    guard case .joined(_, let bobID, let bobPeers, _, _) = try await bobEvents.message() else {
                        Issue.record("expected joined")
                        return
                    }
                    #expect(bobPeers == [PeerInfo(id: aliceID, name: "Alice")])
                    #expect(try await aliceEvents.message() == .otherJoined(room: room, peer: PeerInfo(id: bobID, name: "Bob")))

                    let offer: JSONValue = ["type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"]
                    try await alice.message(offer, to: bobID)
                    #expect(try await bobEvents.message() == .message(room: room, from: aliceID, to: bobID, data: JSONText(offer)))
                    let answer: JSONValue = ["type": "answer", "sdp": "v=0\r\n"]
                    try await bob.message(answer)
                    #expect(try await aliceEvents.message() == .message(room: room, from: bobID, to: nil, data: JSONText(answer)))
                    let candidate: JSONValue = [
                        "type": "candidate", "candidate": ["candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"],
                    ]
                    try await alice.message(candidate)
                    #expect(try await bobEvents.message() == .message(room: room, from: aliceID, to: nil, data: JSONText(candidate)))

                    let carolResult = try await SignalingClient.withConnection(to: url) { carol in
                        try await carol.join("call-1", id: "c1")
                        return try await EventReader(carol).message()
                    }
                    #expect(carolResult == .full(room: room, capacity: 2, requestID: "c1"))

                    try await bob.leave()
                    #expect(try await bobEvents.message() == .left(room: room))
                    #expect(try await aliceEvents.message() == .bye(room: room, id: bobID, reason: .left))
                }
            }
        }
    }

    /// A close frame is a leave: the peer hears `bye` with reason `closed` (a dropped connection would give `timeout`, and
    /// only after the grace period, longer here than the reader waits). No clock is read: under a loaded test run the
    /// close handshake alone has taken over 5 s.
    @Test func cleanCloseIsSeenAsByeAtOnce() async throws {
        try await withRunningSwitchboard(configure: { $0.signaling.gracePeriod = .seconds(120) }) { port in
            let url = "ws://127.0.0.1:\(port)/ws"
            try await SignalingClient.withConnection(to: url) { alice in
                let events = EventReader(alice)
                try await alice.join("close-room")
                _ = try await events.message()
                let bobID = try await SignalingClient.withConnection(to: url) { bob in
                    try await bob.join("close-room")
                    _ = try await EventReader(bob).message()
                    return await bob.sessionID
                }
                _ = try await events.message()  // other_joined
                #expect(try await events.message() == .bye(room: RoomName("close-room")!, id: bobID!, reason: .closed))
            }
        }
    }

    @Test func reconnectAfterANetworkDropResumesAndLosesNothing() async throws {
        try await withRunningSwitchboard(configure: { $0.signaling.gracePeriod = .seconds(20) }) { port in
            let proxy = try await TCPProxy.start(targetPort: port)
            defer { Task { await proxy.stop() } }
            try await SignalingClient.withConnection(to: "ws://127.0.0.1:\(port)/ws") { alice in
                let aliceEvents = EventReader(alice)
                try await alice.join("resume-room")
                _ = try await aliceEvents.message()
                try await SignalingClient.withConnection(to: "ws://127.0.0.1:\(proxy.port)/ws") { bob in
                    let bobEvents = EventReader(bob)
                    try await bob.join("resume-room")
                    _ = try await bobEvents.message()
                    _ = try await aliceEvents.message()  // other_joined
                    let bobID = await bob.sessionID

                    await proxy.severAll()
                    #expect(try await bobEvents.next(includeConnectionEvents: true) == .disconnected)
                    for n in 0..<50 { try await alice.message(.integer(Int64(n))) }
                    guard case .resumed(_, let resumedID, _, _) = try await bobEvents.message() else {
                        Issue.record("expected resumed")
                        return
                    }
                    #expect(resumedID == bobID)
                    var received: [Int64] = []
                    while received.count < 50 {
                        guard case .message(_, _, _, let data) = try await bobEvents.message() else { continue }
                        received.append(data.value.integerValue ?? -1)
                    }
                    #expect(received == Array(0..<50))
                    // The session is intact in both directions, and Alice never saw bye.
                    try await bob.message("back")
                    #expect(
                        try await aliceEvents.message() == .message(room: RoomName("resume-room")!, from: bobID!, to: nil, data: "back"))
                }
            }
        }
    }

    @Test func firstConnectionFailureIsReported() async throws {
        await #expect(throws: SignalingClientError.self) {
            try await SignalingClient.withConnection(to: "ws://127.0.0.1:1/ws") { _ in }
        }
    }
}
