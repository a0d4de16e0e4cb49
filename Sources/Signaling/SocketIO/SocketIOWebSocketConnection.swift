import SignalingCore
import SocketIOProtocol
import Synchronization

/// A Socket.IO socket's way out when its Engine.IO session is on a WebSocket: the hub's messages are translated
/// and written onto the connection's event loop as they come, with no outbox and no writer task.
///
/// The bound is the WebSocket sink's (frames written since the socket last drained). Until the namespace has
/// answered the client's CONNECT (a session that opened on the WebSocket), or until the outbox writer of a session
/// that upgraded has written what it held, what the hub sends is held, so the client sees everything in order.
final class SocketIOWebSocketConnection: ConnectionSink {
    private struct State {
        /// Set once the CONNECT was answered (the hub session is known then).
        var translation: SocketIOHubTranslation?
        /// What came before the CONNECT was answered.
        var held: [Outbox.Item] = []
        /// Closed or finished: nothing more is written.
        var ended = false
    }

    private let webSocket: EngineIOWebSocketSink
    private let session: EngineIOSession
    private let work: SignalingEdgeWork
    private let vocabulary: SocketIOVocabularyCell
    private let holdLimit: Int
    private let state = Mutex(State())

    /// `holdLimit` bounds what may wait for the CONNECT answer, as an outbox would; `work` runs the session's end.
    init(
        webSocket: EngineIOWebSocketSink, session: EngineIOSession, vocabulary: SocketIOVocabularyCell, holdLimit: Int,
        work: SignalingEdgeWork
    ) {
        self.webSocket = webSocket
        self.session = session
        self.work = work
        self.vocabulary = vocabulary
        self.holdLimit = holdLimit
    }

    /// The CONNECT of `namespace` was answered for hub session `hubSession`: what was held goes out, and everything
    /// after it goes out as it comes.
    func connected(namespace: String, hubSession: SessionID) {
        takeOver(SocketIOHubTranslation(namespace: namespace, session: hubSession))
    }

    /// The outbox writer of a socket that upgraded wrote everything queued before this sink took over: from its
    /// translation state on, what was held goes out, and everything after it as it comes.
    func takeOver(_ translation: SocketIOHubTranslation) {
        state.withLock { state in
            guard state.translation == nil, !state.ended else { return }
            state.translation = translation
            let held = state.held
            state.held = []
            for item in held where !state.ended { write(item, state: &state) }
        }
    }

    func send(_ message: OutboundMessage) -> Bool { deliver(.message(message)) }

    func replay(_ messages: [OutboundMessage]) -> Bool { deliver(.replay(messages)) }

    func acknowledge(_ acknowledgement: Outbox.Acknowledgement) -> Bool { deliver(.acknowledge(acknowledgement)) }

    func close(_ error: SignalingError?) { _ = deliver(.close(error)) }

    func finish() {
        state.withLock { state in
            state.ended = true
            state.held = []
        }
    }

    /// The namespace learns this from the hub's answer to the request.
    func closedByOwnRequest() {}

    private func deliver(_ item: Outbox.Item) -> Bool {
        state.withLock { state in
            guard !state.ended else { return true }
            guard state.translation != nil else {
                state.held.append(item)
                guard state.held.count > holdLimit else { return true }
                // The hub drops the connection now. Once the way out opens the client hears why and is disconnected,
                // as the outbox writer does for a slow consumer, instead of staying connected to nothing.
                let error = SignalingError(.slowConsumer, "messages were not read fast enough")
                state.held = [.message(OutboundMessage(seq: nil, message: .error(error))), .close(nil)]
                return false
            }
            write(item, state: &state)
            return !webSocket.overflowed
        }
    }

    /// Under the lock, so writes reach the event loop in the order the hub made them.
    private func write(_ item: Outbox.Item, state: inout State) {
        guard let (packets, closes) = state.translation?.packets(for: item, vocabulary: vocabulary.value) else { return }
        webSocket.write(packets.flatMap(\.engineIOPackets))
        guard closes else { return }
        state.ended = true
        // Ending the session is the actor's to do; it follows the DISCONNECT written just now.
        let session = session
        _ = work.submit { await session.close() }
    }
}

/// A socket's vocabulary, shared by the namespace (which sets it from the client's join event) and the socket's way
/// out (which reads it for every message).
final class SocketIOVocabularyCell: Sendable {
    private let state = Mutex(SocketIOVocabulary.codelab)

    var value: SocketIOVocabulary {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
