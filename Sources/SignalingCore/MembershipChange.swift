/// A session entered or left a room: what call records and metrics are made from.
///
/// The core collects these as it handles events; the edge takes them after each event with
/// ``SignalingState/takeMembershipChanges()``, so they stay in step with the actions.
public enum MembershipChange: Equatable, Sendable {
    /// `session` entered `room` through `connection`, with the display name it gave.
    case entered(session: SessionID, room: RoomName, name: String?, connection: ConnectionID)
    /// `session` left `room`, for `reason` (the one its peers see in `bye`).
    case left(session: SessionID, room: RoomName, reason: ByeReason)
}

extension SignalingState {
    /// The membership changes since the last call, oldest first.
    public mutating func takeMembershipChanges() -> [MembershipChange] {
        defer { membershipChanges.removeAll(keepingCapacity: true) }
        return membershipChanges
    }
}
