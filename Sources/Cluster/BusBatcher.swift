import Signaling
import SignalingCore

/// A batch ready for NOTIFY: its header line and its events' JSON array.
public struct EncodedBatch: Equatable, Sendable {
    /// `sb1 FROM TO SEQ` and a newline.
    public var header: String
    /// The JSON array of events.
    public var body: String

    /// Whether it fits one notification; larger ones go through the payload table.
    public var fitsNotification: Bool { header.utf8.count + body.utf8.count <= BusBatch.payloadLimit }
    /// The notification text when it fits.
    public var text: String { header + body }
}

/// Packs a node's publications into as few notifications as order allows: consecutive events for the same target
/// share a batch up to the payload limit, and a change of target starts a new one, so every receiver sees this
/// node's events in the order they were published.
public struct BusBatcher: Sendable {
    /// The publishing node.
    public let node: NodeID
    private var sequence: UInt64 = 0

    /// A batcher for `node`.
    public init(node: NodeID) {
        self.node = node
    }

    /// The next sequence number (every payload of a node gets its own, so none is folded into another).
    private mutating func nextSequence() -> UInt64 {
        sequence += 1
        return sequence
    }

    /// Encodes `publications` in order. Deliveries to parked sessions are not notifications (they go to the
    /// mailbox table) and must have been resolved before.
    public mutating func encode(_ publications: [ClusterPublication]) -> [EncodedBatch] {
        encode(events: publications.map(Self.event))
    }

    /// Encodes `(target, event)` pairs in order (`nil` target: every node).
    public mutating func encode(events: [(NodeID?, BusEvent)]) -> [EncodedBatch] {
        var batches: [EncodedBatch] = []
        var target: NodeID?? = .none
        var body = ""
        var header = ""
        func close() {
            guard !body.isEmpty else { return }
            body.append("]")
            batches.append(EncodedBatch(header: header, body: body))
            body = ""
        }
        for (to, event) in events {
            var json = ""
            event.json.write(to: &json)
            let fits = header.utf8.count + body.utf8.count + json.utf8.count + 2 <= BusBatch.payloadLimit
            if target != .some(to) || !fits || body.isEmpty {
                close()
                target = .some(to)
                header = BusBatch(from: node, to: to, sequence: nextSequence(), events: []).header
                body = "[" + json
            } else {
                body.append(",")
                body.append(json)
            }
        }
        close()
        return batches
    }

    /// The bus event a publication becomes, with its target (`nil`: every node).
    public static func event(of publication: ClusterPublication) -> (NodeID?, BusEvent) {
        switch publication {
        case .left(let session, let room, let reason): return (nil, .left(session, room: room, reason: reason))
        case .delivery(let node, let delivery): return (node, .delivery(delivery))
        case .park(let parked): return (nil, .moved(parked.peer.id, room: parked.room, node: .parked))
        case .kick(let session, let room, .parked): return (nil, .left(session, room: room, reason: .removed))
        case .kick(let session, _, let node): return (node, .kick(session))
        }
    }
}
