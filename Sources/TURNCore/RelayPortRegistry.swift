import STUNProtocol
import Synchronization

/// What the edge keeps bound on a reserved port (RFC 8656 §7.2, EVEN-PORT with R) so no other process takes it
/// before the RESERVATION-TOKEN is redeemed. A redeeming allocation adopts it as its relay; a reservation that ends
/// otherwise releases it.
public protocol ReservedPortHold: Sendable {
    /// Frees the port (closes the socket); does nothing after the first call or after the edge adopted it.
    func release()
}

/// Which relay ports are in use, shared by every event loop: allocations on any loop draw from one range.
///
/// A lock guards it because allocation is a control-path operation; the data path asks it only for traffic
/// addressed to this server's own relay addresses (relay to relay), to refuse ports that are not live relays.
public final class RelayPortRegistry: Sendable {
    private struct State {
        var used: [AddressFamily: Set<UInt16>] = [:]
        var reservations: [UInt64: Reservation] = [:]
    }

    private struct Reservation {
        var family: AddressFamily
        var port: UInt16
        var expiresAt: UInt64
        var hold: (any ReservedPortHold)?
    }

    /// The range relay ports are drawn from.
    public let range: ClosedRange<UInt16>
    private let state = Mutex(State())

    /// Creates a registry over a port range (RFC 8656 §7.2 recommends 49152–65535).
    public init(range: ClosedRange<UInt16>) {
        self.range = range
    }

    /// Takes a free port, starting at a random point in the range (RFC 8656 §21.1.7). With `even`, the port is even;
    /// with `reserveNext`, port+1 is taken too and stays reserved. `nil` when none is left (508).
    public func take(
        family: AddressFamily, even: Bool = false, reserveNext: Bool = false, using generator: inout some RandomNumberGenerator
    ) -> UInt16? {
        let count = Int(range.upperBound) - Int(range.lowerBound) + 1
        let start = Int.random(in: 0..<count, using: &generator)
        return state.withLock { state -> UInt16? in
            var used = state.used[family, default: []]
            defer { state.used[family] = used }
            for step in 0..<count {
                let port = UInt16(Int(range.lowerBound) + (start + step) % count)
                if even, port % 2 != 0 { continue }
                if used.contains(port) { continue }
                if reserveNext {
                    guard port < range.upperBound, !used.contains(port + 1) else { continue }
                    used.insert(port + 1)
                }
                used.insert(port)
                return port
            }
            return nil
        }
    }

    /// Gives a port back.
    public func release(family: AddressFamily, port: UInt16) {
        _ = state.withLock { $0.used[family]?.remove(port) }
    }

    /// Whether a port is taken by a live relay: the only ports on this server's own address a peer may name.
    public func isLive(family: AddressFamily, port: UInt16) -> Bool {
        state.withLock { $0.used[family]?.contains(port) ?? false }
    }

    /// Records that `port` (already taken) is held for a later Allocate presenting `token`, until `expiresAt`.
    public func reserve(token: UInt64, family: AddressFamily, port: UInt16, expiresAt: UInt64) {
        state.withLock { $0.reservations[token] = Reservation(family: family, port: port, expiresAt: expiresAt) }
    }

    /// Keeps `hold` until the reservation of `token` ends; `false` (and `hold` released at once) when it already has.
    @discardableResult
    public func attach(_ hold: some ReservedPortHold, token: UInt64) -> Bool {
        let attached = state.withLock { state -> Bool in
            guard state.reservations[token] != nil else { return false }
            state.reservations[token]?.hold = hold
            return true
        }
        if !attached { hold.release() }
        return attached
    }

    /// Forgets a reservation and frees its port (the pair moved before the token was handed out, or never existed).
    public func cancelReservation(token: UInt64) {
        state.withLock { state in
            guard let reservation = state.reservations.removeValue(forKey: token) else { return }
            Self.end(reservation, in: &state)
        }
    }

    /// Hands over a reserved port with what holds it, for the redeeming allocation to adopt as its relay; `nil` for an
    /// unknown or expired token (508).
    public func redeem(token: UInt64, now: UInt64) -> (family: AddressFamily, port: UInt16, hold: (any ReservedPortHold)?)? {
        state.withLock { state in
            guard let reservation = state.reservations.removeValue(forKey: token) else { return nil }
            guard reservation.expiresAt > now else {
                Self.end(reservation, in: &state)
                return nil
            }
            return (reservation.family, reservation.port, reservation.hold)
        }
    }

    /// Releases reservations nobody redeemed in time.
    public func expireReservations(now: UInt64) {
        state.withLock { state in
            for (token, reservation) in state.reservations where reservation.expiresAt <= now {
                state.reservations[token] = nil
                Self.end(reservation, in: &state)
            }
        }
    }

    /// Releases every reservation (the server stops).
    public func releaseAllReservations() {
        state.withLock { state in
            for reservation in state.reservations.values { Self.end(reservation, in: &state) }
            state.reservations = [:]
        }
    }

    /// Closes what holds a reservation's port before the port counts as free, so nobody is handed a port still bound.
    private static func end(_ reservation: Reservation, in state: inout State) {
        reservation.hold?.release()
        state.used[reservation.family]?.remove(reservation.port)
    }

    /// Ports of `family` neither in use nor reserved (a metric, and what 508 means). A reserved port is among those
    /// taken, so it counts once.
    public func freeCount(family: AddressFamily) -> Int {
        range.count - state.withLock { $0.used[family]?.count ?? 0 }
    }
}

/// Allocation quotas shared by every event loop: per user (486, RFC 8656 §21.3.1) and in total.
public final class AllocationQuota: Sendable {
    private let perUser: Int
    private let total: Int
    private let state = Mutex((total: 0, byUser: [String: Int]()))

    /// Creates quotas; a limit of 0 means unlimited.
    public init(perUser: Int, total: Int) {
        self.perUser = perUser
        self.total = total
    }

    /// The name a quota counts: a REST username's user part, so fresh credentials do not reset the count.
    public static func quotaName(_ username: String) -> String {
        guard TURNCredentials.restExpiry(username) != nil, let colon = username.firstIndex(of: ":") else { return username }
        return String(username[username.index(after: colon)...])
    }

    /// Counts one allocation for `username`; `false` if a quota is reached.
    public func acquire(_ username: String) -> Bool {
        let name = Self.quotaName(username)
        return state.withLock { state in
            let mine = state.byUser[name, default: 0]
            if perUser > 0, mine >= perUser { return false }
            if total > 0, state.total >= total { return false }
            state.byUser[name] = mine + 1
            state.total += 1
            return true
        }
    }

    /// Returns one allocation of `username`.
    public func release(_ username: String) {
        let name = Self.quotaName(username)
        state.withLock { state in
            guard let mine = state.byUser[name] else { return }
            state.byUser[name] = mine > 1 ? mine - 1 : nil
            state.total -= 1
        }
    }

    /// Allocations counted now.
    public var count: Int { state.withLock { $0.total } }
}
