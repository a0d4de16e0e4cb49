import SignalingCore

/// Reads `MonotonicTime` from the continuous clock, relative to when it was created.
struct SystemClock: Sendable {
    private let origin = ContinuousClock.now

    func now() -> MonotonicTime {
        MonotonicTime(nanoseconds: (ContinuousClock.now - origin).nanosecondsClamped)
    }
}
