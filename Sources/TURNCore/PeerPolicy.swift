import STUNProtocol

/// Which peer addresses a client may relay to (RFC 8656 §21.1: no open relay into internal networks).
///
/// The same check runs for CreatePermission, ChannelBind and Send. Addresses are unmapped first, so an
/// IPv4-mapped or NAT64 form is judged as the IPv4 address it names (coturn CVE-2026-27624).
public struct PeerPolicy: Hashable, Sendable {
    /// Always refused, whatever is allowed: "this host" addresses (coturn CVE-2020-26262).
    public static let unspecified: [CIDR] = ["0.0.0.0/8", "::/128"].map { CIDR($0)! }

    /// Refused by default: eturnal's "recommended" list plus 6to4 and Teredo (RFC 8656 §21.4).
    public static let recommendedDenied: [CIDR] = [
        "127.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32", "::1/128", "::ffff:0:0/96", "64:ff9b::/96",
        "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    ].map { CIDR($0)! }

    /// Loopback blocks, allowed only by `--allow-loopback-peers` (tests).
    public static let loopback: [CIDR] = ["127.0.0.0/8", "::1/128"].map { CIDR($0)! }

    /// Blocks the operator allowed (`--allow-peer`), checked after `denied`.
    public var allowed: [CIDR]
    /// Blocks the operator denied (`--deny-peer`), checked first.
    public var denied: [CIDR]

    /// Creates a policy from the operator's lists on top of the defaults.
    public init(allowed: [CIDR] = [], denied: [CIDR] = [], allowLoopback: Bool = false) {
        self.allowed = allowed + (allowLoopback ? Self.loopback : [])
        self.denied = denied
    }

    /// Whether the operator allowed `address` outright (`--allow-peer`, `--allow-loopback-peers`) and did not deny it.
    public func explicitlyAllows(_ address: IPAddress) -> Bool {
        let address = address.unmapped
        if Self.unspecified.contains(where: { $0.contains(address) }) { return false }
        if denied.contains(where: { $0.contains(address) }) { return false }
        return allowed.contains { $0.contains(address) }
    }

    /// Whether `address` may be a peer. Order: unspecified (never), operator deny, operator allow, default deny.
    public func permits(_ address: IPAddress) -> Bool {
        let address = address.unmapped
        if Self.unspecified.contains(where: { $0.contains(address) }) { return false }
        if denied.contains(where: { $0.contains(address) }) { return false }
        if allowed.contains(where: { $0.contains(address) }) { return true }
        return !Self.recommendedDenied.contains { $0.contains(address) }
    }
}
