import Logging
import NIOCore
import NIOPosix
import Signaling
import SignalingCore
import Storage
import Synchronization

/// The server's join gate: join tokens when `--join-secret` is set, and persistent rooms' lock, capacity and
/// scrypt-hashed password when the room is stored.
struct JoinAdmissionPolicy: JoinGate {
    let tokens: JoinTokens?
    let rooms: (any RoomStore)?
    /// Password attempts on stored rooms per address, checked before the slow hash so it cannot be used to
    /// burn the server's CPU.
    let passwordAttempts: AddressRateLimiter
    /// Password hashes being checked at once, across all addresses: scrypt is slow and takes 32 MiB each.
    let passwordChecks = ConcurrencyLimit(System.coreCount)
    let logger: Logger

    func admit(_ join: JoinRequest, connectionToken: String?, address: ClientAddress) async -> JoinAdmission {
        var admission = JoinAdmission()
        if let tokens {
            guard let token = join.token ?? connectionToken else {
                return refuse(.tokenRequired, "this server admits joins with a join token only")
            }
            switch await tokens.verify(token, room: join.room) {
            case .failure(let error):
                return JoinAdmission(refusal: error)
            case .success(let claims):
                admission.identity = claims.sub.value
                admission.name = claims.name
                admission.canPublish = claims.publish ?? true
            }
        }
        guard let rooms else { return admission }
        let stored: StoredRoom?
        do {
            let name = join.room.rawValue
            stored = try await withDeadline(.seconds(3)) { try await rooms.room(named: name) }
        } catch {
            // Fail closed: a stored room's password and lock must not lapse while the database is away.
            logger.error("join refused: room lookup failed", metadata: ["sig.room": "\(join.room)", "store.error": "\(error)"])
            return refuse(.unavailable, "the room directory is unavailable; try again shortly")
        }
        guard let stored else { return admission }
        admission.storedRoom = StoredRoomRules(capacity: stored.capacity, isLocked: stored.isLocked)
        if let hash = stored.passwordHash, !stored.isLocked {
            guard let password = join.password else {
                return refuse(.passwordRequired, "room '\(join.room)' requires a password")
            }
            guard passwordAttempts.allow(address.rawValue) else {
                return refuse(.tooManyAttempts, "too many password attempts from this address; wait and retry")
            }
            guard passwordChecks.enter() else {
                return refuse(.tooManyAttempts, "the server is busy checking room passwords; retry shortly")
            }
            defer { passwordChecks.leave() }
            // On NIO's blocking pool, not Swift's cooperative threads, so slow hashes never stall the hub.
            let matches = (try? await NIOThreadPool.singleton.runIfActive { RoomPasswordHash.verify(password, against: hash) }) ?? false
            guard matches else {
                return refuse(.wrongPassword, "wrong password for room '\(join.room)'")
            }
        }
        return admission
    }

    private func refuse(_ code: SignalingErrorCode, _ message: String) -> JoinAdmission {
        JoinAdmission(refusal: SignalingError(code, message))
    }
}

/// At most `limit` holders at once; `enter` refuses rather than waits, so a flood is answered, not queued.
final class ConcurrencyLimit: Sendable {
    private let limit: Int
    private let current = Atomic<Int>(0)

    init(_ limit: Int) {
        self.limit = max(1, limit)
    }

    func enter() -> Bool {
        if current.wrappingAdd(1, ordering: .acquiring).newValue <= limit { return true }
        current.wrappingSubtract(1, ordering: .releasing)
        return false
    }

    func leave() {
        current.wrappingSubtract(1, ordering: .releasing)
    }
}
