import SignalingCore
import Testing

@Suite("Routing, isolation and held messages")
struct RoutingTests {
    @Test func broadcastReachesEveryOtherMemberAndNothingCrossesRooms() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect(), c = core.connect(), x = core.connect()
        for member in [a, b, c] { core.join("room-1", on: member) }
        core.join("room-2", on: x)
        for connection in [a, b, c, x] { _ = core.take(connection) }
        core.send(.message(to: nil, data: ["type": "offer"]), on: a)
        let expected = ServerMessage.message(room: room1, from: core.session(a), to: nil, data: ["type": "offer"])
        #expect(core.take(b) == [expected])
        #expect(core.take(c) == [expected])
        #expect(core.take(a) == [])
        #expect(core.take(x) == [])
    }

    @Test func addressedMessagesReachOnlyTheirTargetInTheSameRoom() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect(), c = core.connect(), x = core.connect()
        for member in [a, b, c] { core.join("room-1", on: member) }
        core.join("room-2", on: x)
        for connection in [a, b, c, x] { _ = core.take(connection) }
        core.send(.message(to: core.session(b), data: 42), on: a)
        #expect(core.take(b) == [.message(room: room1, from: core.session(a), to: core.session(b), data: 42)])
        #expect(core.take(c) == [])
        // Another room's member, yourself, and strangers are all unknown peers.
        for target in [core.session(x), core.session(a), SessionID("nobody")] {
            core.send(.message(to: target, data: 1), id: "m", on: a)
            #expect(
                core.take(a) == [
                    .error(
                        SignalingError(
                            .unknownPeer, "'\(target)' is not another member of room 'room-1'", requestType: "message", requestID: "m"))
                ])
        }
        #expect(core.take(x) == [])
    }

    @Test func messagesOutsideARoomAreRefused() {
        var core = CoreHarness()
        let a = core.connect()
        core.send(.message(to: nil, data: 1), on: a)
        #expect(core.errors(a) == [.notInRoom])
    }

    @Test func heldMessagesAreDeliveredInOrderToTheNextJoiner() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        for n in 1...3 { core.send(.message(to: nil, data: .integer(Int64(n))), on: a) }
        _ = core.take(a)
        core.join("room-1", on: b)
        let received = core.take(b)
        #expect(received.first?.type == "joined")
        #expect(
            Array(received.dropFirst())
                == (1...3).map {
                    .message(room: room1, from: core.session(a), to: nil, data: .integer(Int64($0)))
                })
        let c = core.connect()
        core.join("room-1", on: c)
        #expect(core.take(c).count == 1, "held messages are delivered once, to the first joiner only")
    }

    @Test func heldMessagesExpireAndTheSenderIsTold() {
        var core = CoreHarness { $0.heldMessageTTL = .seconds(10) }
        let a = core.connect()
        core.join("room-1", on: a)
        core.send(.message(to: nil, data: 1), id: "first", on: a)
        core.advance(.seconds(5))
        core.send(.message(to: nil, data: 2), id: "second", on: a)
        _ = core.take(a)
        core.advance(.seconds(5))
        #expect(
            core.take(a) == [
                .error(
                    SignalingError(
                        .heldMessageExpired, "no peer joined room 'room-1' before the message expired", requestType: "message",
                        requestID: "first"))
            ])
        core.advance(.seconds(5))
        #expect(core.errors(a) == [.heldMessageExpired])
        let b = core.connect()
        core.join("room-1", on: b)
        #expect(core.take(b).count == 1, "expired messages are not delivered")
    }

    @Test func heldMessagesAreBounded() {
        var core = CoreHarness { $0.heldMessageLimit = 2 }
        let a = core.connect()
        core.join("room-1", on: a)
        _ = core.take(a)
        for n in 1...3 { core.send(.message(to: nil, data: .integer(Int64(n))), on: a) }
        #expect(core.errors(a) == [.heldQueueFull])
        let b = core.connect()
        core.join("room-1", on: b)
        #expect(core.take(b).count == 3, "joined plus the two held messages")
    }

    @Test func heldMessagesLeaveWithTheirSender() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.send(.message(to: nil, data: 1), on: a)
        core.send(.leave, on: a)
        core.join("room-1", on: b)
        #expect(core.take(b).count == 1)
    }

    @Test func perSenderOrderIsKeptAcrossManyMessages() {
        var core = CoreHarness { $0.messageBurst = 10_000 }
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        _ = core.take(b)
        for n in 0..<1000 { core.send(.message(to: nil, data: .integer(Int64(n))), on: a) }
        let numbers = core.takeOutbound(b).compactMap { outbound -> Int64? in
            if case .message(_, _, _, let data) = outbound.message { return data.value.integerValue } else { return nil }
        }
        #expect(numbers == (0..<1000).map(Int64.init))
    }
}
