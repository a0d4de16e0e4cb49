import Logging
import NIOCore
import Synchronization

/// The one place TCP listeners ask whether to take a connection and report what they closed: per-address counts
/// (shared by every listener, so an address cannot hold the limit on each) and counters per listener and reason
/// for `/metrics`.
public final class ConnectionGuard: Sendable {
    /// The limits in force.
    public let settings: ConnectionGuardSettings
    private let logger: Logger
    private let open = Mutex<[IPKey: Int]>([:])
    private let closes = Mutex<[ClosedKey: UInt64]>([:])

    /// A guard with `settings`; refusals are logged to `logger` once per address until it drops below the limit.
    public init(settings: ConnectionGuardSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Takes a new connection on `channel` from `listener`, or refuses it (`false`: the caller closes it). A taken
    /// connection is counted until its channel closes.
    public func admit(_ channel: any Channel, on listener: GuardedListener) -> Bool {
        guard let limit = settings.maximumPerAddress, let key = channel.remoteAddress.flatMap(IPKey.init) else { return true }
        let (admitted, firstRefusal) = open.withLock { counts -> (Bool, Bool) in
            let current = counts[key, default: 0]
            guard current < limit else {
                // Logged on the first refusal only: the count goes one past the limit to remember it was said.
                if current == limit { counts[key] = limit + 1 }
                return (false, current == limit)
            }
            counts[key] = current + 1
            return (true, false)
        }
        guard admitted else {
            count(.addressLimit, on: listener)
            if firstRefusal {
                logger.notice(
                    "refusing connections from an address at its limit",
                    metadata: ["net.address": "\(key)", "net.listener": "\(listener.rawValue)", "net.limit": "\(limit)"])
            }
            return false
        }
        channel.closeFuture.whenComplete { _ in self.release(key, limit: limit) }
        return true
    }

    private func release(_ key: IPKey, limit: Int) {
        open.withLock { counts in
            guard let current = counts[key] else { return }
            // Past the limit only as the "already said" mark: the real count is the limit.
            let remaining = min(current, limit) - 1
            counts[key] = remaining > 0 ? remaining : nil
        }
    }

    /// Counts a connection a guard closed.
    public func count(_ reason: GuardedCloseReason, on listener: GuardedListener) {
        closes.withLock { $0[ClosedKey(listener: listener, reason: reason), default: 0] &+= 1 }
    }

    /// Connections closed or refused, per listener and reason, since start.
    public func closedCounts() -> [(listener: GuardedListener, reason: GuardedCloseReason, count: UInt64)] {
        let counts = closes.withLock { $0 }
        return GuardedListener.allCases.flatMap { listener in
            GuardedCloseReason.allCases.map { reason in
                (listener, reason, counts[ClosedKey(listener: listener, reason: reason)] ?? 0)
            }
        }
    }
}

/// A client's IP address without its port; IPv4-mapped IPv6 addresses count as their IPv4 address.
struct IPKey: Hashable, Sendable, CustomStringConvertible {
    let text: String

    init?(_ address: SocketAddress) {
        guard var text = address.ipAddress else { return nil }
        if text.hasPrefix("::ffff:"), text.contains(".") { text.removeFirst(7) }
        self.text = text
    }

    var description: String { text }
}

private struct ClosedKey: Hashable {
    let listener: GuardedListener
    let reason: GuardedCloseReason
}
