import SwitchboardClient
import SwitchboardTestSupport
import Testing

@Suite("Signaling under load, through the SDK", .timeLimit(.minutes(3)))
struct SignalingLoadTests {
    /// 200 rooms of two exchange 20,000 messages: none lost, per-sender order kept, none crossing rooms.
    @Test func twoHundredRoomsExchangeTwentyThousandMessages() async throws {
        let rooms = 200
        let perPeer = 50
        try await withRunningSwitchboard(configure: {
            $0.signaling.joinRate = 10_000
            $0.signaling.joinBurst = 10_000
            $0.signaling.messageBurst = 1_000
        }) { port in
            let url = "ws://127.0.0.1:\(port)/ws"
            let ready = Rendezvous(parties: rooms * 2)
            let finished = Rendezvous(parties: rooms * 2)
            let results = try await withThrowingTaskGroup(of: PeerResult.self) { group in
                for index in 0..<(rooms * 2) {
                    group.addTask {
                        try await runPeer(url: url, room: "load-\(index / 2)", messages: perPeer, ready: ready, finished: finished)
                    }
                }
                var all: [PeerResult] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(results.count == rooms * 2)
            let total = results.reduce(0) { $0 + $1.received }
            #expect(total == rooms * 2 * perPeer)
            #expect(results.allSatisfy { $0.inOrder }, "per-sender order")
            #expect(results.allSatisfy { $0.foreign == 0 }, "nothing crosses rooms")
        }
    }

    struct PeerResult: Sendable {
        var received = 0
        var inOrder = true
        var foreign = 0
    }

    func runPeer(url: String, room: String, messages: Int, ready: Rendezvous, finished: Rendezvous) async throws -> PeerResult {
        try await SignalingClient.withConnection(to: url) { client in
            let events = EventReader(client)
            try await client.join(room, capacity: 2)
            var partner: SessionID?
            var myID: SessionID?
            while partner == nil {
                switch try await events.message(timeout: .seconds(60)) {
                case .joined(_, let id, let peers, _, _):
                    myID = id
                    partner = peers.first?.id
                case .otherJoined(_, let peer): partner = peer.id
                default: break
                }
            }
            await ready.arriveAndWait()
            for n in 0..<messages {
                try await client.message(["room": .string(room), "from": .string(myID!.rawValue), "n": .integer(Int64(n))], to: partner)
            }
            var result = PeerResult()
            while result.received < messages {
                guard case .message(let messageRoom, let from, _, let data) = try await events.message(timeout: .seconds(60)) else {
                    continue
                }
                if messageRoom.rawValue != room || from != partner || data.value["room"]?.stringValue != room
                    || data.value["from"]?.stringValue != partner?.rawValue
                {
                    result.foreign += 1
                }
                if data.value["n"]?.integerValue != Int64(result.received) { result.inOrder = false }
                result.received += 1
            }
            // Stay until everyone is done, so no one sees a partner's bye mid-run.
            await finished.arriveAndWait()
            return result
        }
    }
}

/// Lets `parties` tasks wait for one another: `arriveAndWait` returns once all have arrived.
actor Rendezvous {
    let parties: Int
    private var arrived = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) {
        self.parties = parties
    }

    func arriveAndWait() async {
        arrived += 1
        if arrived == parties {
            waiters.forEach { $0.resume() }
            waiters.removeAll()
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }
}
