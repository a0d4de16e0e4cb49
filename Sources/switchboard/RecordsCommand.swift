import ArgumentParser
import Foundation
import Storage

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
    @Option(help: "Records that ended at or after this time: ISO 8601 (2026-11-21 or 2026-11-21T08:00:00Z) or an age (90s, 15m, 2h, 7d).")
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

    /// Reads an ISO 8601 date or time, or an age before now.
    static func time(_ text: String?, option: String, now: Date = Date()) throws -> Date? {
        guard let text else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = text.last.flatMap({ units[$0] }), let amount = Double(text.dropLast()), amount >= 0 {
            return now.addingTimeInterval(-amount * unit)
        }
        if let time = try? Date(text, strategy: .iso8601) { return time }
        if let day = try? Date(text, strategy: .iso8601.year().month().day()) { return day }
        throw ValidationError("--\(option) '\(text)' is neither an ISO 8601 time nor an age like 15m")
    }

    func run() async throws {
        let showAllocations = allocations || user != nil
        let query = RecordQuery(
            subject: showAllocations ? user : room, since: try Self.time(since, option: "since"),
            until: try Self.time(until, option: "until"), limit: limit)
        if showAllocations {
            let records = try await store.withOpenStore { try await $0.allocationRecords(query) }
            if format == .json {
                try printJSON(
                    records.map {
                        [
                            "username": $0.username, "transport": $0.transport, "client": $0.clientAddress,
                            "relay": $0.relayAddress, "started_at": $0.startedAt.iso8601, "ended_at": $0.endedAt.iso8601,
                            "bytes_sent": $0.bytesSent, "packets_sent": $0.packetsSent, "bytes_received": $0.bytesReceived,
                            "packets_received": $0.packetsReceived,
                        ] as [String: Any]
                    })
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
                try printJSON(
                    records.map {
                        [
                            "session": $0.sessionID, "room": $0.room, "name": $0.displayName.map { $0 as Any } ?? NSNull(),
                            "transport": $0.transport, "joined_at": $0.joinedAt.iso8601, "left_at": $0.leftAt.iso8601,
                            "reason": $0.leaveReason,
                        ] as [String: Any]
                    })
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
