import ArgumentParser

/// `switchboard bench`: load generators whose figures go into bench/README.md.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load generators.",
        subcommands: [SignalingBenchCommand.self, SocketIOBenchCommand.self, TURNBenchCommand.self])
}

/// The knobs of a relay load, shared by `bench signaling` and `bench socketio`.
struct RelayLoadOptions: ParsableArguments {
    @Option(help: "Connections to open (rounded down to an even number).")
    var connections = 100

    @Option(help: "Messages per second each peer sends to its partner.")
    var rate = 1.0

    @Option(help: "Seconds of measured sending.")
    var duration = 10.0

    @Option(help: "Most seconds to wait, after sending stops, for the partner's last message; later ones count as lost.")
    var drain = 30.0

    @Option(help: "New connections per second while ramping up.")
    var connectRate = 2000.0

    @Option(help: "Bytes of padding in each message's data.")
    var payloadBytes = 100

    @Option(help: "PID of the server, to report its resident memory.")
    var serverPid: Int?

    @Option(help: "Prefix for room names, so runs do not collide.")
    var roomPrefix = "bench"

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard connections >= 2 else { throw ValidationError("--connections must be at least 2") }
        guard rate > 0, duration > 0, connectRate > 0 else {
            throw ValidationError("--rate, --duration and --connect-rate must be positive")
        }
    }

    /// Runs the load over `wireProtocol` at `url` (odd peers at `secondURL` when given); exits with code 2 when
    /// anything was lost or failed.
    func run(_ wireProtocol: SignalingBenchmark.WireProtocol, url: String, secondURL: String? = nil) async throws {
        let benchmark = SignalingBenchmark(
            protocolKind: wireProtocol, url: url, secondURL: secondURL, connections: connections / 2 * 2, rate: rate,
            duration: .seconds(duration),
            drain: .seconds(drain), connectRate: connectRate, payloadBytes: payloadBytes, serverPID: serverPid,
            roomPrefix: roomPrefix)
        let result = try await benchmark.run()
        print(json ? result.json : result.table)
        if result.lost > 0 || result.errors > 0 {
            throw ExitCode(2)
        }
    }
}

/// `switchboard bench signaling`: rooms of two over `/ws`, each peer messaging its partner at a fixed rate.
struct SignalingBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signaling",
        abstract:
            "Open N connections in rooms of two; each peer sends to its partner at a rate; report throughput, latency, memory and loss.")

    @Option(help: "WebSocket URL of the server's /ws endpoint.")
    var url = "ws://127.0.0.1:8080/ws"

    @Option(
        name: .customLong("second-url"),
        help: "The /ws URL of another node of the same cluster: every room's second peer connects there, so all traffic crosses nodes.")
    var secondURL: String?

    @Flag(help: "Drive the peers through the Swift SDK (a task and an actor each), not channel handlers on one event loop.")
    var sdk = false

    @OptionGroup var load: RelayLoadOptions

    func run() async throws {
        try await load.run(sdk ? .nativeSDK : .native, url: url, secondURL: secondURL)
    }
}

/// `switchboard bench socketio`: the same load over Socket.IO (WebSocket transport, "join/leave" events),
/// against Switchboard's `/socket.io/` or any server speaking that vocabulary (bench/sio_reference_server.py).
struct SocketIOBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio",
        abstract:
            "The signaling load over Socket.IO: join(room) with an ack, message(room, data) to the partner; same report.")

    @Option(help: "Base WebSocket URL of the server; /socket.io/ is appended.")
    var url = "ws://127.0.0.1:8080"

    @Flag(help: "Drive the peers with a WebSocket client and tasks each, not channel handlers on one event loop.")
    var tasks = false

    @OptionGroup var load: RelayLoadOptions

    func run() async throws {
        try await load.run(tasks ? .socketIOTasks : .socketIO, url: url)
    }
}
