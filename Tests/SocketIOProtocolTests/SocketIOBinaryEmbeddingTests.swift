import SignalingCore
import SocketIOProtocol
import Testing

@Suite("Socket.IO attachments through JSON")
struct SocketIOBinaryEmbeddingTests {
    @Test func placeholdersBecomeBase64AndBack() {
        let data: JSONValue = [
            "type": "file", "chunks": [["_placeholder": true, "num": 0], ["_placeholder": true, "num": 1]], "n": 3,
        ]
        let embedded = SocketIOBinaryEmbedding.embed(data, attachments: [[0, 1, 2], [255]])
        #expect(embedded == ["type": "file", "chunks": [["$binary": "AAEC"], ["$binary": "/w=="]], "n": 3])

        let (values, attachments) = SocketIOBinaryEmbedding.extract([embedded])
        #expect(attachments.count == 2)
        // Numbering follows traversal; each placeholder must name its own bytes.
        guard case .object(let members) = values[0], case .array(let chunks)? = members["chunks"] else {
            Issue.record("unexpected shape \(values)")
            return
        }
        let restored = chunks.map { attachments[Int($0["num"]?.integerValue ?? -1)] }
        #expect(restored == [[0, 1, 2], [255]])
        #expect(chunks.allSatisfy { $0["_placeholder"] == .bool(true) })
    }

    @Test func onlyExactEmbeddingsAreExtracted() {
        let values: [JSONValue] = [
            ["$binary": "AAEC", "other": 1],  // an extra member: plain JSON
            ["$binary": "not base64!"],  // not base64: plain JSON
            ["$binary": 42],
            "$binary",
        ]
        let (converted, attachments) = SocketIOBinaryEmbedding.extract(values)
        #expect(attachments.isEmpty)
        #expect(converted == values)
    }

    @Test func atMostTheLimitIsExtracted() {
        let values = Array(repeating: JSONValue.object(["$binary": ""]), count: 25)
        let (converted, attachments) = SocketIOBinaryEmbedding.extract(values, limit: 10)
        #expect(attachments.count == 10, "one message must not become an unbounded number of packets")
        #expect(converted.prefix(10).allSatisfy { $0["_placeholder"] == .bool(true) })
        #expect(Array(converted.dropFirst(10)) == Array(values.dropFirst(10)), "the rest stays plain JSON")
    }

    @Test func withoutAttachmentsNothingChanges() {
        let data: JSONValue = ["_placeholder": true, "num": 0]
        #expect(SocketIOBinaryEmbedding.embed(data, attachments: []) == data)
    }
}
