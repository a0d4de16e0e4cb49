import Foundation
import SwitchboardClient

/// Rooms of two over the native protocol; each peer paces messages to its partner and checks what it gets.
struct SignalingBenchmark: Sendable {
    let url: String
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
        var latenciesNanoseconds: [UInt64] = []
    }

    func run() async throws -> SignalingBenchmarkResult {
        let epoch = ContinuousClock.now
        let baselineRSS = serverPID.flatMap(ProcessMemory.residentBytes)
        let ready = Barrier(parties: connections)
        let monitor = RSSMonitor(pid: serverPID)
        let padding = String(repeating: "x", count: payloadBytes)
        let stats = await withTaskGroup(of: PeerStats.self) { group in
            for index in 0..<connections {
                group.addTask {
                    try? await Task.sleep(for: .seconds(Double(index) / connectRate))
                    return await peer(index: index, epoch: epoch, ready: ready, monitor: monitor, padding: padding)
                }
            }
            var all: [PeerStats] = []
            for await peerStats in group { all.append(peerStats) }
            return all
        }
        var latencies = stats.flatMap(\.latenciesNanoseconds)
        latencies.sort()
        let sent = stats.reduce(0) { $0 + $1.sent }
        let received = stats.reduce(0) { $0 + $1.received }
        let loaded = await monitor.loadedRSS
        return SignalingBenchmarkResult(
            connections: connections, ratePerPeer: rate, durationSeconds: duration.secondsDouble,
            sent: sent, received: received, lost: max(0, sent - received),
            outOfOrder: stats.reduce(0) { $0 + $1.outOfOrder }, errors: stats.reduce(0) { $0 + $1.errors },
            p50: Self.percentile(latencies, 0.50), p99: Self.percentile(latencies, 0.99),
            p999: Self.percentile(latencies, 0.999), serverBaselineRSS: baselineRSS, serverLoadedRSS: loaded)
    }

    private func peer(index: Int, epoch: ContinuousClock.Instant, ready: Barrier, monitor: RSSMonitor, padding: String) async -> PeerStats {
        var configuration = SignalingClient.Configuration()
        configuration.reconnect = false
        configuration.acknowledgementInterval = .seconds(2)
        do {
            return try await SignalingClient.withConnection(to: url, configuration: configuration) { client in
                try await client.join("\(roomPrefix)-\(index / 2)", capacity: 2)
                var events = client.events.makeAsyncIterator()
                var partner: SessionID?
                var stats = PeerStats()
                while partner == nil, let event = await events.next() {
                    switch event {
                    case .message(.joined(_, _, let peers, _, _)): partner = peers.first?.id
                    case .message(.otherJoined(_, let peer)): partner = peer.id
                    case .message(.error), .message(.full), .disconnected, .closed:
                        stats.errors += 1
                        await ready.arrive()
                        return stats
                    default: break
                    }
                }
                guard let partner else { return stats }
                if await ready.arrive() { await monitor.sample() }
                let start = ContinuousClock.now
                let end = start.advanced(by: duration)
                return await withTaskGroup(of: PeerStats.self) { group in
                    group.addTask {
                        var sent = PeerStats()
                        let interval = Duration.seconds(1 / rate)
                        // Spread peers over the interval so they do not send in lockstep.
                        var next = start.advanced(by: interval * (Double(index % 97) / 97))
                        var number = 0
                        while next < end {
                            try? await Task.sleep(until: next, clock: .continuous)
                            let sentAt = UInt64((ContinuousClock.now - epoch).nanosecondsClamped)
                            let data: JSONValue = ["n": .integer(Int64(number)), "t": .integer(Int64(sentAt)), "pad": .string(padding)]
                            guard (try? await client.message(data, to: partner)) != nil else { break }
                            number += 1
                            next = next.advanced(by: interval)
                        }
                        sent.sent = number
                        if index == 0 { await monitor.sample() }
                        return sent
                    }
                    group.addTask {
                        var received = PeerStats()
                        var expected: Int64 = 0
                        var iterator = client.events.makeAsyncIterator()
                        while let event = await iterator.next() {
                            switch event {
                            case .message(.message(_, _, _, let data)):
                                let now = UInt64((ContinuousClock.now - epoch).nanosecondsClamped)
                                guard let number = data["n"]?.integerValue, let sentAt = data["t"]?.integerValue else { continue }
                                if number != expected { received.outOfOrder += 1 }
                                expected = number + 1
                                received.received += 1
                                received.latenciesNanoseconds.append(now &- UInt64(sentAt))
                            case .message(.error), .disconnected:
                                received.errors += 1
                            case .closed:
                                return received
                            default:
                                break
                            }
                        }
                        return received
                    }
                    let senderStats = await group.next()!
                    try? await Task.sleep(for: drain)
                    group.cancelAll()
                    let receiverStats = await group.next()!
                    var combined = receiverStats
                    combined.sent = senderStats.sent + receiverStats.sent
                    combined.errors += senderStats.errors
                    return combined
                }
            }
        } catch {
            return PeerStats(errors: 1)
        }
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

/// Samples the server's resident memory while it is loaded, keeping the largest sample.
actor RSSMonitor {
    let pid: Int?
    private(set) var loadedRSS: Int?

    init(pid: Int?) {
        self.pid = pid
    }

    func sample() {
        guard let pid, let rss = ProcessMemory.residentBytes(pid: pid) else { return }
        loadedRSS = max(loadedRSS ?? 0, rss)
    }
}

/// Reads a process's resident set size from /proc.
enum ProcessMemory {
    static func residentBytes(pid: Int) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }
}
