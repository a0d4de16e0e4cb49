import Foundation
import SignalingCore

/// Moves Socket.IO binary attachments into JSON and back, so binary payloads can cross the JSON room core.
///
/// Inside the core (and on the native `/ws` protocol) an attachment is the object `{"$binary": "<base64>"}`.
/// Toward a Socket.IO client each such object becomes a `{"_placeholder":true,"num":N}` and its bytes an
/// attachment, so a binary event from one Socket.IO client reaches another as binary.
public enum SocketIOBinaryEmbedding {
    /// The member name of an embedded attachment.
    public static let key = "$binary"

    /// Replaces each placeholder in `value` with its attachment, base64-encoded under ``key``.
    /// Placeholders must have been checked against `attachments` (``SocketIOBinaryAssembler`` does).
    public static func embed(_ value: JSONValue, attachments: [[UInt8]]) -> JSONValue {
        guard !attachments.isEmpty else { return value }
        switch value {
        case .object(let members):
            if members["_placeholder"] == .bool(true), let number = members["num"]?.integerValue,
                attachments.indices.contains(Int(number))
            {
                return [key: .string(Data(attachments[Int(number)]).base64EncodedString())]
            }
            return .object(members.mapValues { embed($0, attachments: attachments) })
        case .array(let items):
            return .array(items.map { embed($0, attachments: attachments) })
        default:
            return value
        }
    }

    /// Takes the embedded attachments out of `values`, leaving numbered placeholders in their place.
    /// At most `limit` are taken (socket.io-parser's 10 per packet); further ones stay plain JSON, so one
    /// message cannot become an unbounded number of packets.
    public static func extract(_ values: [JSONValue], limit: Int = 10) -> (values: [JSONValue], attachments: [[UInt8]]) {
        var attachments: [[UInt8]] = []
        func visit(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members):
                if attachments.count < limit, members.count == 1, let encoded = members[key]?.stringValue,
                    let bytes = Data(base64Encoded: encoded)
                {
                    attachments.append(Array(bytes))
                    return ["_placeholder": true, "num": .integer(Int64(attachments.count - 1))]
                }
                return .object(members.mapValues(visit))
            case .array(let items):
                return .array(items.map(visit))
            default:
                return value
            }
        }
        let converted = values.map(visit)
        return (converted, attachments)
    }
}
