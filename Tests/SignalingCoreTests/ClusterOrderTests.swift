import SignalingCore
import Testing

/// Per-sender order across nodes: a message to a member that moved can arrive through its old node after a later
/// one sent straight to its new place; the recipient's node puts each sender's numbered messages back in order.
@Suite struct ClusterOrderTests {
    let room = RoomName("r")!
    let nodeB = NodeID("node-b")
    let sender = SessionID("b1")

    func clustered(configure: (inout SignalingConfiguration) -> Void = { _ in }) -> CoreHarness {
        var harness = CoreHarness(configure: configure)
        harness.state.clusterStatusChanged(.connected)
        return harness
    }

    func joinRemoteSender(_ harness: inout CoreHarness) {
        harness.record(
            harness.state.remoteMemberJoined(RemoteMember(peer: PeerInfo(id: sender, name: nil), room: room, node: nodeB, capacity: 8)))
    }

    func relay(_ harness: inout CoreHarness, _ data: JSONText, seq: UInt64, to connection: ConnectionID) {
        let delivery = RemoteDelivery.direct(room: room, from: sender, to: Recipient(harness.session(connection), seq: seq), data: data)
        harness.record(harness.state.remoteDeliveryReceived(delivery, now: harness.clock.now))
    }

    let moved = SessionID("moved")

    /// A member of node B ("moved", named Mo) in the room.
    func joinRemoteMover(_ harness: inout CoreHarness) {
        harness.record(
            harness.state.remoteMemberJoined(RemoteMember(peer: PeerInfo(id: moved, name: "Mo"), room: room, node: nodeB, capacity: 8)))
    }

    /// "moved" parks, and a fresh connection here claims it with `received`, `early` and `mailbox`; returns the
    /// connection.
    func claimMover(
        _ harness: inout CoreHarness, received: [SessionID: UInt64], early: [RemoteDelivery] = [], mailbox: [RemoteDelivery] = []
    ) -> ConnectionID {
        harness.state.remoteMemberMoved(moved, room: room, to: .parked)
        let fresh = harness.connect()
        harness.send(.resume(token: "moved-token", lastSeq: 0), on: fresh)
        let parked = ParkedSession(
            peer: PeerInfo(id: moved, name: "Mo"), token: "moved-token", room: room, capacity: 8, nextSeq: 1, history: [],
            received: received, early: early)
        harness.record(
            harness.state.clusterResumeClaimed(harness.clusterResumes[0], parked: parked, mailbox: mailbox, now: harness.clock.now))
        return fresh
    }

    func payloads(_ harness: inout CoreHarness, _ connection: ConnectionID) -> [JSONText] {
        harness.take(connection).compactMap { message in
            guard case .message(_, _, _, let data) = message else { return nil }
            return data
        }
    }

    @Test func aMessageAheadOfAnEarlierOneWaitsForIt() {
        var harness = clustered()
        let a = harness.clusterMember()
        joinRemoteSender(&harness)
        _ = harness.take(a)
        relay(&harness, "second", seq: 2, to: a)
        relay(&harness, "third", seq: 3, to: a)
        #expect(payloads(&harness, a).isEmpty, "held until the first arrives")
        relay(&harness, "first", seq: 1, to: a)
        #expect(payloads(&harness, a) == ["first", "second", "third"])
        relay(&harness, "fourth", seq: 4, to: a)
        #expect(payloads(&harness, a) == ["fourth"])
    }

    @Test func aGapIsGivenUpAfterTheWaitAndTheLateMessageStillArrives() {
        var harness = clustered { $0.reorderWait = .seconds(2) }
        let a = harness.clusterMember()
        joinRemoteSender(&harness)
        _ = harness.take(a)
        relay(&harness, "second", seq: 2, to: a)
        harness.advance(.seconds(1))
        #expect(payloads(&harness, a).isEmpty)
        harness.advance(.seconds(1))
        #expect(payloads(&harness, a) == ["second"])
        relay(&harness, "first, late", seq: 1, to: a)
        relay(&harness, "third", seq: 3, to: a)
        #expect(payloads(&harness, a) == ["first, late", "third"], "late is delivered, not lost; order resumes")
    }

