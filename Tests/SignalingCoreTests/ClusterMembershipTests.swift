import SignalingCore
import Testing

/// The core as a cluster node: joins wait for the directory, remote members take part in rooms, and the merge
/// rules for directory events (repeats, resynchronisation, dead nodes) hold.
@Suite struct ClusterMembershipTests {
    let nodeB = NodeID("node-b")
    let nodeC = NodeID("node-c")

    func clustered() -> CoreHarness {
        var harness = CoreHarness()
        harness.state.clusterStatusChanged(.connected)
        return harness
    }

    func remote(_ id: String, in room: String = "r", node: NodeID, name: String? = nil, capacity: Int = 8) -> RemoteMember {
        RemoteMember(peer: PeerInfo(id: SessionID(id), name: name), room: RoomName(room)!, node: node, capacity: capacity)
    }

    @Test func joinWaitsForTheDirectoryThenListsRemotePeers() {
        var harness = clustered()
        harness.record(harness.state.remoteMemberJoined(remote("rb", node: nodeB, name: "Bo")))
        let a = harness.connect()
        harness.join("r", on: a, name: "Ada", password: "pw", capacity: 4)
        #expect(harness.take(a).isEmpty)
        #expect(harness.clusterJoins.count == 1)
        let request = harness.clusterJoins[0]
        #expect(request.peer == PeerInfo(id: harness.session(a), name: "Ada"))
        #expect(request.capacity == 4 && request.checksPassword && request.passwordDigest?.count == 32)
        // A second join while the first is undecided is refused.
        harness.join("r", on: a)
        #expect(harness.errors(a) == [.alreadyInRoom])
        harness.record(harness.state.clusterJoinAdmitted(harness.session(a), room: RoomName("r")!, capacity: 4))
        guard case .joined(_, _, let peers, let capacity, _) = harness.take(a).first else {
            Issue.record("no joined")
            return
        }
        #expect(peers == [PeerInfo(id: SessionID("rb"), name: "Bo")])
        #expect(capacity == 8, "the room's capacity is the one the directory already held")
        #expect(harness.state.members(of: RoomName("r")!) == [SessionID("rb"), harness.session(a)])
    }

    @Test func refusalsReachTheClient() {
        var harness = clustered()
        let a = harness.connect()
        harness.join("r", on: a)
        harness.record(harness.state.clusterJoinRefused(harness.clusterJoins[0], refusal: .full(capacity: 2)))
        #expect(harness.take(a) == [.full(room: RoomName("r")!, capacity: 2, requestID: nil)])
        harness.join("r", on: a)
        harness.record(harness.state.clusterJoinRefused(harness.clusterJoins[1], refusal: .error(.wrongPassword, "no")))
        #expect(harness.errors(a) == [.wrongPassword])
        #expect(harness.state.room(of: harness.session(a)) == nil)
    }

    @Test func joinsAreRefusedWhileTheDirectoryIsAway() {
        var harness = clustered()
        harness.state.clusterStatusChanged(.disconnected)
        let a = harness.connect()
        harness.join("r", on: a)
        #expect(harness.errors(a) == [.clusterUnavailable])
        #expect(harness.clusterJoins.isEmpty)
    }

    @Test func aSessionThatEndedBeforeAdmissionIsReportedAsLeft() {
        var harness = clustered()
        let a = harness.connect()
        harness.join("r", on: a)
        _ = harness.state.takeMembershipChanges()
        harness.close(a)
        harness.record(harness.state.clusterJoinAdmitted(harness.session(a), room: RoomName("r")!, capacity: 8))
        #expect(harness.state.takeMembershipChanges() == [.left(session: harness.session(a), room: RoomName("r")!, reason: .closed)])
        #expect(harness.state.roomCount == 0)
    }

