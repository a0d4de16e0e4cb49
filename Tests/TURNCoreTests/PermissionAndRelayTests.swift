import NIOCore
import STUNProtocol
import Testing

@testable import TURNCore

@Suite("Permissions, channels, peer policy and the relay path")
struct PermissionAndRelayTests {
    static let refusedPeers = [
        "0.0.0.0", "0.1.2.3", "::", "::1", "::ffff:127.0.0.1", "::ffff:0.0.0.0", "127.0.0.1", "127.0.0.2", "10.1.2.3",
        "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "224.0.0.1", "239.255.255.250", "255.255.255.255",
        "192.0.2.55", "198.18.0.1", "203.0.113.1", "fe80::1", "fc00::1", "ff02::1", "2001:db8::1", "2002::1", "2001:0::1",
        "64:ff9b::7f00:1", "::ffff:10.0.0.1",
    ]

    @Test(arguments: refusedPeers)
    func deniedPeersGet403InEveryRequest(peer: String) throws {
        var harness = TURNCoreHarness(ipv6Relay: true)
        _ = try harness.allocate { $0.add(AdditionalAddressFamily(.ipv6)) }
        #expect(try harness.permit(peer).errorCode == 403)
        let address = TransportAddress(ip: IPAddress(peer)!, port: 9000)
        #expect(try harness.bind(0x4000, to: address).errorCode == 403)
        // Send is never answered; it must simply not be relayed.
        var send = STUNMessage(type: STUNMessageType(method: .send, messageClass: .indication), transactionID: .random())
        send.add(XORPeerAddress(address))
        send.attributes.append(STUNAttribute(type: .data, bytes: [1, 2, 3]))
        guard case .ignore = harness.send(send.encoded()) else { Issue.record("Send to \(peer) was relayed"); return }
    }

    @Test(arguments: ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
    func publicPeersArePermitted(peer: String) throws {
        var harness = TURNCoreHarness(ipv6Relay: true)
        _ = try harness.allocate { $0.add(AdditionalAddressFamily(.ipv6)) }
        #expect(try harness.permit(peer).errorCode == nil)
    }

    @Test func peerOfAFamilyWithoutARelayIs443() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate()
        #expect(try harness.permit("2606:4700::1111").errorCode == 443)
    }

