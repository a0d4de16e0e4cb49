import DequeModule

/// A session's sequenced messages kept for resume, oldest first, bounded in count and in bytes: a peer that sends
/// large messages to a client that never acknowledges cannot make the server hold `historyLimit` of them.
struct ResumeHistory: Sendable {
    private var messages: Deque<OutboundMessage> = []
    private var sizes: Deque<Int> = []
    /// The estimated wire size of what is held.
    private(set) var byteCount = 0

    init() {}

    /// A history holding `messages` (a session handed over from another node), sizes estimated afresh.
    init(_ messages: [OutboundMessage]) {
        for message in messages {
            let size = message.message.estimatedWireSize
            self.messages.append(message)
            sizes.append(size)
            byteCount += size
        }
    }

    var isEmpty: Bool { messages.isEmpty }
    var count: Int { messages.count }
    /// The oldest message held.
    var first: OutboundMessage? { messages.first }
    /// Everything held, oldest first.
    var all: [OutboundMessage] { Array(messages) }

    /// Keeps `message` (of about `size` bytes on the wire), dropping the oldest until at most `countLimit` messages
    /// and `byteLimit` bytes are held (the newest is always kept).
    mutating func append(_ message: OutboundMessage, size: Int, countLimit: Int, byteLimit: Int) {
        messages.append(message)
        sizes.append(size)
        byteCount += size
        while messages.count > 1, messages.count > countLimit || byteCount > byteLimit {
            messages.removeFirst()
            byteCount -= sizes.removeFirst()
        }
    }

    /// Forgets the messages up to and including `seq` (the client has them).
    mutating func removeThrough(seq: UInt64) {
        while let oldest = messages.first, (oldest.seq ?? 0) <= seq {
            messages.removeFirst()
            byteCount -= sizes.removeFirst()
        }
    }
}

extension ServerMessage {
    /// About how many bytes the message takes as a JSON frame, for the history's byte bound. Exact for `data`'s
    /// strings and structure up to escapes; other fields count a fixed envelope.
    var estimatedWireSize: Int {
        switch self {
        case .message(_, _, _, let data): return 128 + data.estimatedWireSize
        default: return 256
        }
    }
}

extension JSONValue {
    /// About how many bytes the value takes serialized (escapes aside), without serializing it.
    var estimatedWireSize: Int {
        switch self {
        case .null: return 4
        case .bool: return 5
        case .integer, .double: return 20
        case .string(let text): return text.utf8.count + 2
        case .array(let items): return items.reduce(2) { $0 + $1.estimatedWireSize + 1 }
        case .object(let fields): return fields.reduce(2) { $0 + $1.key.utf8.count + 4 + $1.value.estimatedWireSize }
        }
    }
}
