import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import STUNProtocol
import Synchronization
import TURNClient
import TURNCore

/// `switchboard bench turn`: many allocations, each relaying to a built-in UDP echo peer at a fixed rate.
struct TURNBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turn",
        abstract: "Allocations relaying to a built-in UDP echo at a rate; report relayed packets/s, loss and round-trip percentiles.")

    @Option(help: "HOST:PORT of the TURN server.")
    var server = "127.0.0.1:3478"

    @Option(help: "TURN username (or, with --secret, the REST user name).")
    var user = "alice"

    @Option(help: "TURN password.")
    var password: String?

    @Option(help: "A TURN REST shared secret, instead of --password.")
    var secret: String?

    @Option(help: "Allocations (one UDP socket each).")
    var allocations = 10

    @Option(help: "Packets per second each allocation sends to the echo peer.")
    var rate = 50.0

    @Option(help: "Seconds of measured sending.")
    var duration = 10.0

    @Option(help: "Seconds to wait for the last echoes after sending stops.")
    var drain = 2.0

    @Option(help: "Payload bytes per packet (at least 16).")
    var payloadBytes = 170

    @Flag(help: "Use Send/Data indications instead of channels.")
    var indications = false

    @Option(help: "Address the echo peer binds to (must be a peer the server permits).")
    var peerHost = "127.0.0.1"

    @Option(help: "PID of the server, to report its CPU time and memory.")
    var serverPid: Int?

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard (password == nil) != (secret == nil) else { throw ValidationError("give exactly one of --password and --secret") }
        guard allocations >= 1, rate > 0, duration > 0, drain >= 0, payloadBytes >= 16, payloadBytes <= 65_000 else {
            throw ValidationError("--allocations >= 1, --rate and --duration > 0, 16 <= --payload-bytes <= 65000")
        }
    }

    func run() async throws {
        let result = try await TURNBenchmark(command: self).run()
        print(json ? result.json : result.table)
        if result.received == 0 { throw ExitCode(2) }
    }
}

/// Counters shared by every sender and receiver.
final class TURNBenchStats: Sendable {
    let sent = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let stopped = Atomic<Bool>(false)
    /// Round trips by microsecond, up to 1 s (the last bucket holds everything slower).
    private let histogram = Mutex([Int](repeating: 0, count: 1_000_001))

    func record(nanoseconds: UInt64) {
        let bucket = min(Int(nanoseconds / 1000), 1_000_000)
        histogram.withLock { $0[bucket] += 1 }
        received.add(1, ordering: .relaxed)
    }

    /// The round-trip percentiles in milliseconds.
    func percentiles(_ fractions: [Double]) -> [Double] {
        histogram.withLock { buckets in
            let total = buckets.reduce(0, +)
            guard total > 0 else { return fractions.map { _ in 0 } }
            return fractions.map { fraction in
                let target = Int((Double(total) * fraction).rounded(.up))
                var seen = 0
                for (micros, count) in buckets.enumerated() {
                    seen += count
                    if seen >= max(1, target) { return Double(micros) / 1000 }
                }
                return 1000
            }
        }
    }
}

/// Sends one allocation's packets from its event loop, catching up in small batches every millisecond.
final class TURNBenchSender {
    let client: TURNClient
    let peer: TransportAddress
    let indications: Bool
    let rate: Double
    let payloadBytes: Int
    let stats: TURNBenchStats
    let started = NIODeadline.now()
    var sent = 0

    init(client: TURNClient, peer: TransportAddress, indications: Bool, rate: Double, payloadBytes: Int, stats: TURNBenchStats) {
        self.client = client
        self.peer = peer
        self.indications = indications
        self.rate = rate
        self.payloadBytes = payloadBytes
        self.stats = stats
    }

    func tick() {
        guard !stats.stopped.load(ordering: .relaxed) else { return }
        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        let due = min(Int(elapsed * rate) - sent, 256)
        guard due > 0 else { return }
        for _ in 0..<due {
            var payload = client.channel.allocator.buffer(capacity: payloadBytes)
            payload.writeInteger(NIODeadline.now().uptimeNanoseconds)
            payload.writeInteger(UInt64(sent))
            payload.writeRepeatingByte(0x5A, count: payloadBytes - 16)
            if indications {
                client.sendIndication(to: peer, payload)
            } else {
                client.sendChannelData(0x4000, payload)
            }
            sent += 1
        }
        stats.sent.add(due, ordering: .relaxed)
    }
}

struct TURNBenchmark {
    let command: TURNBenchCommand

    struct Result {
        var allocations: Int
        var offeredRate: Double
        var sent: Int
        var received: Int
        var duration: Double
        var percentiles: [Double]
        var serverCPUSeconds: Double?
        var serverRSSBytes: Int?
        var indications: Bool

        var loss: Double { sent == 0 ? 0 : Double(sent - received) / Double(sent) * 100 }
        /// Each round trip is relayed twice: client to peer and peer to client.
        var relayedPackets: Int { received * 2 }
        var cpuPer100k: Double? { serverCPUSeconds.map { relayedPackets == 0 ? 0 : $0 / Double(relayedPackets) * 100_000 } }

        var table: String {
            let cpu = serverCPUSeconds.map { String(format: "%.2f s (%.3f s per 100k relayed packets)", $0, cpuPer100k ?? 0) } ?? "n/a"
            return """
                allocations          \(allocations) (\(indications ? "Send/Data indications" : "ChannelData"))
                offered              \(String(format: "%.0f", offeredRate)) packets/s
                sent / echoed        \(sent) / \(received)
                loss                 \(String(format: "%.3f", loss)) %
                round trips/s        \(String(format: "%.0f", Double(received) / duration))
                relayed packets/s    \(String(format: "%.0f", Double(relayedPackets) / duration))
                round trip ms        p50 \(percentiles[0])  p90 \(percentiles[1])  p99 \(percentiles[2])  max \(percentiles[3])
                server CPU           \(cpu)
                server RSS           \(serverRSSBytes.map { "\($0 / 1024) KiB" } ?? "n/a")
                """
        }

