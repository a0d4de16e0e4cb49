import NIOCore
import STUNProtocol
import Testing

@testable import TURNCore

@Suite("Allocate (RFC 8656 §7.2) and Refresh")
struct AllocateTests {
    @Test func successCarriesRelayLifetimeMappedAddressAndIntegrity() throws {
        var harness = TURNCoreHarness()
        let response = try harness.exchange(
            harness.request(.allocate) { $0.add(RequestedTransport(protocolNumber: 17)) })
        let relayed = try #require(try response.message.get(XORRelayedAddress.self)).address
        #expect(relayed.ip == TURNCoreHarness.relayV4)
        #expect((50000...50099).contains(relayed.port))
        #expect(try response.message.get(Lifetime.self)?.seconds == 600)
        #expect(try response.message.get(XORMappedAddress.self)?.address == TURNCoreHarness.client)
        let key = STUNIntegrityKey.longTerm(username: "alice", realm: TURNCoreHarness.realm, password: "secret")
        #expect(response.integrityIsValid(key: key) == true)
        #expect(harness.core.allocationCount == 1)
        #expect(harness.quota.count == 1)
        #expect(harness.ports.isLive(family: .ipv4, port: relayed.port))
    }

    @Test func retransmittedAllocateGetsTheSameBytesAndNoSecondAllocation() throws {
        var harness = TURNCoreHarness()
        let id = TransactionID.random()
        let packet = harness.request(.allocate, transactionID: id) { $0.add(RequestedTransport(protocolNumber: 17)) }
        guard case .openRelays(let pending) = harness.send(packet) else { Issue.record("expected openRelays"); return }
        guard case .ignore = harness.send(packet) else { Issue.record("a retransmission while binding is dropped"); return }
        let opened = harness.core.relaysOpened(pending.id, now: harness.now)
        let first = try #require(opened)
        guard case .respond(let again) = harness.send(packet) else { Issue.record("expected the cached answer"); return }
        #expect(again == first)
        #expect(harness.core.allocationCount == 1)
        #expect(harness.quota.count == 1)
    }

    /// Every §7.2 check and its code, one row each.
    @Test(arguments: [
        ("no REQUESTED-TRANSPORT", 400),
        ("TCP transport", 442),
        ("RESERVATION-TOKEN with EVEN-PORT", 400),
        ("both family attributes", 400),
        ("IPv6 without an IPv6 relay", 440),
        ("ADDITIONAL-ADDRESS-FAMILY IPv4", 400),
        ("EVEN-PORT R with ADDITIONAL", 400),
        ("unknown RESERVATION-TOKEN", 508),
        ("malformed LIFETIME-free EVEN-PORT", 400),
    ])
    func allocateChecks(name: String, code: Int) throws {
        var harness = TURNCoreHarness()
        let response = try harness.exchange(
            harness.request(.allocate) { message in
                switch name {
                case "no REQUESTED-TRANSPORT": break
                case "TCP transport": message.add(RequestedTransport(protocolNumber: 6))
                case "RESERVATION-TOKEN with EVEN-PORT":
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.add(ReservationToken(1))
                    message.add(EvenPort(reserveNextPort: false))
                case "both family attributes":
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.add(RequestedAddressFamily(.ipv4))
                    message.add(AdditionalAddressFamily(.ipv6))
                case "IPv6 without an IPv6 relay":
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.add(RequestedAddressFamily(.ipv6))
                case "ADDITIONAL-ADDRESS-FAMILY IPv4":
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.add(AdditionalAddressFamily(.ipv4))
                case "EVEN-PORT R with ADDITIONAL":
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.add(EvenPort(reserveNextPort: true))
                    message.add(AdditionalAddressFamily(.ipv6))
                case "unknown RESERVATION-TOKEN":
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.add(ReservationToken(0xABCD))
                default:
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.attributes.append(STUNAttribute(type: .evenPort, bytes: [0x80, 0, 0, 0]))
                }
            })
        #expect(response.errorCode == code, "\(name)")
        #expect(harness.core.allocationCount == 0)
        #expect(harness.quota.count == 0, "a refused Allocate holds no quota")
    }

