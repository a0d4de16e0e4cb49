import SignalingCore
import Testing

@Suite("Room membership, capacity and passwords")
struct RoomMembershipTests {
    @Test func firstJoinCreatesTheRoomAndSecondSeesThePeer() {
        var core = CoreHarness()
        let alice = core.connect(), bob = core.connect()
        core.join("room-1", on: alice, name: "Alice")
        #expect(core.take(alice) == [.joined(room: room1, id: core.session(alice), peers: [], capacity: 8, token: "t1")])
        core.join("room-1", on: bob, name: "Bob")
        #expect(
            core.take(bob) == [
                .joined(
                    room: room1, id: core.session(bob), peers: [PeerInfo(id: core.session(alice), name: "Alice")], capacity: 8, token: "t2")
            ])
        #expect(core.take(alice) == [.otherJoined(room: room1, peer: PeerInfo(id: core.session(bob), name: "Bob"))])
        #expect(core.state.members(of: room1) == [core.session(alice), core.session(bob)])
    }

    @Test func capacityComesFromConfigurationOrTheCreatingJoin() {
        var core = CoreHarness {
            $0.roomCapacity = 2; $0.maximumRoomCapacity = 3
        }
        let a = core.connect(), b = core.connect(), c = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        core.join("room-1", on: c)
        #expect(core.take(c) == [.full(room: room1, capacity: 2, requestID: nil)])
        #expect(core.state.members(of: room1)?.count == 2)

        let d = core.connect(), e = core.connect()
        core.join("room-2", on: d, capacity: 1)
        core.join("room-2", on: e, capacity: 3)  // capacity of an existing room is not changed by later joins
        #expect(core.take(e) == [.full(room: room2, capacity: 1, requestID: nil)])

        let f = core.connect()
        core.join("room-3", on: f, capacity: 4)
        #expect(core.errors(f) == [.invalidField])
        #expect(core.state.members(of: RoomName("room-3")!) == nil)
    }

    @Test func passwordsProtectRoomsWithoutAdmittingOnFailure() {
        var core = CoreHarness()
        let owner = core.connect(), guest = core.connect()
        core.join("room-1", on: owner, password: "s3cret")
        core.join("room-1", on: guest)
        #expect(core.errors(guest) == [.passwordRequired])
        core.join("room-1", on: guest, password: "wrong")
        #expect(core.errors(guest) == [.wrongPassword])
        #expect(core.state.members(of: room1) == [core.session(owner)])
        core.join("room-1", on: guest, password: "s3cret")
        #expect(core.take(guest).first?.type == "joined")
    }

    @Test func aSessionIsInAtMostOneRoom() {
        var core = CoreHarness()
        let a = core.connect()
        core.join("room-1", on: a)
        _ = core.take(a)
        core.join("room-2", on: a)
        #expect(core.errors(a) == [.alreadyInRoom])
        #expect(core.state.members(of: room2) == nil)
        core.send(.leave, on: a)
        #expect(core.take(a) == [.left(room: room1)])
        core.join("room-2", on: a)
        #expect(core.take(a).first?.type == "joined")
        #expect(core.state.members(of: room1) == nil)
    }

    @Test func leaveTellsOthersByeAndDeletesEmptyRooms() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        _ = core.take(a)
        core.send(.leave, on: b)
        #expect(core.take(b).last == .left(room: room1))
        #expect(core.take(a) == [.bye(room: room1, id: core.session(b), reason: .left)])
        core.send(.leave, on: b)
        #expect(core.errors(b) == [.notInRoom])
        core.send(.leave, on: a)
        #expect(core.state.roomCount == 0)
    }

    @Test func cleanCloseIsAnImmediateBye() {
        var core = CoreHarness()
        let a = core.connect(), b = core.connect()
        core.join("room-1", on: a)
        core.join("room-1", on: b)
        _ = core.take(a)
        core.close(b)
        #expect(core.take(a) == [.bye(room: room1, id: core.session(b), reason: .closed)])
        #expect(core.state.sessionCount == 1)
    }

    @Test func sessionLimitRefusesNewConnections() {
        var core = CoreHarness { $0.maximumSessions = 1 }
        _ = core.connect()
        let refused = core.connect()
        #expect(core.errors(refused) == [.serverFull])
        #expect(core.closed[refused]??.code == .serverFull)
    }
}
