import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardApp

/// `switchboard serve`: runs every service on embedded defaults unless told otherwise.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server.",
        discussion: """
            Every option can also be set by an environment variable SWITCHBOARD_<NAME> (upper case, '_' for \
            '-'; flags take true/false) or by a line 'name = value' in the --config file. The command line \
            beats the environment, which beats the file.
            """)

    @Option(name: .customLong("config"), help: "Read options from this file (lines 'name = value', '#' comments).")
    var config: String?

    @Option(name: .customLong("host"), help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(name: .customLong("http-port"), help: "HTTP and WebSocket port (0 picks a free port).")
    var httpPort = 8080

    @Option(name: .customLong("data-dir"), help: "Directory for the server's files.")
    var dataDir = "./switchboard-data"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("room-capacity"), help: "Members per room, unless the creating join asks for another capacity.")
    var roomCapacity = 8

    @Option(name: .customLong("max-room-capacity"), help: "Largest capacity a creating join may ask for.")
    var maxRoomCapacity = 64

    @Option(name: .customLong("max-message-bytes"), help: "Largest signaling message in bytes, checked before parsing.")
    var maxMessageBytes = 65_536

    @Option(name: .customLong("message-rate"), help: "Requests per second per session (sustained).")
    var messageRate = 50.0

    @Option(name: .customLong("message-burst"), help: "Requests a session may send in a burst.")
    var messageBurst = 200.0

    @Option(name: .customLong("join-rate"), help: "Joins per second per client IP address (sustained).")
    var joinRate = 5.0

    @Option(name: .customLong("join-burst"), help: "Joins a client IP address may make in a burst.")
    var joinBurst = 20.0

    @Option(name: .customLong("outbound-queue"), help: "Unsent messages per connection before it is closed as a slow consumer.")
    var outboundQueue = 256

    @Option(
        name: .customLong("heartbeat-interval"),
        help: "Seconds between WebSocket pings; a ping unanswered by the next one closes the connection.")
    var heartbeatInterval = 10.0

    @Option(name: .customLong("grace-period"), help: "Seconds a dropped session may resume before its peers see bye.")
    var gracePeriod = 20.0

    @Option(name: .customLong("held-messages"), help: "Messages held per room while its only member broadcasts.")
    var heldMessages = 64

    @Option(name: .customLong("held-message-ttl"), help: "Seconds a held message waits for a joiner.")
    var heldMessageTTL = 30.0

    @Option(name: .customLong("resume-history"), help: "Messages kept per session for resume.")
    var resumeHistory = 256

    @Option(name: .customLong("max-sessions"), help: "Sessions held at once, connected or in grace.")
    var maxSessions = 50_000

    /// Every option above, for merging environment variables and config files.
    static let optionSpecs: [OptionSpec] = [
        "config", "host", "http-port", "data-dir", "log-level", "room-capacity", "max-room-capacity",
        "max-message-bytes", "message-rate", "message-burst", "join-rate", "join-burst", "outbound-queue",
        "heartbeat-interval", "grace-period", "held-messages", "held-message-ttl", "resume-history", "max-sessions",
    ].map { OptionSpec($0) }

    static func mergedArguments(_ arguments: [String]) throws -> [String] {
        do {
            return try OptionSources.merge(
                arguments: arguments, environment: ProcessInfo.processInfo.environment, options: optionSpecs,
                readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
        } catch let error as OptionSourceError {
            throw ValidationError(error.description)
        }
    }

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0-65535") }
        guard roomCapacity >= 1, maxRoomCapacity >= roomCapacity else {
            throw ValidationError("--room-capacity must be at least 1 and at most --max-room-capacity")
        }
        for (name, value) in [
            ("max-message-bytes", maxMessageBytes), ("outbound-queue", outboundQueue), ("held-messages", heldMessages),
            ("resume-history", resumeHistory), ("max-sessions", maxSessions),
        ] where value < 1 {
            throw ValidationError("--\(name) must be at least 1")
        }
        for (name, value) in [
            ("message-rate", messageRate), ("message-burst", messageBurst), ("join-rate", joinRate),
            ("join-burst", joinBurst), ("heartbeat-interval", heartbeatInterval), ("grace-period", gracePeriod),
            ("held-message-ttl", heldMessageTTL),
        ] where !(value > 0) {
            throw ValidationError("--\(name) must be greater than 0")
        }
    }

    var switchboardConfiguration: SwitchboardConfiguration {
        var configuration = SwitchboardConfiguration()
        configuration.host = host
        configuration.httpPort = httpPort
        configuration.dataDirectory = dataDir
        configuration.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        configuration.maxMessageBytes = maxMessageBytes
        configuration.outboundQueueLimit = outboundQueue
        configuration.heartbeatInterval = .seconds(heartbeatInterval)
        configuration.signaling.roomCapacity = roomCapacity
        configuration.signaling.maximumRoomCapacity = maxRoomCapacity
        configuration.signaling.messageRate = messageRate
        configuration.signaling.messageBurst = messageBurst
        configuration.signaling.joinRate = joinRate
        configuration.signaling.joinBurst = joinBurst
        configuration.signaling.gracePeriod = .seconds(gracePeriod)
        configuration.signaling.heldMessageLimit = heldMessages
        configuration.signaling.heldMessageTTL = .seconds(heldMessageTTL)
        configuration.signaling.historyLimit = resumeHistory
        configuration.signaling.maximumSessions = maxSessions
        return configuration
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
        let app = try buildApplication(switchboardConfiguration)
        try await app.runService()
    }
}
