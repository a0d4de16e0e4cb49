import SignalingCore
import Testing

@Suite("Membership changes (call records)")
struct MembershipChangeTests {
    @Test func reportsEveryEntryAndEveryExitWithItsReason() {
        var core = CoreHarness { $0.gracePeriod = .seconds(5) }
        let a = core.connect()
        let b = core.connect()
        let c = core.connect()
        let room = RoomName("r")!
        core.join("r", on: a, name: "Ann")
        core.join("r", on: b)
        #expect(
            core.state.takeMembershipChanges() == [
                .entered(session: SessionID("s1"), room: room, name: "Ann", connection: a),
                .entered(session: SessionID("s2"), room: room, name: nil, connection: b),
            ])
        #expect(core.state.takeMembershipChanges().isEmpty, "each change is taken once")

        core.send(.leave, on: a)
        core.close(b)
        core.join("r", on: c)
        core.lose(c)
        #expect(
            core.state.takeMembershipChanges() == [
                .left(session: SessionID("s1"), room: room, reason: .left),
                .left(session: SessionID("s2"), room: room, reason: .closed),
                .entered(session: SessionID("s3"), room: room, name: nil, connection: c),
            ])
        // A lost connection leaves only when its grace period ends, and a lone member leaves too.
        core.advance(.seconds(6))
        #expect(core.state.takeMembershipChanges() == [.left(session: SessionID("s3"), room: room, reason: .timeout)])
    }

    @Test func aRefusedJoinChangesNothing() {
        var core = CoreHarness()
        let a = core.connect()
        let b = core.connect()
        core.join("r", on: a, capacity: 1)
        _ = core.state.takeMembershipChanges()
        core.join("r", on: b)
        #expect(core.state.takeMembershipChanges().isEmpty)
    }
}
