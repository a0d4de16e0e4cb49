import STUNProtocol
import Synchronization
import TURNCore
import Testing

/// The registry ends every reservation's hold exactly once, whichever way the reservation ends.
@Suite("Relay port reservations release what holds their port")
struct RelayPortReservationTests {
    /// Counts releases (the edge's hold is a bound socket).
    final class CountingHold: ReservedPortHold {
        let releases = Atomic(0)
        func release() { releases.add(1, ordering: .relaxed) }
        var count: Int { releases.load(ordering: .relaxed) }
    }

    func reservedRegistry(token: UInt64, expiresAt: UInt64 = 1_000) -> (RelayPortRegistry, UInt16) {
        let registry = RelayPortRegistry(range: 50_000...50_009)
        var random = SystemRandomNumberGenerator()
        let port = registry.take(family: .ipv4, even: true, reserveNext: true, using: &random)!
        registry.reserve(token: token, family: .ipv4, port: port + 1, expiresAt: expiresAt)
        return (registry, port)
    }

    @Test func redeemingHandsOverThePortWithItsHold() {
        let (registry, port) = reservedRegistry(token: 7)
        let hold = CountingHold()
        #expect(registry.attach(hold, token: 7))
        let redeemed = registry.redeem(token: 7, now: 10)
        #expect(redeemed?.port == port + 1)
        // The redeeming allocation adopts the held socket: the port is never free in between.
        #expect(redeemed?.hold as? CountingHold === hold)
        #expect(hold.count == 0)
        #expect(registry.isLive(family: .ipv4, port: port + 1))
        #expect(registry.redeem(token: 7, now: 10) == nil)
    }

    @Test func aReservedPairCountsTwoPortsTaken() {
        let (registry, _) = reservedRegistry(token: 7)
        #expect(registry.freeCount(family: .ipv4) == 10 - 2)
        #expect(registry.freeCount(family: .ipv6) == 10)
        registry.cancelReservation(token: 7)
        #expect(registry.freeCount(family: .ipv4) == 10 - 1)
    }

    @Test func stoppingReleasesEveryHold() {
        let (registry, port) = reservedRegistry(token: 7)
        let hold = CountingHold()
        registry.attach(hold, token: 7)
        registry.releaseAllReservations()
        #expect(hold.count == 1)
        #expect(!registry.isLive(family: .ipv4, port: port + 1))
        #expect(registry.redeem(token: 7, now: 10) == nil)
    }

    @Test func expiryAndCancellationReleaseTheHoldAndThePort() {
        let (registry, port) = reservedRegistry(token: 7, expiresAt: 100)
        let hold = CountingHold()
        registry.attach(hold, token: 7)
        registry.expireReservations(now: 99)
        #expect(hold.count == 0)
        registry.expireReservations(now: 100)
        #expect(hold.count == 1)
        #expect(!registry.isLive(family: .ipv4, port: port + 1))

        let (other, otherPort) = reservedRegistry(token: 8)
        let second = CountingHold()
        other.attach(second, token: 8)
        other.cancelReservation(token: 8)
        #expect(second.count == 1)
        #expect(!other.isLive(family: .ipv4, port: otherPort + 1))
    }

    @Test func anExpiredTokenIsRefusedAndItsHoldReleased() {
        let (registry, _) = reservedRegistry(token: 7, expiresAt: 100)
        let hold = CountingHold()
        registry.attach(hold, token: 7)
        #expect(registry.redeem(token: 7, now: 100) == nil)
        #expect(hold.count == 1)
    }

    @Test func aHoldForAReservationAlreadyGoneIsReleasedAtOnce() {
        let (registry, _) = reservedRegistry(token: 7)
        registry.cancelReservation(token: 7)
        let late = CountingHold()
        #expect(!registry.attach(late, token: 7))
        #expect(late.count == 1)
    }
}
