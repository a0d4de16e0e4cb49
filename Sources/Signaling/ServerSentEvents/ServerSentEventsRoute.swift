import Hummingbird
import Logging
import NIOCore
import SignalingCore
import Synchronization

/// The native protocol for networks that block WebSocket: `GET /events` streams the server's messages as
/// server-sent events, and `POST /send` carries the client's, one per request, bound to the stream by its
/// token. Same room core, messages, limits and errors as `/ws`; docs/PROTOCOL.md documents it.
public struct ServerSentEventsRoute: Sendable {
    let hub: SignalingHub
    let maxMessageBytes: Int
    let keepaliveInterval: Duration
    let bufferLimit: Int
    let cors: CORSPolicy
    let logger: Logger
    private let streams = EventStreamRegistry()

    /// Creates the route. `keepaliveInterval` spaces the comments that keep idle streams open through
    /// proxies; `bufferLimit` bounds the events waiting for a slow reader, as the outbound queue of `/ws` does.
    public init(
        hub: SignalingHub, maxMessageBytes: Int, keepaliveInterval: Duration, bufferLimit: Int, cors: CORSPolicy, logger: Logger
    ) {
        self.hub = hub
        self.maxMessageBytes = maxMessageBytes
        self.keepaliveInterval = keepaliveInterval
        self.bufferLimit = bufferLimit
        self.cors = cors
        self.logger = logger
    }

    /// Adds `GET /events`, `POST /send` and their CORS preflights.
    public func register(on router: Router<SignalingRequestContext>) {
        router.get("/events") { request, context -> Response in
            self.cors.apply(to: await self.openStream(request, context: context), for: request)
        }
        router.post("/send") { request, _ -> Response in
            self.cors.apply(to: await self.send(request), for: request)
        }
        router.on("/events", method: .options) { request, _ -> Response in
            self.cors.preflight(request, methods: "GET", defaultHeaders: "last-event-id")
        }
        router.on("/send", method: .options) { request, _ -> Response in
            self.cors.preflight(request, methods: "POST", defaultHeaders: "authorization, content-type")
        }
    }

    // MARK: The stream

