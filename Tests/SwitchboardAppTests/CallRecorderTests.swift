import Foundation
import Logging
import Signaling
import SignalingCore
import Storage
import SwitchboardApp
import Testing

/// The recorder against real databases: records flow through, and one record the database refuses (PostgreSQL
/// rejects U+0000 in text) is dropped without blocking the others.
@Suite("Call recorder")
struct CallRecorderTests {
    static func locations() throws -> [StoreLocation] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-recorder-\(UUID().uuidString)")
        var all: [StoreLocation] = [.sqlite(path: directory.appendingPathComponent("r.sqlite").path)]
        let url = try #require(
            ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_POSTGRES"],
            "set SWITCHBOARD_TEST_POSTGRES (scripts/test.sh starts a throwaway PostgreSQL cluster; apt-get install postgresql)")
        all.append(try StoreLocation.parse(database: url, dataDirectory: directory.path))
        return all
    }

    @Test func aRefusedRecordIsDroppedAndTheRestAreWritten() async throws {
        for location in try Self.locations() {
            let room = "rec-\(UInt32.random(in: 0 ... .max))"
            try await withStore(location, logger: Logger(label: "test")) { store in
                let recorder = CallRecorder(store: store, logger: Logger(label: "test"))
                let roomName = RoomName(room)!
                for (index, name) in ["Ann", "bad\u{0}name", "Cy"].enumerated() {
                    let session = SessionID("s\(index)")
                    recorder.membershipChanged(
                        .entered(session: session, room: roomName, name: name, connection: ConnectionID(UInt64(index))),
                        transport: .websocket)
                    recorder.membershipChanged(.left(session: session, room: roomName, reason: .left), transport: .websocket)
                }
                await recorder.flush()
                let records = try await store.sessionRecords(RecordQuery(subject: room))
                if case .postgres = location {
                    let names = records.compactMap(\.displayName).sorted()
                    #expect(names == ["Ann", "Cy"], "PostgreSQL refuses U+0000; the others still land")
                } else {
                    // SQLite takes it (and reads the text back up to the U+0000).
                    #expect(records.map(\.sessionID).sorted() == ["s0", "s1", "s2"])
                }
                // Later records are not blocked by the refused one.
                recorder.membershipChanged(
                    .entered(session: SessionID("s9"), room: roomName, name: "Dee", connection: ConnectionID(9)), transport: .sse)
                recorder.membershipChanged(.left(session: SessionID("s9"), room: roomName, reason: .closed), transport: .sse)
                await recorder.flush()
                let later = try await store.sessionRecords(RecordQuery(subject: room, limit: 1))
                #expect(later.first?.displayName == "Dee")
                #expect(later.first?.transport == "sse")
                #expect(later.first?.leaveReason == "closed")
            }
        }
    }
}