    @Test func tooManyWaitingMessagesGiveUpTheOldestGap() {
        var harness = clustered { $0.reorderLimit = 2 }
        let a = harness.clusterMember()
        joinRemoteSender(&harness)
        _ = harness.take(a)
        relay(&harness, 3, seq: 3, to: a)
        relay(&harness, 4, seq: 4, to: a)
        #expect(payloads(&harness, a).isEmpty)
        relay(&harness, 6, seq: 6, to: a)
        #expect(payloads(&harness, a) == [3, 4], "the third waiting message gives up the gap before 3")
        relay(&harness, 5, seq: 5, to: a)
        #expect(payloads(&harness, a) == [5, 6])
    }

    @Test func aClaimPutsTheMailboxAndWaitingMessagesInOrder() {
        var harness = clustered()
        let peer = harness.clusterMember(name: "Ada")
        joinRemoteMover(&harness)
        _ = harness.take(peer)
        let sender = harness.session(peer)
        // The mailbox got 3 straight from the sender's node before its old node passed 2 on; 4 waited there.
        let fresh = claimMover(
            &harness, received: [sender: 1], early: [.copy(room: room, from: sender, to: Recipient(moved, seq: 4), data: 4)],
            mailbox: [
                .copy(room: room, from: sender, to: Recipient(moved, seq: 3), data: 3),
                .copy(room: room, from: sender, to: Recipient(moved, seq: 2), data: 2),
            ])
        #expect(payloads(&harness, fresh) == [2, 3, 4])
    }

    @Test func parkingCarriesTheNumbersAndWaitingMessages() {
        var harness = clustered()
        let a = harness.clusterMember()
        joinRemoteSender(&harness)
        harness.send(.message(to: sender, data: "hi"), on: a)
        #expect(harness.forwarded.last?.1 == .direct(room: room, from: harness.session(a), to: Recipient(sender, seq: 1), data: "hi"))
        relay(&harness, "first", seq: 1, to: a)
        relay(&harness, "third", seq: 3, to: a)
        harness.lose(a)
        let parked = harness.parked.first
        #expect(parked?.sent == [sender: 1] && parked?.received == [sender: 1])
        #expect(parked?.early == [.direct(room: room, from: sender, to: Recipient(harness.session(a), seq: 3), data: "third")])
    }

    @Test func aSenderKeepsNumberingAMemberThatMovedHere() {
        var harness = clustered()
        let a = harness.clusterMember(name: "Ada")
        joinRemoteMover(&harness)
        harness.send(.message(to: moved, data: 1), on: a)
        harness.send(.message(to: nil, data: 2), on: a)
        #expect(harness.forwarded.map { $0.1.recipient?.seq ?? $0.1.broadcastNumbers } == [1, 2])
        // The member moves here while 2 is still on its way through its old node.
        let fresh = claimMover(&harness, received: [harness.session(a): 1])
        _ = harness.take(fresh)
        harness.send(.message(to: moved, data: 3), on: a)
        #expect(payloads(&harness, fresh).isEmpty, "3 is local now, but waits for 2")
        let late = RemoteDelivery.copy(room: room, from: harness.session(a), to: Recipient(moved, seq: 2), data: 2)
        harness.record(harness.state.remoteDeliveryReceived(late, now: harness.clock.now))
        #expect(payloads(&harness, fresh) == [2, 3])
    }

    @Test func leavingEndsTheNumbering() {
        var harness = clustered()
        let a = harness.clusterMember()
        joinRemoteSender(&harness)
        harness.send(.message(to: sender, data: 1), on: a)
        relay(&harness, "ahead", seq: 2, to: a)
        _ = harness.take(a)
        harness.record(harness.state.remoteMemberLeft(sender, room: room, reason: .left))
        #expect(payloads(&harness, a) == ["ahead"], "what waited on a departed sender is delivered, not dropped")
        joinRemoteSender(&harness)
        harness.send(.message(to: sender, data: 2), on: a)
        #expect(harness.forwarded.last?.1.recipient?.seq == 1, "a new meeting counts afresh")
    }
}

extension RemoteDelivery {
    /// The one number of a broadcast to a single member (tests only).
    fileprivate var broadcastNumbers: UInt64 {
        guard case .broadcast(_, _, _, let recipients) = self, recipients.count == 1 else { return 0 }
        return recipients[0].seq
    }
}
