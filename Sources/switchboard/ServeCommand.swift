import ArgumentParser
import Cluster
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import STUNProtocol
import ServiceLifecycle
import Storage
import SwitchboardApp
import UnixSignals

/// `switchboard serve`: runs every service on embedded defaults unless told otherwise.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server.",
        discussion: """
            Every option can also be set by an environment variable SWITCHBOARD_<NAME> (upper case, '_' for \
            '-'; flags take true/false) or by a line 'name = value' in the --config file. The command line \
            beats the environment, which beats the file.
            """)

    @Option(name: .customLong("config"), help: "Read options from this file (lines 'name = value', '#' comments).")
    var config: String?

    @Option(name: .customLong("host"), help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(name: .customLong("http-port"), help: "HTTP and WebSocket port (0 picks a free port).")
    var httpPort = 8080

    @Option(name: .customLong("data-dir"), help: "Directory for the server's files.")
    var dataDir = "./switchboard-data"

    @Option(
        name: .customLong("database"),
        help:
            "postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=disable|prefer|require] for PostgreSQL, or sqlite:PATH (default: the file switchboard.sqlite in the data directory)."
    )
    var database: String?

    @Option(
        name: .customLong("node-name"),
        help: "This node's name in a cluster (nodes sharing one PostgreSQL --database form one); default: the host name.")
    var nodeName: String?

    @Option(
        name: .customLong("cluster-dead-after"),
        help:
            "Seconds without a heartbeat before a cluster node is declared dead and its members leave their rooms (heartbeats every fifth of it)."
    )
    var clusterDeadAfter = 10.0

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (one readable line per event) or json (one JSON object per line).")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("room-capacity"), help: "Members per room, unless the creating join asks for another capacity.")
    var roomCapacity = 8

    @Option(name: .customLong("max-room-capacity"), help: "Largest capacity a creating join may ask for.")
    var maxRoomCapacity = 64

    @Option(name: .customLong("max-message-bytes"), help: "Largest signaling message in bytes, checked before parsing.")
    var maxMessageBytes = 65_536

    @Option(name: .customLong("message-rate"), help: "Requests per second per session (sustained).")
    var messageRate = 50.0

    @Option(name: .customLong("message-burst"), help: "Requests a session may send in a burst.")
    var messageBurst = 200.0

    @Option(name: .customLong("join-rate"), help: "Joins per second per client IP address (sustained).")
    var joinRate = 5.0

    @Option(name: .customLong("join-burst"), help: "Joins a client IP address may make in a burst.")
    var joinBurst = 20.0

    @Option(name: .customLong("outbound-queue"), help: "Unsent messages per connection before it is closed as a slow consumer.")
    var outboundQueue = 256

    @Option(
        name: .customLong("heartbeat-interval"),
        help: "Seconds between WebSocket pings; a ping unanswered by the next one closes the connection.")
    var heartbeatInterval = 10.0

    @Option(
        name: .customLong("handshake-timeout"),
        help:
            "Seconds a TCP connection (HTTP, HTTPS, TURN over TCP or TLS) has to finish its TLS handshake and first request or message.")
    var handshakeTimeout = 10.0

    @Option(name: .customLong("http-idle-timeout"), help: "Seconds a kept-alive HTTP connection may wait for its next request.")
    var httpIdleTimeout = 60.0

    @Option(
        name: .customLong("turn-idle-timeout"),
        help: "Seconds a TURN connection over TCP or TLS holding no allocation may go without a complete message.")
    var turnIdleTimeout = 60.0

    @Option(
        name: .customLong("max-connections-per-address"),
        help: "Open TCP connections one client IP address may hold across all listeners; 0 for no limit (behind a reverse proxy).")
    var maxConnectionsPerAddress = 1_000

    @Option(name: .customLong("grace-period"), help: "Seconds a dropped session may resume before its peers see bye.")
    var gracePeriod = 20.0

    @Option(name: .customLong("held-messages"), help: "Messages held per room while its only member broadcasts.")
    var heldMessages = 64

    @Option(name: .customLong("held-message-ttl"), help: "Seconds a held message waits for a joiner.")
    var heldMessageTTL = 30.0

    @Option(name: .customLong("resume-history"), help: "Messages kept per session for resume.")
    var resumeHistory = 256

    @Option(
        name: .customLong("resume-history-bytes"),
        help: "Bytes of messages kept per session for resume (as sent); the oldest go first past either bound.")
    var resumeHistoryBytes = 1 << 20

    @Option(name: .customLong("max-sessions"), help: "Sessions held at once, connected or in grace.")
    var maxSessions = 50_000

    @Option(name: .customLong("turn-port"), help: "STUN/TURN port for UDP and TCP; 0 turns STUN and TURN off.")
    var turnPort = 3478

    @Option(
        name: .customLong("turn-tls-port"),
        help: "TURN over TLS port, used when TLS is on: with --tls-cert and --tls-key, or with --tls self-signed.")
    var turnTLSPort = 5349

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for TLS listeners.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for TLS listeners.")
    var tlsKey: String?

    @Option(
        name: .customLong("https-port"),
        help: "HTTPS and WSS port, used when TLS is on: with --tls-cert and --tls-key, or with --tls self-signed.")
    var httpsPort = 8443

    @Option(
        name: .customLong("tls"),
        help:
            "self-signed: make a development certificate for this host at start-up and print its fingerprint, in place of the --tls-cert and --tls-key files."
    )
    var tls: String?

    @Option(name: .customLong("realm"), help: "STUN/TURN realm for long-term credentials.")
    var realm = "switchboard"

    @Option(name: .customLong("turn-user"), help: "A TURN user as USER:PASSWORD (repeatable); only its key is kept.")
    var turnUsers: [String] = []

    @Option(name: .customLong("turn-secret"), help: "A TURN REST shared secret (repeatable, for rotation).")
    var turnSecrets: [String] = []

    @Option(
        name: .customLong("relay-ip"),
        help: "Address relay sockets bind to, one per family (default: --host, or this host's primary address).")
    var relayIPs: [String] = []

    @Option(
        name: .customLong("external-ip"),
        help: "PUBLIC or PUBLIC/PRIVATE: the address advertised in XOR-RELAYED-ADDRESS behind 1:1 NAT (repeatable).")
    var externalIPs: [String] = []

    @Option(name: .customLong("relay-ports"), help: "Relay port range MIN-MAX, drawn at random; 508 when exhausted.")
    var relayPorts = "49152-65535"

    @Option(name: .customLong("allow-peer"), help: "CIDR block peers may be in despite the default deny list (repeatable).")
    var allowPeers: [String] = []

    @Option(
        name: .customLong("deny-peer"),
        help: "CIDR block peers may never be in; repeatable, and it wins over --allow-peer where both match.")
    var denyPeers: [String] = []

    @Flag(name: .customLong("allow-loopback-peers"), help: "Let TURN relay to loopback peers. For tests only: never in production.")
    var allowLoopbackPeers = false

    @Flag(
        name: .customLong("rfc5766-channel-numbers"),
        help: "Accept channel numbers 0x4000-0x7FFF (RFC 5766) besides RFC 8656's 0x4000-0x4FFF, for old clients.")
    var rfc5766ChannelNumbers = false

    @Option(name: .customLong("default-lifetime"), help: "Allocation lifetime in seconds when a client asks for less or none.")
    var defaultLifetime = 600

    @Option(name: .customLong("max-lifetime"), help: "Longest allocation lifetime in seconds.")
    var maxLifetime = 3600

    @Option(name: .customLong("user-quota"), help: "Allocations per TURN user (486 beyond); 0 is unlimited.")
    var userQuota = 10

    @Option(name: .customLong("total-quota"), help: "Allocations in total (486 beyond); 0 is unlimited.")
    var totalQuota = 10_000

    @Option(
        name: .customLong("max-allocation-bps"),
        help: "Bytes per second one allocation may relay, both directions together (as coturn's max-bps); 0 is unlimited.")
    var maxAllocationBps = 3_000_000

    @Option(
        name: .customLong("allocation-family"),
        help: "Relay family for Allocates without REQUESTED-ADDRESS-FAMILY: ipv4 (RFC 8656), ipv6, or client (the client's own).")
    var allocationFamily = "ipv4"

    @Option(name: .customLong("nonce-lifetime"), help: "Seconds a TURN nonce stays valid (438 after).")
    var nonceLifetime = 600

    @Option(name: .customLong("nonce-secret"), help: "Secret for stateless nonces, shared by a cluster's nodes (default: random).")
    var nonceSecret: String?

    @Option(
        name: .customLong("turn-threads"),
        help: "Threads relaying UDP STUN/TURN, apart from the HTTP event loops (one SO_REUSEPORT socket each); 0 uses one per core.")
    var turnThreads = 0

    @Option(name: .customLong("unauthorized-rate"), help: "401/438 answers per second per client address (sustained).")
    var unauthorizedRate = 10.0

    @Option(name: .customLong("unauthorized-burst"), help: "401/438 answers a client address may get in a burst.")
    var unauthorizedBurst = 20.0

    @Option(
        name: .customLong("public-dir"),
        help: "Folder of the browser client (default: public/ here, or in the checkout or install holding this binary).")
    var publicDir: String?

    @Option(
        name: .customLong("ice-host"),
        help: "Host name put in STUN/TURN URIs of /api/ice-servers (default: the external address, else the request's host).")
    var iceHost: String?

    @Option(
        name: .customLong("turn-credential-ttl"),
        help: "Seconds the TURN credentials minted by /api/ice-servers and /api/turn stay valid for new allocations.")
    var turnCredentialTTL = 3600

    @Option(
        name: .customLong("cors-origin"),
        help: "Origin allowed to call /socket.io/, /events and /send cross-origin, or '*' for any (repeatable; none by default).")
    var corsOrigins: [String] = []

    @Option(name: .customLong("socketio-ping-interval"), help: "Seconds between Engine.IO pings on /socket.io/.")
    var socketIOPingInterval = 25.0

    @Option(name: .customLong("socketio-ping-timeout"), help: "Seconds a Socket.IO client may take to answer a ping.")
    var socketIOPingTimeout = 20.0

    @Option(
        name: .customLong("socketio-max-payload"),
        help:
            "Largest Engine.IO HTTP body or WebSocket message on /socket.io/, in bytes (maxHttpBufferSize); at most the WebSocket frame limit: 4 × --max-message-bytes, and at least 64 KiB."
    )
    var socketIOMaxPayload = 1_000_000

    @Option(
        name: .customLong("socketio-room-capacity"),
        help: "Capacity of rooms created by Socket.IO 'create or join' and 'join' (the tutorials' rooms of 2).")
    var socketIORoomCapacity = 2

    @Option(
        name: .customLong("join-secret"),
        help:
            "Secret (at least 32 characters) that signs join tokens; when set, /ws, /socket.io/ and /events admit joins with a valid token only (repeatable, for rotation; the first signs)."
    )
    var joinSecrets: [String] = []

    @Option(
        name: .customLong("allowed-origin"),
        help:
            "Web origin (https://app.example.com) allowed to open WebSockets besides this server's own pages, or '*' (repeatable)."
    )
    var allowedOrigins: [String] = []

    @Option(
        name: .customLong("admin-token"),
        help: "Bearer token (at least 16 characters) of the admin API at /api/admin/; without one the API is off.")
    var adminToken: String?

    @Option(
        name: .customLong("drain-period"),
        help: "Seconds live calls get to move after SIGTERM before the server stops (a second SIGTERM stops it at once).")
    var drainPeriod = 30.0

    @Flag(name: .customLong("socketio-log-events"), help: "Send the codelab's 'log' events (server notes) to Socket.IO clients.")
    var socketIOLogEvents = false

    /// Every option above, for merging environment variables and config files.
    static let optionSpecs: [OptionSpec] =
        [
            "config", "host", "http-port", "data-dir", "database", "node-name", "cluster-dead-after", "log-level", "log-format",
            "room-capacity", "max-room-capacity",
            "max-message-bytes", "message-rate", "message-burst", "join-rate", "join-burst", "outbound-queue",
            "heartbeat-interval", "handshake-timeout", "http-idle-timeout", "turn-idle-timeout", "max-connections-per-address",
            "grace-period", "held-messages", "held-message-ttl", "resume-history", "resume-history-bytes", "max-sessions",
            "turn-port", "turn-tls-port", "tls-cert", "tls-key", "realm", "relay-ports", "default-lifetime", "max-lifetime",
            "user-quota", "total-quota", "max-allocation-bps", "allocation-family", "nonce-lifetime", "nonce-secret",
            "unauthorized-rate", "unauthorized-burst", "turn-threads", "public-dir", "ice-host", "turn-credential-ttl",
            "socketio-ping-interval", "socketio-ping-timeout", "socketio-max-payload", "socketio-room-capacity",
            "admin-token", "https-port", "tls", "drain-period",
        ].map { OptionSpec($0) }
        + [
            "turn-user", "turn-secret", "relay-ip", "external-ip", "allow-peer", "deny-peer", "cors-origin", "join-secret",
            "allowed-origin",
        ].map {
            OptionSpec($0, isRepeatable: true)
        }
        + ["allow-loopback-peers", "rfc5766-channel-numbers", "socketio-log-events"].map { OptionSpec($0, isFlag: true) }

    static func mergedArguments(_ arguments: [String]) throws -> [String] {
        do {
            return try OptionSources.merge(
                arguments: arguments, environment: ProcessInfo.processInfo.environment, options: optionSpecs,
                readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
        } catch let error as OptionSourceError {
            throw ValidationError(error.description)
        }
    }

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0-65535") }
        guard (1...300).contains(clusterDeadAfter) else { throw ValidationError("--cluster-dead-after must be 1-300 seconds") }
        guard roomCapacity >= 1, maxRoomCapacity >= roomCapacity else {
            throw ValidationError("--room-capacity must be at least 1 and at most --max-room-capacity")
        }
        guard socketIORoomCapacity <= maxRoomCapacity else {
            throw ValidationError("--socketio-room-capacity must be at most --max-room-capacity")
        }
        for (name, value) in [
            ("max-message-bytes", maxMessageBytes), ("outbound-queue", outboundQueue), ("held-messages", heldMessages),
            ("resume-history", resumeHistory), ("resume-history-bytes", resumeHistoryBytes), ("max-sessions", maxSessions),
            ("socketio-max-payload", socketIOMaxPayload),
            ("socketio-room-capacity", socketIORoomCapacity),
        ] where value < 1 {
            throw ValidationError("--\(name) must be at least 1")
        }
        for (name, value) in [
            ("message-rate", messageRate), ("message-burst", messageBurst), ("join-rate", joinRate),
            ("join-burst", joinBurst), ("heartbeat-interval", heartbeatInterval), ("grace-period", gracePeriod),
            ("held-message-ttl", heldMessageTTL), ("socketio-ping-interval", socketIOPingInterval),
            ("handshake-timeout", handshakeTimeout), ("http-idle-timeout", httpIdleTimeout), ("turn-idle-timeout", turnIdleTimeout),
            ("socketio-ping-timeout", socketIOPingTimeout),
        ] where !(value > 0) {
            throw ValidationError("--\(name) must be greater than 0")
        }
        guard maxConnectionsPerAddress >= 0 else { throw ValidationError("--max-connections-per-address must be 0 or more") }
        guard drainPeriod >= 0, drainPeriod <= 86_400 else { throw ValidationError("--drain-period must be 0-86400 seconds") }
        guard (1...604_800).contains(turnCredentialTTL) else {
            throw ValidationError("--turn-credential-ttl must be 1-604800 seconds")
        }
        if let tls {
            guard tls == "self-signed" else { throw ValidationError("--tls takes one value: self-signed") }
            guard tlsCert == nil, tlsKey == nil else {
                throw ValidationError("--tls self-signed and --tls-cert/--tls-key exclude each other")
            }
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key must be given together") }
        guard (0...65535).contains(httpsPort) else { throw ValidationError("--https-port must be 0-65535") }
        if let adminToken, adminToken.count < 16 {
            throw ValidationError("--admin-token must be at least 16 characters (try: openssl rand -hex 24)")
        }
        if joinSecrets.contains(where: { $0.count < JoinTokens.minimumSecretLength }) {
            throw ValidationError(
                "--join-secret must be at least \(JoinTokens.minimumSecretLength) characters (try: openssl rand -hex 32)")
        }
        if let iceHost, iceURIHost(fromAuthority: iceHost) != iceHost {
            throw ValidationError("--ice-host must be a DNS name, an IPv4 address or a bracketed IPv6 address, without a port")
        }
    }

    var turnOptions: TURNOptions {
        var options = TURNOptions()
        options.host = host
        options.port = turnPort
        options.tlsPort = turnTLSPort
        options.realm = realm
        options.users = turnUsers
        options.secrets = turnSecrets
        options.relayIPs = relayIPs
        options.externalIPs = externalIPs
        options.relayPorts = relayPorts
        options.allowPeers = allowPeers
        options.denyPeers = denyPeers
        options.allowLoopbackPeers = allowLoopbackPeers
        options.rfc5766ChannelNumbers = rfc5766ChannelNumbers
        options.defaultLifetime = defaultLifetime
        options.maximumLifetime = maxLifetime
        options.userQuota = userQuota
        options.totalQuota = totalQuota
        options.maxAllocationBytesPerSecond = maxAllocationBps
        options.allocationFamily = allocationFamily
        options.nonceLifetime = nonceLifetime
        options.nonceSecret = nonceSecret
        options.unauthorizedRate = unauthorizedRate
        options.unauthorizedBurst = unauthorizedBurst
        options.threads = turnThreads
        return options
    }

    /// This machine's addresses, for choosing a relay address when listening on a wildcard.
    static func hostAddresses() -> [IPAddress] {
        ((try? System.enumerateDevices()) ?? []).compactMap { device in
            device.address?.ipAddress.flatMap { IPAddress($0) }
        }
    }

    func makeSwitchboardConfiguration() throws -> SwitchboardConfiguration {
        var options = self
        if tls != nil {
            // A development certificate made now, then served like one given with --tls-cert/--tls-key.
            let made = try DevelopmentCertificate.generate(
                in: (dataDir as NSString).appendingPathComponent("tls"), hosts: [host] + (iceHost.map { [$0] } ?? []))
            options.tlsCert = made.certificatePath
            options.tlsKey = made.keyPath
            print("TLS: self-signed development certificate \(made.certificatePath)")
            print("TLS: SHA-256 fingerprint \(made.fingerprint)")
            fflush(nil)
        }
        return try options.configurationWithFiles()
    }

    private func configurationWithFiles() throws -> SwitchboardConfiguration {
        var configuration = switchboardConfiguration
        if let tlsCert, let tlsKey {
            configuration.tls = TLSFiles(certificatePath: tlsCert, keyPath: tlsKey)
        }
        if let publicDir, locateWebClient(explicit: publicDir) == nil {
            throw ValidationError("--public-dir '\(publicDir)' holds no index.html")
        }
        configuration.publicDirectory = locateWebClient(explicit: publicDir)
        if turnPort != 0 {
            do {
                configuration.turn = try turnOptions.settings(hostAddresses: Self.hostAddresses())
            } catch {
                throw ValidationError(error.description)
            }
        }
        return configuration
    }

    var switchboardConfiguration: SwitchboardConfiguration {
        var configuration = SwitchboardConfiguration()
        configuration.host = host
        configuration.httpPort = httpPort
        configuration.dataDirectory = dataDir
        configuration.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        configuration.maxMessageBytes = maxMessageBytes
        configuration.outboundQueueLimit = outboundQueue
        configuration.heartbeatInterval = .seconds(heartbeatInterval)
        configuration.connectionGuards.handshakeTimeout = .seconds(handshakeTimeout)
        configuration.connectionGuards.httpIdleTimeout = .seconds(httpIdleTimeout)
        configuration.connectionGuards.turnIdleTimeout = .seconds(turnIdleTimeout)
        configuration.connectionGuards.maximumPerAddress = maxConnectionsPerAddress == 0 ? nil : maxConnectionsPerAddress
        configuration.signaling.roomCapacity = roomCapacity
        configuration.signaling.maximumRoomCapacity = maxRoomCapacity
        configuration.signaling.messageRate = messageRate
        configuration.signaling.messageBurst = messageBurst
        configuration.signaling.joinRate = joinRate
        configuration.signaling.joinBurst = joinBurst
        configuration.signaling.gracePeriod = .seconds(gracePeriod)
        configuration.signaling.heldMessageLimit = heldMessages
        configuration.signaling.heldMessageTTL = .seconds(heldMessageTTL)
        configuration.signaling.historyLimit = resumeHistory
        configuration.signaling.historyByteLimit = resumeHistoryBytes
        configuration.signaling.maximumSessions = maxSessions
        configuration.ice.host = iceHost
        configuration.ice.secret = turnSecrets.first
        configuration.ice.credentialTTL = turnCredentialTTL
        configuration.engineIO.pingInterval = .milliseconds(Int64(socketIOPingInterval * 1000))
        configuration.engineIO.pingTimeout = .milliseconds(Int64(socketIOPingTimeout * 1000))
        configuration.engineIO.maxPayload = socketIOMaxPayload
        configuration.engineIO.corsOrigins = corsOrigins
        configuration.socketIOSignaling.roomCapacity = socketIORoomCapacity
        configuration.socketIOSignaling.logEvents = socketIOLogEvents
        configuration.joinSecrets = joinSecrets
        configuration.allowedOrigins = allowedOrigins
        configuration.adminToken = adminToken
        configuration.httpsPort = httpsPort
        configuration.realm = realm
        return configuration
    }

    func run() async throws {
        logFormat.bootstrap()
        var configuration = try makeSwitchboardConfiguration()
        let location: StoreLocation
        do {
            location = try StoreLocation.parse(database: database, dataDirectory: dataDir)
        } catch {
            throw ValidationError("\(error)")
        }
        var logger = Logger(label: "switchboard")
        logger.logLevel = configuration.logLevel
        if allowLoopbackPeers, configuration.turn != nil {
            logger.warning(
                "CONFIG WARNING: --allow-loopback-peers lets TURN clients reach this host's loopback services. Tests only; never in production."
            )
        }
        if let directory = configuration.publicDirectory {
            logger.info("web client", metadata: ["http.public-dir": "\(directory)"])
        } else {
            logger.warning("web client not found: no public/index.html here or beside the binary; pass --public-dir")
        }
        logger.info("store", metadata: ["store.location": "\(location)"])
        if case .postgres(let postgres) = location {
            var settings = ClusterSettings(nodeName: nodeName ?? ProcessInfo.processInfo.hostName)
            settings.deadAfter = .milliseconds(Int(clusterDeadAfter * 1000))
            settings.heartbeatInterval = settings.deadAfter / 5
            // A session handed over by a draining node may resume elsewhere as long as a dropped one may here.
            settings.parkedLifetime = .milliseconds(Int(max(gracePeriod, 1) * 1000))
            configuration.cluster = ClusterConfiguration(location: postgres, settings: settings)
        } else {
            logger.info("single node: clustering needs a PostgreSQL --database that the nodes share")
        }
        let serverLogger = logger
        let shutdown = ShutdownSequence(drainPeriod: .seconds(drainPeriod))
        do {
            try await withStore(location, logger: logger) { [configuration] store in
                let app = try await buildApplication(configuration, store: store, shutdown: shutdown, logger: serverLogger)
                try await Self.run(app, shutdown: shutdown, logger: serverLogger)
            }
        } catch let error as StoreError {
            // A refused schema or a bad location is a start-up failure with one clear line, not a stack of errors.
            logger.critical("cannot open the database", metadata: ["store.location": "\(location)", "store.error": "\(error)"])
            throw ExitCode(2)
        }
    }
}

extension LogFormat: ExpressibleByArgument {}

extension ServeCommand {
    /// Runs the server until SIGTERM or SIGINT. The first signal drains (readiness off, joins and allocations
    /// refused, clients told to reconnect, up to --drain-period for live calls), then stops the services,
    /// TURN allocations last. A second signal exits at once.
    static func run(_ app: some ApplicationProtocol, shutdown: ShutdownSequence, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        // After the drain the services must stop promptly: past this they are cancelled.
        configuration.maximumGracefulShutdownDuration = .seconds(15)
        let services = ServiceGroup(configuration: configuration)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let (received, forward) = AsyncStream.makeStream(of: UnixSignal.self)
        // Iterating UnixSignalsSequence does not end when the iterating task is cancelled, so it is read by a task
        // that lives as long as the process and forwards into a stream that does end on cancellation.
        let forwarder = Task {
            for await signal in signals { forward.yield(signal) }
        }
        defer { forwarder.cancel() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await services.run()
                    // Ends the signal handling below with the group.
                    throw ServicesEnded()
                }
                group.addTask {
                    await withTaskGroup(of: Void.self) { steps in
                        var draining = false
                        for await signal in received {
                            if draining {
                                logger.warning("second \(signal): exiting now")
                                Foundation.exit(1)
                            }
                            draining = true
                            logger.notice("\(signal): shutting down")
                            steps.addTask {
                                await shutdown.drain(logger: logger)
                                await services.triggerGracefulShutdown()
                            }
                        }
                    }
                }
                // Not waitForAll(): it waits for every child before rethrowing, and the signal handler never ends
                // by itself. The first child to finish ends the run.
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch is ServicesEnded {
            // The services stopped (after the drain, or on their own): done.
        }
    }
}

/// Thrown inside the run loop when the services have stopped, so the signal listener ends with them.
private struct ServicesEnded: Error {}
