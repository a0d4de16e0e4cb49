import SignalingCore
import SwitchboardTestSupport
import Testing

/// Drives a `SignalingState` with a manual clock and records what each connection was sent.
struct CoreHarness {
    var state: SignalingState
    var clock = ManualClock()
    var nextConnection: UInt64 = 1
    /// Everything sent, per connection, in order.
    var inbox: [ConnectionID: [OutboundMessage]] = [:]
    /// Connections the core asked to close, with the error.
    var closed: [ConnectionID: SignalingError?] = [:]
    /// Joins handed to the cluster directory, in order.
    var clusterJoins: [ClusterJoinRequest] = []
    /// Messages handed to other nodes, in order.
    var forwarded: [(NodeID, RemoteDelivery)] = []
    /// Sessions handed to the directory, in order.
    var parked: [ParkedSession] = []
    /// Resumes handed to the directory, in order.
    var clusterResumes: [ClusterResumeRequest] = []

    init(configure: (inout SignalingConfiguration) -> Void = { _ in }) {
        var configuration = SignalingConfiguration()
        configure(&configuration)
        state = SignalingState(configuration: configuration)
    }

    /// Opens a connection from `address`; its session id is `s<n>` and its token `t<n>`.
    mutating func connect(address: String = "192.0.2.1") -> ConnectionID {
        let connection = ConnectionID(nextConnection)
        nextConnection += 1
        record(
            state.connectionOpened(
                connection, session: SessionID("s\(connection.rawValue)"), token: "t\(connection.rawValue)",
                address: ClientAddress(address), now: clock.now))
        return connection
    }

    mutating func send(_ message: ClientMessage, id: JSONValue? = nil, on connection: ConnectionID) {
        record(state.requestReceived(ClientRequest(message, id: id), on: connection, now: clock.now))
    }

    mutating func join(_ room: String, on connection: ConnectionID, name: String? = nil, password: String? = nil, capacity: Int? = nil) {
        send(.join(JoinRequest(room: RoomName(room)!, name: name, password: password, capacity: capacity)), on: connection)
    }

    /// A connection whose join of `room` the cluster directory admitted (a cluster node's core must be connected).
    mutating func clusterMember(of room: String = "r", name: String? = nil) -> ConnectionID {
        let connection = connect()
        join(room, on: connection, name: name)
        record(state.clusterJoinAdmitted(session(connection), room: RoomName(room)!, capacity: 8))
        return connection
    }

    mutating func advance(_ duration: Duration) {
        clock.advance(by: duration)
        record(state.timerFired(now: clock.now))
    }

    mutating func lose(_ connection: ConnectionID) {
        record(state.connectionLost(connection, now: clock.now))
    }

    mutating func close(_ connection: ConnectionID) {
        record(state.connectionClosed(connection, now: clock.now))
    }

    mutating func record(_ actions: [SignalingAction]) {
        for action in actions {
            switch action {
            case .send(let connection, let message): inbox[connection, default: []].append(message)
            case .replay(let connection, let messages): inbox[connection, default: []] += messages
            case .close(let connection, let error): closed[connection] = error
            case .clusterJoin(let request): clusterJoins.append(request)
            case .forward(let node, let delivery): forwarded.append((node, delivery))
            case .park(let session): parked.append(session)
            case .clusterResume(let request): clusterResumes.append(request)
            }
        }
    }

    /// Removes and returns what `connection` was sent so far.
    mutating func take(_ connection: ConnectionID) -> [ServerMessage] {
        defer { inbox[connection] = [] }
        return (inbox[connection] ?? []).map(\.message)
    }

    /// Removes and returns what was sent, with sequence numbers.
    mutating func takeOutbound(_ connection: ConnectionID) -> [OutboundMessage] {
        defer { inbox[connection] = [] }
        return inbox[connection] ?? []
    }

    /// Removes and returns the error codes `connection` was sent.
    mutating func errors(_ connection: ConnectionID) -> [SignalingErrorCode] {
        take(connection).compactMap { if case .error(let error) = $0 { return error.code } else { return nil } }
    }

    func session(_ connection: ConnectionID) -> SessionID { SessionID("s\(connection.rawValue)") }
}

let room1 = RoomName("room-1")!
let room2 = RoomName("room-2")!
