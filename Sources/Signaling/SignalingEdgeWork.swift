/// Work that connection handlers on event loops hand off because it awaits: a join, whose gate may check a token,
/// look up a stored room or hash a password.
///
/// Each job runs as a child task of one service task (``SignalingTickService`` runs ``run()``), so it lives only as
/// long as its work and shutdown waits for what is left.
public final class SignalingEdgeWork: Sendable {
    /// One piece of work.
    public typealias Job = @Sendable () async -> Void

    private let jobs: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation

    /// Creates an empty queue; ``run()`` runs its jobs.
    public init() {
        (jobs, continuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .unbounded)
    }

    /// Queues `job`; `false` once the service has stopped taking work.
    func submit(_ job: @escaping Job) -> Bool {
        if case .terminated = continuation.yield(job) { return false }
        return true
    }

    /// Runs queued jobs, each in its own child task, until ``finish()``; then waits for those still running.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await job() }
            }
        }
    }

    /// Stops taking work.
    public func finish() {
        continuation.finish()
    }
}
