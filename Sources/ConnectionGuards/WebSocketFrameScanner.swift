/// Follows the frames a WebSocket client sends, header by header, for the rules of RFC 6455 its decoder does not
/// enforce: every client frame is masked (§5.1), a continuation frame continues a fragmented message (§5.4), and a
/// new data frame does not start inside one (§5.4). Payloads are skipped by count, never copied.
public struct WebSocketFrameScanner: Sendable {
    /// A broken rule: the connection must be closed with status 1002 (protocol error).
    public enum Violation: String, Sendable, Equatable {
        case unmaskedFrame = "a client frame is not masked"
        case strayContinuation = "a continuation frame continues no message"
        case dataFrameInsideFragmentedMessage = "a data frame starts inside a fragmented message"
    }

    private var header: [UInt8] = []
    private var payloadRemaining: UInt64 = 0
    private var insideFragmentedMessage = false

    /// A scanner at the start of the stream.
    public init() {}

    /// Reads the next bytes of the stream; returns the first broken rule, after which the scanner must not be fed.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Violation? {
        var index = 0
        while index < bytes.count {
            if payloadRemaining > 0 {
                let skipped = Int(min(payloadRemaining, UInt64(bytes.count - index)))
                payloadRemaining -= UInt64(skipped)
                index += skipped
                continue
            }
            header.append(bytes[index])
            index += 1
            guard let length = Self.headerLength(header), header.count == length else { continue }
            if let violation = frameStarts() { return violation }
        }
        return nil
    }

    /// The whole header's length once its first two bytes are known.
    private static func headerLength(_ header: [UInt8]) -> Int? {
        guard header.count >= 2 else { return nil }
        let masked = header[1] & 0x80 != 0
        let extra: Int
        switch header[1] & 0x7F {
        case 126: extra = 2
        case 127: extra = 8
        default: extra = 0
        }
        return 2 + extra + (masked ? 4 : 0)
    }

    private mutating func frameStarts() -> Violation? {
        defer { header.removeAll(keepingCapacity: true) }
        let fin = header[0] & 0x80 != 0
        let opcode = header[0] & 0x0F
        guard header[1] & 0x80 != 0 else { return .unmaskedFrame }
        switch opcode {
        case 0x0:
            guard insideFragmentedMessage else { return .strayContinuation }
            if fin { insideFragmentedMessage = false }
        case 0x1, 0x2:
            guard !insideFragmentedMessage else { return .dataFrameInsideFragmentedMessage }
            insideFragmentedMessage = !fin
        default:
            break  // control frames may come between fragments; the decoder checks their own rules
        }
        switch header[1] & 0x7F {
        case 126: payloadRemaining = UInt64(header[2]) << 8 | UInt64(header[3])
        case 127: payloadRemaining = header[2..<10].reduce(0) { $0 << 8 | UInt64($1) }
        case let short: payloadRemaining = UInt64(short)
        }
        return nil
    }
}
