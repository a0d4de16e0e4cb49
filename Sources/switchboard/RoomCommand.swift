import ArgumentParser
import Foundation
import SignalingCore
import Storage
import SwitchboardApp

/// `switchboard room`: persistent rooms, whose capacity, password and lock outlive their members.
struct RoomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "room", abstract: "Create, list and remove persistent rooms.",
        subcommands: [Create.self, List.self, Remove.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a persistent room.")
        @Argument(help: "The room name (as clients join it).") var name: String
        @Option(help: "Members admitted at once (default: the server's --room-capacity).") var capacity: Int?
        @Flag(help: "Admit nobody until unlocked.") var locked = false
        @OptionGroup var password: PasswordOptions
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard RoomName(name) != nil else {
                throw ValidationError("'\(name)' is not a valid room name (1-64 of letters, digits, '-', '_', '.'; not starting with '.')")
            }
            if let capacity, capacity < 1 { throw ValidationError("--capacity must be at least 1") }
            // scrypt: the database never holds the password, and a stolen copy is slow to search.
            let hash = try password.read().map { try RoomPasswordHash.make($0) }
            let room = StoredRoom(name: name, capacity: capacity, passwordHash: hash, isLocked: locked, createdAt: Date())
            try await store.withOpenStore { try await $0.createRoom(room) }
            print("created room '\(name)'")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List persistent rooms.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let rooms = try await store.withOpenStore { try await $0.rooms() }
            if json {
                try printJSON(rooms.map(RecordJSON.object))
            } else {
                printTable(
                    ["NAME", "CAPACITY", "PASSWORD", "LOCKED", "CREATED"],
                    rooms.map {
                        [
                            $0.name, $0.capacity.map(String.init) ?? "default", $0.passwordHash == nil ? "no" : "yes",
                            $0.isLocked ? "yes" : "no", $0.createdAt.iso8601,
                        ]
                    })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a persistent room (members already in it stay).")
        @Argument(help: "The room name.") var name: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let name = name
            guard try await store.withOpenStore({ try await $0.removeRoom(named: name) }) else {
                throw CommandFailure("no room '\(name)'")
            }
            print("removed room '\(name)'")
        }
    }
}
