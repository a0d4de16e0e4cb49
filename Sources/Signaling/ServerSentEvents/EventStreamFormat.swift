import SignalingCore

/// The `text/event-stream` framing of the native protocol (the WHATWG HTML "server-sent events" format).
///
/// Every `/ws` message becomes one event whose `data` is the same JSON. Sequenced messages also carry
/// `id: <resume token>:<seq>`, so a reconnecting EventSource's `Last-Event-ID` says which session to resume
/// and from where, with no help from the page.
enum EventStreamFormat {
    /// Milliseconds an EventSource waits before reconnecting (its `retry`).
    static let reconnectDelayMilliseconds = 1000

    /// The first bytes of a stream: the reconnect delay and the `session` event carrying the token that
    /// binds `POST /send` to this stream.
    static func preamble(streamToken: String) -> String {
        "retry: \(reconnectDelayMilliseconds)\n\n" + event(name: "session", id: nil, data: #"{"token":"\#(streamToken)"}"#)
    }

    /// A comment line: keeps idle proxies from closing the stream, and is ignored by EventSource.
    static let keepalive = ": keepalive\n\n"

    /// One message as an event; `resumeToken` is the session's, once known.
    static func event(for message: OutboundMessage, resumeToken: String?) -> String {
        let id = message.seq.flatMap { seq in resumeToken.map { "\($0):\(seq)" } }
        return event(name: nil, id: id, data: message.json)
    }

    static func event(name: String?, id: String?, data: String) -> String {
        var text = ""
        if let name { text += "event: \(name)\n" }
        if let id { text += "id: \(id)\n" }
        // Serialized JSON never holds a raw line break, but the format requires one `data:` per line.
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        return text + "\n"
    }

    /// The resume request a `Last-Event-ID` asks for: `<token>:<seq>`, as ``event(for:resumeToken:)`` wrote it.
    /// `nil` when the header is malformed.
    static func resumeRequest(lastEventID: String) -> ClientMessage? {
        guard let colon = lastEventID.lastIndex(of: ":"),
            let seq = UInt64(lastEventID[lastEventID.index(after: colon)...])
        else { return nil }
        let token = String(lastEventID[..<colon])
        guard !token.isEmpty, token.utf8.count <= ClientRequest.maximumTokenLength else { return nil }
        return .resume(token: token, lastSeq: seq)
    }
}
