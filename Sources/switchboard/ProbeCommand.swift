import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import STUNProtocol
import Synchronization
import TURNClient
import TURNCore

/// `switchboard probe`: checks a STUN or TURN server and prints what it found.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Check a STUN or TURN server.", subcommands: [STUNProbe.self, TURNProbe.self])
}

/// Parses HOST:PORT (IPv6 in brackets), default port 3478.
func serverAddress(_ text: String) throws -> SocketAddress {
    var host = text
    var port = 3478
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = String(text[text.index(after: text.startIndex)..<close])
        let rest = text[text.index(after: close)...]
        if rest.hasPrefix(":"), let value = Int(rest.dropFirst()) { port = value }
    } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
        host = String(text[..<colon])
        guard let value = Int(text[text.index(after: colon)...]) else { throw ValidationError("bad port in '\(text)'") }
        port = value
    }
    return try SocketAddress.makeAddressResolvingHost(host, port: port)
}

struct STUNProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stun", abstract: "Send a Binding request; print the reflexive address.")

    @Argument(help: "HOST:PORT of the server.")
    var server: String

    func run() async throws {
        let address = try serverAddress(server)
        let client = try await TURNClient.connect(to: address)
        defer { Task { await client.close() } }
        let started = ContinuousClock.now
        let mapped = try await client.binding()
        print("binding: ok, reflexive address \(mapped), in \(ContinuousClock.now - started)")
    }
}

struct TURNProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turn",
        abstract: "Binding, Allocate, a permission, and a ChannelData round trip through the relay to a local UDP echo.")

    @Argument(help: "HOST:PORT of the server.")
    var server: String

    @Option(help: "TURN username (or, with --secret, the REST user name).")
    var user: String

    @Option(help: "TURN password.")
    var password: String?

    @Option(help: "A TURN REST shared secret: mint credentials for --user instead of using --password.")
    var secret: String?

    @Option(help: "Address of this machine the relay should send to (default: the reflexive address's IP).")
    var peerHost: String?

    func validate() throws {
        guard (password == nil) != (secret == nil) else { throw ValidationError("give exactly one of --password and --secret") }
    }

    func run() async throws {
        let address = try serverAddress(server)
        var username = user
        var pass = password ?? ""
        if let secret {
            (username, pass) = mintRESTCredentials(secret: secret, user: user, ttl: 600)
        }
        let echoes = Mutex<[UInt8]?>(nil)
        let client = try await TURNClient.connect(to: address, username: username, password: pass) { _, _, payload in
            echoes.withLock { $0 = Array(payload.readableBytesView) }
        }
        let mapped = try await client.binding()
        print("binding: ok, reflexive address \(mapped)")
        let relayed = try await client.allocate()
        print("allocate: ok, relayed address \(relayed)")
        let echoHost = peerHost ?? "\(mapped.ip)"
        let echo = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEchoHandler()) }
            }
            .bind(host: echoHost, port: 0).get()
        guard let echoIP = IPAddress(echoHost), let echoPort = echo.localAddress?.port else {
            throw ValidationError("--peer-host must be an IP address of this machine")
        }
        let peer = TransportAddress(ip: echoIP, port: UInt16(echoPort))
        do {
            try await client.channelBind(0x4000, to: peer)
            print("channel bind: ok, 0x4000 -> \(peer) (also installs the permission)")
            let probe: [UInt8] = Array("switchboard probe".utf8)
            let started = ContinuousClock.now
            var answered = false
            for _ in 0..<5 where !answered {
                client.sendChannelData(0x4000, ByteBuffer(bytes: probe))
                for _ in 0..<20 where !answered {
                    try await Task.sleep(for: .milliseconds(10))
                    answered = echoes.withLock { $0 } == probe
                }
            }
            guard answered else { throw TURNClientError.timeout(.data) }
            print("channel data: ok, round trip through the relay in \(ContinuousClock.now - started)")
            try await client.refresh(lifetime: 0)
            print("refresh 0: ok, allocation released")
        } catch {
            print("failed: \(error)")
            try? await echo.close()
            await client.close()
            throw ExitCode.failure
        }
        try? await echo.close()
        await client.close()
    }
}

/// Sends every datagram back to where it came from.
final class UDPEchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(wrapOutboundOut(unwrapInboundIn(data)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
