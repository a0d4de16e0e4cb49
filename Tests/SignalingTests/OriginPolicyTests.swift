import Signaling
import Testing

@Suite("WebSocket Origin check")
struct OriginPolicyTests {
    @Test(
        arguments: [
            (nil, "sb.example:8080", true),  // not a browser
            ("http://sb.example:8080", "sb.example:8080", true),  // our own page
            ("https://sb.example", "sb.example:443", true),  // default port made explicit
            ("https://SB.example", "sb.example", true),
            ("http://sb.example:8081", "sb.example:8080", false),
            ("https://sb.example", "sb.example:80", false),  // another scheme's port
            ("https://evil.example", "sb.example", false),
            ("null", "sb.example", false),  // sandboxed frames and file: pages
            ("http://[::1]:8080", "[::1]:8080", true),
            ("https://app.example", "sb.example", true),  // listed
            ("ws://127.0.0.1", "127.0.0.1:8080", true),  // a non-browser client library (swift-websocket sends this)
        ] as [(String?, String, Bool)])
    func sameOriginAndListedOriginsOnly(origin: String?, host: String, permitted: Bool) {
        #expect(OriginPolicy(allowed: ["https://app.example"]).permits(origin: origin, host: host) == permitted)
    }

    @Test func aWildcardAllowsAnyOrigin() {
        #expect(OriginPolicy(allowed: ["*"]).permits(origin: "https://evil.example", host: "sb.example"))
        #expect(!OriginPolicy().permits(origin: "https://evil.example", host: nil))
    }
}
