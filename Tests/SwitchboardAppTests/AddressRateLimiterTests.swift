import Testing

@testable import SwitchboardApp

@Suite("Credential requests per address")
struct AddressRateLimiterTests {
    @Test func eachAddressHasItsOwnBurst() {
        let limiter = AddressRateLimiter(rate: 0.001, burst: 2)
        #expect(limiter.allow("192.0.2.1"))
        #expect(limiter.allow("192.0.2.1"))
        #expect(!limiter.allow("192.0.2.1"), "the third request within the burst window is refused")
        #expect(limiter.allow("192.0.2.2"), "another address is untouched")
    }

    @Test func memoryIsBoundedWhenEveryBucketIsBusy() {
        let limiter = AddressRateLimiter(rate: 0.001, burst: 1, sweepThreshold: 2)
        let admitted = (0..<10).map { limiter.allow("198.51.100.\($0)") }
        // Nothing refills, so nothing can be swept: beyond twice the threshold new addresses are refused.
        #expect(admitted == [true, true, true, true, false, false, false, false, false, false])
    }

    @Test func fullBucketsAreSweptToMakeRoom() {
        let limiter = AddressRateLimiter(rate: 1_000_000, burst: 1, sweepThreshold: 2)
        // Refilled at once, every bucket is full again by the next call and is swept.
        #expect((0..<10).allSatisfy { limiter.allow("203.0.113.\($0)") })
    }
}
