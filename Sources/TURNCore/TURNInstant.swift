/// "Now", as every TURNCore event receives it: the core never reads a clock.
///
/// Lifetimes run on the monotonic part, so a wall-clock jump cannot expire or extend allocations. Nonces and
/// TURN REST usernames carry wall-clock time, because other nodes and the signaling side must agree on it.
public struct TURNInstant: Hashable, Sendable, Comparable {
    /// Nanoseconds on a monotonic clock with an arbitrary origin.
    public var uptimeNanoseconds: UInt64
    /// Seconds since the Unix epoch.
    public var unixSeconds: Int64

    /// Creates an instant.
    public init(uptimeNanoseconds: UInt64, unixSeconds: Int64) {
        self.uptimeNanoseconds = uptimeNanoseconds
        self.unixSeconds = unixSeconds
    }

    /// The instant `seconds` later on both clocks.
    public func adding(seconds: Int) -> TURNInstant {
        TURNInstant(
            uptimeNanoseconds: uptimeNanoseconds &+ UInt64(max(0, seconds)) &* 1_000_000_000,
            unixSeconds: unixSeconds + Int64(seconds))
    }

    public static func < (lhs: TURNInstant, rhs: TURNInstant) -> Bool {
        lhs.uptimeNanoseconds < rhs.uptimeNanoseconds
    }
}