        var json: String {
            let object: [String: Any] = [
                "allocations": allocations, "offered_rate": offeredRate, "sent": sent, "received": received, "loss_percent": loss,
                "round_trips_per_second": Double(received) / duration, "relayed_packets_per_second": Double(relayedPackets) / duration,
                "rtt_ms": ["p50": percentiles[0], "p90": percentiles[1], "p99": percentiles[2], "max": percentiles[3]],
                "server_cpu_seconds": serverCPUSeconds ?? -1, "server_cpu_per_100k": cpuPer100k ?? -1,
                "server_rss_bytes": serverRSSBytes ?? -1, "indications": indications,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// SO_RCVBUF of the tool's sockets (the kernel caps it at net.core.rmem_max).
    static let socketBuffer = 4 << 20

    func run() async throws -> Result {
        let group = MultiThreadedEventLoopGroup.singleton
        let address = try serverAddress(command.server)
        var username = command.user
        var password = command.password ?? ""
        if let secret = command.secret {
            (username, password) = mintRESTCredentials(secret: secret, user: command.user, ttl: 3600)
        }
        // The echo peer: one SO_REUSEPORT socket per loop on one port, so echoing is not the bottleneck.
        var echoes: [any Channel] = []
        var echoPort = 0
        for loop in group.makeIterator() {
            let echo = try await DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.init(rawValue: SO_REUSEPORT)), value: 1)
                // Every relay's traffic lands on these sockets: with the default 208 KiB buffer, the tool itself
                // dropped datagrams at 50,000 packets/s while the server under test lost none.
                .channelOption(.socketOption(.so_rcvbuf), value: Self.socketBuffer)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEchoHandler()) }
                }
                .bind(host: command.peerHost, port: echoPort).get()
            echoPort = echo.localAddress?.port ?? 0
            echoes.append(echo)
        }
        guard let peerIP = IPAddress(command.peerHost) else { throw ValidationError("--peer-host must be an IP address") }
        let peer = TransportAddress(ip: peerIP, port: UInt16(echoPort))
        let stats = TURNBenchStats()
        var clients: [TURNClient] = []
        for _ in 0..<command.allocations {
            // Like turnutils_uclient: an allocation refused with 437 (a busy server answering a late retransmission)
            // is retried from a new socket, a few times.
            var attempt = 0
            while true {
                attempt += 1
                let client = try await TURNClient.connect(
                    to: address, username: username, password: password, group: group, receiveBuffer: Self.socketBuffer
                ) {
                    _, _, payload in
                    guard let sentAt = payload.getInteger(at: payload.readerIndex, as: UInt64.self) else { return }
                    stats.record(nanoseconds: NIODeadline.now().uptimeNanoseconds &- sentAt)
                }
                do {
                    _ = try await client.allocate()
                    if command.indications {
                        try await client.createPermission(peer)
                    } else {
                        try await client.channelBind(0x4000, to: peer)
                    }
                    clients.append(client)
                    break
                } catch TURNClientError.errorResponse(_, code: 437, _) where attempt < 4 {
                    await client.close()
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        let cpuBefore = command.serverPid.flatMap(ProcessCPU.seconds(pid:))
        var tasks: [RepeatedTask] = []
        for client in clients {
            let loop = client.channel.eventLoop
            let (indications, rate, bytes) = (command.indications, command.rate, command.payloadBytes)
            tasks.append(
                try await loop.submit {
                    let sender = TURNBenchSender(
                        client: client, peer: peer, indications: indications, rate: rate, payloadBytes: bytes, stats: stats)
                    let bound = NIOLoopBound(sender, eventLoop: loop)
                    return loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in bound.value.tick() }
                }.get())
        }
        try await Task.sleep(for: .seconds(command.duration))
        stats.stopped.store(true, ordering: .relaxed)
        for task in tasks { task.cancel() }
        // A tick that checked `stopped` just before it was set may still be sending: one empty turn of every loop
        // lets it finish, so the total below counts every datagram sent (an echo must never outnumber it).
        for loop in group.makeIterator() { try await loop.submit {}.get() }
        let sentTotal = stats.sent.load(ordering: .relaxed)
        let drainEnd = ContinuousClock.now + .seconds(command.drain)
        while ContinuousClock.now < drainEnd, stats.received.load(ordering: .relaxed) < sentTotal {
            try await Task.sleep(for: .milliseconds(20))
        }
        let cpuAfter = command.serverPid.flatMap(ProcessCPU.seconds(pid:))
        let rss = command.serverPid.flatMap(ProcessMemory.residentBytes(pid:))
        for client in clients {
            try? await client.refresh(lifetime: 0)
            await client.close()
        }
        for echo in echoes { try? await echo.close() }
        return Result(
            allocations: command.allocations, offeredRate: command.rate * Double(command.allocations), sent: sentTotal,
            received: stats.received.load(ordering: .relaxed), duration: command.duration,
            percentiles: stats.percentiles([0.5, 0.9, 0.99, 1.0]),
            serverCPUSeconds: zip(cpuBefore, cpuAfter).map { $1 - $0 }, serverRSSBytes: rss, indications: command.indications)
    }
}

/// Reads a process's user + system CPU time from /proc/PID/stat.
enum ProcessCPU {
    static func seconds(pid: Int) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

extension Optional {
    fileprivate func zipWith<Other>(_ other: Other?) -> (Wrapped, Other)? {
        guard let self, let other else { return nil }
        return (self, other)
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? { a.zipWith(b) }
