import SignalingCore
import Synchronization

/// Requests per client address, as a token bucket each: what keeps anyone from minting TURN credentials
/// (and so allocations) as fast as they can ask. Memory is bounded: full buckets carry no state and are dropped.
final class AddressRateLimiter: Sendable {
    private let rate: Double
    private let burst: Double
    private let origin = ContinuousClock.now
    private let buckets = Mutex<[String: TokenBucket]>([:])
    /// Addresses tracked before full buckets are swept; beyond twice this, new addresses are refused.
    private let sweepThreshold: Int

    init(rate: Double, burst: Double, sweepThreshold: Int = 4096) {
        self.rate = rate
        self.burst = burst
        self.sweepThreshold = sweepThreshold
    }

    /// Spends one token of `address`; `false` means it is over its limit.
    func allow(_ address: String) -> Bool {
        let now = MonotonicTime(nanoseconds: (ContinuousClock.now - origin).nanosecondsClamped)
        return buckets.withLock { buckets in
            if buckets[address] == nil, buckets.count >= sweepThreshold {
                buckets = buckets.filter { !$0.value.isFull(at: now) }
                if buckets.count >= 2 * sweepThreshold { return false }
            }
            var bucket = buckets[address] ?? TokenBucket(rate: rate, burst: burst, now: now)
            defer { buckets[address] = bucket }
            return bucket.take(now: now)
        }
    }
}
