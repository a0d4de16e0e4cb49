import NIOCore
import NIOPosix
import STUNProtocol
import Synchronization

/// Why a TURN client operation failed.
public enum TURNClientError: Error, Equatable, CustomStringConvertible {
    /// No answer after every retransmission.
    case timeout(STUNMethod)
    /// The server answered with an error.
    case errorResponse(STUNMethod, code: Int, reason: String)
    /// The answer was not what the protocol promises.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .timeout(let method): "\(method): no response"
        case .errorResponse(let method, let code, let reason): "\(method): error \(code) \(reason)"
        case .protocolViolation(let what): "protocol violation: \(what)"
        }
    }
}

/// A minimal STUN/TURN client over UDP (RFC 8489 retransmission, RFC 8656 long-term credentials), for
/// `switchboard probe`, `switchboard bench turn` and the tests.
///
/// Data received from the relay (ChannelData or Data indications) goes to `onData`, called on the channel's event
/// loop.
public final class TURNClient: Sendable {
    /// The UDP socket.
    public let channel: any Channel
    /// The server's address.
    public let server: SocketAddress
    private let credentials: Mutex<(username: String, password: String, realm: String?, nonce: String?)>

    private init(channel: any Channel, server: SocketAddress, username: String, password: String) {
        self.channel = channel
        self.server = server
        self.credentials = Mutex((username, password, nil, nil))
    }

