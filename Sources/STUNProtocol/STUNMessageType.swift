/// A STUN method (RFC 8489 §5, RFC 8656 §17): the 12-bit operation a message performs.
public struct STUNMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 12-bit method number.
    public var rawValue: UInt16

    /// Creates a method from its number (only the low 12 bits are kept).
    public init(rawValue: UInt16) {
        self.rawValue = rawValue & 0x0FFF
    }

    /// Binding (RFC 8489).
    public static let binding = STUNMethod(rawValue: 0x001)
    /// Allocate (RFC 8656 §7).
    public static let allocate = STUNMethod(rawValue: 0x003)
    /// Refresh (RFC 8656 §8).
    public static let refresh = STUNMethod(rawValue: 0x004)
    /// Send, indication only (RFC 8656 §11).
    public static let send = STUNMethod(rawValue: 0x006)
    /// Data, indication only (RFC 8656 §11).
    public static let data = STUNMethod(rawValue: 0x007)
    /// CreatePermission (RFC 8656 §10).
    public static let createPermission = STUNMethod(rawValue: 0x008)
    /// ChannelBind (RFC 8656 §12).
    public static let channelBind = STUNMethod(rawValue: 0x009)

    public var description: String {
        switch self {
        case .binding: "Binding"
        case .allocate: "Allocate"
        case .refresh: "Refresh"
        case .send: "Send"
        case .data: "Data"
        case .createPermission: "CreatePermission"
        case .channelBind: "ChannelBind"
        default: "method 0x" + String(rawValue, radix: 16)
        }
    }
}

/// The class of a STUN message (RFC 8489 §5).
public enum STUNClass: UInt16, Hashable, Sendable {
    /// A request, answered by a success or error response.
    case request = 0b00
    /// An indication, never answered.
    case indication = 0b01
    /// A success response.
    case successResponse = 0b10
    /// An error response.
    case errorResponse = 0b11
}

/// The message type field: a method and a class, whose bits are interleaved on the wire.
public struct STUNMessageType: Hashable, Sendable, CustomStringConvertible {
    /// The method.
    public var method: STUNMethod
    /// The class.
    public var messageClass: STUNClass

    /// Creates a message type.
    public init(method: STUNMethod, messageClass: STUNClass) {
        self.method = method
        self.messageClass = messageClass
    }

    /// The 14-bit wire value (M11..M7 C1 M6..M4 C0 M3..M0).
    public var rawValue: UInt16 {
        let m = method.rawValue
        let c = messageClass.rawValue
        return (m & 0x000F) | ((c & 0b01) << 4) | ((m & 0x0070) << 1) | ((c & 0b10) << 7) | ((m & 0x0F80) << 2)
    }

    /// Splits a wire value (top two bits already known to be zero) into method and class.
    public init(rawValue: UInt16) {
        let method = (rawValue & 0x000F) | ((rawValue >> 1) & 0x0070) | ((rawValue >> 2) & 0x0F80)
        let classBits = ((rawValue >> 4) & 0b01) | ((rawValue >> 7) & 0b10)
        self.method = STUNMethod(rawValue: method)
        self.messageClass = STUNClass(rawValue: classBits)!
    }

    /// The success or error response type answering a request of this method.
    public func response(_ messageClass: STUNClass) -> STUNMessageType {
        STUNMessageType(method: method, messageClass: messageClass)
    }

    public var description: String { "\(method) \(messageClass)" }
}
