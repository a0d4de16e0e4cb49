import Cluster
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Signaling
import SignalingCore
import Storage
import TURNServer

/// `/api/admin/`: live rooms and their members, closing rooms and kicking members, TURN allocations, TURN users
/// and call records. Documented in docs/API.md.
struct AdminAPI {
    let hub: SignalingHub
    let turn: TURNServer?
    let store: (any Store)?
    let users: StoredTURNUsers?
    let realm: String
    let token: String?
    let logger: Logger
    /// This node's cluster, whose node names the member listing shows.
    var cluster: PostgresCluster? = nil

    func register(on router: Router<SignalingRequestContext>) {
        let api = router.group("/api/admin").add(middleware: AdminAuthMiddleware(token: token, logger: logger))
        api.get("rooms") { _, _ in await self.rooms() }
        api.delete("rooms/:room") { _, context in try await self.closeRoom(AdminJSON.parameter(context, "room")) }
        api.delete("rooms/:room/members/:session") { _, context in
            try await self.kick(AdminJSON.parameter(context, "session"), room: AdminJSON.parameter(context, "room"))
        }
        api.get("allocations") { _, _ in await self.allocations() }
        api.get("users") { _, _ in try await self.listUsers() }
        api.get("users/:username") { _, context in try await self.user(AdminJSON.parameter(context, "username")) }
        api.put("users/:username") { request, context in
            try await self.saveUser(AdminJSON.parameter(context, "username"), body: await AdminJSON.body(request))
        }
        api.delete("users/:username") { _, context in try await self.removeUser(AdminJSON.parameter(context, "username")) }
        api.get("records") { request, _ in try await self.records(request.uri.queryParameters) }
    }

    // MARK: Rooms

    private func rooms() async -> Response {
        let peers = cluster?.status().peers ?? [:]
        let ownName = cluster?.settings.nodeName
        let rooms = await hub.rooms().map { room, transports -> [String: Any] in
            [
                "name": room.name.rawValue, "capacity": room.capacity, "password": room.hasPassword,
                "members": room.members.map { member -> [String: Any] in
                    var object: [String: Any] = ["id": member.id.rawValue, "publish": member.canPublish]
                    object["name"] = member.name
                    object["identity"] = member.identity
                    object["transport"] = transports[member.id]?.rawValue
                    if let node = room.nodes[member.id] {
                        object["node"] = peers[node] ?? node.rawValue
                    } else {
                        object["node"] = ownName
                    }
                    return object
                },
            ]
        }
        return AdminJSON.response(["rooms": rooms])
    }

    private func closeRoom(_ name: String) async -> Response {
        guard let room = RoomName(name), await hub.closeRoom(room) else {
            return AdminJSON.error(.notFound, "not_found", "no room '\(name)' with members")
        }
        return Response(status: .noContent)
    }

    private func kick(_ session: String, room name: String) async -> Response {
        guard let room = RoomName(name),
            await hub.rooms().first(where: { $0.summary.name == room })?.summary.members
                .contains(where: { $0.id.rawValue == session }) == true,
            await hub.kick(SessionID(session))
        else {
            return AdminJSON.error(.notFound, "not_found", "no member '\(session)' in room '\(name)'")
        }
        return Response(status: .noContent)
    }

    // MARK: TURN

    private func allocations() async -> Response {
        let list = await (turn?.allocations() ?? []).map { allocation -> [String: Any] in
            let summary = allocation.summary
            return [
                "id": "\(summary.id)", "username": summary.username, "transport": "\(summary.fiveTuple.transport)",
                "client": "\(summary.fiveTuple.client)", "relayed": summary.relayedAddresses.map { "\($0)" },
                "created_at": RecordJSON.time(Date(timeIntervalSince1970: TimeInterval(summary.createdAtUnixSeconds))),
                "expires_in": allocation.expiresInSeconds, "permissions": allocation.permissions, "channels": allocation.channels,
                "packets_sent": summary.packetsToPeers, "bytes_sent": summary.bytesToPeers,
                "packets_received": summary.packetsToClient, "bytes_received": summary.bytesToClient,
            ]
        }
        return AdminJSON.response(["allocations": list])
    }

