import NIOCore
import STUNProtocol
import Testing

@testable import TURNCore

@Suite("STUN Binding and long-term authentication")
struct AuthenticationTests {
    @Test func bindingAnswersWithXORMappedAddressOnly() throws {
        var harness = TURNCoreHarness()
        for client in [TURNCoreHarness.client, TransportAddress(ip: IPAddress("2001:db8::99")!, port: 40000)] {
            harness.fiveTuple.client = client
            let response = try harness.exchange(harness.request(.binding, nil))
            #expect(response.message.type == STUNMessageType(method: .binding, messageClass: .successResponse))
            #expect(try response.message.get(XORMappedAddress.self)?.address == client)
            #expect(response.message.attributes.map(\.type) == [.xorMappedAddress])
        }
    }

    @Test func bindingEchoesFingerprintWhenAsked() throws {
        var harness = TURNCoreHarness()
        let response = try harness.exchange(harness.request(.binding, nil, fingerprint: true))
        #expect(response.fingerprintIsValid == true)
    }

    @Test func unauthenticatedRequestGets401WithRealmNonceAndAlgorithms() throws {
        var harness = TURNCoreHarness()
        let response = try harness.exchange(harness.request(.allocate, nil) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(response.errorCode == 401)
        #expect(try response.message.get(Realm.self)?.text == TURNCoreHarness.realm)
        let nonce = try #require(try response.message.get(Nonce.self)).text
        #expect(nonce.hasPrefix("obMatJos2"))
        #expect(nonce.utf8.count < 128)
        #expect(try response.message.get(PasswordAlgorithms.self)?.entries.count == 2)
        #expect(response.integrityKind == nil)
        #expect(harness.core.allocationCount == 0)
    }

    @Test func missingRealmOrNonceWithIntegrityIs400() throws {
        var harness = TURNCoreHarness()
        var message = STUNMessage(type: STUNMessageType(method: .allocate, messageClass: .request), transactionID: .random())
        message.add(RequestedTransport(protocolNumber: 17))
        message.add(Username("alice"))
        let key = STUNIntegrityKey.longTerm(username: "alice", realm: TURNCoreHarness.realm, password: "secret")
        let response = try harness.exchange(message.encoded(integrity: (.sha1, key)))
        #expect(response.errorCode == 400)
    }

    @Test func wrongPasswordAndUnknownUserGet401() throws {
        var harness = TURNCoreHarness()
        for credentials in [
            TURNCoreHarness.Credentials(username: "alice", password: "wrong"),
            TURNCoreHarness.Credentials(username: "mallory", password: "secret"),
        ] {
            let response = try harness.exchange(
                harness.request(.allocate, credentials) { $0.add(RequestedTransport(protocolNumber: 17)) })
            #expect(response.errorCode == 401)
        }
        #expect(harness.core.allocationCount == 0)
    }

    @Test func staleForgedAndForeignNoncesGet438() throws {
        var harness = TURNCoreHarness()
        let oldNonce = harness.nonce()
        harness.advance(seconds: 601)
        let stale = try harness.exchange(
            harness.request(.allocate, nonce: oldNonce) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(stale.errorCode == 438)
        #expect(try stale.message.get(Nonce.self)?.text != oldNonce)
        var forged = harness.nonce()
        forged.removeLast()
        forged += forged.last == "0" ? "1" : "0"
        let forgedResponse = try harness.exchange(
            harness.request(.allocate, nonce: forged) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(forgedResponse.errorCode == 438)
        let foreign = harness.nonce(for: TransportAddress(ip: IPAddress("203.0.113.9")!, port: 1))
        let foreignResponse = try harness.exchange(
            harness.request(.allocate, nonce: foreign) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(foreignResponse.errorCode == 438)
    }

    @Test func restCredentialsWorkUntilTheyExpireAndRefreshKeepsWorking() throws {
        var harness = TURNCoreHarness()
        let minted = TURNCredentials.mintREST(
            secret: TURNCoreHarness.secret, user: "carol", ttl: 60, now: harness.now.unixSeconds)
        let rest = TURNCoreHarness.Credentials(username: minted.username, password: minted.password)
        _ = try harness.allocate(rest)
        harness.advance(seconds: 120)
        // Expiry binds Allocate only: a long call keeps refreshing.
        let refresh = try harness.exchange(harness.request(.refresh, rest) { $0.add(Lifetime(seconds: 600)) })
        #expect(refresh.errorCode == nil)
        harness.fiveTuple.client.port += 1
        let expired = try harness.exchange(
            harness.request(.allocate, rest) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(expired.errorCode == 401)
        let wrongSecret = TURNCredentials.mintREST(secret: "other", user: "carol", ttl: 60, now: harness.now.unixSeconds)
        let forged = try harness.exchange(
            harness.request(.allocate, .init(username: wrongSecret.username, password: wrongSecret.password)) {
                $0.add(RequestedTransport(protocolNumber: 17))
            })
        #expect(forged.errorCode == 401)
    }

    @Test func sha256AlgorithmUserhashAndIntegritySHA256Authenticate() throws {
        var harness = TURNCoreHarness()
        var credentials = TURNCoreHarness.alice
        credentials.algorithm = .sha256
        credentials.useUserhash = true
        credentials.kind = .sha256
        let response = try harness.exchange(
            harness.request(.allocate, credentials) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(response.errorCode == nil)
        let key = STUNIntegrityKey.longTerm(username: "alice", realm: TURNCoreHarness.realm, password: "secret", algorithm: .sha256)
        #expect(response.integrityKind == .sha256)
        #expect(response.integrityIsValid(key: key) == true)
    }

    @Test func passwordAlgorithmsBidDownIs400() throws {
        var harness = TURNCoreHarness()
        var message = STUNMessage(type: STUNMessageType(method: .allocate, messageClass: .request), transactionID: .random())
        message.add(RequestedTransport(protocolNumber: 17))
        message.add(Username("alice"))
        message.add(Realm(TURNCoreHarness.realm))
        message.add(Nonce(harness.nonce()))
        message.add(PasswordAlgorithms([PasswordAlgorithmEntry(.md5)]))  // not what the server offered
        message.add(PasswordAlgorithm(PasswordAlgorithmEntry(.md5)))
        let key = STUNIntegrityKey.longTerm(username: "alice", realm: TURNCoreHarness.realm, password: "secret")
        let response = try harness.exchange(message.encoded(integrity: (.sha1, key)))
        #expect(response.errorCode == 400)
    }

    @Test func unauthorizedAnswersAreRateLimitedPerSource() throws {
        var harness = TURNCoreHarness()
        var answered = 0
        for _ in 0..<100 {
            if case .respond = harness.send(harness.request(.allocate, nil)) { answered += 1 }
        }
        #expect(answered == 20, "the default burst is 20")
        harness.advance(seconds: 1)
        if case .respond = harness.send(harness.request(.allocate, nil)) {} else { Issue.record("refilled bucket should answer") }
        harness.fiveTuple.client = TransportAddress(ip: IPAddress("198.51.100.8")!, port: 1)
        if case .respond = harness.send(harness.request(.allocate, nil)) {} else { Issue.record("another source is not limited") }
    }

    @Test func malformedRequestsGet400AndOtherPacketsAreDropped() throws {
        var harness = TURNCoreHarness()
        var bytes = Array(harness.request(.allocate, nil).readableBytesView)
        bytes += [0x00, 0x19, 0x00, 0x08, 0x11, 0, 0, 0]  // attribute runs past the end
        bytes[3] = UInt8(bytes.count - 20)
        let response = try harness.exchange(ByteBuffer(bytes: bytes))
        #expect(response.errorCode == 400)
        var indication = STUNMessage(type: STUNMessageType(method: .binding, messageClass: .indication), transactionID: .random())
        indication.add(Software("x"))
        guard case .ignore = harness.send(indication.encoded()) else { Issue.record("indications are never answered"); return }
        var corrupted = Array(harness.request(.binding, nil, fingerprint: true).readableBytesView)
        corrupted[corrupted.count - 1] ^= 1
        guard case .ignore = harness.send(ByteBuffer(bytes: corrupted)) else { Issue.record("bad fingerprint is dropped"); return }
        guard case .ignore = harness.send(ByteBuffer(bytes: [0x00, 0x01, 0x02])) else { Issue.record("runt is dropped"); return }
    }

    @Test func unknownComprehensionRequiredAttributeGets420() throws {
        var harness = TURNCoreHarness()
        let response = try harness.exchange(
            harness.request(.binding, nil) { $0.attributes.append(STUNAttribute(type: .init(rawValue: 0x0031), bytes: [1, 2, 3, 4])) })
        #expect(response.errorCode == 420)
        #expect(try response.message.get(UnknownAttributes.self)?.types == [STUNAttributeType(rawValue: 0x0031)])
        let optional = try harness.exchange(
            harness.request(.binding, nil) { $0.attributes.append(STUNAttribute(type: .init(rawValue: 0xC001), bytes: [1, 2, 3, 4])) })
        #expect(optional.errorCode == nil)
    }
}
