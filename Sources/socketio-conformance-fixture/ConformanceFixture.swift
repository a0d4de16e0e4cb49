import ArgumentParser
import Hummingbird
import HummingbirdWebSocket
import Logging
import Signaling
import SignalingCore
import SocketIOProtocol

/// The server the official engine.io-protocol and socket.io-protocol test suites expect on their port,
/// built from Switchboard's own code: a raw Engine.IO echo at `/engine.io/` and the Socket.IO fixture (namespaces
/// `/` and `/custom`, connectTimeout 1000 ms) at `/socket.io/`.
@main
struct ConformanceFixture: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-conformance-fixture",
        abstract: "Serve the Engine.IO/Socket.IO protocol test suites' reference fixture.")

    @Option(name: .customLong("port"), help: "Port to listen on (the suites use 3000).")
    var port = 3000

    @Option(name: .customLong("host"), help: "Address to listen on.")
    var host = "127.0.0.1"

    func run() async throws {
        var logger = Logger(label: "socketio-conformance-fixture")
        logger.logLevel = .info
        // The suites' fixture: ping 300/200 ms, maxPayload 1000000, CORS for any origin.
        var engineIO = EngineIOConfiguration()
        engineIO.pingInterval = .milliseconds(300)
        engineIO.pingTimeout = .milliseconds(200)
        engineIO.maxPayload = 1_000_000
        engineIO.corsOrigins = ["*"]
        let router = Router(context: SignalingRequestContext.self)
        // What the WebSockets hand to their sessions runs here, beside the server.
        let work = SignalingEdgeWork()
        EngineIORoute(server: EngineIOServer(configuration: engineIO, application: EchoApplication()), work: work, logger: logger)
            .register(on: router, path: "/engine.io")
        let socketIO = SocketIOServer(
            namespaces: ["/": FixtureNamespace(), "/custom": FixtureNamespace()], connectTimeout: .milliseconds(1000))
        EngineIORoute(server: EngineIOServer(configuration: engineIO, application: socketIO), work: work, logger: logger)
            .register(on: router, path: "/socket.io")
        let app = Application(
            router: router,
            server: .adoptingWebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .init(maxFrameSize: 1 << 21))),
            configuration: .init(address: .hostname(host, port: port), serverName: "socketio-conformance-fixture"),
            logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await work.run() }
            defer { work.finish() }
            try await app.runService()
        }
    }
}

/// Sends every message back to its sender, as the suites' engine.io fixture does.
struct EchoApplication: EngineIOApplication {
    func opened(_ session: EngineIOSession) async {}

    func received(_ payload: EngineIOPacket.Payload, on session: EngineIOSession) async {
        await session.send(message: payload)
    }

    func closed(_ session: EngineIOSession, reason: String) async {}
}

/// The suites' Socket.IO fixture namespace: `auth` echoes the CONNECT payload, `message` comes back as
/// `message-back`, `message-with-ack` is acknowledged with its own arguments (binary included).
struct FixtureNamespace: SocketIONamespaceHandler {
    func connected(_ socket: SocketIOSocket, auth: JSONValue?) async {
        await socket.emit("auth", [auth ?? [:]])
    }

    func event(_ socket: SocketIOSocket, name: JSONValue, arguments: [JSONValue], attachments: [[UInt8]], ackID: UInt64?) async {
        switch name.stringValue {
        case "message": await socket.emit("message-back", arguments, attachments: attachments)
        case "message-with-ack": if let ackID { await socket.ack(ackID, arguments, attachments: attachments) }
        default: break
        }
    }

    func disconnected(_ socket: SocketIOSocket, reason: String) async {}
}
