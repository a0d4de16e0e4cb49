import SignalingCore

/// A clock that moves only when a test says so, for driving the pure cores.
public struct ManualClock: Sendable {
    /// The current instant.
    public private(set) var now: MonotonicTime

    /// Starts at an arbitrary non-zero instant, so "zero" bugs show.
    public init(start: MonotonicTime = MonotonicTime(nanoseconds: 1_000_000_000)) {
        now = start
    }

    /// Moves time forward.
    public mutating func advance(by duration: Duration) {
        now = now.advanced(by: duration)
    }
}