    @Test func broadcastsLeaveOncePerNodeAndDirectMessagesGoToTheirNode() {
        var harness = clustered()
        let a = harness.clusterMember()
        let b = harness.clusterMember()
        for (id, node) in [("b1", nodeB), ("c1", nodeC), ("b2", nodeB)] {
            harness.record(harness.state.remoteMemberJoined(remote(id, node: node)))
        }
        _ = harness.take(a)
        _ = harness.take(b)
        harness.send(.message(to: nil, data: "hello"), on: a)
        #expect(harness.take(b) == [.message(room: RoomName("r")!, from: harness.session(a), to: nil, data: "hello")])
        #expect(harness.forwarded.map(\.0) == [nodeB, nodeC])
        let room = RoomName("r")!
        #expect(
            harness.forwarded.map(\.1) == [
                .broadcast(
                    room: room, from: harness.session(a), data: "hello",
                    to: [Recipient(SessionID("b1"), seq: 1), Recipient(SessionID("b2"), seq: 1)]),
                .broadcast(room: room, from: harness.session(a), data: "hello", to: [Recipient(SessionID("c1"), seq: 1)]),
            ])
        harness.forwarded = []
        harness.send(.message(to: SessionID("c1"), data: 1), on: a)
        #expect(harness.forwarded.map(\.0) == [nodeC])
        #expect(
            harness.forwarded.first?.1
                == .direct(room: RoomName("r")!, from: harness.session(a), to: Recipient(SessionID("c1"), seq: 2), data: 1))
        #expect(harness.take(b).isEmpty)
    }

    @Test func remoteDeliveriesReachOnlyLocalMembersOfTheRoom() {
        var harness = clustered()
        let a = harness.clusterMember()
        let other = harness.clusterMember(of: "elsewhere")
        harness.record(harness.state.remoteMemberJoined(remote("b1", node: nodeB)))
        _ = harness.take(a)
        _ = harness.take(other)
        let room = RoomName("r")!
        let now = harness.clock.now
        harness.record(
            harness.state.remoteDeliveryReceived(
                .broadcast(room: room, from: SessionID("b1"), data: "x", to: [Recipient(harness.session(a))]), now: now))
        harness.record(
            harness.state.remoteDeliveryReceived(
                .direct(room: room, from: SessionID("b1"), to: Recipient(harness.session(other)), data: "y"), now: now))
        harness.record(
            harness.state.remoteDeliveryReceived(
                .copy(room: room, from: SessionID("b1"), to: Recipient(harness.session(a)), data: "z"), now: now))
        #expect(
            harness.take(a) == [
                .message(room: room, from: SessionID("b1"), to: nil, data: "x"),
                .message(room: room, from: SessionID("b1"), to: nil, data: "z"),
            ])
        #expect(harness.take(other).isEmpty, "a member of another room gets nothing")
    }

    @Test func messagesHeldWhileAloneGoToARemoteJoiner() {
        var harness = clustered()
        let a = harness.clusterMember()
        harness.send(.message(to: nil, data: "offer"), on: a)
        #expect(harness.forwarded.isEmpty)
        harness.record(harness.state.remoteMemberJoined(remote("b1", node: nodeB, name: "Bo")))
        #expect(harness.forwarded.map(\.0) == [nodeB])
        #expect(
            harness.forwarded.first?.1
                == .copy(room: RoomName("r")!, from: harness.session(a), to: Recipient(SessionID("b1"), seq: 1), data: "offer"))
        #expect(harness.take(a).last == .otherJoined(room: RoomName("r")!, peer: PeerInfo(id: SessionID("b1"), name: "Bo")))
    }

    @Test func repeatedEventsAreIdempotentAndLeavesSayBye() {
        var harness = clustered()
        let a = harness.clusterMember()
        _ = harness.take(a)
        let member = remote("b1", node: nodeB)
        harness.record(harness.state.remoteMemberJoined(member))
        harness.record(harness.state.remoteMemberJoined(member))
        #expect(harness.take(a).count == 1)
        harness.record(harness.state.remoteMemberLeft(SessionID("b1"), room: RoomName("r")!, reason: .left))
        harness.record(harness.state.remoteMemberLeft(SessionID("b1"), room: RoomName("r")!, reason: .left))
        #expect(harness.take(a) == [.bye(room: RoomName("r")!, id: SessionID("b1"), reason: .left)])
        #expect(harness.state.members(of: RoomName("r")!) == [harness.session(a)])
        #expect(harness.state.remoteMemberCount == 0)
    }

    @Test func aDeadNodesMembersLeaveWithTimeout() {
        var harness = clustered()
        let a = harness.clusterMember()
        harness.record(harness.state.remoteMemberJoined(remote("b1", node: nodeB)))
        harness.record(harness.state.remoteMemberJoined(remote("c1", node: nodeC)))
        harness.record(harness.state.remoteMemberJoined(remote("b2", in: "only-remote", node: nodeB)))
        _ = harness.take(a)
        harness.record(harness.state.nodeDown(nodeB))
        #expect(harness.take(a) == [.bye(room: RoomName("r")!, id: SessionID("b1"), reason: .timeout)])
        #expect(harness.state.members(of: RoomName("r")!) == [harness.session(a), SessionID("c1")])
        #expect(harness.state.members(of: RoomName("only-remote")!) == nil, "a room left empty is forgotten")
    }

    @Test func resynchronisationKeepsTheKnownAddsTheNewAndDropsTheGone() {
        var harness = clustered()
        let a = harness.clusterMember()
        harness.record(harness.state.remoteMemberJoined(remote("kept", node: nodeB)))
        harness.record(harness.state.remoteMemberJoined(remote("gone", node: nodeB)))
        _ = harness.take(a)
        harness.record(harness.state.clusterResynchronized([remote("kept", node: nodeB), remote("new", node: nodeC)]))
        let room = RoomName("r")!
        #expect(
            harness.take(a) == [
                .bye(room: room, id: SessionID("gone"), reason: .timeout),
                .otherJoined(room: room, peer: PeerInfo(id: SessionID("new"), name: nil)),
            ])
        #expect(Set(harness.state.members(of: room) ?? []) == [harness.session(a), SessionID("kept"), SessionID("new")])
        #expect(harness.state.localMembers(on: NodeID("me")).map(\.peer.id) == [harness.session(a)])
    }

    @Test func aLocalMemberEvictedElsewhereIsClosed() {
        var harness = clustered()
        let a = harness.clusterMember()
        _ = harness.take(a)
        harness.record(harness.state.remoteMemberLeft(harness.session(a), room: RoomName("r")!, reason: .timeout))
        #expect(harness.closed.isEmpty, "only an eviction closes a local member")
        harness.record(harness.state.remoteMemberLeft(harness.session(a), room: RoomName("r")!, reason: .evicted))
        #expect(harness.errors(a) == [.duplicateIdentity])
        #expect(harness.closed[a] != nil)
        #expect(harness.state.sessionCount == 0)
    }

    @Test func summariesNameEachRemoteMembersNode() {
        var harness = clustered()
        harness.record(harness.state.remoteMemberJoined(remote("b1", node: nodeB)))
        let summary = harness.state.roomSummaries.first
        #expect(summary?.members.map(\.id) == [SessionID("b1")])
        #expect(summary?.nodes == [SessionID("b1"): nodeB])
    }
}
