import STUNProtocol
import TURNServer

/// What `/api/ice-servers` and `/api/turn` hand to clients: where this server's STUN and TURN listen, and
/// how to mint TURN REST credentials for them.
public struct ICEServerConfiguration: Sendable {
    /// The STUN/TURN port (UDP and TCP); `nil` when STUN and TURN are off.
    public var port: Int?
    /// The TURN-over-TLS port; `nil` when there is no TLS listener.
    public var tlsPort: Int?
    /// The host put in the URIs (`--ice-host`, else the advertised external address); `nil` uses the host the
    /// client reached the HTTP server at.
    public var host: String?
    /// The TURN REST secret credentials are minted with (the first `--turn-secret`); `nil` mints none.
    public var secret: String?
    /// Seconds minted credentials stay valid for a new allocation.
    public var credentialTTL = 3600

    /// STUN and TURN off.
    public init() {}

    /// Takes the ports from the STUN/TURN service that runs (none when it does not), and, unless a host was
    /// set, the external address it advertises behind 1:1 NAT (IPv4 first).
    public mutating func adopt(_ turn: TURNServerSettings?) {
        guard let turn else {
            port = nil
            tlsPort = nil
            return
        }
        port = turn.port
        tlsPort = turn.tls == nil ? nil : turn.tlsPort
        if host == nil {
            let mapped = [AddressFamily.ipv4, .ipv6].compactMap { turn.core.relayAddresses[$0] }.first { $0.advertised != $0.bind }
            if let advertised = mapped?.advertised {
                host = advertised.family == .ipv6 ? "[\(advertised)]" : "\(advertised)"
            }
        }
    }

    /// Why the answer carries no TURN server, or `nil` when it does.
    public var turnUnavailableReason: String? {
        if port == nil { return "STUN and TURN are off on this server (--turn-port 0)" }
        if secret == nil { return "no --turn-secret is configured, so this server cannot mint TURN credentials" }
        return nil
    }

    /// The STUN URIs for a host (already bracketed if IPv6).
    public func stunURIs(host: String) -> [String] {
        guard let port else { return [] }
        return ["stun:\(host):\(port)"]
    }

    /// The TURN URIs for a host (already bracketed if IPv6): UDP, TCP, and TLS when it listens (RFC 7065).
    public func turnURIs(host: String) -> [String] {
        guard let port else { return [] }
        var uris = ["turn:\(host):\(port)?transport=udp", "turn:\(host):\(port)?transport=tcp"]
        if let tlsPort { uris.append("turns:\(host):\(tlsPort)?transport=tcp") }
        return uris
    }
}

/// Reads the host out of an HTTP `Host` value (`example.org:8080`, `[::1]:8080`, `192.0.2.1`), refusing
/// anything that is not a plain DNS name or address literal, so nothing a client sends can reach a URI unchecked.
public func iceURIHost(fromAuthority authority: String) -> String? {
    var host = Substring(authority)
    if host.hasPrefix("[") {
        guard let close = host.firstIndex(of: "]") else { return nil }
        let inner = host[host.index(after: host.startIndex)..<close]
        guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        return "[\(inner)]"
    }
    if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
    guard !host.isEmpty, host.utf8.count <= 253,
        host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." })
    else { return nil }
    return String(host)
}
