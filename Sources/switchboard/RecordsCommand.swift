import ArgumentParser
import Foundation
import Storage
import SwitchboardApp

/// `switchboard records`: who was in which room when, and what TURN relayed.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Query call records: room stays (default) or TURN allocations (--allocations), newest first.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(help: "Only this room's stays.") var room: String?
    @Flag(help: "TURN allocations (bytes and packets relayed) instead of room stays.") var allocations = false
    @Option(help: "Only this TURN username's allocations (implies --allocations).") var user: String?
    @Option(
        help:
            "Records that ended at or after this time: ISO 8601 (2026-11-21 or 2026-11-21T08:00:00Z), Unix seconds, or an age (90s, 15m, 2h, 7d)."
    )
    var since: String?
    @Option(help: "Records that started before this time (same forms as --since).") var until: String?
    @Option(help: "At most this many records.") var limit = 100
    @Option(help: "table or json.") var format: Format = .table
    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        if room != nil && (allocations || user != nil) {
            throw ValidationError("--room filters room stays; --user filters allocations: give one")
        }
        _ = try Self.time(since, option: "since")
        _ = try Self.time(until, option: "until")
    }

    /// Reads a bound as the admin API does (``RecordJSON/parseTime(_:now:)``).
    static func time(_ text: String?, option: String) throws -> Date? {
        guard let text else { return nil }
        guard let time = RecordJSON.parseTime(text) else {
            throw ValidationError("--\(option) '\(text)' is not an ISO 8601 time or date, Unix seconds, or an age like 15m")
        }
        return time
    }

    func run() async throws {
        let showAllocations = allocations || user != nil
        let query = RecordQuery(
            subject: showAllocations ? user : room, since: try Self.time(since, option: "since"),
            until: try Self.time(until, option: "until"), limit: limit)
        if showAllocations {
            let records = try await store.withOpenStore { try await $0.allocationRecords(query) }
            if format == .json {
                try printJSON(records.map(RecordJSON.object))
            } else {
                printTable(
                    ["USERNAME", "TRANSPORT", "CLIENT", "RELAY", "STARTED", "ENDED", "BYTES_SENT", "BYTES_RECEIVED"],
                    records.map {
                        [
                            $0.username, $0.transport, $0.clientAddress, $0.relayAddress, $0.startedAt.iso8601,
                            $0.endedAt.iso8601, "\($0.bytesSent)", "\($0.bytesReceived)",
                        ]
                    })
            }
        } else {
            let records = try await store.withOpenStore { try await $0.sessionRecords(query) }
            if format == .json {
                try printJSON(records.map(RecordJSON.object))
            } else {
                printTable(
                    ["ROOM", "SESSION", "NAME", "TRANSPORT", "JOINED", "LEFT", "REASON"],
                    records.map {
                        [
                            $0.room, $0.sessionID, $0.displayName ?? "-", $0.transport, $0.joinedAt.iso8601,
                            $0.leftAt.iso8601, $0.leaveReason,
                        ]
                    })
            }
        }
    }
}
