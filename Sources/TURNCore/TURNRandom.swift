import STUNProtocol

/// SplitMix64: a fast generator for relay port choice and indication transaction ids.
///
/// Seeded from the system generator in production and from a constant in tests, so runs reproduce.
/// Nothing secret is drawn from it: nonces and tokens use the system generator.
public struct TURNRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator with a seed.
    public init(seed: UInt64) {
        state = seed
    }

    /// Creates a generator seeded from the system's.
    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Limits 401 responses per source address with a fixed table of token buckets, so a spoofed-source flood
/// cannot make the server a reflector, and the table never grows (no per-client state before authentication).
struct UnauthorizedLimiter: Sendable {
    private static let slots = 1024
    private var tokens: [Double]
    private var updatedAt: [UInt64]
    private let rate: Double
    private let burst: Double

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        tokens = Array(repeating: burst, count: Self.slots)
        updatedAt = Array(repeating: 0, count: Self.slots)
    }

    /// Takes one token for `address`; `false` means stay silent.
    mutating func allow(_ address: IPAddress, now: UInt64) -> Bool {
        var hasher = Hasher()
        hasher.combine(address)
        let slot = Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.slots))
        let elapsed = Double(now &- updatedAt[slot]) / 1e9
        tokens[slot] = min(burst, tokens[slot] + max(0, elapsed) * rate)
        updatedAt[slot] = now
        guard tokens[slot] >= 1 else { return false }
        tokens[slot] -= 1
        return true
    }
}
