import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SocketIOProtocol

/// Engine.IO v4 over HTTP long-polling and WebSocket at one path (`/engine.io/`, `/socket.io/`).
///
/// A WebSocket is taken over from the HTTP server's connection task as its upgrade completes (the server's connections
/// must be ``AdoptingWebSocketChannel``'s): an ``EngineIOWebSocketHandler`` serves it on its event loop.
public struct EngineIORoute: Sendable {
    let server: EngineIOServer
    let work: SignalingEdgeWork
    let origins: OriginPolicy
    let traffic: SignalingTraffic?
    let closeTimeout: Duration
    let logger: Logger

    /// Creates the route. `work` runs what a WebSocket hands to its session (someone must run it); a client that
    /// does not answer a close frame within `closeTimeout` is disconnected.
    public init(
        server: EngineIOServer, work: SignalingEdgeWork, origins: OriginPolicy = .init(), traffic: SignalingTraffic? = nil,
        closeTimeout: Duration = .seconds(5), logger: Logger
    ) {
        self.server = server
        self.work = work
        self.origins = origins
        self.traffic = traffic
        self.closeTimeout = closeTimeout
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
            shouldUpgrade: { request, context in try await self.shouldUpgrade(request, context: context) },
            onUpgrade: { _, _, context in
                // Not reached: the note hands every accepted upgrade to `adopt` instead.
                context.requestContext.upgradeCompleted()
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
        let work = work
        context.channel.closeFuture.whenComplete { _ in _ = work.submit { await session.pollCancelled(on: connection) } }
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

    private func shouldUpgrade(_ request: Request, context: SignalingRequestContext) async throws -> RouterShouldUpgrade {
        try origins.check(request, logger: logger)
        let query = request.uri.queryParameters
        if let error = checkQuery(query) { throw HTTPError(.badRequest, message: error.message) }
        guard query.get("transport") == "websocket" else { throw HTTPError(.badRequest, message: HandshakeError.badRequest.message) }
        let sid = query.get("sid")
        if let sid, server.session(sid) == nil {
            throw HTTPError(.badRequest, message: HandshakeError.unknownSession.message)
        }
        // The connection is taken over on its event loop as the upgrade completes (see NativeUpgradeNote).
        guard let note = try? await context.channel.pipeline.handler(type: NativeUpgradeNote.self).get() else {
            logger.error("engine.io websocket upgrade refused: the connection cannot be handed to the route")
            return .dontUpgrade
        }
        let remoteAddress = context.remoteAddress?.ipAddress
        // Once the upgrade has happened or failed, the router's reference to it is dropped (see
        // SignalingRequestContext.webSocket): it would keep the connection's channel alive.
        note.accept(release: { context.upgradeCompleted() }) { upgraded in
            try self.adopt(upgraded, sid: sid, remoteAddress: remoteAddress)
        }
        return .upgrade([:])
    }

    /// Puts the Engine.IO handler on an upgraded connection; on its event loop, before any frame is read.
    private func adopt(
        _ upgraded: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, sid: String?, remoteAddress: String?
    ) throws {
        let channel = upgraded.channel
        let operations = channel.pipeline.syncOperations
        let handler = EngineIOWebSocketHandler(
            server: server, work: work, upgraded: upgraded, traffic: traffic, closeTimeout: closeTimeout, logger: logger)
        let decoder = try operations.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
        try operations.addHandler(handler, position: .after(decoder))
        // Bounded: a client that stops reading is closed as a slow consumer rather than growing memory.
        let sink = EngineIOWebSocketSink(
            channel: channel, traffic: traffic,
            limit: server.configuration.maximumQueuedPackets * (1 + server.configuration.maximumAttachments))
        handler.start(sid: sid, remoteAddress: remoteAddress, sink: sink)
    }
}
