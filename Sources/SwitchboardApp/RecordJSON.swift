import Foundation
import Storage

/// The JSON shapes and time formats the admin API and the `switchboard user|room|records` commands share, so
/// both print the same fields. Optional fields are left out rather than `null`.
public enum RecordJSON {
    /// ISO 8601 in UTC with milliseconds: `2026-11-21T08:26:22.950Z`.
    public static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A query bound: an ISO 8601 time or date, Unix seconds, or an age before `now` (`90s`, `15m`, `2h`, `7d`).
    /// `nil` for anything else, including non-finite numbers and times beyond ±3000 years.
    public static func parseTime(_ text: String, now: Date = Date()) -> Date? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = text.last.flatMap({ units[$0] }), let amount = Double(text.dropLast()) {
            guard amount.isFinite, amount >= 0, amount * unit < 1e11 else { return nil }
            return now.addingTimeInterval(-amount * unit)
        }
        if let seconds = Double(text) {
            guard seconds.isFinite, abs(seconds) < 1e11 else { return nil }
            return Date(timeIntervalSince1970: seconds)
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: .iso8601.year().month().day())
    }

    public static func object(_ record: SessionRecord) -> [String: Any] {
        var object: [String: Any] = [
            "session": record.sessionID, "room": record.room, "transport": record.transport,
            "joined_at": time(record.joinedAt), "left_at": time(record.leftAt), "reason": record.leaveReason,
        ]
        object["name"] = record.displayName
        return object
    }

    public static func object(_ record: AllocationRecord) -> [String: Any] {
        [
            "username": record.username, "transport": record.transport, "client": record.clientAddress,
            "relay": record.relayAddress, "started_at": time(record.startedAt), "ended_at": time(record.endedAt),
            "bytes_sent": record.bytesSent, "packets_sent": record.packetsSent, "bytes_received": record.bytesReceived,
            "packets_received": record.packetsReceived,
        ]
    }

    public static func object(_ user: StoredTURNUser) -> [String: Any] {
        ["username": user.username, "realm": user.realm, "updated_at": time(user.updatedAt)]
    }

    public static func object(_ room: StoredRoom) -> [String: Any] {
        var object: [String: Any] = [
            "name": room.name, "password": room.passwordHash != nil, "locked": room.isLocked,
            "created_at": time(room.createdAt),
        ]
        object["capacity"] = room.capacity
        return object
    }
}
