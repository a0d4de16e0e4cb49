import SignalingCore

/// Signaling figures for `/metrics`: gauges of what is open now and counters since start.
public struct SignalingStatistics: Sendable {
    /// Counters kept by the hub as it delivers.
    public struct Counters: Sendable {
        /// Relayed messages delivered (one per recipient).
        public var messagesRelayed: UInt64 = 0
        /// Errors sent to clients, by code.
        public var errors: [SignalingErrorCode: UInt64] = [:]
        /// Relayed messages handed to other nodes (one per node, however many members it serves there).
        public var messagesForwarded: UInt64 = 0
        /// Relayed messages received from other nodes.
        public var messagesFromNodes: UInt64 = 0

        mutating func countForward() { messagesForwarded &+= 1 }
        mutating func countRemoteDelivery() { messagesFromNodes &+= 1 }

        mutating func count(_ message: ServerMessage) {
            switch message {
            case .message:
                messagesRelayed &+= 1
            case .error(let error):
                errors[error.code, default: 0] &+= 1
            default:
                break
            }
        }
    }

    /// Open connections per transport.
    public var connectionsByTransport: [SignalingTransport: Int]
    /// Sessions held, connected or in their grace period.
    public var sessions: Int
    /// Rooms with members.
    public var rooms: Int
    /// Counters since start.
    public var counters: Counters
    /// Members of other cluster nodes this node knows of (0 when not clustered).
    public var remoteMembers = 0
}
