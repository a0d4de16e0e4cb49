import CDatagramIO
import Logging
import STUNProtocol
import Synchronization
import TURNCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The thread-safe face of a `UDPRelayLoop`: it starts the loop's thread, takes work for it from other threads
/// (statistics, draining, shutdown), and tells when the loop has ended.
final class UDPRelayLoopHandle: Sendable {
    typealias Task = @Sendable (UDPRelayLoop) -> Void

    private struct State {
        var tasks: [Task] = []
        var ended = false
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The eventfd that wakes the loop; owned here, not by the loop, so a late `execute` never writes to a closed
    /// (or reused) descriptor.
    private let wake: Int32
    private let state = Mutex(State())

    private init(wake: Int32) {
        self.wake = wake
    }

    deinit {
        close(wake)
    }

    /// Starts a loop on a new thread, serving `listener` with `core`.
    static func start(
        name: String, core: TURNServerCore, listener: UDPSocket, logger: Logger, events: TURNServerEvents
    ) throws(UDPSocket.Failure) -> UDPRelayLoopHandle {
        guard let server = listener.localAddress() else { throw UDPSocket.Failure(call: "getsockname", errorNumber: errno) }
        let wake = cdio_eventfd()
        guard wake >= 0 else { throw UDPSocket.Failure(call: "eventfd", errorNumber: errno) }
        let handle = UDPRelayLoopHandle(wake: wake)
        let epoll = cdio_epoll_create()
        guard epoll >= 0 else { throw UDPSocket.Failure(call: "epoll_create1", errorNumber: errno) }
        guard cdio_epoll_add(epoll, wake, UDPRelayLoop.wakeToken) == 0,
            cdio_epoll_add(epoll, listener.descriptor, UDPRelayLoop.listenerToken) == 0
        else {
            let failure = UDPSocket.Failure(call: "epoll_ctl", errorNumber: errno)
            close(epoll)
            throw failure
        }
        try LoopThread.start(name: name) {
            // The loop is made on its own thread and never leaves it.
            UDPRelayLoop(
                core: core, logger: logger, events: events, handle: handle, epoll: epoll, listener: listener, server: server
            ).run()
        }
        return handle
    }

    /// Runs `task` on the loop soon; false when the loop has already ended.
    @discardableResult
    func execute(_ task: @escaping Task) -> Bool {
        let accepted = state.withLock { state in
            guard !state.ended else { return false }
            state.tasks.append(task)
            return true
        }
        if accepted { cdio_eventfd_signal(wake) }
        return accepted
    }

    /// Runs `body` on the loop and returns its result; `nil` when the loop has ended.
    func submit<Result: Sendable>(_ body: @escaping @Sendable (UDPRelayLoop) -> Result) async -> Result? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result?, Never>) in
            let accepted = execute { loop in continuation.resume(returning: body(loop)) }
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    /// Ends every allocation, closes the loop's sockets and waits for its thread to finish.
    func stop() async {
        execute { $0.stop() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = state.withLock { state in
                if !state.ended { state.endWaiters.append(continuation) }
                return state.ended
            }
            if ended { continuation.resume() }
        }
    }

    // MARK: loop side

    /// The work handed in since the last call (the loop calls this when woken).
    func takeTasks() -> [Task] {
        cdio_eventfd_drain(wake)
        return state.withLock { state in
            defer { state.tasks.removeAll() }
            return state.tasks
        }
    }

    /// The loop's last act: later work is refused, and work already queued still runs, so no caller waits forever.
    func loopEnded(_ loop: UDPRelayLoop) {
        let (left, waiters) = state.withLock { state in
            state.ended = true
            defer {
                state.tasks.removeAll()
                state.endWaiters.removeAll()
            }
            return (state.tasks, state.endWaiters)
        }
        for task in left { task(loop) }
        for waiter in waiters { waiter.resume() }
    }
}

/// Starts a detached POSIX thread: the UDP relay loops run one each, apart from NIO's event loops.
enum LoopThread {
    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(_ name: String, _ run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    static func start(name: String, _ run: @escaping @Sendable () -> Void) throws(UDPSocket.Failure) {
        let body = Unmanaged.passRetained(Body(name, run)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { raw in
                let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
                cdio_name_this_thread(body.name)
                body.run()
                return nil
            }, body)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            throw UDPSocket.Failure(call: "pthread_create", errorNumber: result)
        }
        pthread_detach(thread)
    }
}
