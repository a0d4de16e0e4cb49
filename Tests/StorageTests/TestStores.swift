import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Storage

/// The backends every contract test runs on.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A fresh, empty database per test: a temporary SQLite file, or a new database in the throwaway cluster that
/// `scripts/test.sh` starts (its URL in `SWITCHBOARD_TEST_POSTGRES`).
struct TestDatabase: Sendable {
    let location: StoreLocation
    private let cleanup: @Sendable () async throws -> Void

    static let logger = Logger(label: "storage-tests")

    static func make(_ backend: Backend) async throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-store-\(UUID().uuidString)")
            return TestDatabase(
                location: .sqlite(path: directory.appendingPathComponent("switchboard.sqlite").path),
                cleanup: { try? FileManager.default.removeItem(at: directory) })
        case .postgres:
            let url = try #require(
                ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_POSTGRES"],
                "set SWITCHBOARD_TEST_POSTGRES to a PostgreSQL URL: scripts/test.sh starts a throwaway cluster with scripts/postgres-test-cluster.sh (needs apt-get install postgresql)"
            )
            let admin = try PostgresLocation(url: url)
            let name = "sb_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            try await execute("CREATE DATABASE \(name)", on: admin)
            var location = admin
            location.database = name
            return TestDatabase(
                location: .postgres(location),
                cleanup: { try await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: admin) })
        }
    }

    private static func execute(_ sql: String, on location: PostgresLocation) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: location.host, port: location.port, username: location.username, password: location.password,
                database: location.database, tls: .disable),
            id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    func drop() async throws { try await cleanup() }
}

/// Runs `body` with a migrated store on a fresh database of `backend`, then drops the database.
func withFreshStore(_ backend: Backend, _ body: @Sendable (any Store) async throws -> Void) async throws {
    let database = try await TestDatabase.make(backend)
    do {
        try await withStore(database.location, logger: TestDatabase.logger, body)
    } catch {
        try? await database.drop()
        throw error
    }
    try await database.drop()
}
