import SignalingCore
import Testing

@Suite("Join admission (tokens, stored rooms, duplicate identities)")
struct JoinAdmissionTests {
    func join(_ core: inout CoreHarness, _ room: String, on connection: ConnectionID, _ admission: JoinAdmission, capacity: Int? = nil) {
        core.send(.join(JoinRequest(room: RoomName(room)!, name: "client", capacity: capacity, admission: admission)), on: connection)
    }

    @Test func aRefusalIsAnsweredWithItsCodeAfterTheRateLimit() {
        var core = CoreHarness {
            $0.joinBurst = 1; $0.joinRate = 0.001
        }
        let a = core.connect()
        join(&core, "r", on: a, JoinAdmission(refusal: SignalingError(.tokenExpired, "the join token has expired")))
        guard case .error(let error) = core.inbox[a]?.last?.message else { Issue.record("expected an error"); return }
        #expect(error.code == .tokenExpired)
        #expect(error.requestType == "join")
        #expect(core.state.members(of: RoomName("r")!) == nil)
        // The refused join still spent the address's join allowance: tokens cannot be probed quickly.
        join(&core, "r", on: a, JoinAdmission())
        #expect(core.closed[a] != nil)
    }

    @Test func tokenIdentityNameAndPublishReachThePeers() {
        var core = CoreHarness()
        let a = core.connect()
        let b = core.connect()
        join(&core, "r", on: a, JoinAdmission(identity: "alice", name: "Alice"))
        join(&core, "r", on: b, JoinAdmission(identity: "bob", canPublish: false))
        guard case .joined(_, _, let peers, _, _) = core.inbox[b]?.last?.message else { Issue.record("expected joined"); return }
        #expect(peers == [PeerInfo(id: SessionID("s1"), name: "Alice", identity: "alice")])
        guard case .otherJoined(_, let peer) = core.inbox[a]?.last?.message else { Issue.record("expected other_joined"); return }
        #expect(peer == PeerInfo(id: SessionID("s2"), name: "client", identity: "bob", canPublish: false))
    }

    @Test func theSameIdentityEvictsTheOlderSessionAtOnce() {
        var core = CoreHarness()
        let old = core.connect()
        let peer = core.connect()
        let new = core.connect()
        join(&core, "r", on: old, JoinAdmission(identity: "dana"))
        join(&core, "r", on: peer, JoinAdmission(identity: "erin"))
        _ = core.state.takeMembershipChanges()
        join(&core, "r", on: new, JoinAdmission(identity: "dana"))
        #expect(core.closed[old]??.code == .duplicateIdentity)
        let seen = core.inbox[peer]?.suffix(2).map(\.message) ?? []
        #expect(seen.first == .bye(room: RoomName("r")!, id: SessionID("s1"), reason: .evicted))
        #expect(core.state.members(of: RoomName("r")!) == [SessionID("s2"), SessionID("s3")])
        #expect(
            core.state.takeMembershipChanges() == [
                .left(session: SessionID("s1"), room: RoomName("r")!, reason: .evicted),
                .entered(session: SessionID("s3"), room: RoomName("r")!, name: "client", connection: new),
            ])
    }

    @Test func storedRoomRulesWinOverTheJoin() {
        var core = CoreHarness()
        let a = core.connect()
        let b = core.connect()
        let rules = StoredRoomRules(capacity: 1, isLocked: false)
        join(&core, "stored", on: a, JoinAdmission(storedRoom: rules), capacity: 8)
        guard case .joined(_, _, _, let capacity, _) = core.inbox[a]?.last?.message else { Issue.record("expected joined"); return }
        #expect(capacity == 1)
        join(&core, "stored", on: b, JoinAdmission(storedRoom: rules))
        #expect(core.inbox[b]?.last?.message == .full(room: RoomName("stored")!, capacity: 1, requestID: nil))
        join(&core, "locked", on: b, JoinAdmission(storedRoom: StoredRoomRules(capacity: nil, isLocked: true)))
        guard case .error(let error) = core.inbox[b]?.last?.message else { Issue.record("expected an error"); return }
        #expect(error.code == .roomLocked)
    }
}
