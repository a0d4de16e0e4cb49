import ConnectionGuards
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import STUNProtocol
import ServiceLifecycle
import Synchronization
import TURNCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The STUN/TURN service: UDP (one `SO_REUSEPORT` socket per event loop), TCP and TLS listeners, relay sockets and
/// the expiry sweep. It runs TURNCore's outcomes and nothing else.
public final class TURNServer: Service, Sendable {
    private let settings: TURNServerSettings
    private let group: any EventLoopGroup
    private let logger: Logger
    private let contexts: [ObjectIdentifier: NIOLoopBoundBox<TURNLoopContext>]
    private let loops: [any EventLoop]
    private let events: TURNServerEvents
    private let nonces: NonceIssuer
    private let listeners = Mutex<[any Channel]>([])
    private let udpLoops = Mutex<[UDPRelayLoopHandle]>([])
    private let boundAddresses = Mutex<TURNListeningAddresses?>(nil)
    /// Relay ports in use, shared by every loop.
    public let ports: RelayPortRegistry
    /// Allocation quotas, shared by every loop.
    public let quota: AllocationQuota

    /// Creates the service on an event loop group (its loops serve TCP and TLS clients, each with a core; UDP clients
    /// get as many `UDPRelayLoop` threads); `events` hears about allocations as they end (for call records), off the
    /// relay path.
    public init(settings: TURNServerSettings, group: any EventLoopGroup, logger: Logger, events: TURNServerEvents = .init()) {
        self.settings = settings
        self.group = group
        self.logger = logger
        self.events = events
        let ports = RelayPortRegistry(range: settings.relayPorts)
        let quota = AllocationQuota(perUser: settings.core.userQuota, total: settings.core.totalQuota)
        let nonces = NonceIssuer(secret: settings.nonceSecret, lifetime: Int64(settings.nonceLifetime))
        var contexts: [ObjectIdentifier: NIOLoopBoundBox<TURNLoopContext>] = [:]
        var loops: [any EventLoop] = []
        for (index, loop) in group.makeIterator().enumerated() where index < settings.eventLoopCount {
            // Built here, before any loop runs; from now on it is touched only on `loop`.
            contexts[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                TURNLoopContext(
                    eventLoop: loop, core: Self.core(settings, nonces, ports, quota, index: index), logger: logger, events: events),
                eventLoop: loop)
            loops.append(loop)
        }
        self.contexts = contexts
        self.loops = loops
        self.ports = ports
        self.quota = quota
        self.nonces = nonces
    }

    /// A core of its own for each loop and thread, with its own range of allocation ids so ids are unique server-wide.
    private static func core(
        _ settings: TURNServerSettings, _ nonces: NonceIssuer, _ ports: RelayPortRegistry, _ quota: AllocationQuota, index: Int
    ) -> TURNServerCore {
        TURNServerCore(
            configuration: settings.core, credentials: settings.credentials, nonces: nonces, ports: ports, quota: quota,
            idBase: UInt64(index) << 48)
    }

    /// Runs `body` on every NIO loop context and every UDP relay loop, and collects the answers.
    private func gather<Result: Sendable>(_ body: @escaping @Sendable (any TURNOutcomeRunner) -> Result) async -> [Result] {
        var results: [Result] = []
        for loop in loops {
            let context = contexts[ObjectIdentifier(loop)]!
            if let result = try? await loop.submit({ body(context.value) }).get() { results.append(result) }
        }
        for udpLoop in udpLoops.withLock({ $0 }) {
            if let result = await udpLoop.submit({ body($0) }) { results.append(result) }
        }
        return results
    }

    /// Every loop's figures, summed (each loop is asked on its own thread).
    public func statistics() async -> TURNStatistics {
        await gather { $0.statistics() }.reduce(TURNStatistics(), +)
    }

    /// Shutdown began: new allocations are refused (508) on every loop; live ones carry on until `run` ends.
    public func drain() async {
        _ = await gather { $0.core.isDraining = true }
    }

    /// Live allocations on every loop.
    public func allocationCount() async -> Int {
        await gather { $0.core.allocationCount }.reduce(0, +)
    }

    /// Every live allocation on every loop, for the admin API.
    public func allocations() async -> [AllocationSnapshot] {
        await gather { $0.core.allocationSnapshots(now: TURNLoopContext.now()) }.flatMap { $0 }
            .sorted { $0.summary.createdAtUnixSeconds < $1.summary.createdAtUnixSeconds }
    }

