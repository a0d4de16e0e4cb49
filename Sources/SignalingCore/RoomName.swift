/// A validated room name: 1 to 64 characters from `A-Z a-z 0-9 - _ .`, not starting with a dot.
///
/// The character set keeps names safe in URLs (`/r/<room>`), logs and metrics.
public struct RoomName: Hashable, Sendable, CustomStringConvertible {
    /// The longest accepted name, in characters.
    public static let maximumLength = 64

    /// The name as given by the client.
    public let rawValue: String

    /// Validates `rawValue`; `nil` when it is empty, too long or has characters outside the set.
    public init?(_ rawValue: String) {
        let utf8 = rawValue.utf8
        guard !utf8.isEmpty, utf8.count <= Self.maximumLength, utf8.first != UInt8(ascii: ".") else { return nil }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                continue
            default:
                return nil
            }
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
