import Cluster
import ConnectionGuards
import Hummingbird
import NIOCore
import Prometheus
import STUNProtocol
import Signaling
import SignalingCore
import TURNCore
import TURNServer

/// `/metrics` in Prometheus's text format (swift-prometheus).
///
/// Figures are gathered when scraped (the hub and each TURN loop are asked), so the relay path carries no atomic
/// counters. Labels are bounded sets (transport, error code, direction, family): never a user, room or allocation.
actor MetricsExporter {
    /// The server's version, in `switchboard_build_info`.
    static let version = "0.6.0-dev"

    private let registry = PrometheusCollectorRegistry()
    private let hub: SignalingHub
    private let turn: TURNServer?
    private let cluster: PostgresCluster?
    private let connectionGuard: ConnectionGuard?
    /// Last values seen per counter, so each scrape adds only the growth.
    private var seen: [String: UInt64] = [:]

    init(hub: SignalingHub, turn: TURNServer?, cluster: PostgresCluster? = nil, connectionGuard: ConnectionGuard? = nil) {
        self.hub = hub
        self.turn = turn
        self.cluster = cluster
        self.connectionGuard = connectionGuard
        registry.makeGauge(
            descriptor: Self.descriptor("switchboard_build_info", "Always 1; labels describe the build."),
            labels: [("version", Self.version)]
        ).set(Int64(1))
        // Every series exists from the first scrape, so dashboards see zeros rather than gaps.
        for transport in SignalingTransport.allCases { connections(transport).set(Int64(0)) }
    }

    func scrape() async -> [UInt8] {
        let signaling = await hub.statistics()
        for transport in SignalingTransport.allCases {
            connections(transport).set(Int64(signaling.connectionsByTransport[transport] ?? 0))
        }
        gauge("switchboard_signaling_sessions", "Signaling sessions held, connected or in their grace period.")
            .set(Int64(signaling.sessions))
        gauge("switchboard_signaling_rooms", "Rooms with at least one member.").set(Int64(signaling.rooms))
        advance(
            "switchboard_signaling_messages_relayed_total", [], to: signaling.counters.messagesRelayed,
            "Relayed signaling messages delivered, one per recipient.")
        advance(
            "switchboard_signaling_bytes_total", [("direction", "in")], to: hub.traffic.bytesIn,
            "Signaling bytes from and to clients on every transport (frames, bodies, event streams).")
        advance(
            "switchboard_signaling_bytes_total", [("direction", "out")], to: hub.traffic.bytesOut,
            "Signaling bytes from and to clients on every transport (frames, bodies, event streams).")
        for (listener, reason, count) in connectionGuard?.closedCounts() ?? [] {
            advance(
                "switchboard_connections_closed_total", [("listener", listener.rawValue), ("reason", reason.rawValue)], to: count,
                "TCP connections closed or refused by a guard: handshake or idle deadline passed, or the address at its limit.")
        }
        var authFailures: UInt64 = 0
        for (code, count) in signaling.counters.errors {
            advance(
                "switchboard_signaling_errors_total", [("code", code.rawValue)], to: count, "Errors sent to signaling clients, by code.")
            if Self.authenticationCodes.contains(code) { authFailures &+= count }
        }
        advance(
            "switchboard_auth_failures_total", [("service", "signaling")], to: authFailures,
            "Refused credentials: signaling joins with a missing or wrong password or join token, TURN requests with wrong long-term credentials."
        )
        if let cluster { scrapeCluster(cluster, signaling: signaling) }
        if let turn {
            let figures = await turn.statistics()
            gauge("switchboard_turn_allocations", "Live TURN allocations.").set(Int64(figures.allocations))
            gauge("switchboard_turn_permissions", "Live TURN permissions.").set(Int64(figures.permissions))
            gauge("switchboard_turn_channels", "Live TURN channel bindings.").set(Int64(figures.channels))
            advance("switchboard_stun_messages_total", [], to: figures.stunMessages, "STUN messages received from clients.")
            advance(
                "switchboard_auth_failures_total", [("service", "turn")], to: figures.authenticationFailures,
                "Refused credentials: signaling joins with a missing or wrong password or join token, TURN requests with wrong long-term credentials."
            )
            let packets = "Packets relayed by TURN, by direction."
            let bytes = "Payload bytes relayed by TURN, by direction."
            advance("switchboard_turn_relayed_packets_total", [("direction", "to_peer")], to: figures.packetsToPeers, packets)
            advance("switchboard_turn_relayed_packets_total", [("direction", "to_client")], to: figures.packetsToClients, packets)
            advance("switchboard_turn_relayed_bytes_total", [("direction", "to_peer")], to: figures.bytesToPeers, bytes)
            advance("switchboard_turn_relayed_bytes_total", [("direction", "to_client")], to: figures.bytesToClients, bytes)
            for family in [AddressFamily.ipv4, .ipv6] {
                registry.makeGauge(
                    descriptor: Self.descriptor("switchboard_turn_relay_ports_free", "Relay ports free for new allocations."),
                    labels: [("family", family == .ipv4 ? "ipv4" : "ipv6")]
                ).set(Int64(turn.ports.freeCount(family: family)))
            }
        }
        return registry.emitToBuffer()
    }

    private func scrapeCluster(_ cluster: PostgresCluster, signaling: SignalingStatistics) {
        let status = cluster.status()
        let traffic = cluster.statistics()
        gauge("switchboard_cluster_connected", "1 while this node's cluster directory connection is up.").set(
            Int64(status.connected ? 1 : 0))
        gauge("switchboard_cluster_peers", "Other cluster nodes alive.").set(Int64(status.peers.count))
        gauge("switchboard_cluster_remote_members", "Room members served by other nodes that this node knows of.")
            .set(Int64(signaling.remoteMembers))
        gauge("switchboard_cluster_publish_seconds", "Time from queueing to commit of this node's last bus publication.")
            .set(traffic.lastPublishSeconds)
        let messages = "Relayed messages crossing nodes, by direction (one per node, not per recipient)."
        advance("switchboard_cluster_messages_total", [("direction", "out")], to: signaling.counters.messagesForwarded, messages)
        advance("switchboard_cluster_messages_total", [("direction", "in")], to: signaling.counters.messagesFromNodes, messages)
        let bytes = "Bus payload bytes, by direction."
        advance("switchboard_cluster_bytes_total", [("direction", "out")], to: traffic.bytesSent, bytes)
        advance("switchboard_cluster_bytes_total", [("direction", "in")], to: traffic.bytesReceived, bytes)
        advance(
            "switchboard_cluster_payloads_rejected_total", [], to: traffic.payloadsRejected,
            "Bus payloads dropped as malformed or from nodes the directory does not list.")
    }

    /// A metric's name and help; the names already end in their unit where they have one (`_total`, `_bytes`).
    nonisolated static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Signaling errors that mean "these credentials do not admit you".
    static let authenticationCodes: Set<SignalingErrorCode> = [
        .passwordRequired, .wrongPassword, .tooManyAttempts, .tokenRequired, .invalidToken, .tokenExpired, .tokenWrongRoom,
    ]

    private nonisolated func connections(_ transport: SignalingTransport) -> Gauge {
        registry.makeGauge(
            descriptor: Self.descriptor("switchboard_signaling_connections", "Open signaling connections, by transport."),
            labels: [("transport", transport.rawValue)])
    }

    private func gauge(_ name: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: Self.descriptor(name, help), labels: [])
    }

    /// Moves a counter up to `value` (the sources keep totals; Prometheus counters only increment).
    private func advance(_ name: String, _ labels: [(String, String)], to value: UInt64, _ help: String) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let counter = registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
        let previous = seen[key] ?? 0
        if value > previous { counter.increment(by: Int64(clamping: value - previous)) }
        seen[key] = max(previous, value)
    }

    /// Registers `GET /metrics`.
    nonisolated func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/metrics") { _, _ in
            let body = await self.scrape()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
