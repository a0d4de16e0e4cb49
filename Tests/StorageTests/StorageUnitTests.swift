import Foundation
import Testing

@testable import Storage

@Suite struct StorageUnitTests {
    @Test func plansOnlyTheStepsAfterTheCurrentVersion() throws {
        let steps: [SchemaMigrations.Migration] = [.init(version: 1, statements: []), .init(version: 2, statements: [])]
        #expect(try SchemaMigrations.pending(from: 0, migrations: steps).map(\.version) == [1, 2])
        #expect(try SchemaMigrations.pending(from: 1, migrations: steps).map(\.version) == [2])
        #expect(try SchemaMigrations.pending(from: 2, migrations: steps).isEmpty)
        #expect(throws: StoreError.schemaTooNew(found: 3, supported: 2)) {
            try SchemaMigrations.pending(from: 3, migrations: steps)
        }
        // Versions only grow, so "the newest" is well defined.
        #expect(SchemaMigrations.all.map(\.version) == Array(1...SchemaMigrations.latestVersion))
    }

    @Test func hashesRoomPasswordsSlowlyWithSalt() throws {
        let hash = try RoomPasswordHash.make("correct horse")
        #expect(hash.hasPrefix("scrypt$15$8$1$"))
        #expect(!hash.contains("correct horse"))
        #expect(RoomPasswordHash.verify("correct horse", against: hash))
        #expect(!RoomPasswordHash.verify("correct hors", against: hash))
        #expect(try RoomPasswordHash.make("correct horse") != hash, "every hash has its own salt")
        for malformed in ["", "scrypt$15$8$1$AAAA", "bcrypt$15$8$1$AAAA$AAAA", "scrypt$40$8$1$AAAA$AAAA", "scrypt$15$8$1$!!$AAAA"] {
            #expect(!RoomPasswordHash.verify("correct horse", against: malformed))
        }
    }

    @Test func parsesDatabaseLocationsWithoutLeakingPasswords() throws {
        #expect(try StoreLocation.parse(database: nil, dataDirectory: "/var/lib/sb") == .sqlite(path: "/var/lib/sb/switchboard.sqlite"))
        #expect(try StoreLocation.parse(database: "", dataDirectory: "data") == .sqlite(path: "data/switchboard.sqlite"))
        #expect(try StoreLocation.parse(database: "sqlite:/tmp/x.db", dataDirectory: "data") == .sqlite(path: "/tmp/x.db"))
        let location = try StoreLocation.parse(
            database: "postgresql://sb:s%40cret@db.example:6543/calls?sslmode=require", dataDirectory: "d")
        guard case .postgres(let postgres) = location else { Issue.record("expected postgres"); return }
        #expect(postgres.host == "db.example")
        #expect(postgres.port == 6543)
        #expect(postgres.username == "sb")
        #expect(postgres.password == "s@cret")
        #expect(postgres.database == "calls")
        #expect(postgres.tlsMode == .require)
        #expect(!location.description.contains("cret"))
        let defaults = try PostgresLocation(url: "postgres://sb@[::1]")
        #expect(defaults.host == "::1")
        #expect(defaults.port == 5432)
        #expect(defaults.database == "sb")
        #expect(defaults.tlsMode == .prefer)
        for bad in ["mysql://x@y/z", "postgres:///db", "postgres://host/db", "postgres://u@h/d?sslmode=verify-full", "sqlite:"] {
            #expect(throws: StoreError.self) { try StoreLocation.parse(database: bad, dataDirectory: "d") }
        }
    }

    @Test func encodesKeysAsHex() {
        #expect(HexKey.encode([0x00, 0x7F, 0xFF]) == "007fff")
        #expect(HexKey.decode("007fff") == [0x00, 0x7F, 0xFF])
        #expect(HexKey.decode("abc").isEmpty)
        #expect(HexKey.decode("zz").isEmpty)
    }
}
