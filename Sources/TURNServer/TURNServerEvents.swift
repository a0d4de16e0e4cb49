import TURNCore

/// What the TURN service reports to the rest of the server. Called on the allocation's event loop, so a
/// handler must only hand the value on (to a record writer, say) and return.
public struct TURNServerEvents: Sendable {
    /// An allocation ended (deleted, expired, its connection closed, or shutdown), with what it relayed.
    public var allocationEnded: (@Sendable (AllocationSummary) -> Void)?

    /// Creates event handlers; none by default.
    public init(allocationEnded: (@Sendable (AllocationSummary) -> Void)? = nil) {
        self.allocationEnded = allocationEnded
    }
}
