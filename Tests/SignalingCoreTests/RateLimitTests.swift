import SignalingCore
import Testing

@Suite("Rate limits")
struct RateLimitTests {
    @Test func requestFloodIsClosedWithRateLimited() {
        var core = CoreHarness {
            $0.messageRate = 10; $0.messageBurst = 5
        }
        let a = core.connect()
        for _ in 0..<5 { core.send(.ping(ack: nil), on: a) }
        #expect(core.take(a).count == 5)
        #expect(core.closed[a] == nil)
        core.send(.ping(ack: nil), id: 6, on: a)
        #expect(
            core.take(a) == [.error(SignalingError(.rateLimited, "more than 10.0 requests per second", requestType: "ping", requestID: 6))])
        #expect(core.closed[a]??.code == .rateLimited)
    }

    @Test func tokensRefillOverTime() {
        var core = CoreHarness {
            $0.messageRate = 10; $0.messageBurst = 1
        }
        let a = core.connect()
        for _ in 0..<20 {
            core.send(.ping(ack: nil), on: a)
            core.advance(.milliseconds(100))
        }
        #expect(core.closed[a] == nil)
    }

    @Test func joinsAreLimitedPerAddressAcrossSessions() {
        var core = CoreHarness {
            $0.joinRate = 1; $0.joinBurst = 2
        }
        let a = core.connect(address: "198.51.100.7"), b = core.connect(address: "198.51.100.7")
        let other = core.connect(address: "203.0.113.9")
        core.join("room-1", on: a)
        core.join("room-2", on: b, password: "x")
        core.join("room-3", on: other)
        #expect(core.closed.isEmpty)
        let c = core.connect(address: "198.51.100.7")
        core.join("room-2", on: c, password: "guess")
        #expect(core.errors(c) == [.joinRateLimited], "the limit applies before the password is checked")
        #expect(core.closed[c]??.code == .joinRateLimited)
        core.advance(.seconds(1))
        let d = core.connect(address: "198.51.100.7")
        core.join("room-4", on: d)
        #expect(core.take(d).first?.type == "joined")
    }

    @Test func tokenBucketArithmetic() {
        var clock = MonotonicTime(nanoseconds: 0)
        var bucket = TokenBucket(rate: 2, burst: 2, now: clock)
        var outcomes: [Bool] = []
        for _ in 0..<3 { outcomes.append(bucket.take(now: clock)) }
        #expect(outcomes == [true, true, false])
        clock = clock.advanced(by: .milliseconds(500))
        outcomes = [bucket.take(now: clock), bucket.take(now: clock)]
        #expect(outcomes == [true, false])
        #expect(!bucket.isFull(at: clock))
        #expect(bucket.isFull(at: clock.advanced(by: .seconds(1))))
    }
}
