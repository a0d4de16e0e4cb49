import SwitchboardClient

/// The figures one signaling benchmark run produced.
struct SignalingBenchmarkResult: Sendable {
    var connections: Int
    var ratePerPeer: Double
    var durationSeconds: Double
    var sent: Int
    var received: Int
    var lost: Int
    var outOfOrder: Int
    var errors: Int
    var errorKinds: [String: Int]
    /// Relay latency percentiles in milliseconds.
    var p50: Double
    var p99: Double
    var p999: Double
    var serverBaselineRSS: Int?
    var serverLoadedRSS: Int?
    /// Resident memory once every peer had joined, before any sent.
    var serverIdleRSS: Int?
    /// Server CPU time (user + system) from the first send to the last receive.
    var serverCPUSeconds: Double?

    var messagesPerSecond: Double { Double(received) / durationSeconds }

    var rssPerConnection: Double? {
        guard let base = serverBaselineRSS, let loaded = serverLoadedRSS else { return nil }
        return Double(loaded - base) / Double(connections)
    }

    /// Memory per joined, idle connection.
    var idleRSSPerConnection: Double? {
        guard let base = serverBaselineRSS, let idle = serverIdleRSS else { return nil }
        return Double(idle - base) / Double(connections)
    }

    /// Server CPU per relayed message, in microseconds (pings and acks of the period included).
    var cpuMicrosecondsPerMessage: Double? {
        guard let serverCPUSeconds, received > 0 else { return nil }
        return serverCPUSeconds * 1e6 / Double(received)
    }

    var json: String {
        var fields: [String: JSONValue] = [
            "connections": .integer(Int64(connections)), "rate_per_peer": .double(ratePerPeer),
            "duration_s": .double(durationSeconds), "sent": .integer(Int64(sent)), "received": .integer(Int64(received)),
            "lost": .integer(Int64(lost)), "out_of_order": .integer(Int64(outOfOrder)), "errors": .integer(Int64(errors)),
            "messages_per_s": .double((messagesPerSecond * 10).rounded() / 10),
            "latency_ms": ["p50": .double(Self.round(p50)), "p99": .double(Self.round(p99)), "p99_9": .double(Self.round(p999))],
        ]
        if !errorKinds.isEmpty { fields["error_kinds"] = .object(errorKinds.mapValues { .integer(Int64($0)) }) }
        if let serverLoadedRSS { fields["server_rss_bytes"] = .integer(Int64(serverLoadedRSS)) }
        if let rssPerConnection { fields["server_rss_per_connection_bytes"] = .integer(Int64(rssPerConnection)) }
        if let idleRSSPerConnection { fields["server_idle_rss_per_connection_bytes"] = .integer(Int64(idleRSSPerConnection)) }
        if let cpuMicrosecondsPerMessage { fields["server_cpu_us_per_message"] = .double(Self.round(cpuMicrosecondsPerMessage)) }
        return JSONValue.object(fields).serialized
    }

    var table: String {
        var lines = [
            "connections          \(connections) (\(connections / 2) rooms of 2)",
            "rate per peer        \(ratePerPeer) msg/s for \(durationSeconds) s",
            "sent / received      \(sent) / \(received)",
            "lost                 \(lost)",
            "out of order         \(outOfOrder)",
            "errors               \(errors) \(errorKinds.isEmpty ? "" : "\(errorKinds)")",
            "achieved             \(Int(messagesPerSecond)) msg/s",
            "relay latency        p50 \(Self.round(p50)) ms, p99 \(Self.round(p99)) ms, p99.9 \(Self.round(p999)) ms",
        ]
        if let serverLoadedRSS {
            lines.append("server RSS           \(serverLoadedRSS / 1_048_576) MiB")
        }
        if let rssPerConnection {
            lines.append("server RSS/conn      \(Int(rssPerConnection / 1024)) KiB")
        }
        if let idleRSSPerConnection {
            lines.append("idle RSS/conn        \(Int(idleRSSPerConnection / 1024)) KiB")
        }
        if let cpuMicrosecondsPerMessage {
            lines.append("server CPU/message   \(Self.round(cpuMicrosecondsPerMessage)) µs")
        }
        return lines.joined(separator: "\n")
    }

    static func round(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
