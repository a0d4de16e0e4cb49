import HummingbirdWSClient
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SignalingCore
import SwitchboardApp
import SwitchboardTestSupport
import Testing

/// The `/ws` edge with a raw WebSocket client: limits are enforced before parsing, with the documented
/// error and close code, and recoverable errors leave the connection usable.
@Suite("Native WebSocket edge", .timeLimit(.minutes(2)))
struct WebSocketEdgeTests {
    /// Connects a raw client, runs `body` with a frame reader, and returns the close frame.
    func connect(
        port: Int, maxFrameSize: Int = 1 << 20,
        _ body: @escaping @Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = maxFrameSize
        return try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/ws", configuration: configuration, logger: Logger(label: "raw")
        ) { inbound, outbound, _ in
            try await body(inbound, outbound)
        }
    }

    /// The next text message as a decoded server message.
    static func next(_ iterator: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> ServerMessage? {
        guard let message = try await iterator.next() else { return nil }
        guard case .text(let text) = message else { throw TestSupportError("binary frame from server") }
        return try OutboundMessage.decode(Array(text.utf8)).message
    }

    static func errorCode(_ message: ServerMessage?) -> SignalingErrorCode? {
        if case .error(let error)? = message { return error.code }
        return nil
    }

    @Test func oversizedMessageGetsFrameTooLargeThenPolicyClose() async throws {
        try await withRunningSwitchboard(configure: { $0.maxMessageBytes = 1000 }) { port in
            let close = try await connect(port: port) { inbound, outbound in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                try await outbound.write(.text(#"{"type":"ping","pad":""# + String(repeating: "x", count: 1000) + #""}"#))
                #expect(Self.errorCode(try await Self.next(&messages)) == .frameTooLarge)
                #expect(try await messages.next() == nil)
            }
            #expect(close?.closeCode == .policyViolation)
            #expect(close?.reason == "frame_too_large")
        }
    }

    @Test func fragmentedMessagesAreLimitedAcrossFragments() async throws {
        try await withRunningSwitchboard(configure: { $0.maxMessageBytes = 1000 }) { port in
            let close = try await connect(port: port) { inbound, outbound in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                try await outbound.withTextMessageWriter { write in
                    for _ in 0..<3 { try await write(String(repeating: " ", count: 400)) }
                }
                #expect(Self.errorCode(try await Self.next(&messages)) == .frameTooLarge)
            }
            #expect(close?.closeCode == .policyViolation)
        }
    }

    @Test func fragmentedRequestsAreReassembled() async throws {
        try await withRunningSwitchboard { port in
            _ = try await connect(port: port) { inbound, outbound in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                try await outbound.withTextMessageWriter { write in
                    for part in [#"{"type":"pi"#, #"ng","id":"#, #""frag"}"#] { try await write(part) }
                }
                #expect(try await Self.next(&messages) == .pong(requestID: "frag"))
                try await outbound.write(.text(#"{"type":"ping","id":"whole"}"#))
                #expect(try await Self.next(&messages) == .pong(requestID: "whole"))
            }
        }
    }

    @Test func recoverableErrorsKeepTheConnectionUsable() async throws {
        try await withRunningSwitchboard { port in
            _ = try await connect(port: port) { inbound, outbound in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                let cases: [(WebSocketOutboundWriter.OutboundFrame, SignalingErrorCode)] = [
                    (.text("{"), .badJSON), (.binary(ByteBuffer(string: "{}")), .binaryFrame),
                    (.text(#"{"type":"x"}"#), .unknownType), (.text(#"{"type":"message","data":1}"#), .notInRoom),
                    (.text(#"{"type":"join","room":"bad room"}"#), .invalidRoomName),
                ]
                for (frame, code) in cases {
                    try await outbound.write(frame)
                    #expect(Self.errorCode(try await Self.next(&messages)) == code)
                }
                try await outbound.write(.text(#"{"type":"ping","id":"still-here"}"#))
                #expect(try await Self.next(&messages) == .pong(requestID: "still-here"))
            }
        }
    }

    @Test func floodIsRateLimitedAndClosed() async throws {
        try await withRunningSwitchboard(configure: {
            $0.signaling.messageRate = 5; $0.signaling.messageBurst = 10
        }) { port in
            let close = try await connect(port: port) { inbound, outbound in
                for _ in 0..<50 { try await outbound.write(.text(#"{"type":"ping"}"#)) }
                var codes: [SignalingErrorCode?] = []
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                while let message = try await Self.next(&messages) { codes.append(Self.errorCode(message)) }
                #expect(codes.count == 11, "ten pongs, then the error")
                #expect(codes.last == .rateLimited)
            }
            #expect(close?.closeCode == .policyViolation)
            #expect(close?.reason == "rate_limited")
        }
    }

    @Test func slowConsumerIsDisconnectedAndMemoryStaysBounded() async throws {
        try await withRunningSwitchboard(configure: {
            $0.outboundQueueLimit = 8
            $0.signaling.messageBurst = 100_000
            $0.signaling.messageRate = 100_000
            // The reader reads only once the whole flood was relayed: the error frame must still be queued then.
            $0.webSocketCloseTimeout = .seconds(90)
        }) { port in
            let pad = String(repeating: "x", count: 60_000)
            // The reader joins and reads nothing until the writer's flood (24 MB, far beyond the socket buffers) has
            // gone through the server: waiting for that, not for a fixed time, keeps a slow build from draining the
            // socket before the outbox overflows.
            let (joinedStream, joined) = AsyncStream.makeStream(of: Void.self)
            let (floodedStream, flooded) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let close = try await connect(port: port) { inbound, outbound in
                        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        try await outbound.write(.text(#"{"type":"join","room":"slow"}"#))
                        _ = try await Self.next(&messages)
                        joined.yield()
                        var waiter = floodedStream.makeAsyncIterator()
                        await waiter.next()
                        var relayed = 0
                        var sawSlowConsumer = false
                        while let message = try await Self.next(&messages) {
                            if Self.errorCode(message) == .slowConsumer {
                                sawSlowConsumer = true
                            } else {
                                relayed += 1
                            }
                        }
                        #expect(sawSlowConsumer)
                        #expect(relayed < 400, "the server stopped relaying to the reader once its outbox overflowed")
                    }
                    #expect(close?.closeCode == .policyViolation)
                    #expect(close?.reason == "slow_consumer")
                }
                var waiter = joinedStream.makeAsyncIterator()
                await waiter.next()
                _ = try await connect(port: port) { inbound, outbound in
                    var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    try await outbound.write(.text(#"{"type":"join","room":"slow"}"#))
                    _ = try await Self.next(&messages)
                    for _ in 0..<400 {
                        try await outbound.write(.text(#"{"type":"message","data":""# + pad + #""}"#))
                    }
                    try await outbound.write(.text(#"{"type":"ping","id":"done"}"#))
                    while let message = try await Self.next(&messages), message != .pong(requestID: "done") {}
                }
                flooded.yield()
                try await group.waitForAll()
            }
        }
    }
}
