import SignalingCore
import Synchronization

/// One connection's bounded outbound queue, filled by the hub and drained by the connection's writer.
///
/// The bound is what keeps a slow reader from growing server memory: once `limit` messages wait
/// unwritten, the outbox is aborted and the writer ends the connection with `slow_consumer`.
final class Outbox: ConnectionSink {
    /// An entry for the writer.
    enum Item: Sendable {
        case message(OutboundMessage)
        case replay([OutboundMessage])
        case close(SignalingError?)
        /// The request a transport wants acknowledged was handled; its direct replies are here, not queued apart.
        case acknowledge(Acknowledgement)
    }

    /// The outcome of one acknowledged request.
    struct Acknowledgement: Sendable {
        /// The request's id, as given to the hub.
        var requestID: JSONValue?
        /// The request's wire type (`join`, `leave`, `message`).
        var requestType: String
        /// Its direct replies: a non-fatal `error`, or `full`. Empty when it succeeded.
        var replies: [ServerMessage]
    }

    let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let pending = Atomic<Int>(0)
    private let abortedFlag = Atomic<Bool>(false)
    private let successor = Mutex<(any ConnectionSink)?>(nil)
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        (items, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .unbounded)
    }

    /// Queues a message. Returns `false` when this overflowed the bound; the outbox is then aborted.
    func send(_ message: OutboundMessage) -> Bool {
        enqueue(item: .message(message))
    }

    /// Queues a resumed session's missed messages as one entry: the history limit already bounds them.
    func replay(_ messages: [OutboundMessage]) -> Bool {
        enqueue(item: .replay(messages))
    }

    private func enqueue(item: Item) -> Bool {
        guard !isAborted else { return true }
        if pending.add(1, ordering: .relaxed).newValue > limit {
            abortedFlag.store(true, ordering: .releasing)
            continuation.finish()
            return false
        }
        continuation.yield(item)
        return true
    }

    /// Queues a request's acknowledgement after what the request caused.
    func acknowledge(_ acknowledgement: Acknowledgement) -> Bool {
        enqueue(item: .acknowledge(acknowledgement))
    }

    /// The transport's reader learns this from the hub's answer to its request.
    func closedByOwnRequest() {}

    /// Queues a close after the messages already queued.
    func close(_ error: SignalingError?) {
        continuation.yield(.close(error))
        continuation.finish()
    }

    /// Ends the stream without a close item (the connection is already gone).
    func finish() {
        continuation.finish()
    }

    /// The writer wrote one message.
    func didWrite() {
        pending.subtract(1, ordering: .relaxed)
    }

    /// Whether the bound was exceeded.
    var isAborted: Bool { abortedFlag.load(ordering: .acquiring) }

    /// The hub now sends to `sink` instead (the session moved to a transport the hub can write to directly): the
    /// stream ends after what it holds, and the writer then hands its state to `sink`.
    func handOver(to sink: any ConnectionSink) {
        successor.withLock { $0 = sink }
        continuation.finish()
    }

    /// The sink that took over, once the hub switched to it.
    var handedOverTo: (any ConnectionSink)? { successor.withLock { $0 } }
}
