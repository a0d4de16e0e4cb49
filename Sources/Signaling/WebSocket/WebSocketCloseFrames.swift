import NIOCore
import NIOWebSocket

/// The close frames a server-side WebSocket handler sends (RFC 6455 §5.5.1, §7.4), shared by the signaling handlers
/// that serve connections on their event loops.
enum WebSocketCloseFrames {
    /// A close frame with `code` and an optional reason.
    static func close(_ code: WebSocketErrorCode, reason: String?, allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(reason) }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// The answer to a client's close frame: its status code echoed, or 1002 for one a close frame may not carry.
    static func reply(to frame: WebSocketFrame, allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = frame.unmaskedData
        var reply = allocator.buffer(capacity: 2)
        switch data.readableBytes {
        case 0:
            break
        case 1:
            reply.write(webSocketErrorCode: .protocolError)
        default:
            let code = data.readInteger(as: UInt16.self)!
            reply.writeInteger(isSendable(closeCode: code) ? code : UInt16(webSocketErrorCode: .protocolError))
        }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)
    }

    /// Whether an endpoint may put `code` in a close frame (RFC 6455 §7.4): the defined codes but 1004–1006 and
    /// 1015, and the registered and private ranges.
    static func isSendable(closeCode code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
