import STUNProtocol

/// Where relay sockets of one family bind, and what address clients are told.
public struct RelayAddress: Hashable, Sendable {
    /// The local address relay sockets bind to (`--relay-ip`).
    public var bind: IPAddress
    /// The address put in XOR-RELAYED-ADDRESS: the public one behind 1:1 NAT (`--external-ip`), else `bind`.
    public var advertised: IPAddress

    /// Creates a relay address.
    public init(bind: IPAddress, advertised: IPAddress? = nil) {
        self.bind = bind
        self.advertised = advertised ?? bind
    }
}

/// Which relay family an Allocate without REQUESTED-ADDRESS-FAMILY gets.
public enum DefaultAllocationFamily: String, Hashable, Sendable, CaseIterable {
    /// IPv4, as RFC 8656 §7.2 says.
    case ipv4
    /// IPv6.
    case ipv6
    /// The family of the address the client came from (what browsers on IPv6-only networks need).
    case client
}

/// Every setting of the TURN server core. Defaults follow RFC 8656 and coturn.
public struct TURNConfiguration: Sendable {
    /// REALM sent in 401s and used for every long-term key.
    public var realm = "switchboard"
    /// Relay addresses by family; a family without one is answered 440.
    public var relayAddresses: [AddressFamily: RelayAddress] = [:]
    /// Allocation lifetime when the client asks for none or for less (RFC 8656: 600 s).
    public var defaultLifetime = 600
    /// Longest allocation lifetime granted (RFC 8656 recommends at most 3600 s).
    public var maximumLifetime = 3600
    /// Permission lifetime; RFC 8656 §9 fixes it at 300 s.
    public var permissionLifetime = 300
    /// Channel binding lifetime; RFC 8656 §12 fixes it at 600 s.
    public var channelLifetime = 600
    /// Channel numbers a client may bind: RFC 8656's 0x4000–0x4FFF, or RFC 5766's 0x4000–0x7FFF for old clients
    /// (`--rfc5766-channel-numbers`, as coturn 4.17 offers; Debian's `turnutils_uclient` picks from the old range).
    public var channelNumbers: ClosedRange<UInt16> = ChannelNumber.validRange
    /// Seconds a reserved EVEN-PORT partner port is held (RFC 8656 §7.2: at least 30).
    public var reservationLifetime = 30
    /// Allocations per user (486 beyond); 0 is unlimited.
    public var userQuota = 10
    /// Allocations in total (486 beyond); 0 is unlimited.
    public var totalQuota = 10_000
    /// Bytes per second relayed per allocation, each direction counted together; 0 is unlimited.
    public var maxBytesPerSecond = 0
    /// Family for Allocates without REQUESTED-ADDRESS-FAMILY.
    public var defaultFamily = DefaultAllocationFamily.ipv4
    /// 401 responses per second per source address (a reflection brake), sustained.
    public var unauthorizedRate = 10.0
    /// 401 responses a source address may get in a burst.
    public var unauthorizedBurst = 20.0
    /// Peer address policy.
    public var peerPolicy = PeerPolicy()
    /// Whether relay sockets can set the DF bit; when not, DONT-FRAGMENT is answered 420 (RFC 8656 §7.2 step 4).
    public var dontFragmentSupported = true
    /// SOFTWARE attribute for responses; `nil` (the default) keeps responses small.
    public var software: String? = nil

    /// Creates a configuration with defaults.
    public init() {}
}
