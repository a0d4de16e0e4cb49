import NIOCore
import NIOSSL
import STUNProtocol
import TURNCore
import TURNServer

/// The STUN/TURN options of `switchboard serve` as given, before they become `TURNServerSettings`.
public struct TURNOptions: Sendable {
    public var host = "0.0.0.0"
    public var port = 3478
    public var tlsPort = 5349
    public var realm = "switchboard"
    public var users: [String] = []
    public var secrets: [String] = []
    public var relayIPs: [String] = []
    public var externalIPs: [String] = []
    public var relayPorts = "49152-65535"
    public var allowPeers: [String] = []
    public var denyPeers: [String] = []
    public var allowLoopbackPeers = false
    public var rfc5766ChannelNumbers = false
    public var defaultLifetime = 600
    public var maximumLifetime = 3600
    public var userQuota = 10
    public var totalQuota = 10_000
    public var maxAllocationBytesPerSecond = 3_000_000
    public var allocationFamily = "ipv4"
    public var nonceLifetime = 600
    public var nonceSecret: String? = nil
    public var unauthorizedRate = 10.0
    public var unauthorizedBurst = 20.0
    public var threads = 0

    /// Options with their defaults.
    public init() {}

    /// Checks every option and builds the settings; the error names the option and what is wrong with it.
    /// - Parameter hostAddresses: this machine's addresses, for picking a relay address when listening on a wildcard.
    public func settings(hostAddresses: [IPAddress]) throws(TURNOptionError) -> TURNServerSettings {
        guard (1...65535).contains(port) else { throw TURNOptionError("--turn-port must be 0 (off) or 1-65535") }
        guard (0...65535).contains(tlsPort) else { throw TURNOptionError("--turn-tls-port must be 0-65535") }
        guard !realm.isEmpty, realm.utf8.count <= 763 else { throw TURNOptionError("--realm must be 1-763 bytes") }
        guard defaultLifetime >= 60, maximumLifetime >= defaultLifetime else {
            throw TURNOptionError("--default-lifetime must be at least 60 and at most --max-lifetime")
        }
        guard userQuota >= 0, totalQuota >= 0, maxAllocationBytesPerSecond >= 0 else {
            throw TURNOptionError("--user-quota, --total-quota and --max-allocation-bps must not be negative")
        }
        guard threads >= 0 else { throw TURNOptionError("--turn-threads must not be negative") }
        guard nonceLifetime >= 30 else { throw TURNOptionError("--nonce-lifetime must be at least 30 seconds") }
        guard unauthorizedRate > 0, unauthorizedBurst >= 1 else {
            throw TURNOptionError("--unauthorized-rate must be positive and --unauthorized-burst at least 1")
        }
        guard let family = DefaultAllocationFamily(rawValue: allocationFamily) else {
            throw TURNOptionError("--allocation-family must be ipv4, ipv6 or client")
        }
        var core = TURNConfiguration()
        core.realm = realm
        if rfc5766ChannelNumbers { core.channelNumbers = 0x4000...0x7FFF }
        core.defaultLifetime = defaultLifetime
        core.maximumLifetime = maximumLifetime
        core.userQuota = userQuota
        core.totalQuota = totalQuota
        core.maxBytesPerSecond = maxAllocationBytesPerSecond
        core.defaultFamily = family
        core.unauthorizedRate = unauthorizedRate
        core.unauthorizedBurst = unauthorizedBurst
        #if !os(Linux)
            core.dontFragmentSupported = false
        #endif
        core.peerPolicy = PeerPolicy(
            allowed: try cidrs(allowPeers, option: "--allow-peer"), denied: try cidrs(denyPeers, option: "--deny-peer"),
            allowLoopback: allowLoopbackPeers)
        core.relayAddresses = try relayAddresses(hostAddresses: hostAddresses)
        return TURNServerSettings(
            host: host, port: port, tlsPort: tlsPort, core: core,
            credentials: TURNCredentials(realm: realm, users: try parsedUsers(), secrets: secrets),
            relayPorts: try portRange(), nonceSecret: nonceSecret.map { Array($0.utf8) }, nonceLifetime: nonceLifetime,
            eventLoopCount: threads > 0 ? threads : System.coreCount)
    }

