import NIOCore
import SignalingCore

/// Joins a client's data frames into messages, checking the size limit on raw bytes before any parsing and
/// across fragments, and turns each complete message into a request or the error to answer it with.
struct WebSocketMessageAssembler {
    /// What one data frame completed.
    enum Outcome {
        /// A fragment of a message that is not complete yet.
        case incomplete
        /// A decoded request.
        case request(ClientRequest)
        /// A message the hub answers with an error; `fatal` when nothing after it may be read.
        case rejected(SignalingError, fatal: Bool)
    }

    private let maxMessageBytes: Int
    private var message = ByteBuffer()
    private var isText = true

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Adds one data frame: `startsMessage` for a text or binary frame, `false` for a continuation.
    mutating func append(_ data: ByteBuffer, startsMessage: Bool, isText frameIsText: Bool, fin: Bool) -> Outcome {
        if startsMessage {
            // A fresh buffer, not a cleared one: a fragmented message's storage is not kept for the connection's life.
            if message.capacity > 0 { message = ByteBuffer() }
            isText = frameIsText
        }
        guard message.readableBytes + data.readableBytes <= maxMessageBytes else {
            return .rejected(SignalingError(.frameTooLarge, "messages are limited to \(maxMessageBytes) bytes"), fatal: true)
        }
        let payload: ByteBuffer
        if fin && startsMessage {
            payload = data  // unfragmented, the common case: parse the frame's bytes in place
        } else {
            var data = data
            message.writeBuffer(&data)
            guard fin else { return .incomplete }
            payload = message
        }
        guard isText else {
            return .rejected(SignalingError(.binaryFrame, "binary frames are not part of the protocol; send JSON text"), fatal: false)
        }
        do {
            return .request(try ClientRequest.decode(payload.readableBytesView))
        } catch {
            return .rejected(error, fatal: false)
        }
    }
}
