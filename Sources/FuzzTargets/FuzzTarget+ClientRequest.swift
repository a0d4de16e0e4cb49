import SignalingCore

extension FuzzTarget {
    /// One `/ws` text frame (also an SSE POST body), then what the server sends because of it.
    public static let wsClientMessage = FuzzTarget(
        name: "ws-client-message", maximumInputLength: 16_384,
        summary:
            "ClientRequest.decode: a request or a precise error, the frame sent in reply reads back the same, and the parser "
            + "that keeps `data` as text accepts exactly what the tree parser accepts",
        run: ClientRequestFuzzing.run)
}

/// The checks behind ``FuzzTarget/wsClientMessage``.
enum ClientRequestFuzzing {
    static let room = RoomName("fuzz")!
    static let sender = SessionID("s1")

    static func run(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        try keptTextAgreesWithTree(input)
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

    /// `data` is validated by skipping rather than parsing: the two must accept the same documents and read the same.
    static func keptTextAgreesWithTree(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        let tree = try? JSONValue(parsing: input)
        let kept: JSONValue??  // nil: refused; .some(nil): valid JSON but not an object
        do {
            if let (members, text) = try JSONValue.parsingObject(input, keepingAsText: "data") {
                var all = members
                if let text { all["data"] = text.value }
                kept = .some(.object(all))
            } else {
                kept = .some(nil)
            }
        } catch {
            kept = nil
        }
        switch (tree, kept) {
        case (nil, nil): return
        case (let tree?, let kept??): try require(tree == kept, "kept as text, the document reads \(kept), not \(tree)")
        case (let tree?, .some(nil)): try require(tree.objectValue == nil, "an object was read as something else")
        default: throw FuzzPropertyViolation("one parser accepted what the other refused: tree \(String(describing: tree))")
        }
    }
}
