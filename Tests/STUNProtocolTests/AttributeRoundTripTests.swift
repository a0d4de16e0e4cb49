import NIOCore
import STUNProtocol
import Testing

/// Every attribute written by the encoder reads back equal, inside a whole message.
@Suite("Attribute round trips")
struct AttributeRoundTripTests {
    static let transactionID = TransactionID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C)
    static let v4 = TransportAddress(ip: IPAddress("192.0.2.1")!, port: 32853)
    static let v6 = TransportAddress(ip: IPAddress("2001:db8::1")!, port: 3478)

    func roundTrip<A: STUNAttributeValue>(_ attribute: A) throws -> A? {
        var message = STUNMessage(
            type: STUNMessageType(method: .allocate, messageClass: .request), transactionID: Self.transactionID)
        message.add(attribute)
        let parsed = try STUNParsedMessage(decoding: message.encoded(fingerprint: true))
        #expect(parsed.fingerprintIsValid == true)
        #expect(parsed.message.type == message.type)
        return try parsed.message.get(A.self)
    }

    @Test func addresses() throws {
        for address in [Self.v4, Self.v6] {
            #expect(try roundTrip(XORMappedAddress(address))?.address == address)
            #expect(try roundTrip(XORPeerAddress(address))?.address == address)
            #expect(try roundTrip(XORRelayedAddress(address))?.address == address)
            #expect(try roundTrip(MappedAddress(address))?.address == address)
            #expect(try roundTrip(AlternateServer(address))?.address == address)
        }
    }

    @Test func xorAddressIsNotSentInTheClear() throws {
        var buffer = ByteBuffer()
        XORPeerAddress(Self.v4).encode(into: &buffer, transactionID: Self.transactionID)
        #expect(buffer.getBytes(at: 4, length: 4) != Self.v4.ip.bytes)
        #expect(buffer.getInteger(at: 2, as: UInt16.self) == Self.v4.port ^ 0x2112)
    }

    @Test func text() throws {
        #expect(try roundTrip(Username("マトリックス")) == Username("マトリックス"))
        #expect(try roundTrip(Realm("example.org")) == Realm("example.org"))
        #expect(try roundTrip(Nonce("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA")) == Nonce("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"))
        #expect(try roundTrip(Software("switchboard")) == Software("switchboard"))
    }

    @Test func errors() throws {
        for code in STUNErrorCode.allCases {
            #expect(try roundTrip(ErrorCodeAttribute(code)) == ErrorCodeAttribute(code))
        }
        let unknown = UnknownAttributes([STUNAttributeType(rawValue: 0x0031), STUNAttributeType(rawValue: 0x7777)])
        #expect(try roundTrip(unknown) == unknown)
        let addressError = AddressErrorCode(family: .ipv6, code: .addressFamilyNotSupported)
        #expect(try roundTrip(addressError) == addressError)
    }

    @Test func turnAttributes() throws {
        #expect(try roundTrip(ChannelNumber(0x4001)) == ChannelNumber(0x4001))
        #expect(try roundTrip(Lifetime(seconds: 600)) == Lifetime(seconds: 600))
        #expect(try roundTrip(RequestedAddressFamily(.ipv6)) == RequestedAddressFamily(.ipv6))
        #expect(try roundTrip(AdditionalAddressFamily(.ipv6)) == AdditionalAddressFamily(.ipv6))
        #expect(try roundTrip(EvenPort(reserveNextPort: true)) == EvenPort(reserveNextPort: true))
        #expect(try roundTrip(EvenPort(reserveNextPort: false)) == EvenPort(reserveNextPort: false))
        #expect(try roundTrip(RequestedTransport(protocolNumber: 17)) == RequestedTransport(protocolNumber: 17))
        #expect(try roundTrip(DontFragment()) == DontFragment())
        #expect(try roundTrip(ReservationToken(0xDEAD_BEEF_0102_0304)) == ReservationToken(0xDEAD_BEEF_0102_0304))
    }

    @Test func securityAttributes() throws {
        let offered = PasswordAlgorithms([PasswordAlgorithmEntry(.sha256), PasswordAlgorithmEntry(.md5)])
        #expect(try roundTrip(offered) == offered)
        let withParameters = PasswordAlgorithm(PasswordAlgorithmEntry(algorithm: 9, parameters: [1, 2, 3]))
        #expect(try roundTrip(withParameters) == withParameters)
        let hash = Userhash.compute(username: "alice", realm: "example.org")
        #expect(hash.hash.count == 32)
        #expect(try roundTrip(hash) == hash)
    }

    @Test func dataAttributeCarriesBytesUnchanged() throws {
        var message = STUNMessage(
            type: STUNMessageType(method: .send, messageClass: .indication), transactionID: Self.transactionID)
        message.attributes.append(STUNAttribute(type: .data, bytes: [1, 2, 3, 4, 5]))
        let parsed = try STUNParsedMessage(decoding: message.encoded())
        #expect(parsed.message.attribute(.data)?.value == ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        #expect(parsed.raw.readableBytes == 20 + 4 + 8)
    }

    @Test(arguments: [
        (STUNMethod.binding, STUNClass.request, UInt16(0x0001)), (.binding, .successResponse, 0x0101),
        (.binding, .errorResponse, 0x0111), (.allocate, .request, 0x0003), (.allocate, .errorResponse, 0x0113),
        (.send, .indication, 0x0016), (.data, .indication, 0x0017), (.channelBind, .successResponse, 0x0109),
    ])
    func messageTypeBits(method: STUNMethod, messageClass: STUNClass, wire: UInt16) {
        let type = STUNMessageType(method: method, messageClass: messageClass)
        #expect(type.rawValue == wire)
        #expect(STUNMessageType(rawValue: wire) == type)
    }

    @Test func sha256IntegrityRoundTrips() throws {
        var message = STUNMessage(
            type: STUNMessageType(method: .refresh, messageClass: .request), transactionID: Self.transactionID)
        message.add(Username("alice"))
        let key = STUNIntegrityKey.longTerm(username: "alice", realm: "r", password: "p", algorithm: .sha256)
        let parsed = try STUNParsedMessage(decoding: message.encoded(integrity: (.sha256, key), fingerprint: true))
        #expect(parsed.integrityKind == .sha256)
        #expect(parsed.integrityIsValid(key: key) == true)
        #expect(parsed.fingerprintIsValid == true)
    }
}
