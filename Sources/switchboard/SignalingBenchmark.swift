import Foundation
import SwitchboardClient

/// What a benchmark peer reads from its connection, whatever the protocol.
enum BenchIncoming: Sendable {
    case data(JSONValue)
    case error(String)
    case closed
}

/// Rooms of two over the native protocol or Socket.IO; each peer paces messages to its partner and
/// checks what it gets.
struct SignalingBenchmark: Sendable {
    /// The protocol the peers speak.
    enum WireProtocol: Sendable {
        /// `/ws` from channel handlers on one event loop (``EventLoopBenchmark``); `url` is the `/ws` URL.
        case native
        /// `/ws` through the Swift SDK, a task and an actor per peer; `url` is the `/ws` URL.
        case nativeSDK
        /// Socket.IO's "join/leave" vocabulary over an Engine.IO WebSocket, from channel handlers on one event loop;
        /// `url` is `ws://host:port`.
        case socketIO
        /// The same through ``SocketIOBenchConnection``, a WebSocket client and tasks per peer.
        case socketIOTasks
    }

    let protocolKind: WireProtocol
    let url: String
    /// Where peers with odd indexes connect instead (another node of a cluster), so every room spans two nodes.
    let secondURL: String?
    let connections: Int
    let rate: Double
    let duration: Duration
    let drain: Duration
    let connectRate: Double
    let payloadBytes: Int
    let serverPID: Int?
    let roomPrefix: String

    /// What one peer saw.
    struct PeerStats: Sendable {
        var sent = 0
        var received = 0
        var outOfOrder = 0
        var errors = 0
        var errorKinds: [String: Int] = [:]
        var latenciesNanoseconds: [UInt64] = []

        mutating func recordError(_ kind: String) {
            errors += 1
            errorKinds[kind, default: 0] += 1
        }

        mutating func absorb(_ other: PeerStats) {
            sent += other.sent
            received += other.received
            outOfOrder += other.outOfOrder
            latenciesNanoseconds += other.latenciesNanoseconds
            errors += other.errors
            errorKinds.merge(other.errorKinds, uniquingKeysWith: +)
        }
    }

    func run() async throws -> SignalingBenchmarkResult {
        switch protocolKind {
        case .native: return try await EventLoopBenchmark.run(self, dialect: .native)
        case .socketIO: return try await EventLoopBenchmark.run(self, dialect: .socketIO)
        case .nativeSDK, .socketIOTasks: break
        }
        let epoch = ContinuousClock.now
        let ready = Barrier(parties: connections)
        let done = Barrier(parties: connections)
        let monitor = RSSMonitor(pid: serverPID)
        let padding = String(repeating: "x", count: payloadBytes)
        let stats = await withTaskGroup(of: PeerStats.self) { group in
            for index in 0..<connections {
                group.addTask {
                    try? await Task.sleep(for: .seconds(Double(index) / connectRate))
                    return await peer(index: index, epoch: epoch, ready: ready, done: done, monitor: monitor, padding: padding)
                }
            }
            var all: [PeerStats] = []
            for await peerStats in group { all.append(peerStats) }
            return all
        }
        return result(stats, server: await monitor.sampler)
    }

    /// The report of a run: every peer's figures, and what was seen of the server.
    func result(_ stats: [PeerStats], server: ServerSampler) -> SignalingBenchmarkResult {
        var total = PeerStats()
        for peer in stats { total.absorb(peer) }
        var latencies = total.latenciesNanoseconds
        latencies.sort()
        return SignalingBenchmarkResult(
            connections: connections, ratePerPeer: rate, durationSeconds: duration.secondsDouble, sent: total.sent,
            received: total.received, lost: max(0, total.sent - total.received), outOfOrder: total.outOfOrder,
            errors: total.errors, errorKinds: total.errorKinds, p50: Self.percentile(latencies, 0.50),
            p99: Self.percentile(latencies, 0.99), p999: Self.percentile(latencies, 0.999),
            serverBaselineRSS: server.baselineRSS, serverLoadedRSS: server.loadedRSS, serverIdleRSS: server.idleRSS,
            serverCPUSeconds: server.cpuSeconds)
    }

    /// What one child task of a peer produced.
    private enum Part: Sendable {
        case sender(PeerStats)
        case receiver(PeerStats)
        case drainTimeout
    }

