import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SocketIOProtocol

/// Engine.IO v4 over HTTP long-polling and WebSocket at one path (`/engine.io/`, `/socket.io/`).
public struct EngineIORoute: Sendable {
    let server: EngineIOServer
    let origins: OriginPolicy
    let traffic: SignalingTraffic?
    let logger: Logger

    public init(server: EngineIOServer, origins: OriginPolicy = .init(), traffic: SignalingTraffic? = nil, logger: Logger) {
        self.origins = origins
        self.traffic = traffic
        self.server = server
        self.logger = logger
    }

    /// The error bodies of the reference server (packages/engine.io/lib/server.ts).
    enum HandshakeError: Int {
        case unknownTransport = 0
        case unknownSession = 1
        case badHandshakeMethod = 2
        case badRequest = 3
        case forbidden = 4
        case unsupportedProtocolVersion = 5

        var message: String {
            switch self {
            case .unknownTransport: "Transport unknown"
            case .unknownSession: "Session ID unknown"
            case .badHandshakeMethod: "Bad handshake method"
            case .badRequest: "Bad request"
            case .forbidden: "Forbidden"
            case .unsupportedProtocolVersion: "Unsupported protocol version"
            }
        }
    }

    /// Adds GET, POST and OPTIONS at `path` (the router matches it with or without a trailing slash).
    public func register(on router: Router<SignalingRequestContext>, path: String) {
        let upgrade = WebSocketUpgradeMiddleware<SignalingRequestContext>(
            shouldUpgrade: { request, _ in try self.shouldUpgrade(request) },
            onUpgrade: { inbound, outbound, context in
                context.requestContext.upgradeCompleted()
                let closeFrames = await CloseFrameObserver.install(on: context.requestContext.channel)
                await self.serveWebSocket(
                    request: context.request, remoteAddress: context.requestContext.remoteAddress?.ipAddress,
                    channel: context.requestContext.channel, inbound: inbound, outbound: outbound, closeFrames: closeFrames)
            })
        router.get(RouterPath(path)) { request, context -> Response in
            if request.headers[.upgrade]?.lowercased() == "websocket" {
                return try await upgrade.handle(request, context: context) { _, _ in Response(status: .notFound) }
            }
            return self.cors(request, await self.get(request, context: context))
        }
        router.post(RouterPath(path)) { request, context -> Response in
            self.cors(request, await self.post(request, context: context))
        }
        for method in [HTTPRequest.Method.put, .delete, .patch] {
            router.on(RouterPath(path), method: method) { request, _ -> Response in
                self.cors(request, self.otherMethod(request))
            }
        }
        router.on(RouterPath(path), method: .options) { request, _ -> Response in
            CORSPolicy(origins: self.server.configuration.corsOrigins).preflight(
                request, methods: "GET, POST", defaultHeaders: "content-type")
        }
    }

    // MARK: Polling

    private func get(_ request: Request, context: SignalingRequestContext) async -> Response {
        let query = request.uri.queryParameters
        if let error = checkQuery(query) { return Self.errorResponse(error) }
        guard query.get("transport") == "polling" else { return Self.errorResponse(.badRequest) }
        guard let sid = query.get("sid") else {
            let session = await server.open(
                transport: .polling, remoteAddress: context.remoteAddress?.ipAddress, eventLoop: context.channel.eventLoop)
            return Self.pollingResponse([await session.handshake.packet])
        }
        guard let session = server.session(sid) else { return Self.errorResponse(.unknownSession) }
        // A client that gives up on its pending GET ends the session (the v4 suite's "cancelled polling request").
        // Only this GET's connection counts: a client may poll over a new connection while an older one closes.
        let connection = ObjectIdentifier(context.channel)
        context.channel.closeFuture.whenComplete { _ in Task { await session.pollCancelled(on: connection) } }
        switch await session.poll(on: connection) {
        case .packets(let packets):
            let response = Self.pollingResponse(packets)
            traffic?.sent(response.body.contentLength ?? 0)
            return response
        case .refused: return Self.errorResponse(.badRequest)
        }
    }