    private func openStream(_ request: Request, context: SignalingRequestContext) async -> Response {
        let (connection, outbox) = await hub.open(
            address: ClientAddress(context.remoteAddress?.ipAddress ?? "unknown"), transport: .sse,
            joinToken: request.uri.queryParameters.get("token"))
        let streamToken = SecureIdentifiers.resumeToken()
        streams.add(streamToken, connection: connection)
        var logger = self.logger
        logger[metadataKey: "sig.connection"] = "\(connection)"

        // A reconnecting EventSource names the last event it got: resume that session from there.
        var resumeToken: String?
        if let lastEventID = request.headers[.init("Last-Event-ID")!] {
            if let resume = EventStreamFormat.resumeRequest(lastEventID: lastEventID), case .resume(let token, _) = resume {
                resumeToken = token
                _ = await hub.received(ClientRequest(resume), on: connection)
            } else {
                _ = await hub.rejected(SignalingError(.resumeFailed, "Last-Event-ID names no event of this server"), on: connection)
            }
        }

        let (chunks, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(bufferLimit))
        let hub = self.hub
        let streams = self.streams
        // Installed before anything is yielded, so no ending of the stream can miss it.
        continuation.onTermination = { _ in
            streams.remove(streamToken)
            // A dropped stream keeps its session for the grace period: the EventSource reconnects and resumes.
            // Ending the connection also finishes its outbox, which ends the pump.
            hub.submitEnded(connection, clean: false)
        }
        // The client going away ends the stream even while nothing is being written.
        context.channel.closeFuture.whenComplete { _ in continuation.finish() }
        continuation.yield(ByteBuffer(string: EventStreamFormat.preamble(streamToken: streamToken)))
        Task { await Self.forward(outbox, to: continuation, resumeToken: resumeToken, hub: hub, connection: connection) }
        let interval = keepaliveInterval
        Task {
            while (try? await Task.sleep(for: interval)) != nil {
                switch continuation.yield(ByteBuffer(string: EventStreamFormat.keepalive)) {
                case .dropped: continuation.finish()
                case .terminated: return
                case .enqueued: continue
                @unknown default: return
                }
            }
        }
        logger.debug("event stream opened")

        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.init("X-Accel-Buffering")!] = "no"  // nginx: pass events through as they come
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                for await chunk in chunks { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    /// Moves the hub's messages for one connection into its stream, as events.
    private static func forward(
        _ outbox: Outbox, to stream: AsyncStream<ByteBuffer>.Continuation, resumeToken: String?, hub: SignalingHub,
        connection: ConnectionID
    ) async {
        var confirmedToken: String?
        /// Yields `messages` as one chunk (a resume's replay is one buffer entry, as it is one outbox entry).
        func emit(_ messages: [OutboundMessage]) -> Bool {
            var text = ""
            for message in messages {
                switch message.message {
                case .joined(_, _, _, _, let token): confirmedToken = token
                case .resumed: confirmedToken = resumeToken
                default: break
                }
                text += EventStreamFormat.event(for: message, resumeToken: confirmedToken)
            }
            hub.traffic.sent(text.utf8.count)
            if case .dropped = stream.yield(ByteBuffer(string: text)) { return false }
            return true
        }
        for await item in outbox.items {
            if outbox.isAborted { break }
            var delivered = true
            switch item {
            case .message(let message):
                delivered = emit([message])
            case .replay(let messages):
                delivered = emit(messages)
            case .acknowledge:
                break
            case .close:
                // The error is already queued before this. The hub closed the connection (a broken limit, or a resume elsewhere): leave at once, as `/ws` does.
                await hub.ended(connection, clean: true)
                stream.finish()
                return
            }
            outbox.didWrite()
            // A reader this far behind is dropped; its EventSource reconnects and resumes what it missed.
            guard delivered else { break }
        }
        stream.finish()
    }

    // MARK: Sending

    private func send(_ request: Request) async -> Response {
        guard let token = Self.bearerToken(request), let connection = streams.connection(for: token) else {
            return Self.errorResponse(
                .unauthorized, SignalingError(.unknownStream, "no open event stream has this token; open GET /events first"))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxMessageBytes)
            hub.traffic.received(body.readableBytes)
        } catch {
            let error = SignalingError(.frameTooLarge, "messages are limited to \(maxMessageBytes) bytes")
            _ = await hub.rejected(error, on: connection)
            return Self.errorResponse(.contentTooLarge, error)
        }
        do {
            let decoded = try ClientRequest.decode(body.readableBytesView)
            _ = await hub.received(decoded, on: connection)
        } catch {
            logger.debug("rejected request", metadata: ["sig.connection": "\(connection)", "sig.code": "\(error.code.rawValue)"])
            _ = await hub.rejected(error, on: connection)
        }
        // Replies and errors arrive on the stream, in order with everything else, as on `/ws`.
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let value = request.headers[.authorization], value.lowercased().hasPrefix("bearer ") else { return nil }
        return String(value.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    static func errorResponse(_ status: HTTPResponse.Status, _ error: SignalingError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: OutboundMessage(seq: nil, message: .error(error)).json)))
    }
}

/// Open event streams by token, so `POST /send` finds its connection.
final class EventStreamRegistry: Sendable {
    private let streams = Mutex<[String: ConnectionID]>([:])

    func add(_ token: String, connection: ConnectionID) {
        streams.withLock { $0[token] = connection }
    }

    func remove(_ token: String) {
        _ = streams.withLock { $0.removeValue(forKey: token) }
    }

    func connection(for token: String) -> ConnectionID? {
        streams.withLock { $0[token] }
    }
}
