import SignalingCore
import SocketIOProtocol

/// One client's connection to one namespace: what a namespace handler talks to.
public struct SocketIOSocket: Sendable, Hashable {
    /// The Socket.IO id (not the Engine.IO sid, since v5).
    public let id: String
    /// The namespace, `/` by default.
    public let namespace: String
    let session: EngineIOSession

    public static func == (lhs: SocketIOSocket, rhs: SocketIOSocket) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Sends an event (`attachments` go out as binary messages after a BINARY_EVENT header).
    public func emit(_ event: String, _ arguments: [JSONValue] = [], attachments: [[UInt8]] = [], ackID: UInt64? = nil) async {
        let data = JSONValue.array([.string(event)] + arguments)
        await send(
            SocketIOPacket(
                attachments.isEmpty ? .event : .binaryEvent, namespace: namespace, id: ackID, data: data, attachments: attachments))
    }

    /// Acknowledges the client's event `id`.
    public func ack(_ id: UInt64, _ arguments: [JSONValue], attachments: [[UInt8]] = []) async {
        await send(
            SocketIOPacket(
                attachments.isEmpty ? .ack : .binaryAck, namespace: namespace, id: id, data: .array(arguments), attachments: attachments))
    }

    func send(_ packet: SocketIOPacket) async {
        await session.send(message: .text(packet.encoded))
        for attachment in packet.attachments { await session.send(message: .binary(attachment)) }
    }
}

/// What a namespace does with its sockets.
public protocol SocketIONamespaceHandler: Sendable {
    /// Whether a client may join with this CONNECT payload: `nil` admits it, a message refuses it (CONNECT_ERROR).
    func admit(_ socket: SocketIOSocket, auth: JSONValue?) async -> String?
    /// A client joined the namespace (its CONNECT has been answered).
    func connected(_ socket: SocketIOSocket, auth: JSONValue?) async
    /// An EVENT or BINARY_EVENT; `ackID` is set when the client waits for an ACK.
    func event(_ socket: SocketIOSocket, name: JSONValue, arguments: [JSONValue], attachments: [[UInt8]], ackID: UInt64?) async
    /// An ACK of an event the server emitted with an ack id.
    func acknowledged(_ socket: SocketIOSocket, id: UInt64, arguments: [JSONValue], attachments: [[UInt8]]) async
    /// The socket left the namespace (DISCONNECT, or its Engine.IO session ended).
    func disconnected(_ socket: SocketIOSocket, reason: String) async
}

extension SocketIONamespaceHandler {
    /// Admits everyone.
    public func admit(_ socket: SocketIOSocket, auth: JSONValue?) async -> String? { nil }
    /// Ignores acknowledgements.
    public func acknowledged(_ socket: SocketIOSocket, id: UInt64, arguments: [JSONValue], attachments: [[UInt8]]) async {}
}
