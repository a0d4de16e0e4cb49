import SignalingCore

/// One event on the cluster bus: a membership change, a relayed message or a node's death.
public enum BusEvent: Equatable, Sendable {
    /// A member entered a room through `member.node`.
    case joined(RemoteMember)
    /// A member left a room.
    case left(SessionID, room: RoomName, reason: ByeReason)
    /// A relayed message for members of the batch's target node.
    case delivery(RemoteDelivery)
    /// A member moved: parked by its draining node (``NodeID/parked``), or resumed on `node`.
    case moved(SessionID, room: RoomName, node: NodeID)
    /// An administrator elsewhere removed a member the batch's target node serves.
    case kick(SessionID)
    /// A resume elsewhere names a session the batch's target node serves: it should park it.
    case handOver(SessionID)
    /// A node was declared dead.
    case nodeDown(NodeID)
}

/// What one NOTIFY carries: events from one node, for one node or for all, in order.
///
/// The text is a header line `sb1 FROM TO SEQ` (`TO` is `*` for every node) followed by a JSON array of events, so
/// a node skips batches for others by reading the header alone. `SEQ` makes every payload unique: PostgreSQL folds
/// identical payloads sent in one transaction into one. A batch too large for NOTIFY travels through a table, and
/// the notification carries `@ID` in place of the events.
public struct BusBatch: Equatable, Sendable {
    /// The node that published it.
    public var from: NodeID
    /// The node it is for, or `nil` for every node.
    public var to: NodeID?
    /// A per-publisher counter.
    public var sequence: UInt64
    /// The events, in order.
    public var events: [BusEvent]

    /// Creates a batch.
    public init(from: NodeID, to: NodeID?, sequence: UInt64, events: [BusEvent]) {
        self.from = from
        self.to = to
        self.sequence = sequence
        self.events = events
    }

    /// Longest NOTIFY payload PostgreSQL accepts is 7,999 bytes; this leaves room for the header.
    public static let payloadLimit = 7_900

    /// The header line, with its newline.
    public var header: String {
        "sb1 \(from.rawValue) \(to?.rawValue ?? "*") \(sequence)\n"
    }
}

/// A payload's header, read without the events.
public struct BusHeader: Equatable, Sendable {
    /// The publisher.
    public var from: NodeID
    /// The target node, `nil` for every node.
    public var to: NodeID?
    /// The publisher's counter.
    public var sequence: UInt64
    /// The row holding the events, when they were too large for NOTIFY.
    public var storedPayload: Int64?
    /// The offset of the events' JSON in the payload.
    public var bodyOffset: Int

    /// Whether `node` should read this batch.
    public func isFor(_ node: NodeID) -> Bool {
        to == nil || to == node
    }
}

/// Why a bus payload was refused.
public struct BusDecodingError: Error, Equatable, CustomStringConvertible {
    /// What was wrong.
    public var reason: String

    init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

extension BusHeader {
    /// Reads a payload's header line.
    public init(parsing payload: String) throws(BusDecodingError) {
        let utf8 = payload.utf8
        guard let newline = utf8.firstIndex(of: UInt8(ascii: "\n")) else { throw BusDecodingError("no header line") }
        let fields = payload[..<newline].split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "sb1" else { throw BusDecodingError("not a Switchboard bus header") }
        guard !fields[1].isEmpty, !fields[2].isEmpty, let sequence = UInt64(fields[3]) else {
            throw BusDecodingError("malformed header fields")
        }
        self.from = NodeID(String(fields[1]))
        self.to = fields[2] == "*" ? nil : NodeID(String(fields[2]))
        self.sequence = sequence
        let bodyStart = utf8.index(after: newline)
        self.bodyOffset = utf8.distance(from: utf8.startIndex, to: bodyStart)
        let body = payload[bodyStart...]
        if body.hasPrefix("@") {
            guard let id = Int64(body.dropFirst()), id > 0 else { throw BusDecodingError("malformed payload reference") }
            self.storedPayload = id
        } else {
            self.storedPayload = nil
        }
    }
}

extension BusBatch {
    /// Decodes a whole payload (`body` replaces the events when they came from the payload table).
    public init(parsing payload: String, body: String? = nil) throws(BusDecodingError) {
        let header = try BusHeader(parsing: payload)
        let events = body ?? String(payload.utf8.dropFirst(header.bodyOffset))!
        let value: JSONValue
        do {
            value = try JSONValue(parsing: Array(events.utf8), maximumDepth: JSONValue.envelopeDepth)
        } catch {
            throw BusDecodingError("events are not JSON: \(error)")
        }
        guard case .array(let items) = value else { throw BusDecodingError("events are not a JSON array") }
        var decoded: [BusEvent] = []
        decoded.reserveCapacity(items.count)
        for item in items {
            decoded.append(try BusEvent(json: item))
        }
        self.init(from: header.from, to: header.to, sequence: header.sequence, events: decoded)
    }
}
