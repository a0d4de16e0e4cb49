import ArgumentParser
import Foundation
import Storage
import SwitchboardApp

/// `switchboard user`: TURN long-term users in the database (coturn's turnadmin). Only RFC 8489 keys are stored.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Add, remove and list TURN users (a running server picks changes up within 5 s).",
        subcommands: [Add.self, Remove.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user, or change its password.")
        @Argument(help: "The username.") var username: String
        @Option(help: "The realm (the server's --realm).") var realm = "switchboard"
        @OptionGroup var password: PasswordOptions
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard !username.isEmpty, username.utf8.count <= 509 else {
                throw ValidationError("the username must be 1-509 bytes (RFC 8489 USERNAME)")
            }
            guard let password = try password.read(), !password.isEmpty else {
                throw ValidationError("give --password or --password-stdin")
            }
            let user = StoredTURNUser.make(username: username, realm: realm, password: password)
            try await store.withOpenStore { try await $0.saveUser(user) }
            print("saved user '\(user.username)' in realm '\(user.realm)'")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user.")
        @Argument(help: "The username.") var username: String
        @Option(help: "The realm.") var realm = "switchboard"
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let (username, realm) = (username, realm)
            guard try await store.withOpenStore({ try await $0.removeUser(username: username, realm: realm) }) else {
                throw CommandFailure("no user '\(username)' in realm '\(realm)'")
            }
            print("removed user '\(username)' from realm '\(realm)'")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users (names and realms; keys are never printed).")
        @Option(help: "Only this realm.") var realm: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let realm = realm
            let users = try await store.withOpenStore { try await $0.users(realm: realm) }
            if json {
                try printJSON(users.map(RecordJSON.object))
            } else {
                printTable(["USERNAME", "REALM", "UPDATED"], users.map { [$0.username, $0.realm, $0.updatedAt.iso8601] })
            }
        }
    }
}
