import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardApp

/// Runs the real server on 127.0.0.1 with an ephemeral port for the duration of `body`.
///
/// - Parameters:
///   - configure: adjusts the test configuration (host and port are set here).
///   - body: receives the bound HTTP port.
public func withRunningSwitchboard<Result: Sendable>(
    configure: (inout SwitchboardConfiguration) -> Void = { _ in },
    _ body: @Sendable (Int) async throws -> Result
) async throws -> Result {
    var configuration = SwitchboardConfiguration()
    configuration.host = "127.0.0.1"
    configuration.httpPort = 0
    configuration.dataDirectory = FileManagerShim.temporaryDirectory(prefix: "switchboard-test")
    configuration.logLevel = .warning
    configure(&configuration)
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let app = try await buildApplication(configuration, logger: Logger(label: "test-server")) { address in
        portSink.yield(address.port ?? 0)
        portSink.finish()
    }
    let services = ServiceGroup(
        configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "test-services")))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            await services.triggerGracefulShutdown()
            throw TestSupportError("server did not start")
        }
        // Stop the way production stops: a graceful shutdown, not a cancellation.
        do {
            let result = try await body(port)
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            await services.triggerGracefulShutdown()
            throw error
        }
    }
}

/// A failure inside the test support itself.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String

    /// Describes the failure.
    public init(_ description: String) {
        self.description = description
    }
}
