import SocketIOProtocol

extension FuzzTarget {
    /// One WebSocket frame or polling record, as `EngineIORoute` reads it (bytes taken as UTF-8, as `String(buffer:)` does).
    public static let engineIOPacket = FuzzTarget(
        name: "engineio-packet", maximumInputLength: 16_384,
        summary: "EngineIOPacket(parsing:allowBase64:) and (binaryFrame:): a parsed packet writes back to the same packet",
        run: EngineIOFuzzing.runPacket)

    /// One HTTP long-polling POST body, as `EngineIORoute` reads it.
    public static let engineIOPayload = FuzzTarget(
        name: "engineio-payload", maximumInputLength: 16_384,
        summary: "EngineIOPollingPayload.decode: one packet per U+001E-separated record, and the body encodes back",
        run: EngineIOFuzzing.runPayload)
}

/// The checks behind ``FuzzTarget/engineIOPacket`` and ``FuzzTarget/engineIOPayload``.
enum EngineIOFuzzing {
    static func runPacket(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        let text = String(decoding: input, as: UTF8.self)
        let polling = try? EngineIOPacket(parsing: Substring(text), allowBase64: true)
        if let webSocket = try? EngineIOPacket(parsing: Substring(text), allowBase64: false) {
            try require(polling == webSocket, "base64 being allowed changed a text packet")
            if case .text(let frame) = webSocket.webSocketFrame {
                let again = try? EngineIOPacket(parsing: Substring(frame), allowBase64: false)
                try require(again == webSocket, "\(webSocket) as a WebSocket frame reads back as \(String(describing: again))")
            }
        }
        if let polling {
            let again = try? EngineIOPacket(parsing: Substring(polling.pollingRecord), allowBase64: true)
            try require(again == polling, "\(polling) as a polling record reads back as \(String(describing: again))")
        }
        let binary = EngineIOPacket(binaryFrame: input)
        try require(binary.type == .message && binary.webSocketFrame == .binary(input), "a binary frame is not a binary message")
    }

    static func runPayload(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        let body = String(decoding: input, as: UTF8.self)
        guard let packets = try? EngineIOPollingPayload.decode(body) else { return }
        // Engine.IO splits on the code point, whatever characters surround it.
        let separators = body.unicodeScalars.count { $0 == "\u{1E}" }
        try require(packets.count == separators + 1, "\(packets.count) packets from \(separators) separators")
        let encoded = EngineIOPollingPayload.encode(packets)
        let again = try? EngineIOPollingPayload.decode(encoded)
        try require(again == packets, "the body \(encoded) does not read back as the packets it encodes")
    }
}
