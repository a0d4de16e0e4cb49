import Foundation
import Storage
import SwitchboardApp
import Testing

@Suite("Record JSON and time bounds (admin API and CLI)")
struct RecordJSONTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: [
        ("2026-11-21T08:00:00Z", 1_795_248_000.0), ("2026-11-21", 1_795_219_200.0), ("1795248000", 1_795_248_000.0),
        ("90s", 1_799_999_910.0), ("15m", 1_799_999_100.0), ("2h", 1_799_992_800.0), ("7d", 1_799_395_200.0),
    ])
    func readsTimesDatesSecondsAndAges(text: String, expected: Double) {
        #expect(RecordJSON.parseTime(text, now: now)?.timeIntervalSince1970 == expected)
    }

    @Test(arguments: ["yesterday", "nan", "inf", "-inf", "1e300", "-5m", "nanh", "1e300d", ""])
    func refusesAnythingElse(text: String) {
        #expect(RecordJSON.parseTime(text, now: now) == nil)
    }

    @Test func leavesOptionalFieldsOut() {
        let record = SessionRecord(
            sessionID: "s", room: "r", displayName: nil, transport: "sse", joinedAt: now, leftAt: now, leaveReason: "left")
        let object = RecordJSON.object(record)
        #expect(object["name"] == nil)
        #expect(object["joined_at"] as? String == "2027-01-15T08:00:00.000Z")
        let room = RecordJSON.object(StoredRoom(name: "r", createdAt: now))
        #expect(room["capacity"] == nil)
        #expect(room["password"] as? Bool == false)
    }
}
