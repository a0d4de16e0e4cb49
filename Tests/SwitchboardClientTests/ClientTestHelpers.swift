import SwitchboardClient
import SwitchboardTestSupport
import Testing

/// Reads events from a client's stream with a deadline, so a missing message fails instead of hanging.
///
/// A timeout cancels the waiting read, which ends the stream: a timed-out reader is finished.
struct EventReader {
    let events: AsyncStream<SignalingEvent>

    init(_ client: SignalingClient) {
        events = client.events
    }

    /// The next server message (skipping connection events unless `includeConnectionEvents`).
    func next(timeout: Duration = .seconds(10), includeConnectionEvents: Bool = false) async throws -> SignalingEvent {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let event = try await withDeadline(deadline) { [events] in
                var iterator = events.makeAsyncIterator()
                return await iterator.next()
            }
            guard let value = event else { throw TestSupportError("event stream ended") }
            if case .message = value { return value }
            if includeConnectionEvents { return value }
        }
    }

    /// The next server message, which must exist.
    func message(timeout: Duration = .seconds(10)) async throws -> ServerMessage {
        guard case .message(let message) = try await next(timeout: timeout) else {
            throw TestSupportError("expected a server message")
        }
        return message
    }
}

/// Runs `operation`, failing with a timeout error at `deadline`.
func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, _ operation: @escaping @Sendable () async throws -> T) async throws -> T
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try? await Task.sleep(until: deadline, clock: .continuous)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TestSupportError("deadline passed")
        }
        return value
    }
}
