import NIOSSL

/// Where a TLS listener gets its certificate: asked once per new connection, so a reloaded certificate serves new
/// connections while established ones keep the one they started with.
public struct TLSContextSource: Sendable {
    /// The context for the next connection.
    public let current: @Sendable () -> NIOSSLContext

    /// A source that may change (certificate reloads).
    public init(current: @escaping @Sendable () -> NIOSSLContext) {
        self.current = current
    }

    /// A fixed context.
    public init(_ context: NIOSSLContext) {
        self.current = { context }
    }
}
