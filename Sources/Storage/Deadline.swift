/// The database did not answer in time.
public struct DatabaseTimeout: Error, CustomStringConvertible {
    public var description: String { "the database did not answer in time" }
}

/// Runs `body`, cancelling it and throwing ``DatabaseTimeout`` after `duration`: a database that stopped answering
/// (postgres-nio's pool waits for a connection rather than failing) must not hold a client's join, or a cluster
/// node's writer, forever.
@discardableResult
public func withDeadline<Result: Sendable>(_ duration: Duration, _ body: @escaping @Sendable () async throws -> Result) async throws
    -> Result
{
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw DatabaseTimeout()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw DatabaseTimeout() }
        return first
    }
}
