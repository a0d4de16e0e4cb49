import Foundation
import Testing

@testable import Storage

/// The one contract both backends keep.
@Suite struct StoreContractTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: Backend.allCases)
    func migratesAnEmptyDatabaseToTheLatestSchemaOnce(_ backend: Backend) async throws {
        let database = try await TestDatabase.make(backend)
        defer { Task { try? await database.drop() } }
        let first = try await withStore(database.location, logger: TestDatabase.logger) { try await $0.schemaVersion() }
        #expect(first == SchemaMigrations.latestVersion)
        #expect(first >= 1)
        // Opening again finds nothing to do and keeps the data.
        try await withStore(database.location, logger: TestDatabase.logger) {
            try await $0.createRoom(StoredRoom(name: "kept", createdAt: Self.t0))
        }
        let kept = try await withStore(database.location, logger: TestDatabase.logger) {
            (try await $0.schemaVersion(), try await $0.room(named: "kept"))
        }
        #expect(kept.0 == first)
        #expect(kept.1?.name == "kept")
    }

    @Test(arguments: Backend.allCases)
    func refusesASchemaNewerThanTheBinary(_ backend: Backend) async throws {
        let database = try await TestDatabase.make(backend)
        defer { Task { try? await database.drop() } }
        // A newer binary adds a step and migrates the database …
        let newer =
            SchemaMigrations.all + [
                .init(version: SchemaMigrations.latestVersion + 1, statements: ["CREATE TABLE from_the_future (x INTEGER)"])
            ]
        let upgraded = try await withStore(database.location, logger: TestDatabase.logger, migrations: newer) {
            try await $0.schemaVersion()
        }
        #expect(upgraded == SchemaMigrations.latestVersion + 1)
        // … and this binary then refuses it rather than run against tables it does not know.
        await #expect(throws: StoreError.schemaTooNew(found: upgraded, supported: SchemaMigrations.latestVersion)) {
            try await withStore(database.location, logger: TestDatabase.logger) { _ in }
        }
    }

    @Test(arguments: Backend.allCases)
    func keepsUsersAsKeysByRealm(_ backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let alice = StoredTURNUser(
                username: "alice", realm: "example.org", md5Key: Array(repeating: 0xAB, count: 16),
                sha256Key: Array(0..<32), updatedAt: Self.t0)
            var bob = alice
            bob.username = "bob"
            var otherRealm = alice
            otherRealm.realm = "other"
            for user in [bob, alice, otherRealm] { try await store.saveUser(user) }

            #expect(try await store.user(username: "alice", realm: "example.org") == alice)
            #expect(try await store.user(username: "alice", realm: "nowhere") == nil)
            #expect(try await store.users(realm: "example.org").map(\.username) == ["alice", "bob"])
            #expect(
                try await store.users(realm: nil).map { "\($0.realm)/\($0.username)" } == [
                    "example.org/alice", "example.org/bob", "other/alice",
                ])

            // Saving again replaces the keys (a password change).
            var changed = alice
            changed.md5Key = Array(repeating: 0x01, count: 16)
            changed.updatedAt = Self.t0.addingTimeInterval(60)
            try await store.saveUser(changed)
            #expect(try await store.user(username: "alice", realm: "example.org") == changed)
            #expect(try await store.users(realm: nil).count == 3)

            #expect(try await store.removeUser(username: "alice", realm: "example.org"))
            #expect(try await !store.removeUser(username: "alice", realm: "example.org"))
            #expect(try await store.user(username: "alice", realm: "other") == otherRealm)
        }
    }

    @Test(arguments: Backend.allCases)
    func keepsRoomsWithUniqueNames(_ backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            let standup = StoredRoom(name: "standup", capacity: 6, passwordHash: "scrypt$x", isLocked: false, createdAt: Self.t0)
            let lobby = StoredRoom(name: "lobby", createdAt: Self.t0.addingTimeInterval(1))
            try await store.createRoom(standup)
            try await store.createRoom(lobby)
            await #expect(throws: StoreError.alreadyExists("lobby")) { try await store.createRoom(lobby) }

            #expect(try await store.rooms() == [lobby, standup])
            #expect(try await store.room(named: "standup") == standup)
            #expect(try await store.room(named: "nope") == nil)

            var locked = standup
            locked.isLocked = true
            locked.capacity = nil
            locked.passwordHash = nil
            #expect(try await store.updateRoom(locked))
            #expect(try await store.room(named: "standup") == locked)
            #expect(try await !store.updateRoom(StoredRoom(name: "nope", createdAt: Self.t0)))

            #expect(try await store.removeRoom(named: "lobby"))
            #expect(try await !store.removeRoom(named: "lobby"))
            #expect(try await store.rooms() == [locked])
        }
    }

    @Test(arguments: Backend.allCases)
    func queriesCallRecordsByRoomUserAndTime(_ backend: Backend) async throws {
        try await withFreshStore(backend) { store in
            func session(_ id: String, room: String, joined: Double, left: Double) -> SessionRecord {
                SessionRecord(
                    sessionID: id, room: room, displayName: id == "s1" ? nil : "Name \(id)", transport: "websocket",
                    joinedAt: Self.t0.addingTimeInterval(joined), leftAt: Self.t0.addingTimeInterval(left), leaveReason: "left")
            }
            let sessions = [
                session("s1", room: "a", joined: 0, left: 100), session("s2", room: "a", joined: 10, left: 200),
                session("s3", room: "b", joined: 300, left: 400),
            ]
            let allocation = AllocationRecord(
                username: "1800000000:alice", transport: "udp", clientAddress: "192.0.2.1:5000",
                relayAddress: "198.51.100.1:50000", startedAt: Self.t0, endedAt: Self.t0.addingTimeInterval(120),
                bytesSent: 5_000_000_000, packetsSent: 4_000_000, bytesReceived: 42, packetsReceived: 1)
            var other = allocation
            other.username = "bob"
            other.endedAt = Self.t0.addingTimeInterval(500)
            try await store.appendRecords(sessions: sessions, allocations: [allocation, other])
            try await store.appendRecords(sessions: [], allocations: [])

            #expect(try await store.sessionRecords(RecordQuery()) == sessions.reversed())
            #expect(try await store.sessionRecords(RecordQuery(subject: "a")) == [sessions[1], sessions[0]])
            #expect(try await store.sessionRecords(RecordQuery(subject: "a", limit: 1)) == [sessions[1]])
            #expect(
                try await store.sessionRecords(RecordQuery(since: Self.t0.addingTimeInterval(150))) == [sessions[2], sessions[1]])
            #expect(try await store.sessionRecords(RecordQuery(until: Self.t0.addingTimeInterval(5))) == [sessions[0]])
            #expect(try await store.sessionRecords(RecordQuery(subject: "nope")).isEmpty)

            #expect(try await store.allocationRecords(RecordQuery()) == [other, allocation])
            #expect(try await store.allocationRecords(RecordQuery(subject: "1800000000:alice")) == [allocation])
            #expect(try await store.allocationRecords(RecordQuery(since: Self.t0.addingTimeInterval(200))) == [other])
        }
    }
}
