import STUNProtocol
import SwitchboardApp
import TURNCore
import Testing

@Suite("STUN/TURN options")
struct TURNOptionsTests {
    static let hostAddresses = [IPAddress("127.0.0.1")!, IPAddress("10.1.2.3")!, IPAddress("fe80::1")!]

    func settings(_ configure: (inout TURNOptions) -> Void) throws(TURNOptionError) -> TURNCore.TURNConfiguration {
        var options = TURNOptions()
        configure(&options)
        return try options.settings(hostAddresses: Self.hostAddresses).core
    }

    func failure(_ configure: (inout TURNOptions) -> Void) -> String? {
        do {
            _ = try settings(configure)
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: [
        ("--allow-peer", "10.0.0.1/8"), ("--allow-peer", "10.0.0.0/33"), ("--deny-peer", "banana"), ("--deny-peer", "::1/129"),
    ])
    func malformedCIDRFailsStartUp(option: String, value: String) {
        let message = failure { options in
            if option == "--allow-peer" { options.allowPeers = [value] } else { options.denyPeers = [value] }
        }
        #expect(message?.contains(option) == true)
        #expect(message?.contains(value) == true)
    }

    @Test func otherBadValuesNameTheirOption() {
        #expect(failure { $0.relayPorts = "100-200" }?.contains("--relay-ports") == true)
        #expect(failure { $0.relayPorts = "60000-50000" }?.contains("--relay-ports") == true)
        #expect(failure { $0.users = ["nopassword"] }?.contains("--turn-user") == true)
        #expect(failure { $0.relayIPs = ["0.0.0.0"] }?.contains("--relay-ip") == true)
        #expect(failure { $0.relayIPs = ["10.0.0.1", "10.0.0.2"] }?.contains("--relay-ip") == true)
        #expect(failure { $0.externalIPs = ["1.2.3.4/::1"] }?.contains("--external-ip") == true)
        #expect(failure { $0.allocationFamily = "ipv5" }?.contains("--allocation-family") == true)
        #expect(failure { $0.maximumLifetime = 300 }?.contains("--default-lifetime") == true)
    }

    @Test func relayAddressDefaultsToTheListeningAddressOrThePrimaryOne() throws {
        #expect(try settings { $0.host = "192.0.2.4" }.relayAddresses[.ipv4]?.bind == IPAddress("192.0.2.4"))
        #expect(try settings { $0.host = "0.0.0.0" }.relayAddresses[.ipv4]?.bind == IPAddress("10.1.2.3"))
        let both = try settings { $0.relayIPs = ["127.0.0.1", "::1"] }.relayAddresses
        #expect(both[.ipv4]?.bind == IPAddress("127.0.0.1") && both[.ipv6]?.bind == IPAddress("::1"))
    }

    @Test func externalIPIsAdvertised() throws {
        let mapped = try settings { options in
            options.host = "0.0.0.0"
            options.externalIPs = ["203.0.113.7/10.1.2.3"]
        }.relayAddresses[.ipv4]
        #expect(mapped == RelayAddress(bind: IPAddress("10.1.2.3")!, advertised: IPAddress("203.0.113.7")!))
        let publicOnly = try settings { options in
            options.relayIPs = ["10.1.2.3"]
            options.externalIPs = ["203.0.113.7"]
        }.relayAddresses[.ipv4]
        #expect(publicOnly?.advertised == IPAddress("203.0.113.7"))
    }

    @Test func policyFlagsReachTheCore() throws {
        let core = try settings { options in
            options.allowPeers = ["10.0.0.0/8"]
            options.denyPeers = ["10.9.0.0/16"]
            options.rfc5766ChannelNumbers = true
        }
        #expect(core.peerPolicy.permits(IPAddress("10.1.1.1")!))
        #expect(!core.peerPolicy.permits(IPAddress("10.9.1.1")!))
        #expect(!core.peerPolicy.permits(IPAddress("127.0.0.1")!))
        #expect(core.channelNumbers == 0x4000...0x7FFF)
        let loopback = try settings { $0.allowLoopbackPeers = true }
        #expect(loopback.peerPolicy.permits(IPAddress("::ffff:127.0.0.1")!))
        #expect(!loopback.peerPolicy.permits(IPAddress("0.0.0.0")!))
    }
}
