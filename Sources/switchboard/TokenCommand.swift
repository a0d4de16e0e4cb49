import ArgumentParser
import Foundation
import SignalingCore
import SwitchboardApp

/// `switchboard token`: a join token, as an application backend mints them for its users.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a join token (JWT, HS256) for a server started with --join-secret.",
        discussion: """
            Claims: room, sub (the identity), name, exp, and publish when --no-publish is given. \
            The secret comes from --secret or SWITCHBOARD_JOIN_SECRET.
            """)

    @Option(help: "The room the token admits to.") var room: String
    @Option(help: "The holder's identity; a second session with it evicts the first.") var identity: String
    @Option(help: "The display name its peers see.") var name: String?
    @Option(help: "Seconds the token admits joins.") var ttl = 3600
    @Flag(name: .customLong("no-publish"), help: "Mark the holder as not allowed to publish media.") var noPublish = false
    @Option(help: "The join secret (prefer SWITCHBOARD_JOIN_SECRET: arguments show in the process list).")
    var secret: String?

    func validate() throws {
        guard RoomName(room) != nil else { throw ValidationError("'\(room)' is not a valid room name") }
        guard !identity.isEmpty else { throw ValidationError("--identity must not be empty") }
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
    }

    func run() async throws {
        // The environment holds serve's list (comma-separated for rotation): the first secret signs.
        let fromEnvironment = ProcessInfo.processInfo.environment["SWITCHBOARD_JOIN_SECRET"]?
            .split(separator: ",", omittingEmptySubsequences: true).first.map(String.init)
        guard let secret = secret ?? fromEnvironment, secret.count >= JoinTokens.minimumSecretLength
        else {
            throw ValidationError("give --secret or SWITCHBOARD_JOIN_SECRET, at least \(JoinTokens.minimumSecretLength) characters")
        }
        let tokens = await JoinTokens(secrets: [secret])
        print(
            try await tokens.mint(
                room: room, identity: identity, name: name, ttl: TimeInterval(ttl), publish: noPublish ? false : nil))
    }
}
