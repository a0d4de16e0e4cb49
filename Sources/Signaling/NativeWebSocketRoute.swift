import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SignalingCore

/// The native JSON signaling protocol over WebSocket (`GET /ws`), documented in docs/PROTOCOL.md.
///
/// The route only moves bytes: it assembles frames (checking the size limit before parsing), decodes
/// requests, hands them to the hub, and writes what the hub queues for this connection.
public struct NativeWebSocketRoute: Sendable {
    let hub: SignalingHub
    let maxMessageBytes: Int
    let logger: Logger
    let origins: OriginPolicy

    /// Creates the route; messages larger than `maxMessageBytes` are refused with `frame_too_large`.
    public init(hub: SignalingHub, maxMessageBytes: Int, origins: OriginPolicy = .init(), logger: Logger) {
        self.hub = hub
        self.maxMessageBytes = maxMessageBytes
        self.origins = origins
        self.logger = logger
    }

    /// Adds `GET path` with WebSocket upgrade to `router`.
    public func register(on router: Router<SignalingRequestContext>, path: RouterPath = "/ws") {
        router.ws(
            path,
            shouldUpgrade: { request, _ in
                try self.origins.check(request, logger: self.logger)
                return .upgrade([:])
            }
        ) { inbound, outbound, context in
            context.requestContext.upgradeCompleted()
            let address = ClientAddress(context.requestContext.remoteAddress?.ipAddress ?? "unknown")
            let observer = await CloseFrameObserver.install(on: context.requestContext.channel)
            // A join token may come with the upgrade (`/ws?token=…`), for browsers that cannot set headers.
            let token = context.request.uri.queryParameters.get("token")
            await self.serve(inbound: inbound, outbound: outbound, address: address, token: token, closeFrames: observer)
        }
    }

    func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, address: ClientAddress, token: String? = nil,
        closeFrames: CloseFrameObserver?
    ) async {
        let (connection, outbox) = await hub.open(address: address, transport: .websocket, joinToken: token)
        var logger = self.logger
        logger[metadataKey: "sig.connection"] = "\(connection)"
        logger[metadataKey: "sig.peer"] = "\(address)"
        if let session = await hub.session(for: connection) {
            logger[metadataKey: "sig.session"] = "\(session)"
        }
        logger.debug("websocket connected")
        let connectionLogger = logger
        let traffic = hub.traffic
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await Self.write(outbox: outbox, to: outbound, traffic: traffic, logger: connectionLogger)
            }
            let end = await read(inbound: inbound, connection: connection, logger: logger)
            switch end {
            case .fatal:
                // The hub queued the error and a close: let the writer send them, then end the session.
                await hub.ended(connection, clean: true)
                await Self.waitForWriter(&group, timeout: .seconds(2))
            case .streamEnded:
                // A client's close frame ends the session now; missed pings or a dropped TCP
                // connection leave it to the grace period, so the client can resume.
                await hub.ended(connection, clean: closeFrames?.closeFrameReceived ?? false)
                group.cancelAll()
            case .failed:
                await hub.ended(connection, clean: false)
                group.cancelAll()
            }
        }
        logger.debug("websocket disconnected")
    }

    enum ReadEnd {
        case streamEnded
        case failed
        case fatal
    }

    private func read(inbound: WebSocketInboundStream, connection: ConnectionID, logger: Logger) async -> ReadEnd {
        var message = ByteBuffer()
        var isText = true
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary:
                    message.clear()
                    isText = frame.opcode == .text
                case .continuation:
                    break
                }
                hub.traffic.received(frame.data.readableBytes)
                // The limit is checked on raw bytes, before any parsing, and across fragments.
                guard message.readableBytes + frame.data.readableBytes <= maxMessageBytes else {
                    _ = await hub.rejected(
                        SignalingError(.frameTooLarge, "messages are limited to \(maxMessageBytes) bytes"),
                        on: connection)
                    return .fatal
                }
                let payload: ByteBuffer
                if frame.fin && frame.opcode != .continuation {
                    payload = frame.data  // unfragmented, the common case: parse the frame's bytes in place
                } else {
                    var data = frame.data
                    message.writeBuffer(&data)
                    guard frame.fin else { continue }
                    payload = message
                }
                let open: Bool
                if !isText {
                    open = await hub.rejected(
                        SignalingError(.binaryFrame, "binary frames are not part of the protocol; send JSON text"),
                        on: connection)
                } else {
                    do {
                        let request = try ClientRequest.decode(payload.readableBytesView)
                        open = await hub.received(request, on: connection)
                    } catch {
                        logger.debug("rejected request", metadata: ["sig.code": "\(error.code.rawValue)"])
                        open = await hub.rejected(error, on: connection)
                    }
                }
                // A limit was broken: the hub queued the error and a close.
                guard open else { return .fatal }
            }
            return .streamEnded
        } catch {
            logger.debug("websocket read failed", metadata: ["error": "\(error)"])
            return .failed
        }
    }

    private static func write(
        outbox: Outbox, to outbound: WebSocketOutboundWriter, traffic: SignalingTraffic, logger: Logger
    ) async {
        do {
            for await item in outbox.items {
                if outbox.isAborted {
                    let error = SignalingError(.slowConsumer, "messages were not read fast enough")
                    try await outbound.write(.text(OutboundMessage(seq: nil, message: .error(error)).json))
                    try await outbound.close(.policyViolation, reason: error.code.rawValue)
                    return
                }
                switch item {
                case .message(let message):
                    let text = message.json
                    traffic.sent(text.utf8.count)
                    try await outbound.write(.text(text))
                    outbox.didWrite()
                case .replay(let messages):
                    for message in messages {
                        let text = message.json
                        traffic.sent(text.utf8.count)
                        try await outbound.write(.text(text))
                    }
                    outbox.didWrite()
                case .acknowledge:
                    outbox.didWrite()  // only transports with acks ask for these
                case .close(let error):
                    if let error, error.code.isFatal {
                        try await outbound.close(.policyViolation, reason: error.code.rawValue)
                    } else {
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    return
                }
            }
        } catch {
            logger.trace("websocket write ended", metadata: ["error": "\(error)"])
        }
    }

    private static func waitForWriter(_ group: inout TaskGroup<Void>, timeout: Duration) async {
        group.addTask { try? await Task.sleep(for: timeout) }
        await group.next()
        group.cancelAll()
    }
}