    /// Opens a UDP socket (bound to an ephemeral port on `localHost`) towards `server`; `receiveBuffer` sets
    /// SO_RCVBUF (load tools raise it so they do not drop what the server relays).
    public static func connect(
        to server: SocketAddress, username: String = "", password: String = "", localHost: String? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, receiveBuffer: Int? = nil,
        onData: @escaping @Sendable (_ channel: UInt16?, _ peer: TransportAddress?, _ payload: ByteBuffer) -> Void = { _, _, _ in }
    ) async throws -> TURNClient {
        let host = localHost ?? (server.protocol == .inet6 ? "::" : "0.0.0.0")
        var bootstrap = DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
        if let receiveBuffer { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: receiveBuffer) }
        let channel =
            try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TURNClientHandler(onData: onData))
                }
            }
            .bind(host: host, port: 0).get()
        return TURNClient(channel: channel, server: server, username: username, password: password)
    }

    /// Closes the socket.
    public func close() async {
        try? await channel.close()
    }

    /// Sends a request and waits for its response, retransmitting as RFC 8489 §6.2.1 says (RTO doubling from
    /// `rto`, 500 ms by default, `attempts` sends in all).
    public func transact(
        _ message: STUNMessage, integrity: (kind: STUNIntegrityKind, key: STUNIntegrityKey)? = nil,
        rto: TimeAmount = .milliseconds(500), attempts: Int = 6
    ) async throws -> STUNParsedMessage {
        let bytes = message.encoded(integrity: integrity, fingerprint: true)
        let promise = channel.eventLoop.makePromise(of: STUNParsedMessage.self)
        let transaction = message.transactionID
        let server = self.server
        let channel = self.channel
        let method = message.type.method
        channel.eventLoop.execute {
            guard let handler = try? channel.pipeline.syncOperations.handler(type: TURNClientHandler.self) else {
                promise.fail(ChannelError.ioOnClosedChannel)
                return
            }
            handler.pending[transaction] = promise
            var delay = rto
            func send(_ remaining: Int) {
                guard handler.pending[transaction] != nil else { return }
                guard remaining > 0 else {
                    handler.pending[transaction] = nil
                    promise.fail(TURNClientError.timeout(method))
                    return
                }
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: bytes), promise: nil)
                let wait = delay
                delay = delay * 2
                channel.eventLoop.assumeIsolated().scheduleTask(in: wait) { send(remaining - 1) }
            }
            send(attempts)
        }
        return try await promise.futureResult.get()
    }

    /// A request signed with the long-term credentials, answering the 401/438 dance (RFC 8489 §9.2.3).
    public func authenticatedRequest(_ method: STUNMethod, build: (inout STUNMessage) -> Void) async throws -> STUNParsedMessage {
        for _ in 0..<3 {
            var message = STUNMessage(type: STUNMessageType(method: method, messageClass: .request), transactionID: .random())
            build(&message)
            let state = credentials.withLock { $0 }
            var integrity: (kind: STUNIntegrityKind, key: STUNIntegrityKey)? = nil
            if let realm = state.realm, let nonce = state.nonce {
                message.add(Username(state.username))
                message.add(Realm(realm))
                message.add(Nonce(nonce))
                integrity = (.sha1, .longTerm(username: state.username, realm: realm, password: state.password))
            }
            let response = try await transact(message, integrity: integrity)
            guard response.message.type.messageClass == .errorResponse else { return response }
            let error = try response.message.get(ErrorCodeAttribute.self)
            if let code = error?.code, code == 401 || code == 438, let nonce = try response.message.get(Nonce.self) {
                let realm = try response.message.get(Realm.self)?.text ?? state.realm
                let hadCredentials = state.nonce != nil
                credentials.withLock {
                    $0.nonce = nonce.text
                    $0.realm = realm
                }
                if code == 438 || !hadCredentials { continue }
            }
            throw TURNClientError.errorResponse(method, code: error?.code ?? 0, reason: error?.reason ?? "")
        }
        throw TURNClientError.protocolViolation("\(method) kept being challenged")
    }

    /// Binding: the reflexive address the server sees.
    public func binding() async throws -> TransportAddress {
        let response = try await transact(
            STUNMessage(type: STUNMessageType(method: .binding, messageClass: .request), transactionID: .random()))
        guard let mapped = try response.message.get(XORMappedAddress.self) else {
            throw TURNClientError.protocolViolation("Binding response without XOR-MAPPED-ADDRESS")
        }
        return mapped.address
    }

    /// Allocate: the relayed address (of `family` when given, else the server's default family).
    public func allocate(lifetime: UInt32? = nil, family: AddressFamily? = nil) async throws -> TransportAddress {
        let response = try await authenticatedRequest(.allocate) { message in
            message.add(RequestedTransport(protocolNumber: RequestedTransport.udp))
            if let lifetime { message.add(Lifetime(seconds: lifetime)) }
            if let family { message.add(RequestedAddressFamily(family)) }
        }
        guard let relayed = try response.message.get(XORRelayedAddress.self) else {
            throw TURNClientError.protocolViolation("Allocate response without XOR-RELAYED-ADDRESS")
        }
        return relayed.address
    }

    /// Refresh; lifetime 0 releases the allocation.
    public func refresh(lifetime: UInt32) async throws {
        _ = try await authenticatedRequest(.refresh) { $0.add(Lifetime(seconds: lifetime)) }
    }

    /// CreatePermission for a peer.
    public func createPermission(_ peer: TransportAddress) async throws {
        _ = try await authenticatedRequest(.createPermission) { $0.add(XORPeerAddress(peer)) }
    }

    /// ChannelBind a channel to a peer.
    public func channelBind(_ number: UInt16, to peer: TransportAddress) async throws {
        _ = try await authenticatedRequest(.channelBind) { message in
            message.add(ChannelNumber(number))
            message.add(XORPeerAddress(peer))
        }
    }

    /// Sends ChannelData on a bound channel.
    public func sendChannelData(_ number: UInt16, _ payload: ByteBuffer) {
        var buffer = channel.allocator.buffer(capacity: payload.readableBytes + 4)
        ChannelData.write(channel: number, payload: payload, padded: false, into: &buffer)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: buffer), promise: nil)
    }

    /// Sends a Send indication to a peer.
    public func sendIndication(to peer: TransportAddress, _ payload: ByteBuffer) {
        var message = STUNMessage(type: STUNMessageType(method: .send, messageClass: .indication), transactionID: .random())
        message.add(XORPeerAddress(peer))
        message.attributes.append(STUNAttribute(type: .data, value: payload))
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: message.encoded()), promise: nil)
    }
}

/// Matches responses to transactions and hands relayed data to the client's callback.
final class TURNClientHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    var pending: [TransactionID: EventLoopPromise<STUNParsedMessage>] = [:]
    let onData: @Sendable (UInt16?, TransportAddress?, ByteBuffer) -> Void

    init(onData: @escaping @Sendable (UInt16?, TransportAddress?, ByteBuffer) -> Void) {
        self.onData = onData
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).data
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else { return }
        if ChannelData.isChannelData(firstByte: first, rfc5766Range: true) {
            if let (number, payload) = ChannelData.parseDatagram(bytes) { onData(number, nil, payload) }
            return
        }
        guard let parsed = try? STUNParsedMessage(decoding: bytes) else { return }
        if parsed.message.type == STUNMessageType(method: .data, messageClass: .indication) {
            if let data = parsed.message.attribute(.data) {
                onData(nil, try? parsed.message.get(XORPeerAddress.self)?.address, data.value)
            }
            return
        }
        pending.removeValue(forKey: parsed.message.transactionID)?.succeed(parsed)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors on a connected-less socket: keep waiting for retransmissions.
    }
}