    private func post(_ request: Request, context: SignalingRequestContext) async -> Response {
        let query = request.uri.queryParameters
        if let error = checkQuery(query) { return Self.errorResponse(error) }
        guard query.get("transport") == "polling" else { return Self.errorResponse(.badRequest) }
        guard let sid = query.get("sid") else { return Self.errorResponse(.badHandshakeMethod) }
        guard let session = server.session(sid) else { return Self.errorResponse(.unknownSession) }
        guard await session.beginPost() else { return Self.errorResponse(.badRequest) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: server.configuration.maxPayload)
            traffic?.received(body.readableBytes)
        } catch {
            await session.endPost()
            await session.transportFailed("transport error")
            // Over the payload limit is 413; a body that breaks off or whose chunked encoding is invalid is 400.
            return Response(status: error is NIOTooManyBytesError ? .contentTooLarge : .badRequest)
        }
        let packets: [EngineIOPacket]
        do {
            packets = try EngineIOPollingPayload.decode(String(buffer: body))
        } catch {
            await session.endPost()
            await session.transportFailed("parse error")
            return Self.errorResponse(.badRequest)
        }
        let accepted = await session.receive(packets)
        await session.endPost()
        guard accepted else { return Self.errorResponse(.badRequest) }
        var headers = HTTPFields()
        headers[.contentType] = "text/html"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "ok")))
    }

    /// Only GET opens a session and only GET and POST carry one.
    private func otherMethod(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        if let error = checkQuery(query) { return Self.errorResponse(error) }
        guard let sid = query.get("sid") else { return Self.errorResponse(.badHandshakeMethod) }
        return Self.errorResponse(server.session(sid) == nil ? .unknownSession : .badRequest)
    }

    private func checkQuery(_ query: Parameters) -> HandshakeError? {
        guard query.get("EIO") == "4" else { return .unsupportedProtocolVersion }
        guard let transport = query.get("transport"), transport == "polling" || transport == "websocket" else {
            return .unknownTransport
        }
        return nil
    }

    static func pollingResponse(_ packets: [EngineIOPacket]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=UTF-8"
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: EngineIOPollingPayload.encode(packets))))
    }

    static func errorResponse(_ error: HandshakeError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let body = "{\"code\":\(error.rawValue),\"message\":\"\(error.message)\"}"
        return Response(status: .badRequest, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private func cors(_ request: Request, _ response: Response) -> Response {
        CORSPolicy(origins: server.configuration.corsOrigins).apply(to: response, for: request)
    }

    // MARK: WebSocket

    private func shouldUpgrade(_ request: Request) throws -> RouterShouldUpgrade {
        try origins.check(request, logger: logger)
        let query = request.uri.queryParameters
        if let error = checkQuery(query) { throw HTTPError(.badRequest, message: error.message) }
        guard query.get("transport") == "websocket" else { throw HTTPError(.badRequest, message: HandshakeError.badRequest.message) }
        if let sid = query.get("sid"), server.session(sid) == nil {
            throw HTTPError(.badRequest, message: HandshakeError.unknownSession.message)
        }
        return .upgrade([:])
    }

    private func serveWebSocket(
        request: Request, remoteAddress: String?, channel: any Channel, inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter, closeFrames: CloseFrameObserver?
    ) async {
        // Bounded: a client that stops reading is closed as a slow consumer rather than growing memory.
        let sink = EngineIOWebSocketSink(
            channel: channel, outbound: outbound, traffic: traffic,
            limit: server.configuration.maximumQueuedPackets * (1 + server.configuration.maximumAttachments))
        let session: EngineIOSession
        var upgrading = false
        if let sid = request.uri.queryParameters.get("sid") {
            // Only a polling session that is not already upgrading may upgrade; any other WebSocket naming
            // the sid (a second one, or one after the upgrade) is closed.
            guard let existing = server.session(sid), await existing.canUpgrade else {
                try? await outbound.close(.normalClosure, reason: nil)
                return
            }
            session = existing
            upgrading = true
        } else {
            session = await server.open(
                transport: .webSocket, remoteAddress: remoteAddress, eventLoop: channel.eventLoop, webSocket: sink)
            sink.write([await session.handshake.packet])
            await session.attach(webSocket: sink)
        }
        await read(inbound, session: session, upgrading: upgrading, sink: sink, closeFrames: closeFrames)
        // Returning ends the connection: the WebSocket layer closes it after its close handshake.
    }

    private func read(
        _ inbound: WebSocketInboundStream, session: EngineIOSession, upgrading: Bool, sink: EngineIOWebSocketSink,
        closeFrames: CloseFrameObserver?
    ) async {
        var upgrading = upgrading
        var probed = false
        do {
            for try await message in inbound.messages(maxSize: server.configuration.maxPayload) {
                let packet: EngineIOPacket
                traffic?.received(message.byteCount)
                switch message {
                case .text(let text):
                    do {
                        packet = try EngineIOPacket(parsing: Substring(text), allowBase64: false)
                    } catch {
                        if !upgrading { await session.transportFailed("parse error") }
                        return
                    }
                case .binary(let buffer):
                    packet = EngineIOPacket(binaryFrame: Array(buffer.readableBytesView))
                }
                if upgrading {
                    // The upgrade handshake: 2probe → 3probe (the pending GET gets a noop), then 5.
                    if !probed, packet == EngineIOPacket(.ping, "probe") {
                        guard await session.beginUpgrade() else { return }
                        probed = true
                        sink.write([EngineIOPacket(.pong, "probe")])
                    } else if probed, packet.type == .upgrade {
                        upgrading = false
                        await session.attach(webSocket: sink)
                    } else {
                        await session.abandonUpgrade()
                        return
                    }
                    continue
                }
                guard await session.receive([packet]) else { return }
            }
        } catch {
            logger.debug("engine.io websocket read failed", metadata: ["error": "\(error)"])
        }
        if upgrading {
            await session.abandonUpgrade()
        } else if sink.overflowed {
            await session.transportFailed("slow consumer")
        } else {
            // A close frame is the client leaving on purpose; anything else is a lost transport.
            await session.transportFailed(closeFrames?.closeFrameReceived == true ? "client close" : "transport close")
        }
    }
}

extension WebSocketMessage {
    /// The message's size on the wire, before framing.
    var byteCount: Int {
        switch self {
        case .text(let text): return text.utf8.count
        case .binary(let buffer): return buffer.readableBytes
        }
    }
}