    // MARK: Users

    private func requireStore() throws -> any Store {
        guard let store else { throw AdminUnavailable() }
        return store
    }

    private func listUsers() async throws -> Response {
        AdminJSON.response(["users": try await requireStore().users(realm: realm).map(RecordJSON.object)])
    }

    private func user(_ username: String) async throws -> Response {
        guard let user = try await requireStore().user(username: username, realm: realm) else {
            return AdminJSON.error(.notFound, "not_found", "no user '\(username)'")
        }
        return AdminJSON.response(RecordJSON.object(user))
    }

    private func saveUser(_ username: String, body: [String: Any]?) async throws -> Response {
        guard let body else { return AdminJSON.error(.badRequest, "bad_json", "the body must be a JSON object of at most 16 KiB") }
        guard !username.isEmpty, username.utf8.count <= 509 else {
            return AdminJSON.error(.badRequest, "invalid_field", "the username must be 1-509 bytes")
        }
        guard let password = body["password"] as? String, !password.isEmpty, password.utf8.count <= 1024 else {
            return AdminJSON.error(.badRequest, "invalid_field", "the body needs a string 'password' of 1-1024 bytes")
        }
        let store = try requireStore()
        let existed = try await store.user(username: username, realm: realm) != nil
        let user = StoredTURNUser.make(username: username, realm: realm, password: password)
        try await store.saveUser(user)
        // Effective at once on this node; other nodes read it within their refresh interval.
        try? await users?.refresh()
        logger.info("admin API: TURN user saved", metadata: ["turn.user": "\(username)"])
        return AdminJSON.response(RecordJSON.object(user), status: existed ? .ok : .created)
    }

    private func removeUser(_ username: String) async throws -> Response {
        guard try await requireStore().removeUser(username: username, realm: realm) else {
            return AdminJSON.error(.notFound, "not_found", "no user '\(username)'")
        }
        try? await users?.refresh()
        logger.info("admin API: TURN user removed", metadata: ["turn.user": "\(username)"])
        return Response(status: .noContent)
    }

    // MARK: Records

    private func records(_ query: FlatDictionary<Substring, Substring>) async throws -> Response {
        let store = try requireStore()
        let bounds = ["since", "until"].map { name in query.get(name).map { RecordJSON.parseTime($0) } }
        guard bounds.allSatisfy({ $0 != .some(nil) }) else {
            return AdminJSON.error(
                .badRequest, "invalid_field", "since and until are ISO 8601 times or dates, Unix seconds, or ages like 15m")
        }
        let (since, until) = (bounds[0] ?? nil, bounds[1] ?? nil)
        let limitText = query.get("limit") ?? "100"
        guard let limit = Int(limitText), (1...10_000).contains(limit) else {
            return AdminJSON.error(.badRequest, "invalid_field", "limit must be 1-10000")
        }
        let kind = query.get("kind") ?? "sessions"
        if (kind == "sessions" && query.get("user") != nil) || (kind == "allocations" && query.get("room") != nil) {
            return AdminJSON.error(.badRequest, "invalid_field", "room filters sessions; user filters allocations")
        }
        switch kind {
        case "sessions":
            let records = try await store.sessionRecords(RecordQuery(subject: query.get("room"), since: since, until: until, limit: limit))
            return AdminJSON.response(["records": records.map(RecordJSON.object)])
        case "allocations":
            let records = try await store.allocationRecords(
                RecordQuery(subject: query.get("user"), since: since, until: until, limit: limit))
            return AdminJSON.response(["records": records.map(RecordJSON.object)])
        default:
            return AdminJSON.error(.badRequest, "invalid_field", "kind is sessions or allocations")
        }
    }
}

/// The server runs without a database (only in tests of other parts): answered 503 by the middleware.
struct AdminUnavailable: Error {}