    @Test func operatorListsAdjustThePolicyButNeverUnspecified() throws {
        let policy = PeerPolicy(
            allowed: [CIDR("10.0.0.0/8")!, CIDR("0.0.0.0/0")!], denied: [CIDR("10.9.0.0/16")!, CIDR("8.8.8.0/24")!],
            allowLoopback: true)
        #expect(policy.permits(IPAddress("10.1.1.1")!))
        #expect(!policy.permits(IPAddress("10.9.1.1")!))
        #expect(!policy.permits(IPAddress("8.8.8.8")!))
        #expect(policy.permits(IPAddress("127.0.0.1")!))
        #expect(policy.permits(IPAddress("::ffff:127.0.0.1")!))
        #expect(!policy.permits(IPAddress("0.0.0.0")!))
        #expect(!policy.permits(IPAddress("::")!))
        #expect(CIDR("10.0.0.1/8") == nil, "host bits set is a typo, refused")
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("fe80::/10")!.contains(IPAddress("febf::1")!))
    }

    @Test func ownRelayAddressIsAPeerOnlyAtLiveRelayPorts() throws {
        var harness = TURNCoreHarness()
        let other = TransportAddress(ip: IPAddress("198.51.100.20")!, port: 7777)
        harness.fiveTuple.client = other
        let otherRelay = try harness.allocate(TURNCoreHarness.bob)
        harness.fiveTuple.client = TURNCoreHarness.client
        _ = try harness.allocate()
        // 192.0.2.10 is a documentation address, denied by default; it is this server's relay address, so allowed.
        #expect(try harness.permit("192.0.2.10", port: otherRelay.port).errorCode == nil)
        #expect(try harness.bind(0x4001, to: TransportAddress(ip: TURNCoreHarness.relayV4, port: 22)).errorCode == 403)
        #expect(try harness.bind(0x4001, to: otherRelay).errorCode == nil)
        let toSSH = harness.core.peerDataReceived(
            allocation: allocationID(harness), from: TransportAddress(ip: TURNCoreHarness.relayV4, port: 22), payloadBytes: 10,
            nowNanoseconds: harness.now.uptimeNanoseconds)
        guard case .drop = toSSH else { Issue.record("traffic from a non-relay port of our own address must drop"); return }
    }

    @Test func channelBindingRulesAndConflicts() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate()
        let peerA = TransportAddress(ip: IPAddress("8.8.8.8")!, port: 1000)
        let peerB = TransportAddress(ip: IPAddress("8.8.4.4")!, port: 1000)
        #expect(try harness.bind(0x3FFF, to: peerA).errorCode == 400)
        #expect(try harness.bind(0x5000, to: peerA).errorCode == 400)
        #expect(try harness.bind(0x4000, to: peerA).errorCode == nil)
        #expect(try harness.bind(0x4000, to: peerA).errorCode == nil, "rebinding the same pair refreshes it")
        #expect(try harness.bind(0x4000, to: peerB).errorCode == 400, "channel already names another peer")
        #expect(try harness.bind(0x4001, to: peerA).errorCode == 400, "peer already has another channel")
        let missing = try harness.exchange(harness.request(.channelBind) { $0.add(ChannelNumber(0x4002)) })
        #expect(missing.errorCode == 400)
    }

    @Test func rfc5766RangeIsAnOptIn() throws {
        var harness = TURNCoreHarness { $0.channelNumbers = 0x4000...0x7FFF }
        _ = try harness.allocate()
        #expect(try harness.bind(0x6ADF, to: TransportAddress(ip: IPAddress("8.8.8.8")!, port: 1)).errorCode == nil)
    }

    @Test func relayPathUsesChannelDataWhenBoundElseDataIndication() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate()
        let id = allocationID(harness)
        let peer = TransportAddress(ip: IPAddress("8.8.8.8")!, port: 1000)
        let stranger = TransportAddress(ip: IPAddress("1.1.1.1")!, port: 53)
        let now = harness.now.uptimeNanoseconds
        guard case .drop = harness.core.peerDataReceived(allocation: id, from: peer, payloadBytes: 10, nowNanoseconds: now)
        else { Issue.record("no permission yet"); return }
        #expect(try harness.permit("8.8.8.8").errorCode == nil)
        guard
            case .dataIndication(let shown, let to) = harness.core.peerDataReceived(
                allocation: id, from: peer, payloadBytes: 10, nowNanoseconds: now)
        else { Issue.record("expected a Data indication"); return }
        #expect(shown == peer && to == harness.fiveTuple)
        // The largest payload whose indication's length field still holds it (4 + 8 + 4 + 65,516 = 65,532), and one
        // that would overflow it once padded (65,519 + 1 byte of padding).
        guard case .dataIndication = harness.core.peerDataReceived(allocation: id, from: peer, payloadBytes: 65_516, nowNanoseconds: now)
        else { Issue.record("a payload that fits is relayed"); return }
        guard case .drop = harness.core.peerDataReceived(allocation: id, from: peer, payloadBytes: 65_519, nowNanoseconds: now)
        else { Issue.record("a payload too large for a Data indication is dropped"); return }
        #expect(try harness.bind(0x4000, to: peer).errorCode == nil)
        guard
            case .channelData(0x4000, _) = harness.core.peerDataReceived(
                allocation: id, from: peer, payloadBytes: 10, nowNanoseconds: now)
        else { Issue.record("expected ChannelData once bound"); return }
        guard
            case .toPeer(id, peer) = harness.core.channelDataReceived(
                channel: 0x4000, payloadBytes: 10, from: harness.fiveTuple, nowNanoseconds: now)
        else { Issue.record("ChannelData goes to the bound peer"); return }
        guard
            case .drop = harness.core.channelDataReceived(
                channel: 0x4001, payloadBytes: 10, from: harness.fiveTuple, nowNanoseconds: now)
        else { Issue.record("unbound channel drops"); return }
        guard case .drop = harness.core.peerDataReceived(allocation: id, from: stranger, payloadBytes: 10, nowNanoseconds: now)
        else { Issue.record("no permission for the stranger"); return }
    }

    @Test func sendIndicationNeedsAPermission() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate()
        var send = STUNMessage(type: STUNMessageType(method: .send, messageClass: .indication), transactionID: .random())
        send.add(XORPeerAddress(TransportAddress(ip: IPAddress("8.8.8.8")!, port: 1000)))
        send.attributes.append(STUNAttribute(type: .data, bytes: [1, 2, 3]))
        guard case .ignore = harness.send(send.encoded()) else { Issue.record("no permission: dropped"); return }
        #expect(try harness.permit("8.8.8.8").errorCode == nil)
        guard case .sendToPeer(_, let peer, let payload) = harness.send(send.encoded()) else { Issue.record("relayed"); return }
        #expect(peer.port == 1000 && payload == ByteBuffer(bytes: [1, 2, 3]))
    }

    @Test func permissionsLastFiveMinutesChannelsTenAndDataRefreshesNeither() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate { $0.add(Lifetime(seconds: 3600)) }
        let id = allocationID(harness)
        let peer = TransportAddress(ip: IPAddress("8.8.8.8")!, port: 1000)
        #expect(try harness.bind(0x4000, to: peer).errorCode == nil)
        harness.advance(seconds: 299)
        guard
            case .toPeer = harness.core.channelDataReceived(
                channel: 0x4000, payloadBytes: 1, from: harness.fiveTuple, nowNanoseconds: harness.now.uptimeNanoseconds)
        else { Issue.record("still permitted at 299 s"); return }
        harness.advance(seconds: 2)
        _ = harness.core.expiryTimerFired(now: harness.now)
        guard
            case .drop = harness.core.peerDataReceived(
                allocation: id, from: peer, payloadBytes: 1, nowNanoseconds: harness.now.uptimeNanoseconds)
        else { Issue.record("the permission expired at 300 s, and ChannelData did not refresh it"); return }
        #expect(try harness.permit("8.8.8.8").errorCode == nil)
        harness.advance(seconds: 300)
        _ = harness.core.expiryTimerFired(now: harness.now)
        #expect(try harness.bind(0x4001, to: peer).errorCode == nil, "the channel expired at 600 s, so the peer is free")
    }

    @Test func bandwidthCapDropsBeyondTheRate() throws {
        var harness = TURNCoreHarness { $0.maxBytesPerSecond = 1000 }
        _ = try harness.allocate()
        let peer = TransportAddress(ip: IPAddress("8.8.8.8")!, port: 1000)
        #expect(try harness.bind(0x4000, to: peer).errorCode == nil)
        var relayed = 0
        for _ in 0..<20 {
            if case .toPeer = harness.core.channelDataReceived(
                channel: 0x4000, payloadBytes: 100, from: harness.fiveTuple, nowNanoseconds: harness.now.uptimeNanoseconds)
            {
                relayed += 1
            }
        }
        #expect(relayed == 10)
        harness.advance(seconds: 1)
        guard
            case .toPeer = harness.core.channelDataReceived(
                channel: 0x4000, payloadBytes: 100, from: harness.fiveTuple, nowNanoseconds: harness.now.uptimeNanoseconds)
        else { Issue.record("the bucket refills"); return }
    }

    private func allocationID(_ harness: TURNCoreHarness) -> AllocationID {
        harness.core.allocations[harness.fiveTuple]!.id
    }
}
