import SignalingCore
import Testing

@Suite("Administration and drain")
struct AdministrationTests {
    @Test func aKickFindsASessionInItsGracePeriodEvenWithNothingToSend() {
        var core = CoreHarness { $0.gracePeriod = .seconds(30) }
        let a = core.connect()
        core.join("alone", on: a)
        core.lose(a)
        _ = core.state.takeMembershipChanges()
        let actions = core.state.sessionRemoved(SessionID("s1"), error: SignalingError(.kicked, "removed"))
        #expect(actions != nil, "found, though it has no connection and no peers to tell")
        #expect(core.state.takeMembershipChanges() == [.left(session: SessionID("s1"), room: RoomName("alone")!, reason: .removed)])
        #expect(core.state.sessionRemoved(SessionID("s1"), error: SignalingError(.kicked, "removed")) == nil)
        #expect(core.state.roomClosed(RoomName("alone")!) == nil)
    }

    @Test func aStalePasswordDoesNotEvictTheSameIdentity() {
        var core = CoreHarness()
        let first = core.connect()
        let second = core.connect()
        core.send(.join(JoinRequest(room: RoomName("r")!, password: "p", admission: JoinAdmission(identity: "x"))), on: first)
        core.send(.join(JoinRequest(room: RoomName("r")!, password: "stale", admission: JoinAdmission(identity: "x"))), on: second)
        guard case .error(let error) = core.inbox[second]?.last?.message else { Issue.record("expected an error"); return }
        #expect(error.code == .wrongPassword)
        #expect(core.closed[first] == nil, "the first tab stays")
        #expect(core.state.members(of: RoomName("r")!) == [SessionID("s1")])
    }

    @Test func theSameIdentityReplacesItselfInAFullRoom() {
        var core = CoreHarness()
        let first = core.connect()
        let second = core.connect()
        core.send(.join(JoinRequest(room: RoomName("r")!, capacity: 1, admission: JoinAdmission(identity: "x"))), on: first)
        core.send(.join(JoinRequest(room: RoomName("r")!, admission: JoinAdmission(identity: "x"))), on: second)
        #expect(core.closed[first]??.code == .duplicateIdentity)
        #expect(core.state.members(of: RoomName("r")!) == [SessionID("s2")])
    }

    @Test func drainingRefusesJoinsAndResumesAndTellsConnectedClients() {
        var core = CoreHarness { $0.gracePeriod = .seconds(30) }
        let a = core.connect()
        let b = core.connect()
        core.join("r", on: a)
        core.lose(a)
        core.record(core.state.drainStarted(within: 5))
        #expect(core.inbox[b]?.last?.message == .reconnect(within: 5))
        core.join("r2", on: b)
        guard case .error(let joinError) = core.inbox[b]?.last?.message else { Issue.record("expected an error"); return }
        #expect(joinError.code == .serverDraining)
        let c = core.connect()
        core.send(.resume(token: "t1", lastSeq: 0), on: c)
        guard case .error(let resumeError) = core.inbox[c]?.last?.message else { Issue.record("expected an error"); return }
        #expect(resumeError.code == .serverDraining)
    }
}
