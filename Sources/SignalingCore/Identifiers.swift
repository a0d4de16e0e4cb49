/// A session's public identifier: server-generated, unguessable, stamped as `from` on relayed messages.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// The identifier as it appears on the wire.
    public let rawValue: String

    /// Wraps a wire identifier.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}

/// One transport connection. A session outlives its connection during the resume grace period.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// A process-unique number chosen by the edge.
    public let rawValue: UInt64

    /// Wraps an edge-chosen number.
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "c\(rawValue)" }
}

/// The source address of a connection, as used for per-client rate limits.
public struct ClientAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address text (IP only, no port).
    public let rawValue: String

    /// Wraps an address text.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