    private func cidrs(_ texts: [String], option: String) throws(TURNOptionError) -> [CIDR] {
        var result: [CIDR] = []
        for text in texts {
            guard let cidr = CIDR(text) else {
                throw TURNOptionError("\(option) '\(text)' is not a CIDR block such as 10.0.0.0/8 (host bits must be zero)")
            }
            result.append(cidr)
        }
        return result
    }

    private func parsedUsers() throws(TURNOptionError) -> [(username: String, password: String)] {
        var result: [(username: String, password: String)] = []
        for user in users {
            guard let colon = user.firstIndex(of: ":"), colon != user.startIndex, user.index(after: colon) != user.endIndex else {
                throw TURNOptionError("--turn-user must be USER:PASSWORD")
            }
            result.append((String(user[..<colon]), String(user[user.index(after: colon)...])))
        }
        return result
    }

    private func portRange() throws(TURNOptionError) -> ClosedRange<UInt16> {
        let parts = relayPorts.split(separator: "-")
        guard parts.count == 2, let low = UInt16(parts[0]), let high = UInt16(parts[1]), low >= 1024, low <= high else {
            throw TURNOptionError("--relay-ports must be MIN-MAX with 1024 <= MIN <= MAX <= 65535")
        }
        return low...high
    }

    /// `--relay-ip` (one per family), else the listening address, else this host's primary address; then
    /// `--external-ip PUBLIC[/PRIVATE]` sets what is advertised.
    private func relayAddresses(hostAddresses: [IPAddress]) throws(TURNOptionError) -> [AddressFamily: RelayAddress] {
        var result: [AddressFamily: RelayAddress] = [:]
        for text in relayIPs {
            guard let ip = IPAddress(text), CIDR.unspecifiedBlock(ip) == false else {
                throw TURNOptionError("--relay-ip '\(text)' must be a specific IPv4 or IPv6 address")
            }
            guard result[ip.family] == nil else { throw TURNOptionError("--relay-ip may be given once per address family") }
            result[ip.family] = RelayAddress(bind: ip)
        }
        if result.isEmpty {
            if let listening = IPAddress(host), !CIDR.unspecifiedBlock(listening) {
                result[listening.family] = RelayAddress(bind: listening)
            } else {
                let candidate = hostAddresses.first { address in
                    address.family == .ipv4 && !PeerPolicy.loopback.contains(where: { $0.contains(address) })
                }
                result[.ipv4] = RelayAddress(bind: candidate ?? .v4(0x7F00_0001))
            }
        }
        for text in externalIPs {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let advertised = IPAddress(parts[0]) else {
                throw TURNOptionError("--external-ip must be PUBLIC or PUBLIC/PRIVATE, not '\(text)'")
            }
            let privateIP = parts.count == 2 ? IPAddress(parts[1]) : nil
            if parts.count == 2, privateIP == nil { throw TURNOptionError("--external-ip '\(text)': PRIVATE is not an address") }
            let family = advertised.family
            if let privateIP {
                guard privateIP.family == family else { throw TURNOptionError("--external-ip '\(text)' mixes address families") }
                if let existing = result[family], existing.bind != privateIP, !relayIPs.isEmpty {
                    throw TURNOptionError("--external-ip '\(text)': PRIVATE must be the --relay-ip of its family")
                }
                result[family] = RelayAddress(bind: privateIP, advertised: advertised)
            } else {
                guard let existing = result[family] else {
                    throw TURNOptionError("--external-ip '\(text)' has no relay address of its family to map")
                }
                result[family] = RelayAddress(bind: existing.bind, advertised: advertised)
            }
        }
        return result
    }
}

/// A STUN/TURN option is invalid; the message names it.
public struct TURNOptionError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension CIDR {
    /// Whether an address is 0.0.0.0 or :: (a wildcard, not an address to bind relays to or advertise).
    static func unspecifiedBlock(_ ip: IPAddress) -> Bool {
        ip == .v4(0) || ip == .v6(high: 0, low: 0)
    }
}
