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
        for message in packet.engineIOPackets { await session.send(message) }
    }
}

/// A namespace's answer to a CONNECT.
public enum SocketIOAdmission: Sendable {
    /// Admitted; the CONNECT answer carries `socketID`.
    case accept(socketID: String)
    /// Refused with a CONNECT_ERROR carrying `message`.
    case refuse(message: String)
}

/// What a namespace does with its sockets.
public protocol SocketIONamespaceHandler: Sendable {
    /// Whether a client may join `namespace` with this CONNECT payload, and under which socket id.
    func admit(namespace: String, auth: JSONValue?, session: EngineIOSession) async -> SocketIOAdmission
    /// A client joined the namespace (its CONNECT has been answered).
    func connected(_ socket: SocketIOSocket, auth: JSONValue?) async
    /// An EVENT or BINARY_EVENT; `ackID` is set when the client waits for an ACK.
    func event(_ socket: SocketIOSocket, name: JSONValue, arguments: [JSONValue], attachments: [[UInt8]], ackID: UInt64?) async
    /// An ACK of an event the server emitted with an ack id.
    func acknowledged(_ socket: SocketIOSocket, id: UInt64, arguments: [JSONValue], attachments: [[UInt8]]) async
    /// The socket left the namespace (DISCONNECT, or its Engine.IO session ended).
    func disconnected(_ socket: SocketIOSocket, reason: String) async
    /// An EVENT with neither attachments nor an ack id, handled at once on the connection's event loop when the
    /// handler can without waiting; `false` leaves it to ``event(_:name:arguments:attachments:ackID:)``.
    func eventWithoutWaiting(_ socket: SocketIOSocket, name: JSONValue, arguments: [JSONValue]) -> Bool
}

extension SocketIONamespaceHandler {
    /// Admits everyone, each under a fresh random id.
    public func admit(namespace: String, auth: JSONValue?, session: EngineIOSession) async -> SocketIOAdmission {
        .accept(socketID: SecureIdentifiers.randomBase64URL(byteCount: 15))
    }
    /// Ignores acknowledgements.
    public func acknowledged(_ socket: SocketIOSocket, id: UInt64, arguments: [JSONValue], attachments: [[UInt8]]) async {}
    /// Leaves every event to ``event(_:name:arguments:attachments:ackID:)``.
    public func eventWithoutWaiting(_ socket: SocketIOSocket, name: JSONValue, arguments: [JSONValue]) -> Bool { false }
}
