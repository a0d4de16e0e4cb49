import Foundation
import Logging
import STUNProtocol
import ServiceLifecycle
import Storage
import Synchronization
import TURNCore

/// The stored TURN users of one realm, as TURN authentication reads them: a snapshot in memory, refreshed from the
/// store every few seconds (so `switchboard user add` on the same database takes effect without a restart) and at
/// once after the admin API changes a user.
public final class StoredTURNUsers: TURNUserDirectory, Service {
    private struct Snapshot {
        var keys: [String: LongTermKeys] = [:]
        var byHash: [[UInt8]: String] = [:]
        /// The refresh that made it; a slower, earlier refresh never replaces a later one.
        var generation: UInt64 = 0
    }

    private let store: any TURNUserStore
    private let realm: String
    private let interval: Duration
    private let logger: Logger
    // A lock rather than an actor: authentication runs on TURN's event loops, which must not wait.
    private let snapshot = Mutex(Snapshot())
    private let refreshes = Atomic<UInt64>(0)

    /// Reads `realm`'s users from `store` every `interval`.
    public init(store: any TURNUserStore, realm: String, interval: Duration = .seconds(5), logger: Logger) {
        self.store = store
        self.realm = realm
        self.interval = interval
        self.logger = logger
    }

    public func keys(username: String) -> LongTermKeys? {
        snapshot.withLock { $0.keys[username] }
    }

    public func username(forHash hash: [UInt8]) -> String? {
        snapshot.withLock { $0.byHash[hash] }
    }

    /// Users in the snapshot.
    public var count: Int { snapshot.withLock { $0.keys.count } }

    /// Re-reads the users now.
    public func refresh() async throws {
        let generation = refreshes.wrappingAdd(1, ordering: .relaxed).newValue
        var fresh = Snapshot(generation: generation)
        for user in try await store.users(realm: realm) {
            fresh.keys[user.username] = LongTermKeys(
                md5: STUNIntegrityKey(bytes: user.md5Key), sha256: STUNIntegrityKey(bytes: user.sha256Key))
            fresh.byHash[Userhash.compute(username: user.username, realm: realm).hash] = user.username
        }
        snapshot.withLock { current in
            if fresh.generation > current.generation { current = fresh }
        }
    }

    /// Refreshes until shutdown; a failed read keeps the last snapshot and is logged once until reads work again.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                do {
                    try await self.refresh()
                    failing = false
                } catch is CancellationError {
                    return
                } catch {
                    if !failing { self.logger.error("TURN users not refreshed", metadata: ["store.error": "\(error)"]) }
                    failing = true
                }
            }
        }
    }
}

extension StoredTURNUser {
    /// A user record holding the RFC 8489 keys of `password`, never the password itself.
    public static func make(username: String, realm: String, password: String, now: Date = Date()) -> StoredTURNUser {
        let keys = LongTermKeys(username: username, realm: realm, password: password)
        return StoredTURNUser(username: username, realm: realm, md5Key: keys.md5.bytes, sha256Key: keys.sha256.bytes, updatedAt: now)
    }
}
