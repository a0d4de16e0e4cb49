import ArgumentParser
import Foundation

/// The `switchboard` executable: one binary for serving, benchmarking and operations.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A self-hosted WebRTC server: signaling, STUN/TURN, a browser client.",
        subcommands: [ServeCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self)

    /// Parses with config-file and environment options merged in for `serve`, then runs.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            if arguments.first == "serve" || arguments.isEmpty
                || arguments.first?.hasPrefix("--") == true
                    && !["--help", "-h", "--version"].contains(arguments.first!)
            {
                if arguments.first == "serve" { arguments.removeFirst() }
                arguments = try ["serve"] + ServeCommand.mergedArguments(arguments)
            }
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