    private func peer(
        index: Int, epoch: ContinuousClock.Instant, ready: Barrier, done: Barrier, monitor: RSSMonitor, padding: String
    ) async -> PeerStats {
        let progress = PeerProgress(ready: ready, done: done)
        // A peer that fails anywhere still arrives at both barriers, so the others are not held up.
        defer { Task { await progress.arriveAtRemaining() } }
        let room = "\(roomPrefix)-\(index / 2)"
        let run = PeerRun(index: index, epoch: epoch, progress: progress, monitor: monitor, padding: padding)
        let url = index % 2 == 1 ? secondURL ?? url : url
        do {
            switch protocolKind {
            case .native, .nativeSDK:
                return try await nativePeer(room: room, url: url, run: run)
            case .socketIO, .socketIOTasks:
                return try await SocketIOBenchConnection.withConnection(url: url) { connection in
                    var stats = PeerStats()
                    guard let answer = await connection.call("join", [.string(room)]), answer["ok"] == .bool(true) else {
                        stats.recordError("join refused")
                        return stats
                    }
                    if answer["peers"] == .array([]) { await connection.waitForPartner() }
                    return await exchange(
                        run, send: { await connection.message(room: room, $0) }, incoming: connection.incoming)
                } ?? PeerStats()
            }
        } catch {
            var stats = PeerStats()
            stats.recordError("connect: \(error)")
            return stats
        }
    }

    /// One peer's place in the run.
    private struct PeerRun: Sendable {
        let index: Int
        let epoch: ContinuousClock.Instant
        let progress: PeerProgress
        let monitor: RSSMonitor
        let padding: String
    }

    private func nativePeer(room: String, url: String, run: PeerRun) async throws -> PeerStats {
        var configuration = SignalingClient.Configuration()
        configuration.reconnect = false
        configuration.acknowledgementInterval = .seconds(2)
        return try await SignalingClient.withConnection(to: url, configuration: configuration) { client in
            try await client.join(room, capacity: 2)
            var events = client.events.makeAsyncIterator()
            var partner: SessionID?
            var stats = PeerStats()
            while partner == nil, let event = await events.next() {
                switch event {
                case .message(.joined(_, _, let peers, _, _)): partner = peers.first?.id
                case .message(.otherJoined(_, let peer)): partner = peer.id
                case .message(.error(let error)): stats.recordError(error.code.rawValue)
                case .message(.full), .disconnected, .closed: stats.recordError("join: \(event)")
                default: break
                }
                if stats.errors > 0 { break }
            }
            guard let partner else { return stats }
            return await exchange(
                run, send: { (try? await client.message($0, to: partner)) != nil },
                incoming: client.events.compactMap(Self.benchIncoming))
        }
    }

    private static func benchIncoming(_ event: SignalingEvent) -> BenchIncoming? {
        switch event {
        case .message(.message(_, _, _, let data)): return .data(data.value)
        case .message(.error(let error)): return .error(error.code.rawValue)
        case .disconnected: return .error("disconnected")
        case .closed: return .closed
        default: return nil
        }
    }

    /// The measured part, once both peers of the room are in: send and receive until done.
    private func exchange(
        _ run: PeerRun, send: @escaping @Sendable (JSONValue) async -> Bool,
        incoming: some AsyncSequence<BenchIncoming, Never> & Sendable
    ) async -> PeerStats {
        // The last peer in marks the start: memory of idle, joined connections, and the CPU clock.
        if await run.progress.arriveReady() { await run.monitor.sendingStarted() }
        let start = ContinuousClock.now
        let end = start.advanced(by: duration)
        let combined = await withTaskGroup(of: Part.self) { group in
            group.addTask {
                .sender(await self.send(send, index: run.index, start: start, end: end, epoch: run.epoch, padding: run.padding))
            }
            group.addTask { .receiver(await receive(incoming, epoch: run.epoch)) }
            group.addTask {
                try? await Task.sleep(until: end.advanced(by: drain), clock: .continuous)
                return .drainTimeout
            }
            var combined = PeerStats()
            // The receiver ends at its partner's end marker, or the drain timeout cuts it off.
            var receiverDone = false
            while !receiverDone, let part = await group.next() {
                switch part {
                case .sender(let stats): combined.absorb(stats)
                case .receiver(let stats):
                    combined.absorb(stats)
                    receiverDone = true
                case .drainTimeout: group.cancelAll()
                }
            }
            group.cancelAll()
            for await part in group {
                if case .sender(let stats) = part { combined.absorb(stats) }
            }
            return combined
        }
        if run.index == 0 { await run.monitor.sample() }
        // Nobody leaves before everyone is done, so no partner disappears mid-run.
        if await run.progress.arriveDone() { await run.monitor.sendingEnded() }
        return combined
    }

    /// Paces messages to the partner until `end`, then sends the end marker.
    private func send(
        _ message: @Sendable (JSONValue) async -> Bool, index: Int, start: ContinuousClock.Instant,
        end: ContinuousClock.Instant, epoch: ContinuousClock.Instant, padding: String
    ) async -> PeerStats {
        var stats = PeerStats()
        let interval = Duration.seconds(1 / rate)
        // Spread peers over the interval so they do not send in lockstep.
        var next = start.advanced(by: interval * (Double(index % 97) / 97))
        while next < end {
            try? await Task.sleep(until: next, clock: .continuous)
            let sentAt = UInt64((ContinuousClock.now - epoch).nanosecondsClamped)
            let data: JSONValue = ["n": .integer(Int64(stats.sent)), "t": .integer(Int64(sentAt)), "pad": .string(padding)]
            guard await message(data) else { break }
            stats.sent += 1
            next = next.advanced(by: interval)
        }
        // Per-sender order means that once the marker arrives, nothing else is in flight.
        _ = await message(["done": .integer(Int64(stats.sent))])
        return stats
    }

