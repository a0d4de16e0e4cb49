import ConnectionGuards
import Testing

/// RFC 6455 §5.1 and §5.4 rules the scanner enforces, fed whole and byte by byte.
@Suite struct WebSocketFrameScannerTests {
    /// A client frame: masked unless told otherwise, with a payload of `length` bytes.
    static func frame(opcode: UInt8, fin: Bool = true, masked: Bool = true, length: Int = 3) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        switch length {
        case ..<126: bytes.append((masked ? 0x80 : 0) | UInt8(length))
        case ..<65_536: bytes += [(masked ? 0x80 : 0) | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
        default: bytes += [(masked ? 0x80 : 0) | 127] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) }
        }
        if masked { bytes += [1, 2, 3, 4] }
        // Payload bytes that look like frame headers, to show they are skipped, not read.
        return bytes + [UInt8](repeating: 0x01, count: length)
    }

    func scan(_ frames: [[UInt8]], byteByByte: Bool) -> WebSocketFrameScanner.Violation? {
        var scanner = WebSocketFrameScanner()
        let stream = frames.flatMap { $0 }
        let chunks = byteByByte ? stream.map { [$0] } : [stream]
        for chunk in chunks {
            if let violation = chunk.withUnsafeBytes({ scanner.scan($0) }) { return violation }
        }
        return nil
    }

    @Test(arguments: [false, true])
    func validStreamsPass(byteByByte: Bool) {
        let text = Self.frame(opcode: 0x1)
        let fragmented = [
            Self.frame(opcode: 0x1, fin: false), Self.frame(opcode: 0x9, length: 0), Self.frame(opcode: 0x0, fin: false, length: 200),
            Self.frame(opcode: 0x0, length: 70_000),
        ]
        #expect(
            scan(
                [text, Self.frame(opcode: 0x2, length: 300)] + fragmented + [text, Self.frame(opcode: 0x8, length: 2)],
                byteByByte: byteByByte) == nil)
    }

    @Test(arguments: [false, true])
    func brokenRulesAreFound(byteByByte: Bool) {
        #expect(scan([Self.frame(opcode: 0x1), Self.frame(opcode: 0x1, masked: false)], byteByByte: byteByByte) == .unmaskedFrame)
        #expect(scan([Self.frame(opcode: 0x9, masked: false, length: 0)], byteByByte: byteByByte) == .unmaskedFrame)
        #expect(scan([Self.frame(opcode: 0x1), Self.frame(opcode: 0x0)], byteByByte: byteByByte) == .strayContinuation)
        #expect(
            scan([Self.frame(opcode: 0x1, fin: false), Self.frame(opcode: 0x2)], byteByByte: byteByByte)
                == .dataFrameInsideFragmentedMessage)
        #expect(
            scan([Self.frame(opcode: 0x1, fin: false), Self.frame(opcode: 0x0), Self.frame(opcode: 0x0)], byteByByte: byteByByte)
                == .strayContinuation)
    }
}
