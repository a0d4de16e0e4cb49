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
    private let listeners = Mutex<[any Channel]>([])
    private let boundAddresses = Mutex<TURNListeningAddresses?>(nil)
    /// Relay ports in use, shared by every loop.
    public let ports: RelayPortRegistry
    /// Allocation quotas, shared by every loop.
    public let quota: AllocationQuota

    /// Creates the service on an event loop group (its loops each get a core and a UDP listener); `events` hears
    /// about allocations as they end (for call records), off the relay path.
    public init(settings: TURNServerSettings, group: any EventLoopGroup, logger: Logger, events: TURNServerEvents = .init()) {
        self.settings = settings
        self.group = group
        self.logger = logger
        let ports = RelayPortRegistry(range: settings.relayPorts)
        let quota = AllocationQuota(perUser: settings.core.userQuota, total: settings.core.totalQuota)
        let nonces = NonceIssuer(secret: settings.nonceSecret, lifetime: Int64(settings.nonceLifetime))
        var contexts: [ObjectIdentifier: NIOLoopBoundBox<TURNLoopContext>] = [:]
        var loops: [any EventLoop] = []
        for (index, loop) in group.makeIterator().enumerated() where index < settings.eventLoopCount {
            let core = TURNServerCore(
                configuration: settings.core, credentials: settings.credentials, nonces: nonces, ports: ports, quota: quota,
                idBase: UInt64(index) << 48)
            // Built here, before any loop runs; from now on it is touched only on `loop`.
            contexts[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                TURNLoopContext(eventLoop: loop, core: core, logger: logger, events: events), eventLoop: loop)
            loops.append(loop)
        }
        self.contexts = contexts
        self.loops = loops
        self.ports = ports
        self.quota = quota
    }

    /// Every loop's figures, summed (each loop is asked on its own thread).
    public func statistics() async -> TURNStatistics {
        var total = TURNStatistics()
        for loop in loops {
            let context = contexts[ObjectIdentifier(loop)]!
            if let figures = try? await loop.submit({ context.value.statistics() }).get() { total = total + figures }
        }
        return total
    }

    /// Shutdown began: new allocations are refused (508) on every loop; live ones carry on until `run` ends.
    public func drain() async {
        for loop in loops {
            let context = contexts[ObjectIdentifier(loop)]!
            try? await loop.submit { context.value.core.isDraining = true }.get()
        }
    }

    /// Live allocations on every loop.
    public func allocationCount() async -> Int {
        var count = 0
        for loop in loops {
            let context = contexts[ObjectIdentifier(loop)]!
            count += (try? await loop.submit { context.value.core.allocationCount }.get()) ?? 0
        }
        return count
    }

    /// Every live allocation on every loop, for the admin API.
    public func allocations() async -> [AllocationSnapshot] {
        var all: [AllocationSnapshot] = []
        for loop in loops {
            let context = contexts[ObjectIdentifier(loop)]!
            if let some = try? await loop.submit({ context.value.core.allocationSnapshots(now: TURNLoopContext.now()) }).get() {
                all += some
            }
        }
        return all.sorted { $0.summary.createdAtUnixSeconds < $1.summary.createdAtUnixSeconds }
    }

    /// Binds every listener; returns where they listen.
    public func start() async throws -> TURNListeningAddresses {
        var port = settings.port
        var bound: [any Channel] = []
        do {
            for loop in loops {
                let channel = try await bindUDP(on: loop, port: port)
                port = channel.localAddress?.port ?? port
                bound.append(channel)
            }
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
        for loop in loops {
            let context = contexts[ObjectIdentifier(loop)]!
            try? await loop.submit { context.value.closeAll() }.get()
        }
    }

    public func run() async throws {
        _ = try await start()
        try? await gracefulShutdown()
        await stop()
    }

    private func bindUDP(on loop: any EventLoop, port: Int) async throws -> any Channel {
        let context = contexts[ObjectIdentifier(loop)]!
        let host = settings.host
        let channel = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.init(rawValue: SO_REUSEPORT)), value: 1)
            // Deep socket buffers absorb bursts from many clients (the kernel caps them at net.core.[rw]mem_max).
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
            // Up to 16 datagrams per recvmmsg. (One recvmmsg per readiness, as on relay sockets, halved STUN
            // Binding throughput under a flood, so listeners keep NIO's default of reading until empty.)
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let local = channel.localAddress.flatMap(TransportAddress.init)
                    let server = local.map { TransportAddress(ip: $0.ip.unmapped, port: $0.port) }
                    try channel.pipeline.syncOperations.addHandler(
                        TURNDatagramHandler(
                            context: context.value, server: server ?? TransportAddress(ip: .v4(0), port: UInt16(port))))
                }
            }
            .bind(host: host, port: port).get()
        try await loop.submit {
            context.value.udpListener = channel
            if case .v6 = channel.localAddress { context.value.udpListenerIsIPv6 = true }
        }.get()
        return channel
    }

    private func bindStream(port: Int, tls: TLSContextSource?) async throws -> any Channel {
        let contexts = self.contexts
        let transport: TURNTransport = tls == nil ? .tcp : .tls
        let rfc5766Range = settings.core.channelNumbers.upperBound > ChannelNumber.validRange.upperBound
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let context = contexts[ObjectIdentifier(channel.eventLoop)] else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls.current())) }
                    try sync.addHandler(ByteToMessageHandler(STUNStreamFrameDecoder(rfc5766Range: rfc5766Range)))
                    try sync.addHandler(TURNStreamHandler(context: context.value, transport: transport))
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
