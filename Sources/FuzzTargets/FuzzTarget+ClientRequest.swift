import SignalingCore

extension FuzzTarget {
    /// One `/ws` text frame (also an SSE POST body), then what the server sends because of it.
    public static let wsClientMessage = FuzzTarget(
        name: "ws-client-message", maximumInputLength: 16_384,
        summary: "ClientRequest.decode: a request or a precise error, and the frame sent in reply reads back the same",
        run: ClientRequestFuzzing.run)
}

/// The checks behind ``FuzzTarget/wsClientMessage``.
enum ClientRequestFuzzing {
    static let room = RoomName("fuzz")!
    static let sender = SessionID("s1")

    static func run(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        // The frame the server sends because of this one, whose content comes from the client.
        let reply: OutboundMessage
        do {
            let request = try ClientRequest.decode(input)
            switch request.message {
            case .join(let join):
                reply = OutboundMessage(seq: 1, message: .otherJoined(room: join.room, peer: PeerInfo(id: sender, name: join.name)))
            case .message(let to, let data):
                reply = OutboundMessage(seq: 1, message: .message(room: room, from: sender, to: to, data: data))
            case .ping:
                reply = OutboundMessage(seq: nil, message: .pong(requestID: request.id))
            case .leave, .resume:
                return
            }
        } catch {
            reply = OutboundMessage(seq: nil, message: .error(error))
        }
        let frame = reply.json
        let again: OutboundMessage
        do {
            again = try OutboundMessage.decode(Array(frame.utf8))
        } catch {
            throw FuzzPropertyViolation("the reply \(frame) is not a frame a client can read: \(error)")
        }
        try require(again == reply, "the reply \(frame) reads back as \(again), not \(reply)")
    }
}
