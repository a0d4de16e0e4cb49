/// Keys are stored as lowercase hex, the one binary format both backends read the same way.
public enum HexKey {
    /// Lowercase hex of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes hex; a malformed string (which the schema never holds) decodes to no bytes.
    static func decode(_ text: String) -> [UInt8] {
        let nibbles = text.utf8.map { character -> UInt8? in
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        guard nibbles.count % 2 == 0, nibbles.allSatisfy({ $0 != nil }) else { return [] }
        return stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0]! << 4 | nibbles[$0 + 1]! }
    }
}
