import STUNProtocol
import SwitchboardApp
import Testing

@Suite("ICE server configuration")
struct ICEServerConfigurationTests {
    @Test func urisNameEveryListener() {
        var configuration = ICEServerConfiguration()
        #expect(configuration.stunURIs(host: "h").isEmpty)
        #expect(configuration.turnUnavailableReason?.contains("--turn-port 0") == true)
        configuration.port = 3478
        #expect(configuration.stunURIs(host: "[2001:db8::1]") == ["stun:[2001:db8::1]:3478"])
        #expect(configuration.turnUnavailableReason?.contains("--turn-secret") == true)
        configuration.secret = "s"
        #expect(configuration.turnUnavailableReason == nil)
        #expect(configuration.turnURIs(host: "h") == ["turn:h:3478?transport=udp", "turn:h:3478?transport=tcp"])
        configuration.tlsPort = 5349
        #expect(configuration.turnURIs(host: "h").last == "turns:h:5349?transport=tcp")
    }

    @Test func adoptsPortsAndTheAdvertisedAddress() throws {
        var options = TURNOptions()
        options.host = "127.0.0.1"
        options.port = 4000
        options.externalIPs = ["203.0.113.9/127.0.0.1"]
        var configuration = ICEServerConfiguration()
        configuration.adopt(try options.settings(hostAddresses: []))
        #expect(configuration.port == 4000)
        #expect(configuration.tlsPort == nil, "no TLS context, no turns: URI")
        #expect(configuration.host == "203.0.113.9")

        options.externalIPs = []
        var plain = ICEServerConfiguration()
        plain.adopt(try options.settings(hostAddresses: []))
        #expect(plain.host == nil, "without a mapping the request's host is used")
        plain.adopt(nil)
        #expect(plain.port == nil)
    }

    @Test(arguments: [
        ("example.org:8080", "example.org"), ("192.0.2.1", "192.0.2.1"), ("[::1]:8080", "[::1]"), ("[2001:db8::7]", "[2001:db8::7]"),
        ("localhost", "localhost"),
    ])
    func hostsFromAuthority(authority: String, host: String) {
        #expect(iceURIHost(fromAuthority: authority) == host)
    }

    @Test(arguments: ["", ":80", "evil.org/path", "a b", "[::1", "[zz]:1", "host?transport=tcp", "user@host"])
    func suspiciousAuthoritiesAreRefused(authority: String) {
        #expect(iceURIHost(fromAuthority: authority) == nil)
    }
}