    /// Counts the partner's messages, checking order and measuring latency, until its end marker.
    private func receive(_ incoming: some AsyncSequence<BenchIncoming, Never>, epoch: ContinuousClock.Instant) async -> PeerStats {
        var stats = PeerStats()
        var expected: Int64 = 0
        for await item in incoming {
            switch item {
            case .data(let data) where data["done"] != nil:
                return stats
            case .data(let data):
                let now = UInt64((ContinuousClock.now - epoch).nanosecondsClamped)
                guard let number = data["n"]?.integerValue, let sentAt = data["t"]?.integerValue else { continue }
                if number != expected { stats.outOfOrder += 1 }
                expected = number + 1
                stats.received += 1
                stats.latenciesNanoseconds.append(now &- UInt64(sentAt))
            case .error(let kind): stats.recordError(kind)
            case .closed: return stats
            }
        }
        return stats
    }

    static func percentile(_ sorted: [UInt64], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
        return Double(sorted[max(0, index)]) / 1e6
    }
}

/// Lets `parties` tasks wait until all have arrived; the last to arrive is told so.
actor Barrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) {
        self.parties = parties
    }

    @discardableResult
    func arrive() async -> Bool {
        arrived += 1
        if arrived >= parties {
            waiting.forEach { $0.resume() }
            waiting.removeAll()
            return true
        }
        await withCheckedContinuation { waiting.append($0) }
        return false
    }
}

/// Which barriers one peer has passed, so a failing peer can still arrive at the rest.
actor PeerProgress {
    private let ready: Barrier
    private let done: Barrier
    private var passedReady = false
    private var passedDone = false

    init(ready: Barrier, done: Barrier) {
        self.ready = ready
        self.done = done
    }

    func arriveReady() async -> Bool {
        passedReady = true
        return await ready.arrive()
    }

    @discardableResult
    func arriveDone() async -> Bool {
        passedDone = true
        return await done.arrive()
    }

    func arriveAtRemaining() async {
        if !passedReady { _ = await arriveReady() }
        if !passedDone { await arriveDone() }
    }
}

/// What a run learns of the server process: resident memory before the first connection, once every peer has
/// joined (idle) and while loaded (the largest sample), and the CPU time it spent while the peers were sending. Both
/// generators use it: the task-based one through ``RSSMonitor``, the event-loop one confined to its loop.
struct ServerSampler: Sendable {
    let pid: Int?
    private(set) var baselineRSS: Int?
    private(set) var loadedRSS: Int?
    private(set) var idleRSS: Int?
    private var cpuAtStart: Double?
    private(set) var cpuSeconds: Double?

    /// Takes the baseline now, before any connection.
    init(pid: Int?) {
        self.pid = pid
        baselineRSS = pid.flatMap(ProcessMemory.residentBytes)
    }

    mutating func sample() {
        guard let pid, let rss = ProcessMemory.residentBytes(pid: pid) else { return }
        loadedRSS = max(loadedRSS ?? 0, rss)
    }

    /// Every peer has joined and none has sent yet.
    mutating func sendingStarted() {
        guard let pid else { return }
        idleRSS = ProcessMemory.residentBytes(pid: pid)
        sample()
        cpuAtStart = ProcessMemory.cpuSeconds(pid: pid)
    }

    /// Every peer has finished sending and receiving.
    mutating func sendingEnded() {
        sample()
        guard let pid, let start = cpuAtStart, let end = ProcessMemory.cpuSeconds(pid: pid) else { return }
        cpuSeconds = end - start
    }
}

/// A ``ServerSampler`` the task-based peers share.
actor RSSMonitor {
    private(set) var sampler: ServerSampler

    init(pid: Int?) {
        sampler = ServerSampler(pid: pid)
    }

    func sample() { sampler.sample() }
    func sendingStarted() { sampler.sendingStarted() }
    func sendingEnded() { sampler.sendingEnded() }
}

/// Reads a process's resident set size and CPU time from /proc.
enum ProcessMemory {
    /// User plus system time, in seconds (`utime` and `stime` of /proc/PID/stat, in clock ticks of 1/100 s).
    static func cpuSeconds(pid: Int) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ", options: .backwards)
        else { return nil }
        // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / 100
    }

    static func residentBytes(pid: Int) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }
}
