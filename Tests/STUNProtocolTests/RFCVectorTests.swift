import NIOCore
import STUNProtocol
import SwitchboardTestSupport
import Testing

@Suite("RFC 5769 and RFC 8489 test vectors")
struct RFCVectorTests {
    static let shortTerm = [STUNTestVectors.sampleRequest, STUNTestVectors.ipv4Response, STUNTestVectors.ipv6Response]

    @Test(arguments: STUNTestVectors.all.map(\.name))
    func decodesHeaderAndTransaction(name: String) throws {
        let vector = try #require(STUNTestVectors.all.first { $0.name == name })
        let parsed = try STUNParsedMessage(decoding: ByteBuffer(bytes: vector.bytes))
        #expect(parsed.message.transactionID == TransactionID(bytes: vector.transactionID))
        if let software = vector.software {
            #expect(try parsed.message.get(Software.self)?.text == software)
        }
        if let realm = vector.realm { #expect(try parsed.message.get(Realm.self)?.text == realm) }
        if let nonce = vector.nonce { #expect(try parsed.message.get(Nonce.self)?.text == nonce) }
        if let mapped = vector.mappedAddress {
            let address = try #require(try parsed.message.get(XORMappedAddress.self)).address
            #expect(address == TransportAddress(ip: try #require(IPAddress(mapped.host)), port: UInt16(mapped.port)))
        }
    }

    @Test(arguments: shortTerm.map(\.name))
    func shortTermIntegrityAndFingerprintVerify(name: String) throws {
        let vector = try #require(Self.shortTerm.first { $0.name == name })
        let parsed = try STUNParsedMessage(decoding: ByteBuffer(bytes: vector.bytes))
        #expect(parsed.fingerprintIsValid == true)
        #expect(parsed.integrityIsValid(key: .shortTerm(password: vector.preparedPassword)) == true)
        #expect(parsed.integrityIsValid(key: .shortTerm(password: "wrong")) == false)
    }

    @Test(arguments: shortTerm.map(\.name))
    func corruptedFingerprintAndIntegrityAreRejected(name: String) throws {
        let vector = try #require(Self.shortTerm.first { $0.name == name })
        var fingerprintCorrupted = vector.bytes
        fingerprintCorrupted[fingerprintCorrupted.count - 1] ^= 0x01
        let badFingerprint = try STUNParsedMessage(decoding: ByteBuffer(bytes: fingerprintCorrupted))
        #expect(badFingerprint.fingerprintIsValid == false)

        // Flip one bit in the transaction id: both integrity and fingerprint must fail.
        var bodyCorrupted = vector.bytes
        bodyCorrupted[10] ^= 0x40
        let badBody = try STUNParsedMessage(decoding: ByteBuffer(bytes: bodyCorrupted))
        #expect(badBody.fingerprintIsValid == false)
        #expect(badBody.integrityIsValid(key: .shortTerm(password: vector.preparedPassword)) == false)
    }

    @Test func longTermRequestVerifiesWithMD5Key() throws {
        let vector = STUNTestVectors.longTermRequest
        let parsed = try STUNParsedMessage(decoding: ByteBuffer(bytes: vector.bytes))
        let username = try #require(try parsed.message.get(Username.self)).text
        #expect(username == vector.username)
        let key = STUNIntegrityKey.longTerm(
            username: username, realm: try #require(vector.realm), password: vector.preparedPassword)
        #expect(parsed.integrityKind == .sha1)
        #expect(parsed.integrityIsValid(key: key) == true)
        let wrong = STUNIntegrityKey.longTerm(username: username, realm: "example.org", password: "TheMatrix")
        #expect(parsed.integrityIsValid(key: wrong) == false)
        #expect(parsed.fingerprintIsValid == nil)
    }

    @Test func longTermRequestReencodesByteForByte() throws {
        let vector = STUNTestVectors.longTermRequest
        let parsed = try STUNParsedMessage(decoding: ByteBuffer(bytes: vector.bytes))
        let key = STUNIntegrityKey.longTerm(
            username: try #require(vector.username), realm: try #require(vector.realm), password: vector.preparedPassword)
        let encoded = parsed.message.encoded(integrity: (.sha1, key))
        #expect(Array(encoded.readableBytesView) == vector.bytes)
    }

    @Test func rfc8489UserhashAndSHA256IntegrityVerify() throws {
        let vector = STUNTestVectors.sha256UserhashRequest
        let parsed = try STUNParsedMessage(decoding: ByteBuffer(bytes: vector.bytes))
        let username = try #require(vector.username)
        let realm = try #require(vector.realm)
        #expect(try parsed.message.get(Userhash.self) == Userhash.compute(username: username, realm: realm))
        #expect(try parsed.message.get(PasswordAlgorithm.self)?.entry == PasswordAlgorithmEntry(.sha256))
        #expect(parsed.integrityKind == .sha256)
        let key = STUNIntegrityKey.longTerm(
            username: username, realm: realm, password: vector.preparedPassword, algorithm: .sha256)
        #expect(parsed.integrityIsValid(key: key) == true)
        let md5Key = STUNIntegrityKey.longTerm(username: username, realm: realm, password: vector.preparedPassword)
        #expect(parsed.integrityIsValid(key: md5Key) == false)
    }

    @Test func rfc8489AsPublishedIsRejected() {
        // Erratum 6268: the printed length field counts the header, so the message does not parse.
        #expect(throws: STUNDecodingError.badLength) {
            try STUNParsedMessage(decoding: ByteBuffer(bytes: STUNTestVectors.sha256UserhashRequestAsPublished.bytes))
        }
    }

    @Test func reencodedResponseVerifiesWithTheSameKey() throws {
        // §2.2 pads SOFTWARE with 0x20 where we write zeros, so compare meaning, then check our own MAC and CRC.
        let vector = STUNTestVectors.ipv4Response
        let parsed = try STUNParsedMessage(decoding: ByteBuffer(bytes: vector.bytes))
        let key = STUNIntegrityKey.shortTerm(password: vector.preparedPassword)
        let encoded = parsed.message.encoded(integrity: (.sha1, key), fingerprint: true)
        #expect(encoded.readableBytes == vector.bytes.count)
        let reparsed = try STUNParsedMessage(decoding: encoded)
        #expect(reparsed.fingerprintIsValid == true)
        #expect(reparsed.integrityIsValid(key: key) == true)
        #expect(try reparsed.message.get(XORMappedAddress.self) == parsed.message.get(XORMappedAddress.self))
        #expect(try reparsed.message.get(Software.self) == parsed.message.get(Software.self))
    }
}
