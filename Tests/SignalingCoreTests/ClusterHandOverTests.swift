import SignalingCore
import Testing

/// A draining node hands its sessions to the directory; another node's core claims one for a resume and the
/// client carries on with everything sent to it meanwhile, its peers never seeing `bye`.
@Suite struct ClusterHandOverTests {
    let room = RoomName("r")!
    let nodeB = NodeID("node-b")

    @Test func aDrainingNodeParksInsteadOfSayingBye() {
        var harness = CoreHarness()
        harness.state.clusterStatusChanged(.connected)
        let a = harness.clusterMember(name: "n\(harness.nextConnection)")
        let b = harness.clusterMember(name: "n\(harness.nextConnection)")
        harness.send(.message(to: nil, data: "before"), on: a)
        _ = harness.take(b)
        _ = harness.state.takeMembershipChanges()
        harness.record(harness.state.drainStarted(within: 5))
        harness.close(a)
        #expect(harness.take(b).filter { $0.type != "reconnect" }.isEmpty, "no bye: the session was handed over")
        #expect(harness.state.takeMembershipChanges().isEmpty)
        #expect(harness.parked.map(\.peer.id) == [harness.session(a)])
        #expect(harness.parked.first?.token == "t\(a.rawValue)")
        // What b sends to it now goes to its mailbox, addressed or not.
        harness.send(.message(to: harness.session(a), data: "to-a"), on: b)
        harness.send(.message(to: nil, data: "to-all"), on: b)
        #expect(harness.forwarded.map(\.0) == [.parked, .parked])
        #expect(
            harness.forwarded.map(\.1) == [
                .direct(room: room, from: harness.session(b), to: Recipient(harness.session(a), seq: 1), data: "to-a"),
                .copy(room: room, from: harness.session(b), to: Recipient(harness.session(a), seq: 2), data: "to-all"),
            ])
        // A message still routed here by a node that has not seen the hand-over goes on to the mailbox too.
        harness.forwarded = []
        harness.record(
            harness.state.remoteDeliveryReceived(
                .broadcast(room: room, from: SessionID("x"), data: 1, to: [Recipient(harness.session(a))]), now: harness.clock.now))
        #expect(harness.forwarded.map(\.0) == [.parked])
        // The end of the drain parks the rest.
        harness.record(harness.state.parkAll())
        #expect(harness.parked.map(\.peer.id) == [harness.session(a), harness.session(b)])
        #expect(harness.state.sessionCount == 0)
    }

    @Test func aDroppedConnectionIsHandedOverButACleanCloseLeaves() {
        var harness = CoreHarness()
        harness.state.clusterStatusChanged(.connected)
        let a = harness.clusterMember(name: "n\(harness.nextConnection)")
        let b = harness.clusterMember(name: "n\(harness.nextConnection)")
        let c = harness.clusterMember(name: "n\(harness.nextConnection)")
        _ = harness.take(c)
        harness.lose(a)
        #expect(harness.parked.map(\.peer.id) == [harness.session(a)])
        #expect(harness.take(c).isEmpty)
        harness.close(b)
        #expect(harness.take(c) == [.bye(room: room, id: harness.session(b), reason: .closed)])
        // Without the directory, a dropped session waits out its grace period here instead.
        harness.state.clusterStatusChanged(.disconnected)
        harness.lose(c)
        #expect(harness.parked.count == 1)
        #expect(harness.state.connection(of: harness.session(c)) == nil && harness.state.room(of: harness.session(c)) == room)
    }

    @Test func aClaimedSessionResumesWithItsHistoryAndMailbox() {
        var harness = CoreHarness()
        harness.state.clusterStatusChanged(.connected)
        let peer = harness.clusterMember(name: "n\(harness.nextConnection)")
        let parkedID = SessionID("moved")
        harness.record(
            harness.state.remoteMemberJoined(RemoteMember(peer: PeerInfo(id: parkedID, name: "Mo"), room: room, node: nodeB, capacity: 8)))
        harness.state.remoteMemberMoved(parkedID, room: room, to: .parked)
        _ = harness.take(peer)
        let fresh = harness.connect()
        harness.send(.resume(token: "parked-token", lastSeq: 3), id: 7, on: fresh)
        #expect(harness.take(fresh).isEmpty)
        #expect(
            harness.clusterResumes == [
                ClusterResumeRequest(token: "parked-token", lastSeq: 3, session: harness.session(fresh), requestID: 7)
            ])
        let history = [
            OutboundMessage(seq: 3, message: .message(room: room, from: harness.session(peer), to: nil, data: "seen")),
            OutboundMessage(seq: 4, message: .message(room: room, from: harness.session(peer), to: nil, data: "unseen")),
        ]
        let parked = ParkedSession(
            peer: PeerInfo(id: parkedID, name: "Mo"), token: "parked-token", room: room, capacity: 8, nextSeq: 5, history: history)
        let mailbox: [RemoteDelivery] = [.copy(room: room, from: harness.session(peer), to: Recipient(parkedID), data: "while away")]
        harness.record(
            harness.state.clusterResumeClaimed(harness.clusterResumes[0], parked: parked, mailbox: mailbox, now: harness.clock.now))
        let received = harness.takeOutbound(fresh)
        #expect(
            received.first?.message
                == .resumed(room: room, id: parkedID, peers: [PeerInfo(id: harness.session(peer), name: "n1")], lastSeq: 3))
        #expect(received.dropFirst().map(\.seq) == [4, 5])
        #expect(received.last?.message == .message(room: room, from: harness.session(peer), to: nil, data: "while away"))
        #expect(harness.take(peer).isEmpty, "its peers saw nothing: no bye, no other_joined")
        // It is local now: a message to it is delivered here, not forwarded.
        harness.forwarded = []
        harness.send(.message(to: parkedID, data: "hello"), on: peer)
        #expect(harness.forwarded.isEmpty)
        #expect(harness.take(fresh) == [.message(room: room, from: harness.session(peer), to: parkedID, data: "hello")])
    }

    @Test func aHandOverRequestReplacesTheOldConnection() {
        var harness = CoreHarness()
        harness.state.clusterStatusChanged(.connected)
        let a = harness.clusterMember(name: "n\(harness.nextConnection)")
        let b = harness.clusterMember(name: "n\(harness.nextConnection)")
        _ = harness.take(a)
        _ = harness.take(b)
        harness.record(harness.state.handOverRequested(harness.session(a)))
        #expect(harness.errors(a) == [.replaced])
        #expect(harness.closed[a] != nil)
        #expect(harness.parked.map(\.peer.id) == [harness.session(a)])
        #expect(harness.take(b).isEmpty, "its peers see nothing")
        harness.record(harness.state.handOverRequested(SessionID("unknown")))
        #expect(harness.parked.count == 1)
    }

    @Test func anUnknownTokenIsRefusedOnceTheDirectoryHasNoSession() {
        var harness = CoreHarness()
        harness.state.clusterStatusChanged(.connected)
        let fresh = harness.connect()
        harness.send(.resume(token: "nobody", lastSeq: 0), on: fresh)
        harness.join("r", on: fresh)
        #expect(harness.errors(fresh) == [.alreadyInRoom], "no join while the resume is pending")
        harness.record(harness.state.clusterResumeRefused(harness.clusterResumes[0]))
        #expect(harness.errors(fresh) == [.resumeFailed])
        var standalone = CoreHarness()
        let other = standalone.connect()
        standalone.send(.resume(token: "nobody", lastSeq: 0), on: other)
        #expect(standalone.errors(other) == [.resumeFailed])
        #expect(standalone.clusterResumes.isEmpty)
    }
}
