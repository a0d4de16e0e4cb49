import Foundation
import Logging
import STUNProtocol
import ServiceLifecycle
import Signaling
import SignalingCore
import Storage
import Synchronization
import TURNCore

/// Turns room entries and exits and ended TURN allocations into call records, and writes them once a second.
///
/// The hub and the TURN event loops only append to a buffer under a lock (no await, no allocation beyond the
/// record), so recording never slows signaling or relaying; a crash loses at most the last second's records.
public final class CallRecorder: Service {
    private struct Buffer {
        var open: [SessionID: SessionRecord] = [:]
        var sessions: [SessionRecord] = []
        var allocations: [AllocationRecord] = []
    }

    private let store: any CallRecordStore
    private let interval: Duration
    private let logger: Logger
    // A lock rather than an actor: TURN reports from its event loops, which must not hop or wait.
    private let buffer = Mutex(Buffer())

    /// Records into `store`, flushing every `interval`.
    public init(store: any CallRecordStore, interval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// The hub's membership report.
    public func membershipChanged(_ change: MembershipChange, transport: SignalingTransport) {
        let now = Date()
        buffer.withLock { buffer in
            switch change {
            case .entered(let session, let room, let name, _):
                buffer.open[session] = SessionRecord(
                    sessionID: session.rawValue, room: room.rawValue, displayName: name, transport: transport.rawValue,
                    joinedAt: now, leftAt: now, leaveReason: "")
            case .left(let session, _, let reason):
                guard var record = buffer.open.removeValue(forKey: session) else { return }
                record.leftAt = now
                record.leaveReason = reason.rawValue
                buffer.sessions.append(record)
            }
        }
    }

    /// TURN's allocation-ended report.
    public func allocationEnded(_ summary: AllocationSummary) {
        let record = AllocationRecord(
            username: summary.username, transport: summary.fiveTuple.transport.recordName,
            clientAddress: "\(summary.fiveTuple.client)",
            relayAddress: summary.relayedAddresses.map { "\($0)" }.joined(separator: ","),
            startedAt: Date(timeIntervalSince1970: TimeInterval(summary.createdAtUnixSeconds)), endedAt: Date(),
            bytesSent: Int64(clamping: summary.bytesToPeers), packetsSent: Int64(clamping: summary.packetsToPeers),
            bytesReceived: Int64(clamping: summary.bytesToClient), packetsReceived: Int64(clamping: summary.packetsToClient))
        buffer.withLock { $0.allocations.append(record) }
    }

    /// Writes what has accumulated. A failed write keeps the records for the next attempt.
    public func flush() async {
        let (sessions, allocations) = buffer.withLock { buffer in
            defer {
                buffer.sessions.removeAll()
                buffer.allocations.removeAll()
            }
            return (buffer.sessions, buffer.allocations)
        }
        guard !sessions.isEmpty || !allocations.isEmpty else { return }
        do {
            try await store.appendRecords(sessions: sessions, allocations: allocations)
        } catch {
            logger.error("call records not written; retrying", metadata: ["store.error": "\(error)"])
            buffer.withLock { buffer in
                // Bounded, so an unreachable database cannot take the server's memory.
                guard buffer.sessions.count + buffer.allocations.count < 100_000 else { return }
                buffer.sessions.insert(contentsOf: sessions, at: 0)
                buffer.allocations.insert(contentsOf: allocations, at: 0)
            }
        }
    }

    /// Flushes every interval; on shutdown closes the stays still open (reason `shutdown`) and flushes once more.
    public func run() async throws {
        // Only the wait is cut short by shutdown, never a write in progress; then the last flush runs.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await cancelWhenGracefulShutdown { try? await Task.sleep(for: self.interval) }
            await flush()
        }
        let now = Date()
        buffer.withLock { buffer in
            for var record in buffer.open.values {
                record.leftAt = now
                record.leaveReason = "shutdown"
                buffer.sessions.append(record)
            }
            buffer.open.removeAll()
        }
        await flush()
    }
}

extension TURNTransport {
    /// The transport as call records name it.
    var recordName: String {
        switch self {
        case .udp: return "udp"
        case .tcp: return "tcp"
        case .tls: return "tls"
        }
    }
}
