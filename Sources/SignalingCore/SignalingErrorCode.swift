/// Every signaling error has one of these stable, machine-readable codes (the `code` field).
///
/// Recoverable codes leave the connection usable; fatal ones are followed by a close with a policy code.
public enum SignalingErrorCode: String, Sendable, CaseIterable {
    /// The frame was not valid JSON, or not a JSON object.
    case badJSON = "bad_json"
    /// A binary frame; the native protocol is JSON text only.
    case binaryFrame = "binary_frame"
    /// The `type` names no known message.
    case unknownType = "unknown_type"
    /// A required field is absent.
    case missingField = "missing_field"
    /// A field has the wrong JSON type or an out-of-range value.
    case invalidField = "invalid_field"
    /// The room name breaks the length or character rules.
    case invalidRoomName = "invalid_room_name"
    /// The room is protected and no password was given.
    case passwordRequired = "password_required"
    /// The room is protected and the password is wrong.
    case wrongPassword = "wrong_password"
    /// The room is at capacity (sent as a `full` message).
    case roomFull = "room_full"
    /// `join` while already in a room.
    case alreadyInRoom = "already_in_room"
    /// `leave` or `message` while in no room.
    case notInRoom = "not_in_room"
    /// `to` names no other member of the sender's room.
    case unknownPeer = "unknown_peer"
    /// A message held for a later joiner expired undelivered.
    case heldMessageExpired = "held_message_expired"
    /// Too many messages held for later joiners; this one was not held.
    case heldQueueFull = "held_queue_full"
    /// The resume token is unknown or its grace period ended.
    case resumeFailed = "resume_failed"
    /// The session's outbound history no longer covers what the client missed.
    case resumeGap = "resume_gap"
    /// A `POST /send` named no open event stream (its token is unknown, or the stream ended).
    case unknownStream = "unknown_stream"
    /// The server is at its session limit.
    case serverFull = "server_full"
    /// The frame exceeds the maximum frame size (fatal).
    case frameTooLarge = "frame_too_large"
    /// The session sent messages faster than its rate limit (fatal).
    case rateLimited = "rate_limited"
    /// This client address joined rooms faster than its rate limit (fatal).
    case joinRateLimited = "join_rate_limited"
    /// The session did not read its messages fast enough (fatal).
    case slowConsumer = "slow_consumer"
    /// The session was resumed on another connection (fatal for the old one).
    case replaced = "replaced"
    /// The server requires a join token (`--join-secret`) and none was given.
    case tokenRequired = "token_required"
    /// The join token is malformed or its signature does not verify.
    case invalidToken = "invalid_token"
    /// The join token has expired (or is not valid yet).
    case tokenExpired = "token_expired"
    /// The join token is for another room.
    case tokenWrongRoom = "token_wrong_room"
    /// The persistent room is locked: nobody new may enter.
    case roomLocked = "room_locked"
    /// The same identity joined the room again elsewhere; this older session is closed.
    case duplicateIdentity = "duplicate_identity"
    /// Too many password attempts for persistent rooms from this address; wait and retry.
    case tooManyAttempts = "too_many_attempts"
    /// The server is shutting down and admits no new joins: join through another node.
    case serverDraining = "server_draining"
    /// An administrator removed this session.
    case kicked = "kicked"
    /// An administrator closed the room.
    case roomClosed = "room_closed"
    /// A service the request needs (the database) is unavailable; retry later.
    case unavailable = "unavailable"
    /// The cluster's directory (PostgreSQL) is unreachable, so this node cannot admit joins; retry shortly.
    case clusterUnavailable = "cluster_unavailable"

    /// Whether the connection is closed after this error.
    public var isFatal: Bool {
        switch self {
        case .frameTooLarge, .rateLimited, .joinRateLimited, .slowConsumer, .replaced, .serverFull, .duplicateIdentity,
            .kicked, .roomClosed:
            return true
        default: return false
        }
    }
}

/// An error addressed to one connection: a code, a human message, and the offending request if any.
public struct SignalingError: Error, Equatable, Sendable {
    /// The stable code.
    public var code: SignalingErrorCode
    /// A human-readable explanation.
    public var message: String
    /// The `type` of the request that caused it, if one did.
    public var requestType: String?
    /// The client's `id` of the request that caused it, if it sent one (echoed as given).
    public var requestID: JSONValue?

    /// Creates an error.
    public init(_ code: SignalingErrorCode, _ message: String, requestType: String? = nil, requestID: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.requestType = requestType
        self.requestID = requestID
    }
}
