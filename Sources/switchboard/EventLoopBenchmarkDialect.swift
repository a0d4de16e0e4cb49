import Foundation
import NIOCore
import SocketIOProtocol
import SwitchboardClient

/// What the event-loop load generator's peers say on the wire: the native `/ws` protocol, or Socket.IO's
/// "join/leave" vocabulary over an Engine.IO WebSocket (which Switchboard and bench/sio_reference_server.py speak).
enum EventLoopBenchmarkDialect {
    case native
    case socketIO

    /// What a peer learned from one text frame.
    enum Heard {
        /// Text to send back at once (Engine.IO's pong, the namespace CONNECT, the join).
        case reply(String)
        /// The partner is in the room (its session id, where the protocol addresses messages by it): the peer is ready.
        case partner(String)
        /// A message from the partner.
        case data(JSONValue)
        /// The server numbered a message; acknowledgements name the highest.
        case sequence(UInt64)
        /// The server reported an error; before the peer is ready, it ends the peer's run.
        case error(String)
    }

    /// The request path of the WebSocket upgrade.
    func path(of url: URL) -> String {
        switch self {
        case .native: url.path.isEmpty ? "/" : url.path
        case .socketIO: "/socket.io/?EIO=4&transport=websocket"
        }
    }

    /// What a peer sends once its WebSocket is open: the native join (Socket.IO first waits for Engine.IO's open).
    func opening(room: String) -> String? {
        switch self {
        case .native: #"{"type":"join","room":"\#(room)","capacity":2}"#
        case .socketIO: nil
        }
    }

    /// The periodic acknowledgement of what was received (the native protocol's `ping` with `ack`; the SDK peers
    /// send one every 2 s). Socket.IO has none.
    func acknowledgement(lastSeq: UInt64) -> String? {
        switch self {
        case .native: #"{"type":"ping","ack":\#(lastSeq),"id":"_ack"}"#
        case .socketIO: nil
        }
    }

    /// A message to the partner, `data` being JSON text.
    func message(_ data: String, partner: String, room: String) -> String {
        switch self {
        case .native: #"{"type":"message","to":"\#(partner)","data":\#(data)}"#
        case .socketIO: #"42["message","\#(room)",\#(data)]"#
        }
    }

    /// Reads one text frame.
    func heard(_ frame: ByteBuffer, room: String) -> [Heard] {
        switch self {
        case .native: Self.heardNative(frame)
        case .socketIO: Self.heardSocketIO(String(buffer: frame), room: room)
        }
    }

    private static func heardNative(_ frame: ByteBuffer) -> [Heard] {
        guard let outbound = try? OutboundMessage.decode(frame.readableBytesView) else { return [.error("undecodable frame")] }
        var heard: [Heard] = outbound.seq.map { [.sequence($0)] } ?? []
        switch outbound.message {
        case .joined(_, _, let members, _, _):
            if let first = members.first { heard.append(.partner(first.id.rawValue)) }
        case .otherJoined(_, let other): heard.append(.partner(other.id.rawValue))
        case .message(_, _, _, let data): heard.append(.data(data.value))
        case .error(let error): heard.append(.error(error.code.rawValue))
        case .full: heard.append(.error("join: full"))
        default: break
        }
        return heard
    }

    /// The join is the Socket.IO event with ack id 1.
    private static let joinAckID: UInt64 = 1

    private static func heardSocketIO(_ text: String, room: String) -> [Heard] {
        switch text.first {
        case "0": return [.reply("40")]  // Engine.IO open: join namespace "/"
        case "2": return [.reply("3" + text.dropFirst())]  // ping → pong
        case "4": break
        default: return []
        }
        guard let (packet, _) = try? SocketIOPacket.parse(String(text.dropFirst())) else { return [.error("undecodable packet")] }
        switch packet.type {
        case .connect:
            return [.reply(#"42\#(joinAckID)["join","\#(room)"]"#)]
        case .ack where packet.id == joinAckID:
            guard case .array(let arguments)? = packet.data, let answer = arguments.first, answer["ok"] == .bool(true) else {
                return [.error("join refused")]
            }
            // The second peer in is ready at once; the first waits for `otherjoin`.
            return answer["peers"] == .array([]) ? [] : [.partner("")]
        case .event:
            guard let (name, arguments) = packet.event else { return [] }
            switch name {
            case "message" where arguments.count == 2: return [.data(arguments[1])]
            case "otherjoin": return [.partner("")]
            case "error": return [.error(arguments.first?["code"]?.stringValue ?? "error")]
            default: return []
            }
        case .disconnect, .connectError:
            return [.error("server disconnect")]
        default:
            return []
        }
    }
}