    /// Binds every listener; returns where they listen.
    public func start() async throws -> TURNListeningAddresses {
        var bound: [any Channel] = []
        do {
            let port = try startUDPLoops()
            bound.append(try await bindStream(port: port, tls: nil))
            var tlsPort: Int? = nil
            if let tls = settings.tls {
                let channel = try await bindStream(port: settings.tlsPort, tls: tls)
                tlsPort = channel.localAddress?.port
                bound.append(channel)
            }
            listeners.withLock { $0 = bound }
            for loop in loops { try await startExpiry(on: loop) }
            let relays = settings.core.relayAddresses.values.map { "\($0.bind)" }.sorted().joined(separator: ",")
            let advertised = settings.core.relayAddresses.values.map { "\($0.advertised)" }.sorted().joined(separator: ",")
            logger.info(
                "STUN/TURN listening",
                metadata: [
                    "turn.host": "\(settings.host)", "turn.port": "\(port)", "turn.tls-port": "\(tlsPort.map(String.init) ?? "off")",
                    "turn.relay-ip": "\(relays)", "turn.advertised-ip": "\(advertised)", "turn.realm": "\(settings.core.realm)",
                    "turn.relay-ports": "\(settings.relayPorts.lowerBound)-\(settings.relayPorts.upperBound)",
                ])
            let addresses = TURNListeningAddresses(port: port, tlsPort: tlsPort)
            boundAddresses.withLock { $0 = addresses }
            return addresses
        } catch {
            for channel in bound { try? await channel.close() }
            await stopUDPLoops()
            throw error
        }
    }

    /// Where the listeners are bound while the service runs (the real ports when the settings asked for 0).
    public var listeningAddresses: TURNListeningAddresses? { boundAddresses.withLock { $0 } }

    /// Closes listeners and ends every allocation.
    public func stop() async {
        boundAddresses.withLock { $0 = nil }
        let bound = listeners.withLock { channels in
            defer { channels = [] }
            return channels
        }
        for channel in bound { try? await channel.close() }
        await stopUDPLoops()
        for loop in loops {
            let context = contexts[ObjectIdentifier(loop)]!
            try? await loop.submit { context.value.closeAll() }.get()
        }
        // No expiry runs any more: ports held for reservations are closed now.
        ports.releaseAllReservations()
    }

    public func run() async throws {
        _ = try await start()
        try? await gracefulShutdown()
        await stop()
    }

    /// Binds one `SO_REUSEPORT` UDP listener per loop thread on one port and starts the threads; returns the port.
    private func startUDPLoops() throws -> Int {
        let host = try SocketAddress.makeAddressResolvingHost(settings.host, port: settings.port)
        guard var address = TransportAddress(host) else { throw UDPSocket.Failure(call: "resolve \(settings.host)", errorNumber: EINVAL) }
        // SO_REUSEPORT (and SO_REUSEADDR) let any socket of the same user that sets them too share the port: a second
        // server started on it would split its clients with this one, and for port 0 the kernel may even hand out a
        // port such a socket holds. A plain bind first claims the port alone, or fails as a taken port should.
        let claim = try UDPSocket.bound(to: address)
        address.port = claim.localAddress()?.port ?? address.port
        claim.close()
        for index in 0..<settings.eventLoopCount {
            let listener = try UDPSocket.bound(
                to: address, reusePort: true,
                // Deep socket buffers absorb bursts from many clients (the kernel caps them at net.core.[rw]mem_max).
                receiveBuffer: 4 << 20, sendBuffer: 4 << 20)
            do {
                let loop = try UDPRelayLoopHandle.start(
                    name: "TURN-UDP-\(index)",
                    core: Self.core(settings, nonces, ports, quota, index: settings.eventLoopCount + index),
                    listener: listener, logger: logger, events: events)
                udpLoops.withLock { $0.append(loop) }
            } catch {
                listener.close()
                throw error
            }
        }
        return Int(address.port)
    }

    private func stopUDPLoops() async {
        let running = udpLoops.withLock { loops in
            defer { loops = [] }
            return loops
        }
        for loop in running { await loop.stop() }
    }

    private func bindStream(port: Int, tls: TLSContextSource?) async throws -> any Channel {
        let contexts = self.contexts
        let transport: TURNTransport = tls == nil ? .tcp : .tls
        let rfc5766Range = settings.core.channelNumbers.upperBound > ChannelNumber.validRange.upperBound
        let guardian = settings.connectionGuard
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let context = contexts[ObjectIdentifier(channel.eventLoop)] else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    if let guardian, !guardian.admit(channel, on: transport == .tls ? .turnTLS : .turnTCP) {
                        throw ChannelError.inappropriateOperationForState
                    }
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls.current())) }
                    try sync.addHandler(ByteToMessageHandler(STUNStreamFrameDecoder(rfc5766Range: rfc5766Range)))
                    try sync.addHandler(TURNStreamHandler(context: context.value, transport: transport, guard: guardian))
                }
            }
            .bind(host: settings.host, port: port).get()
    }

    private func startExpiry(on loop: any EventLoop) async throws {
        let context = contexts[ObjectIdentifier(loop)]!
        try await loop.submit {
            context.value.expiryTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
                context.value.expiryTimerFired()
            }
        }.get()
    }
}
