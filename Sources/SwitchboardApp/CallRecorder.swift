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

    /// Records kept for a database that does not answer; beyond it the oldest are dropped (and logged).
    static let bufferLimit = 100_000

    /// Writes what has accumulated. When the batch fails, each record is tried alone: one the database refuses
    /// (PostgreSQL rejects U+0000 in text, say) is dropped with a log line rather than blocking every later
    /// write; if none goes through, the database is away and all are kept for the next attempt.
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
            return
        } catch {
            logger.error("call records not written as a batch", metadata: ["store.error": "\(error)"])
        }
        var failedSessions: [SessionRecord] = []
        var failedAllocations: [AllocationRecord] = []
        for record in sessions where (try? await store.appendRecords(sessions: [record], allocations: [])) == nil {
            failedSessions.append(record)
        }
        for record in allocations where (try? await store.appendRecords(sessions: [], allocations: [record])) == nil {
            failedAllocations.append(record)
        }
        if failedSessions.count + failedAllocations.count < sessions.count + allocations.count {
            // Others went through, so these records themselves are refused: drop them.
            if !failedSessions.isEmpty || !failedAllocations.isEmpty {
                logger.error(
                    "call records refused by the database: dropped",
                    metadata: ["store.sessions": "\(failedSessions.count)", "store.allocations": "\(failedAllocations.count)"])
            }
            return
        }
        let dropped = buffer.withLock { buffer -> Int in
            buffer.sessions.insert(contentsOf: failedSessions, at: 0)
            buffer.allocations.insert(contentsOf: failedAllocations, at: 0)
            // Bounded, so an unreachable database cannot take the server's memory: the oldest go first.
            let excess = buffer.sessions.count + buffer.allocations.count - Self.bufferLimit
            guard excess > 0 else { return 0 }
            let fromSessions = min(excess, buffer.sessions.count)
            buffer.sessions.removeFirst(fromSessions)
            buffer.allocations.removeFirst(min(excess - fromSessions, buffer.allocations.count))
            return excess
        }
        logger.error("call records kept for a retry", metadata: ["store.dropped": "\(dropped)"])
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
