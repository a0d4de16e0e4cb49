/// Why bytes could not be read as a STUN message or one of its attributes.
///
/// Each case maps to what the server does about it: a 400, a 420, or a silent drop.
public enum STUNDecodingError: Error, Hashable, Sendable {
    /// Not STUN at all (wrong leading bits, cookie, or too short): drop without answering.
    case notSTUN
    /// The header is STUN but the length does not match the bytes or is not a multiple of 4.
    case badLength
    /// An attribute runs past the end of the message.
    case truncatedAttribute(STUNAttributeType)
    /// FINGERPRINT is not the last attribute, or MESSAGE-INTEGRITY is followed by something that may not follow it.
    case misplacedAttribute(STUNAttributeType)
    /// An attribute's value has the wrong size or content.
    case malformedAttribute(STUNAttributeType)
}
