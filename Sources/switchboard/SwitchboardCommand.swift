import ArgumentParser
import Foundation

/// The `switchboard` executable: one binary for serving, benchmarking and operations.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A self-hosted WebRTC server: signaling, STUN/TURN, a browser client.",
        subcommands: [
            ServeCommand.self, UserCommand.self, RoomCommand.self, RecordsCommand.self, TokenCommand.self, CredentialsCommand.self,
            ProbeCommand.self, BenchCommand.self,
        ],
        defaultSubcommand: ServeCommand.self)

    /// Parses with config-file and environment options merged in for `serve`, then runs.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            if let serveArguments = serveArguments(arguments) {
                arguments = try ["serve"] + ServeCommand.mergedArguments(serveArguments)
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

    /// The arguments for `serve` when the command line runs it (named, or as the default subcommand
    /// when only options are given); `nil` for other subcommands and for the root's own help.
    static func serveArguments(_ arguments: [String]) -> [String]? {
        guard let first = arguments.first else { return [] }
        if first == "serve" { return Array(arguments.dropFirst()) }
        if first.hasPrefix("-") && !["--help", "-h", "--version"].contains(first) { return arguments }
        return nil
    }
}
