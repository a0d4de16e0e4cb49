import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// Where the store lives: `--database` when given, else an SQLite file in `--data-dir`.
public enum StoreLocation: Equatable, Sendable, CustomStringConvertible {
    /// The embedded default.
    case sqlite(path: String)
    /// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    case postgres(PostgresLocation)

    /// The file name of the embedded database inside the data directory.
    public static let sqliteFileName = "switchboard.sqlite"

    /// Reads `--database` (empty or absent means SQLite in `dataDirectory`).
    public static func parse(database: String?, dataDirectory: String) throws -> StoreLocation {
        guard let database, !database.isEmpty else {
            return .sqlite(path: (dataDirectory as NSString).appendingPathComponent(sqliteFileName))
        }
        if database.hasPrefix("sqlite:") {
            let path = String(database.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw StoreError.invalidLocation("sqlite: needs a file path") }
            return .sqlite(path: path)
        }
        return .postgres(try PostgresLocation(url: database))
    }

    /// Safe to log: never includes the password.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let location): return location.description
        }
    }
}

/// A parsed PostgreSQL URL.
public struct PostgresLocation: Equatable, Sendable, CustomStringConvertible {
    /// How the connection uses TLS, as libpq's `sslmode`.
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode

    /// Parses `postgres://` or `postgresql://` URLs; `sslmode` defaults to `prefer`, as in libpq.
    public init(url text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw StoreError.invalidLocation("expected postgres://user:password@host:port/database or sqlite:PATH")
        }
        guard let host = url.host, !host.isEmpty else { throw StoreError.invalidLocation("the URL names no host") }
        guard let user = url.user, !user.isEmpty else { throw StoreError.invalidLocation("the URL names no user") }
        let database = String(url.path.drop { $0 == "/" })
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let tlsMode = TLSMode(rawValue: mode) else {
            throw StoreError.invalidLocation("sslmode must be disable, prefer or require")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = url.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = url.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.isEmpty ? self.username : database
        self.tlsMode = tlsMode
    }

    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    /// The pooled client's configuration.
    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch tlsMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// One dedicated connection's configuration (the cluster's LISTEN connection).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}

/// Opens the store at `location`, migrates it, runs `body` with it, and closes it.
///
/// PostgreSQL's connection pool runs in a child task for exactly as long as `body`, so no background work
/// outlives the caller.
public func withStore<Result: Sendable>(
    _ location: StoreLocation, logger: Logger, _ body: @Sendable (any Store) async throws -> Result
) async throws -> Result {
    try await withStore(location, logger: logger, migrations: SchemaMigrations.all, body)
}

/// ``withStore(_:logger:_:)`` with a given migration list (tests play a newer binary with a longer one).
func withStore<Result: Sendable>(
    _ location: StoreLocation, logger: Logger, migrations: [SchemaMigrations.Migration],
    _ body: @Sendable (any Store) async throws -> Result
) async throws -> Result {
    switch location {
    case .sqlite(let path):
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            // A new data directory is private: the database holds TURN keys, which work as passwords.
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        return try await body(try await SQLiteStore(path: path, migrations: migrations))
    case .postgres(let postgres):
        var poolLogger = logger
        // postgres-nio warns when the first query races the pool's start-up below; failures still surface as
        // thrown query errors, so only its errors are worth a log line.
        poolLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: postgres.clientConfiguration, backgroundLogger: poolLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = PostgresStore(client: client, logger: logger)
            try await store.migrate(migrations)
            return try await body(store)
        }
    }
}
