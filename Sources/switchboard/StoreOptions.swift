import ArgumentParser
import Foundation
import Logging
import Storage
import SwitchboardApp

/// Where the operations commands find the database: the same `--data-dir` and `--database` as `serve`
/// (also read from SWITCHBOARD_DATA_DIR and SWITCHBOARD_DATABASE).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The server's data directory (its SQLite file is switchboard.sqlite there).")
    var dataDir: String?

    @Option(name: .customLong("database"), help: "postgres://… or sqlite:PATH, as given to serve.")
    var database: String?

    var location: StoreLocation {
        get throws {
            let environment = ProcessInfo.processInfo.environment
            do {
                return try StoreLocation.parse(
                    database: database ?? environment["SWITCHBOARD_DATABASE"],
                    dataDirectory: dataDir ?? environment["SWITCHBOARD_DATA_DIR"] ?? "./switchboard-data")
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    /// Runs `body` with the migrated store.
    func withOpenStore<Result: Sendable>(_ body: @Sendable (any Store) async throws -> Result) async throws -> Result {
        var logger = Logger(label: "switchboard")
        logger.logLevel = .error
        do {
            return try await withStore(try location, logger: logger, body)
        } catch let error as StoreError {
            throw CommandFailure("\(error)")
        }
    }
}

/// A failure at run time (not a usage mistake): printed as `Error: …` without the usage text, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A password from `--password` or, better (it stays out of `ps` and shell history), one line of standard input.
struct PasswordOptions: ParsableArguments {
    @Option(help: "The password (visible to other local users in the process list: prefer --password-stdin).")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    /// The password given, if any.
    func read() throws -> String? {
        if passwordStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("--password-stdin: standard input held no password")
            }
            return line
        }
        return password
    }
}

/// Prints rows as aligned columns under a header.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        print(
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
    }
}

/// Prints a value as sorted, pretty JSON.
func printJSON(_ value: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

extension Date {
    /// ISO 8601 in UTC with milliseconds, as the admin API prints times too.
    var iso8601: String { RecordJSON.time(self) }
}
