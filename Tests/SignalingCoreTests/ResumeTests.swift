import SignalingCore
import Testing

@Suite("Grace period and resume")
struct ResumeTests {
    @Test func lostConnectionKeepsMembershipUntilGraceEnds() {
        var core = CoreHarness { $0.gracePeriod = .seconds(20) }
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        _ = core.take(a)
        core.lose(b)
        core.advance(.seconds(19))
        #expect(core.take(a) == [], "no bye inside the grace period")
        #expect(core.state.members(of: room1)?.count == 2)
        core.advance(.seconds(1))
        #expect(core.take(a) == [.bye(room: room1, id: core.session(b), reason: .timeout)])
        #expect(core.state.sessionCount == 1)
    }

    @Test func resumeWithinGraceReplaysEverythingInOrder() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        let lastSeen = core.takeOutbound(b).last!.seq!
        _ = core.take(a)
        core.lose(b)
        for n in 1...5 { core.send(.message(to: nil, data: .integer(Int64(n))), on: a) }
        core.advance(.seconds(5))
        let again = core.connect()
        core.send(.resume(token: "t2", lastSeq: lastSeen), on: again)
        let replay = core.takeOutbound(again)
        #expect(
            replay.first?.message
                == .resumed(room: room1, id: core.session(b), peers: [PeerInfo(id: core.session(a), name: nil)], lastSeq: lastSeen))
        #expect(replay.dropFirst().map(\.seq) == (1...5).map { lastSeen + UInt64($0) })
        #expect(
            replay.dropFirst().map(\.message)
                == (1...5).map {
                    .message(room: room1, from: core.session(a), to: nil, data: .integer(Int64($0)))
                })
        core.advance(.seconds(60))
        #expect(core.take(a).isEmpty, "the peer never sees bye")
        core.send(.message(to: nil, data: "after"), on: a)
        #expect(core.take(again) == [.message(room: room1, from: core.session(a), to: nil, data: "after")])
        #expect(core.state.sessionCount == 2, "the fresh session of the resuming connection was discarded")
    }

    @Test func resumeReplaysWhatWasInFlightWhenTheConnectionDied() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        let lastSeen = core.takeOutbound(b).last!.seq!
        // Sent to b's connection, but b never read them before the drop.
        core.send(.message(to: nil, data: 1), on: a)
        core.send(.message(to: nil, data: 2), on: a)
        core.lose(b)
        let again = core.connect()
        core.send(.resume(token: "t2", lastSeq: lastSeen), on: again)
        #expect(core.take(again).dropFirst().count == 2)
    }

    @Test func resumeOfALiveSessionReplacesTheOldConnection() {
        var core = CoreHarness()
        let a = core.connect()
        core.join("room-1", on: a)
        let seq = core.takeOutbound(a).last!.seq!
        let again = core.connect()
        core.send(.resume(token: "t1", lastSeq: seq), on: again)
        #expect(core.errors(a) == [.replaced])
        #expect(core.closed[a]??.code == .replaced)
        #expect(core.take(again).first?.type == "resumed")
        #expect(core.state.session(for: again) == core.session(a))
        #expect(core.state.session(for: a) == nil)
    }

    @Test func resumeFailsAfterGraceOrWithUnknownToken() {
        var core = CoreHarness { $0.gracePeriod = .seconds(1) }
        let a = core.connect()
        core.join("room-1", on: a)
        core.lose(a)
        core.advance(.seconds(2))
        let again = core.connect()
        core.send(.resume(token: "t1", lastSeq: 1), on: again)
        #expect(core.errors(again) == [.resumeFailed])
        core.send(.resume(token: "garbage", lastSeq: 0), on: again)
        #expect(core.errors(again) == [.resumeFailed])
    }

    @Test func resumeBeyondTheHistoryIsAGapAndEndsTheSession() {
        var core = CoreHarness { $0.historyLimit = 3 }
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        core.lose(b)
        for n in 1...5 { core.send(.message(to: nil, data: .integer(Int64(n))), on: a) }
        _ = core.take(a)
        let again = core.connect()
        core.send(.resume(token: "t2", lastSeq: 1), on: again)
        #expect(core.errors(again) == [.resumeGap])
        #expect(core.take(a) == [.bye(room: room1, id: core.session(b), reason: .removed)])
    }

    @Test func theHistoryIsBoundedInBytesToo() {
        var core = CoreHarness {
            $0.historyLimit = 100
            $0.historyByteLimit = 64 * 1024
        }
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        let joinedSeq = core.takeOutbound(b).last!.seq!
        core.lose(b)
        let large = JSONText.string(String(repeating: "x", count: 20_000))
        for _ in 1...5 { core.send(.message(to: nil, data: large), on: a) }
        core.send(.message(to: nil, data: "small"), on: a)
        _ = core.take(a)
        // 5 x 20 KB and a small one exceed 64 KiB: the oldest large ones went, so a resume from before them is a gap.
        let early = core.connect()
        core.send(.resume(token: "t2", lastSeq: joinedSeq), on: early)
        #expect(core.errors(early) == [.resumeGap])

        // Messages within the bound replay whole.
        var kept = CoreHarness { $0.historyByteLimit = 64 * 1024 }
        let c = kept.connect(), d = kept.connect()
        kept.join("room-1", on: c)
        kept.join("room-1", on: d)
        let last = kept.takeOutbound(d).last!.seq!
        kept.lose(d)
        for _ in 1...2 { kept.send(.message(to: nil, data: large), on: c) }
        let back = kept.connect()
        kept.send(.resume(token: "t2", lastSeq: last), on: back)
        #expect(kept.take(back).filter { if case .message = $0 { true } else { false } }.count == 2)
    }

    @Test func acknowledgedMessagesAreForgotten() {
        var core = CoreHarness { $0.historyLimit = 100 }
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        for n in 1...4 { core.send(.message(to: nil, data: .integer(Int64(n))), on: a) }
        let seen = core.takeOutbound(b).last!.seq!
        core.send(.ping(ack: seen), on: b)
        #expect(core.take(b) == [.pong(requestID: nil)])
        core.lose(b)
        let again = core.connect()
        core.send(.resume(token: "t2", lastSeq: seen - 2), on: again)
        #expect(core.errors(again) == [.resumeGap], "acknowledged messages cannot be replayed")
    }

    @Test func resumeMustComeFirstAndCannotClaimTheFuture() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.lose(a)
        core.join("room-2", on: b)
        _ = core.take(b)
        core.send(.resume(token: "t1", lastSeq: 1), on: b)
        #expect(core.errors(b) == [.alreadyInRoom])
        let c = core.connect()
        core.send(.resume(token: "t1", lastSeq: 99), on: c)
        #expect(core.errors(c) == [.invalidField])
    }

    @Test func aSessionWithoutARoomEndsWithItsConnection() {
        var core = CoreHarness()
        let a = core.connect()
        core.lose(a)
        #expect(core.state.sessionCount == 0)
    }
}
