extension ClientRequest {
    /// Longest accepted display name, in characters.
    public static let maximumNameLength = 64
    /// Longest accepted room password, in bytes.
    public static let maximumPasswordLength = 256
    /// The longest join token accepted, in bytes.
    public static let maximumJoinTokenLength = 4096
    /// Longest accepted resume token, in bytes.
    public static let maximumTokenLength = 128

    /// Parses one text frame. Every failure is a recoverable `SignalingError` naming what was wrong.
    public static func decode(_ bytes: some Collection<UInt8>) throws(SignalingError) -> ClientRequest {
        // `data` stays the text it arrived as: relaying writes it verbatim (see JSONText).
        let parsed: (members: [String: JSONValue], text: JSONText?)?
        do {
            parsed = try JSONValue.parsingObject(bytes, keepingAsText: "data")
        } catch {
            throw SignalingError(.badJSON, "frame is not valid JSON: \(error)")
        }
        guard let (fields, data) = parsed else {
            throw SignalingError(.badJSON, "frame must be a JSON object")
        }
        var reader = FieldReader(fields: fields)
        // Name the request in every later error, even one about its `id`.
        reader.requestType = fields["type"]?.stringValue.map { String($0.prefix(64)) }
        reader.requestID = try reader.optionalID()
        guard let typeValue = fields["type"] else {
            throw reader.error(.missingField, "missing field 'type'")
        }
        guard let type = typeValue.stringValue else {
            throw reader.error(.invalidField, "field 'type' must be a string")
        }
        let message: ClientMessage
        switch type {
        case "join": message = .join(try reader.joinRequest())
        case "leave": message = .leave
        case "message":
            let to = try reader.optionalString("to", maximumBytes: 128).map(SessionID.init)
            guard let data else { throw reader.error(.missingField, "missing field 'data'") }
            message = .message(to: to, data: data)
        case "ping": message = .ping(ack: try reader.optionalSequence("ack"))
        case "resume":
            guard let token = try reader.optionalString("token", maximumBytes: maximumTokenLength) else {
                throw reader.error(.missingField, "missing field 'token'")
            }
            message = .resume(token: token, lastSeq: try reader.optionalSequence("last_seq") ?? 0)
        default:
            throw reader.error(.unknownType, "unknown message type '\(type.prefix(64))'")
        }
        return ClientRequest(message, id: reader.requestID)
    }
}

extension JoinRequest {
    /// Validates join fields (`room`, `name`, `password`, `capacity`) by the rules of a `/ws` join, for
    /// transports that carry them otherwise; errors name `requestType`.
    public static func decode(fields: [String: JSONValue], requestType: String) throws(SignalingError) -> JoinRequest {
        var reader = FieldReader(fields: fields)
        reader.requestType = requestType
        return try reader.joinRequest()
    }
}

/// Typed access to request fields that reports precise, request-referencing errors.
private struct FieldReader {
    let fields: [String: JSONValue]
    var requestType: String?
    var requestID: JSONValue?

    func error(_ code: SignalingErrorCode, _ message: String) -> SignalingError {
        SignalingError(code, message, requestType: requestType, requestID: requestID)
    }

    func optionalID() throws(SignalingError) -> JSONValue? {
        guard let id = fields["id"] else { return nil }
        switch id {
        case .string(let text) where text.utf8.count <= 128: return id
        case .integer: return id
        default: throw error(.invalidField, "field 'id' must be a string of at most 128 bytes or an integer")
        }
    }

    func optionalString(_ key: String, maximumBytes: Int) throws(SignalingError) -> String? {
        guard let value = fields[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw error(.invalidField, "field '\(key)' must be a string") }
        guard text.utf8.count <= maximumBytes else {
            throw error(.invalidField, "field '\(key)' is longer than \(maximumBytes) bytes")
        }
        return text
    }

    func optionalSequence(_ key: String) throws(SignalingError) -> UInt64? {
        guard let value = fields[key], value != .null else { return nil }
        guard let number = value.integerValue, number >= 0 else {
            throw error(.invalidField, "field '\(key)' must be a non-negative integer")
        }
        return UInt64(number)
    }

    func joinRequest() throws(SignalingError) -> JoinRequest {
        guard let roomText = try optionalString("room", maximumBytes: 1024) else {
            throw error(.missingField, "missing field 'room'")
        }
        guard let room = RoomName(roomText) else {
            throw error(
                .invalidRoomName,
                "room names are 1-\(RoomName.maximumLength) characters of A-Z a-z 0-9 - _ . and do not start with '.'")
        }
        let name = try optionalString("name", maximumBytes: ClientRequest.maximumNameLength * 4)
        if let name {
            guard name.count <= ClientRequest.maximumNameLength,
                !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw error(
                    .invalidField, "field 'name' must be at most \(ClientRequest.maximumNameLength) characters without control characters")
            }
        }
        let password = try optionalString("password", maximumBytes: ClientRequest.maximumPasswordLength)
        var capacity: Int?
        if let value = fields["capacity"], value != .null {
            guard let number = value.integerValue, number >= 1, number <= Int64(Int32.max) else {
                throw error(.invalidField, "field 'capacity' must be a positive integer")
            }
            capacity = Int(number)
        }
        let token = try optionalString("token", maximumBytes: ClientRequest.maximumJoinTokenLength)
        return JoinRequest(room: room, name: name, password: password, capacity: capacity, token: token)
    }
}
