import SignalingCore

/// Decides a join before the room core sees it: verifies join tokens, applies persistent rooms' rules and checks
/// their passwords. Runs on the joining connection's task, so slow checks delay only that client.
public protocol JoinGate: Sendable {
    /// The admission for `join` from `address`; `connectionToken` is the join token the client gave when
    /// connecting, if any (`join.token` is one it put in the join itself).
    func admit(_ join: JoinRequest, connectionToken: String?, address: ClientAddress) async -> JoinAdmission
}