    @Test func secondAllocateOnTheSameFiveTupleIs437() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate()
        let response = try harness.exchange(harness.request(.allocate) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(response.errorCode == 437)
    }

    @Test func quotaPerUserIs486AndCountsRESTUsersByName() throws {
        var harness = TURNCoreHarness(userQuota: 2)
        for port in UInt16(6000)..<6002 {
            harness.fiveTuple.client.port = port
            _ = try harness.allocate()
        }
        harness.fiveTuple.client.port = 6002
        let response = try harness.exchange(harness.request(.allocate) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(response.errorCode == 486)
        // Another user is not affected.
        _ = try harness.allocate(TURNCoreHarness.bob)
        #expect(AllocationQuota.quotaName("1800000000:carol") == "carol")
        #expect(AllocationQuota.quotaName("alice") == "alice")
    }

    @Test func exhaustedPortRangeIs508() throws {
        var harness = TURNCoreHarness(relayPorts: 50000...50001, userQuota: 0)
        for port in UInt16(6000)..<6002 {
            harness.fiveTuple.client.port = port
            _ = try harness.allocate()
        }
        harness.fiveTuple.client.port = 6002
        let response = try harness.exchange(harness.request(.allocate) { $0.add(RequestedTransport(protocolNumber: 17)) })
        #expect(response.errorCode == 508)
        #expect(harness.quota.count == 2)
        #expect(harness.ports.freeCount(family: .ipv4) == 0)
    }

    @Test func stoppingGivesBackWhatAllocationsStillWaitingForTheirRelaysHold() throws {
        var harness = TURNCoreHarness(relayPorts: 50000...50009, userQuota: 0)
        _ = try harness.allocate()
        harness.fiveTuple.client.port = 6001
        let outcome = harness.send(
            harness.request(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: 17))
                message.add(EvenPort(reserveNextPort: true))
            })
        guard case .openRelays = outcome else {
            Issue.record("the Allocate did not wait for its relays: \(outcome)")
            return
        }
        #expect(harness.quota.count == 2)
        #expect(harness.ports.freeCount(family: .ipv4) == 10 - 3)
        #expect(harness.core.removeAll().count == 1, "one allocation existed; the pending one was never answered")
        #expect(harness.quota.count == 0)
        #expect(harness.ports.freeCount(family: .ipv4) == 10)
    }

    @Test func evenPortReservesTheNextPortForItsToken() throws {
        var harness = TURNCoreHarness(userQuota: 0)
        let response = try harness.exchange(
            harness.request(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: 17))
                message.add(EvenPort(reserveNextPort: true))
            })
        let relayed = try #require(try response.message.get(XORRelayedAddress.self)).address
        #expect(relayed.port % 2 == 0)
        let token = try #require(try response.message.get(ReservationToken.self))
        harness.fiveTuple.client.port += 1
        let second = try harness.allocate { $0.add(token) }
        #expect(second.port == relayed.port + 1)
        harness.fiveTuple.client.port += 1
        let reused = try harness.exchange(
            harness.request(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: 17))
                message.add(token)
            })
        #expect(reused.errorCode == 508, "a token is good once")
    }

    @Test func dualAllocationGivesBothFamiliesOrAnAddressErrorCode() throws {
        var dual = TURNCoreHarness(ipv6Relay: true)
        let both = try dual.exchange(
            dual.request(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: 17))
                message.add(AdditionalAddressFamily(.ipv6))
            })
        let relays = try both.message.getAll(XORRelayedAddress.self).map(\.address.ip.family)
        #expect(relays == [.ipv4, .ipv6])
        var single = TURNCoreHarness()
        let partial = try single.exchange(
            single.request(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: 17))
                message.add(AdditionalAddressFamily(.ipv6))
            })
        #expect(try partial.message.getAll(XORRelayedAddress.self).count == 1)
        #expect(try partial.message.get(AddressErrorCode.self)?.code == 440)
    }

    @Test(arguments: [
        (DefaultAllocationFamily.ipv4, AddressFamily.ipv4), (.ipv6, .ipv6), (.client, .ipv6),
    ])
    func familyWithoutRequestedAddressFamily(policy: DefaultAllocationFamily, expected: AddressFamily) throws {
        var harness = TURNCoreHarness(ipv6Relay: true) { $0.defaultFamily = policy }
        harness.fiveTuple.client = TransportAddress(ip: IPAddress("2001:db8::5")!, port: 7000)
        #expect(try harness.allocate().ip.family == expected)
    }

    @Test func dontFragmentIsHonouredOrRejectedWith420() throws {
        var honoured = TURNCoreHarness()
        guard
            case .openRelays(let pending) = honoured.send(
                honoured.request(.allocate) { message in
                    message.add(RequestedTransport(protocolNumber: 17))
                    message.add(DontFragment())
                })
        else { Issue.record("expected openRelays"); return }
        #expect(pending.dontFragment)
        var unsupported = TURNCoreHarness { $0.dontFragmentSupported = false }
        let response = try unsupported.exchange(
            unsupported.request(.allocate) { message in
                message.add(RequestedTransport(protocolNumber: 17))
                message.add(DontFragment())
            })
        #expect(response.errorCode == 420)
        #expect(try response.message.get(UnknownAttributes.self)?.types == [.dontFragment])
    }

    @Test func lifetimesAreClampedAndRefreshZeroDeletes() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate { $0.add(Lifetime(seconds: 7200)) }
        let longer = try harness.exchange(harness.request(.refresh) { $0.add(Lifetime(seconds: 99999)) })
        #expect(try longer.message.get(Lifetime.self)?.seconds == 3600)
        let shorter = try harness.exchange(harness.request(.refresh) { $0.add(Lifetime(seconds: 30)) })
        #expect(try shorter.message.get(Lifetime.self)?.seconds == 600)
        guard case .respondAndClose(let bytes, _) = harness.send(harness.request(.refresh) { $0.add(Lifetime(seconds: 0)) })
        else { Issue.record("lifetime 0 deletes"); return }
        #expect(try STUNParsedMessage(decoding: bytes).message.get(Lifetime.self)?.seconds == 0)
        #expect(harness.core.allocationCount == 0)
        #expect(harness.quota.count == 0)
        let gone = try harness.exchange(harness.request(.refresh) { $0.add(Lifetime(seconds: 600)) })
        #expect(gone.errorCode == 437)
    }

    @Test func otherCredentialsOnAnAllocationGet441() throws {
        var harness = TURNCoreHarness()
        _ = try harness.allocate()
        for method in [STUNMethod.refresh, .createPermission, .channelBind] {
            let response = try harness.exchange(
                harness.request(method, TURNCoreHarness.bob) { message in
                    message.add(XORPeerAddress(TransportAddress(ip: IPAddress("8.8.8.8")!, port: 1)))
                    message.add(ChannelNumber(0x4000))
                })
            #expect(response.errorCode == 441, "\(method)")
        }
    }

    @Test func allocationExpiresAndReleasesItsPortAndQuota() throws {
        var harness = TURNCoreHarness()
        let relayed = try harness.allocate()
        harness.advance(seconds: 599)
        #expect(harness.core.expiryTimerFired(now: harness.now).isEmpty)
        harness.advance(seconds: 2)
        let ended = harness.core.expiryTimerFired(now: harness.now)
        #expect(ended.map(\.username) == ["alice"])
        #expect(!harness.ports.isLive(family: .ipv4, port: relayed.port))
        #expect(harness.quota.count == 0)
    }

    @Test func closingAStreamEndsItsAllocation() throws {
        var harness = TURNCoreHarness()
        harness.fiveTuple.transport = .tcp
        _ = try harness.allocate()
        #expect(harness.core.connectionClosed(harness.fiveTuple) != nil)
        #expect(harness.core.allocationCount == 0)
        #expect(harness.quota.count == 0)
    }
}
