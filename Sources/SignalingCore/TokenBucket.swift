/// A token bucket: `rate` tokens per second refill up to `burst`; each event spends one.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens added per second.
    public let rate: Double
    /// Most tokens the bucket holds.
    public let burst: Double
    private var tokens: Double
    private var updated: MonotonicTime

    /// A full bucket at `now`.
    public init(rate: Double, burst: Double, now: MonotonicTime) {
        self.rate = rate
        self.burst = max(burst, 1)
        self.tokens = self.burst
        self.updated = now
    }

    /// Spends one token if there is one; `false` means the event is over the limit.
    public mutating func take(now: MonotonicTime) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether the bucket would be full at `now`, meaning it carries no state worth keeping.
    public func isFull(at now: MonotonicTime) -> Bool {
        tokens + now.duration(since: updated).secondsDouble * rate >= burst
    }

    private mutating func refill(now: MonotonicTime) {
        tokens = min(burst, tokens + now.duration(since: updated).secondsDouble * rate)
        updated = max(updated, now)
    }
}
