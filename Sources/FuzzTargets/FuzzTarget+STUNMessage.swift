import NIOCore
import STUNProtocol

extension FuzzTarget {
    /// One datagram as `TURNServerCore.stunReceived` gets it: the message, every attribute, integrity and fingerprint.
    public static let stunMessage = FuzzTarget(
        name: "stun-message", maximumInputLength: 4096,
        summary: "STUNParsedMessage and every attribute reader; re-encoding keeps what was read, integrity verifies",
        run: STUNMessageFuzzing.run)
}

/// The checks behind ``FuzzTarget/stunMessage``.
enum STUNMessageFuzzing {
    /// The RFC 5769 short-term password, so seeds built from its vectors verify.
    static let key = STUNIntegrityKey.shortTerm(password: "VOkJxbRl1RmTxUk/WvJxBt")

    /// The attributes the encoder computes rather than copies.
    static let computed: Set<STUNAttributeType> = [.messageIntegrity, .messageIntegritySHA256, .fingerprint]

    static func run(_ input: [UInt8]) throws(FuzzPropertyViolation) {
        let buffer = ByteBuffer(bytes: input)
        let size = STUNParsedMessage.messageSize(peekingAt: buffer)
        let outcome = decode(buffer)
        // The framer's size and the decoder agree: a header the framer sizes to exactly these bytes is a message.
        switch outcome {
        case .success:
            try require(size == .some(.some(input.count)), "decoded, but messageSize says \(String(describing: size))")
        case .failure(let error):
            if size == .some(.some(input.count)) {
                try require(error != .notSTUN && error != .badLength, "messageSize fits, but decoding says \(error)")
            }
        }
        // The reader index is where a message starts: bytes before it change nothing.
        var shifted = ByteBuffer(bytes: Array(repeating: 0xA5, count: 1 + input.count % 3) + input)
        shifted.moveReaderIndex(forwardBy: 1 + input.count % 3)
        try require(decode(shifted) == outcome, "decoding depends on the reader index")

        guard case .success = outcome, let parsed = try? STUNParsedMessage(decoding: buffer) else { return }
        _ = parsed.message.unknownComprehensionRequiredTypes
        for attribute in parsed.message.attributes {
            try checkAttribute(attribute, transactionID: parsed.message.transactionID)
        }
        // STUNMessage.encode traps past 65,535 bytes; nothing re-encodes a received message, and UDP cannot carry one.
        if input.count <= 60_000 {
            try checkReencoding(parsed)
        }
    }

    /// What a decode found, comparable across buffers.
    struct Summary: Equatable {
        var message: STUNMessage
        var offsets: [Int?]
        var fingerprintIsValid: Bool?
        var integrityIsValid: Bool?
        var integrityKind: STUNIntegrityKind?
    }

