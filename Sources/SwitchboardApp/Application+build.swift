import Cluster
import ConnectionGuards
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Signaling
import SignalingCore
import Storage
import TURNServer

/// Builds the whole server from a configuration. Shared by `switchboard serve` and the tests (port 0).
///
/// `store` keeps TURN users, persistent rooms and call records (`nil` keeps nothing: tests of other parts).
/// `onServerRunning` receives the bound HTTP address, which is how tests learn an ephemeral port.
public func buildApplication(
    _ configuration: SwitchboardConfiguration,
    store: (any Store)? = nil,
    shutdown: ShutdownSequence? = nil,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "switchboard")
    logger.logLevel = configuration.logLevel
    try FileManager.default.createDirectory(
        atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])

    var services: [any Service] = []
    var signalingEvents = SignalingEvents()
    var turnEvents = TURNServerEvents()
    var turnSettings = configuration.turn
    // One guard for every TCP listener, so an address's limit counts all its connections.
    let connectionGuard = ConnectionGuard(settings: configuration.connectionGuards, logger: logger)
    turnSettings?.connectionGuard = connectionGuard
    var certificates: TLSCertificates?
    if let tls = configuration.tls {
        let loaded = try TLSCertificates(certificatePath: tls.certificatePath, keyPath: tls.keyPath, logger: logger)
        // The same certificate serves TURN over TLS, loaded once and reloaded for both.
        turnSettings?.tls = loaded.source
        services.append(loaded)
        certificates = loaded
    }
    var storedUsers: StoredTURNUsers?
    if let store {
        let recorder = CallRecorder(store: store, logger: logger)
        signalingEvents.membershipChanged = { recorder.membershipChanged($0, transport: $1) }
        turnEvents.allocationEnded = { recorder.allocationEnded($0) }
        // First in the list, so it stops last: the final flush sees every session and allocation end.
        services.append(recorder)
        if let realm = turnSettings?.credentials.realm {
            let users = StoredTURNUsers(store: store, realm: realm, logger: logger)
            try await users.refresh()
            turnSettings?.credentials.attach(users)
            services.append(users)
            storedUsers = users
        }
    }
    let tokens = configuration.joinSecrets.isEmpty ? nil : await JoinTokens(secrets: configuration.joinSecrets)
    let gate: (any JoinGate)? =
        tokens == nil && store == nil
        ? nil
        : JoinAdmissionPolicy(
            tokens: tokens, rooms: store,
            passwordAttempts: AddressRateLimiter(rate: configuration.signaling.joinRate, burst: configuration.signaling.joinBurst),
            logger: logger)
    let hub = SignalingHub(
        configuration: configuration.signaling, outboxLimit: configuration.outboundQueueLimit, logger: logger,
        eventLoop: SignalingLoop.group.next(), events: signalingEvents, gate: gate)
    var cluster: PostgresCluster?
    if let clusterConfiguration = configuration.cluster {
        guard let postgres = store as? PostgresStore else {
            throw SwitchboardConfigurationError("clustering needs the PostgreSQL store its nodes share")
        }
        let node = PostgresCluster(
            client: postgres.client, location: clusterConfiguration.location, hub: hub, settings: clusterConfiguration.settings,
            logger: logger)
        await hub.attach(cluster: node)
        // Early in the list, so it stops after the HTTP server: the leaves of the last connections are published.
        services.append(node)
        cluster = node
    }
    let origins = OriginPolicy(allowed: configuration.allowedOrigins)
    let webSocketCloseTimeout = configuration.webSocketCloseTimeout
    let router = Router(context: SignalingRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.get("/healthz") { _, _ in "ok\n" }
    let readiness = Readiness(store: store, cluster: cluster)
    readiness.register(on: router)
    services.append(readiness)
    NativeWebSocketRoute(
        hub: hub, maxMessageBytes: configuration.maxMessageBytes, heartbeat: configuration.heartbeatInterval,
        closeTimeout: webSocketCloseTimeout, origins: origins, logger: logger
    )
    .register(on: router)
    ServerSentEventsRoute(
        hub: hub, maxMessageBytes: configuration.maxMessageBytes, keepaliveInterval: configuration.heartbeatInterval,
        bufferLimit: configuration.outboundQueueLimit, cors: CORSPolicy(origins: configuration.engineIO.corsOrigins), logger: logger
    ).register(on: router)
    let socketIO = SocketIOServer(
        namespaces: ["/": SocketIOSignalingNamespace(hub: hub, settings: configuration.socketIOSignaling, logger: logger)],
        connectTimeout: configuration.socketIOConnectTimeout)
    var engineIO = configuration.engineIO
    // One limit for both transports, announced in the handshake: the WebSocket layer refuses larger frames.
    engineIO.maxPayload = min(
        engineIO.maxPayload, SwitchboardConfiguration.webSocketFrameLimit(maxMessageBytes: configuration.maxMessageBytes))
    EngineIORoute(
        server: EngineIOServer(configuration: engineIO, application: socketIO), work: hub.edgeWork, origins: origins,
        traffic: hub.traffic, closeTimeout: configuration.webSocketCloseTimeout, logger: logger
    )
    .register(on: router, path: "/socket.io")
    let turnServer = turnSettings.map {
        TURNServer(settings: $0, group: MultiThreadedEventLoopGroup.singleton, logger: logger, events: turnEvents)
    }
    MetricsExporter(hub: hub, turn: turnServer, cluster: cluster, connectionGuard: connectionGuard).register(on: router)
    shutdown?.attach(hub: hub, turn: turnServer, readiness: readiness)
    AdminAPI(
        hub: hub, turn: turnServer, store: store, users: storedUsers,
        realm: turnSettings?.credentials.realm ?? configuration.realm, token: configuration.adminToken, logger: logger,
        cluster: cluster
    ).register(on: router)
    var ice = configuration.ice
    ice.adopt(configuration.turn)
    ICEServerRoutes(
        configuration: ice, listening: { turnServer?.listeningAddresses },
        limiter: AddressRateLimiter(rate: configuration.signaling.joinRate, burst: configuration.signaling.joinBurst)
    ).register(on: router)
    if let directory = configuration.publicDirectory {
        WebClient(directory: directory).register(on: router, logger: logger)
    } else {
        router.get("/") { _, _ in
            Response(
                status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "The web client is not installed: start with --public-dir PATH.\n")))
        }
    }

    let webSocketFrameLimit = SwitchboardConfiguration.webSocketFrameLimit(maxMessageBytes: configuration.maxMessageBytes)
    // No pinger task per connection: /ws pings from its channel handler, and Engine.IO has its own heartbeat.
    let webSocketConfiguration = WebSocketServerConfiguration(
        maxFrameSize: webSocketFrameLimit, autoPing: .disabled, closeTimeout: webSocketCloseTimeout)
    let serverLogger = logger
    if let certificates {
        // HTTPS/WSS: the same routes on their own port, the certificate taken per connection so reloads apply.
        services.append(
            Application(
                router: router,
                server: .guardedWebSocketUpgrade(
                    webSocketRouter: router, webSocket: webSocketConfiguration, certificates: certificates.source,
                    guard: connectionGuard),
                configuration: .init(
                    address: .hostname(configuration.host, port: configuration.httpsPort), serverName: "Switchboard"),
                onServerRunning: { channel in
                    serverLogger.info(
                        "listening https",
                        metadata: ["https.port": "\(channel.localAddress?.port ?? 0)", "tls.sha256": "\(certificates.fingerprint)"])
                },
                eventLoopGroupProvider: .shared(SignalingLoop.group),
                logger: logger))
    }
    // Services start before the HTTP server and stop after it, so TURN relays drain last.
    services.append(SignalingTickService(hub: hub))
    if let turnServer { services.append(turnServer) }
    return Application(
        router: router,
        server: .guardedWebSocketUpgrade(
            webSocketRouter: router, webSocket: webSocketConfiguration, certificates: nil, guard: connectionGuard),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.httpPort),
            serverName: "Switchboard"),
        services: services,
        onServerRunning: { channel in
            guard let address = channel.localAddress else { return }
            serverLogger.info(
                "listening", metadata: ["http.address": "\(address.ipAddress ?? configuration.host)", "http.port": "\(address.port ?? 0)"])
            await onServerRunning(address)
        },
        eventLoopGroupProvider: .shared(SignalingLoop.group),
        logger: logger)
}
