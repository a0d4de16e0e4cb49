import NIOCore
import STUNProtocol
import Testing

@testable import TURNCore

/// Drives one `TURNServerCore` with a hand-moved clock and crafted requests.
struct TURNCoreHarness {
    static let realm = "example.org"
    static let relayV4 = IPAddress("192.0.2.10")!
    static let relayV6 = IPAddress("2001:db8::10")!
    static let client = TransportAddress(ip: IPAddress("198.51.100.7")!, port: 5000)
    static let server = TransportAddress(ip: relayV4, port: 3478)
    static let secret = "s3cr3t"

    var core: TURNServerCore
    var now = TURNInstant(uptimeNanoseconds: 5_000_000_000, unixSeconds: 1_800_000_000)
    var fiveTuple = FiveTuple(client: client, server: server, transport: .udp)
    let ports: RelayPortRegistry
    let quota: AllocationQuota

    init(
        ipv6Relay: Bool = false, relayPorts: ClosedRange<UInt16> = 50000...50099, userQuota: Int = 2,
        configure: (inout TURNConfiguration) -> Void = { _ in }
    ) {
        var configuration = TURNConfiguration()
        configuration.realm = Self.realm
        configuration.relayAddresses[.ipv4] = RelayAddress(bind: Self.relayV4)
        if ipv6Relay { configuration.relayAddresses[.ipv6] = RelayAddress(bind: Self.relayV6) }
        configuration.userQuota = userQuota
        configure(&configuration)
        ports = RelayPortRegistry(range: relayPorts)
        quota = AllocationQuota(perUser: configuration.userQuota, total: configuration.totalQuota)
        core = TURNServerCore(
            configuration: configuration,
            credentials: TURNCredentials(
                realm: Self.realm, users: [("alice", "secret"), ("bob", "hunter2")], secrets: [Self.secret]),
            nonces: NonceIssuer(secret: Array("nonce-secret".utf8), lifetime: 600), ports: ports, quota: quota,
            random: TURNRandom(seed: 42))
    }

    mutating func advance(seconds: Int) {
        now = now.adding(seconds: seconds)
    }

    /// Credentials a request is signed with.
    struct Credentials {
        var username: String
        var password: String
        var algorithm = STUNPasswordAlgorithm.md5
        var useUserhash = false
        var kind = STUNIntegrityKind.sha1
    }

    static let alice = Credentials(username: "alice", password: "secret")
    static let bob = Credentials(username: "bob", password: "hunter2")

    /// A fresh nonce, as a 401 would hand out.
    func nonce(for client: TransportAddress? = nil) -> String {
        core.nonces.issue(for: (client ?? fiveTuple.client).ip, now: now.unixSeconds)
    }

    /// Builds a request, signed unless `credentials` is nil.
    func request(
        _ method: STUNMethod, _ credentials: Credentials? = alice, nonce: String? = nil,
        transactionID: TransactionID = .random(), fingerprint: Bool = false, build: (inout STUNMessage) -> Void = { _ in }
    ) -> ByteBuffer {
        var message = STUNMessage(type: STUNMessageType(method: method, messageClass: .request), transactionID: transactionID)
        build(&message)
        guard let credentials else { return message.encoded(fingerprint: fingerprint) }
        if credentials.useUserhash {
            message.add(Userhash.compute(username: credentials.username, realm: Self.realm))
        } else {
            message.add(Username(credentials.username))
        }
        message.add(Realm(Self.realm))
        message.add(Nonce(nonce ?? self.nonce()))
        if credentials.algorithm != .md5 {
            message.add(PasswordAlgorithms([PasswordAlgorithmEntry(.md5), PasswordAlgorithmEntry(.sha256)]))
            message.add(PasswordAlgorithm(PasswordAlgorithmEntry(credentials.algorithm)))
        }
        let key = STUNIntegrityKey.longTerm(
            username: credentials.username, realm: Self.realm, password: credentials.password,
            algorithm: credentials.algorithm)
        return message.encoded(integrity: (credentials.kind, key), fingerprint: fingerprint)
    }

    mutating func send(_ packet: ByteBuffer) -> TURNOutcome {
        core.stunReceived(packet, from: fiveTuple, now: now)
    }

    /// Sends a request and returns the decoded response (failing the test when there is none).
    mutating func exchange(_ packet: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) throws -> STUNParsedMessage {
        switch send(packet) {
        case .respond(let bytes), .respondAndClose(let bytes, _):
            return try STUNParsedMessage(decoding: bytes)
        case .openRelays(let pending):
            let opened = core.relaysOpened(pending.id, now: now)
            let response = try #require(opened, sourceLocation: sourceLocation)
            return try STUNParsedMessage(decoding: response)
        default:
            Issue.record("no response", sourceLocation: sourceLocation)
            throw TURNOutcomeMissing()
        }
    }

    /// Allocates for the current 5-tuple and returns the relayed address.
    mutating func allocate(
        _ credentials: Credentials = alice, sourceLocation: SourceLocation = #_sourceLocation,
        build: (inout STUNMessage) -> Void = { _ in }
    ) throws -> TransportAddress {
        let response = try exchange(
            request(.allocate, credentials) { message in
                message.add(RequestedTransport(protocolNumber: 17))
                build(&message)
            }, sourceLocation: sourceLocation)
        #expect(response.message.type.messageClass == .successResponse, sourceLocation: sourceLocation)
        return try #require(try response.message.get(XORRelayedAddress.self), sourceLocation: sourceLocation).address
    }

    mutating func permit(_ peer: String, port: UInt16 = 9000) throws -> STUNParsedMessage {
        let address = TransportAddress(ip: IPAddress(peer)!, port: port)
        return try exchange(request(.createPermission) { $0.add(XORPeerAddress(address)) })
    }

    mutating func bind(_ channel: UInt16, to peer: TransportAddress) throws -> STUNParsedMessage {
        try exchange(
            request(.channelBind) { message in
                message.add(ChannelNumber(channel))
                message.add(XORPeerAddress(peer))
            })
    }
}

struct TURNOutcomeMissing: Error {}

extension STUNParsedMessage {
    /// The error code, or nil for a success.
    var errorCode: Int? {
        (try? message.get(ErrorCodeAttribute.self))?.code
    }
}
