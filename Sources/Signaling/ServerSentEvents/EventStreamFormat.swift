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
        // `data` relayed as it arrived may hold raw CR or LF between its tokens (never inside a string). EventSource
        // ends a line at CR, LF or CRLF, so each is split out (by scalar: "\r\n" is one Character) and each line
        // gets its own `data:`; the client joins them with LF, which JSON reads as the same whitespace.
        for line in data.unicodeScalars.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            text += "data: "
            text.unicodeScalars += line
            text += "\n"
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