    static func decode(_ buffer: ByteBuffer) -> Result<Summary, STUNDecodingError> {
        do {
            let parsed = try STUNParsedMessage(decoding: buffer)
            return .success(
                Summary(
                    message: parsed.message,
                    offsets: [parsed.integrityOffset, parsed.integritySHA256Offset, parsed.fingerprintOffset],
                    fingerprintIsValid: parsed.fingerprintIsValid, integrityIsValid: parsed.integrityIsValid(key: key),
                    integrityKind: parsed.integrityKind))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes the attribute with its type's reader, if it has one.
    static func checkAttribute(_ attribute: STUNAttribute, transactionID: TransactionID) throws(FuzzPropertyViolation) {
        let value = attribute.value
        switch attribute.type {
        case .mappedAddress: try roundTrip(MappedAddress.self, value, transactionID)
        case .xorMappedAddress: try roundTrip(XORMappedAddress.self, value, transactionID)
        case .xorPeerAddress: try roundTrip(XORPeerAddress.self, value, transactionID)
        case .xorRelayedAddress: try roundTrip(XORRelayedAddress.self, value, transactionID)
        case .alternateServer: try roundTrip(AlternateServer.self, value, transactionID)
        case .username: try textRoundTrip(Username.self, value, transactionID)
        case .realm: try textRoundTrip(Realm.self, value, transactionID)
        case .nonce: try textRoundTrip(Nonce.self, value, transactionID)
        case .software: try textRoundTrip(Software.self, value, transactionID)
        case .errorCode: try roundTrip(ErrorCodeAttribute.self, value, transactionID)
        case .unknownAttributes: try roundTrip(UnknownAttributes.self, value, transactionID)
        case .addressErrorCode: try roundTrip(AddressErrorCode.self, value, transactionID)
        case .channelNumber: try roundTrip(ChannelNumber.self, value, transactionID)
        case .lifetime: try roundTrip(Lifetime.self, value, transactionID)
        case .requestedAddressFamily: try roundTrip(RequestedAddressFamily.self, value, transactionID)
        case .additionalAddressFamily: try roundTrip(AdditionalAddressFamily.self, value, transactionID)
        case .evenPort: try roundTrip(EvenPort.self, value, transactionID)
        case .requestedTransport: try roundTrip(RequestedTransport.self, value, transactionID)
        case .dontFragment: try roundTrip(DontFragment.self, value, transactionID)
        case .reservationToken: try roundTrip(ReservationToken.self, value, transactionID)
        case .passwordAlgorithms: try roundTrip(PasswordAlgorithms.self, value, transactionID)
        case .passwordAlgorithm: try roundTrip(PasswordAlgorithm.self, value, transactionID)
        case .userhash: try roundTrip(Userhash.self, value, transactionID)
        default: break
        }
    }

    /// An attribute the reader accepts is written by its encoder so that the reader finds the same value again.
    @discardableResult
    static func roundTrip<A: STUNAttributeValue>(
        _: A.Type, _ value: ByteBuffer, _ transactionID: TransactionID
    ) throws(FuzzPropertyViolation) -> ByteBuffer? {
        guard let decoded = try? A(decoding: value, transactionID: transactionID) else { return nil }
        var encoded = ByteBuffer()
        decoded.encode(into: &encoded, transactionID: transactionID)
        let again: A
        do {
            again = try A(decoding: encoded, transactionID: transactionID)
        } catch {
            throw FuzzPropertyViolation("\(A.self) \(decoded) encodes to bytes its reader refuses (\(error))")
        }
        try require(again == decoded, "\(A.self) \(decoded) reads back as \(again)")
        return encoded
    }

    /// Text is UTF-8 on the wire both ways, so an accepted value encodes to exactly the bytes received.
    static func textRoundTrip<A: STUNTextAttribute>(
        _: A.Type, _ value: ByteBuffer, _ transactionID: TransactionID
    ) throws(FuzzPropertyViolation) {
        guard let encoded = try roundTrip(A.self, value, transactionID) else { return }
        try require(encoded == value, "\(A.self) accepted \(Array(value.readableBytesView)) but encodes it differently")
    }

    /// The message encodes again with what was read, and the encoder's integrity and fingerprint verify.
    static func checkReencoding(_ parsed: STUNParsedMessage) throws(FuzzPropertyViolation) {
        let message = parsed.message
        let kept = message.attributes.filter { !computed.contains($0.type) }
        let protections: [(kind: STUNIntegrityKind, key: STUNIntegrityKey)?] = [nil, (.sha1, key), (.sha256, key)]
        for protection in protections {
            let encoded = message.encoded(integrity: protection, fingerprint: true)
            let again: STUNParsedMessage
            do {
                again = try STUNParsedMessage(decoding: encoded)
            } catch {
                throw FuzzPropertyViolation("re-encoded message does not decode (\(error))")
            }
            try require(again.message.type == message.type, "re-encoded type \(again.message.type) != \(message.type)")
            try require(again.message.transactionID == message.transactionID, "re-encoded transaction id differs")
            try require(again.message.attributes.filter { !computed.contains($0.type) } == kept, "re-encoded attributes differ")
            try require(again.fingerprintIsValid == true, "the encoder's FINGERPRINT does not verify")
            try require(again.integrityKind == protection?.kind, "re-encoded integrity kind \(String(describing: again.integrityKind))")
            if let protection {
                try require(
                    again.integrityIsValid(key: protection.key) == true, "the encoder's \(protection.kind) integrity does not verify")
            }
        }
    }
}
