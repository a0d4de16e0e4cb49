import ArgumentParser
import Foundation
import TURNCore

/// `switchboard credentials`: TURN REST credentials, as the signaling side mints them for clients.
struct CredentialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Print TURN REST credentials: username EXPIRY:USER, password base64(HMAC-SHA1(secret, username)).")

    @Option(help: "The shared secret (a --turn-secret of the server).")
    var secret: String

    @Option(help: "The user the credentials are for.")
    var user: String

    @Option(help: "Seconds the credentials stay valid for new allocations.")
    var ttl = 86_400

    @Flag(help: "Print JSON ({username, password, ttl}) instead of two lines.")
    var json = false

    func validate() throws {
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
        guard !secret.isEmpty, !user.isEmpty else { throw ValidationError("--secret and --user must not be empty") }
    }

    func run() throws {
        let minted = mintRESTCredentials(secret: secret, user: user, ttl: ttl)
        if json {
            let object: [String: Any] = ["username": minted.username, "password": minted.password, "ttl": ttl]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("username: \(minted.username)")
            print("password: \(minted.password)")
        }
    }
}

/// TURN REST credentials valid for `ttl` seconds from now (the core takes time as an argument; this reads the clock).
func mintRESTCredentials(secret: String, user: String, ttl: Int) -> (username: String, password: String) {
    TURNCredentials.mintREST(secret: secret, user: user, ttl: Int64(ttl), now: Int64(Date().timeIntervalSince1970))
}
