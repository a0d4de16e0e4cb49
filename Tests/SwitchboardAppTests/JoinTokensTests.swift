import Foundation
import SignalingCore
import SwitchboardApp
import Testing

@Suite("Join tokens")
struct JoinTokensTests {
    let secret = String(repeating: "s", count: 32)
    let room = RoomName("meet")!

    @Test func verifiesWhatItMintsWithPreciseErrors() async throws {
        let tokens = await JoinTokens(secrets: [secret])
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let token = try await tokens.mint(room: "meet", identity: "alice", name: "Alice", ttl: 60, publish: false, now: now)
        let claims = try await tokens.verify(token, room: room, now: now).get()
        #expect(claims.sub.value == "alice")
        #expect(claims.name == "Alice")
        #expect(claims.publish == false)

        func code(_ result: Result<JoinClaims, SignalingError>) -> SignalingErrorCode? {
            if case .failure(let error) = result { return error.code }
            return nil
        }
        #expect(code(await tokens.verify(token, room: room, now: now + 61)) == .tokenExpired)
        #expect(code(await tokens.verify(token, room: RoomName("other")!, now: now)) == .tokenWrongRoom)
        #expect(code(await tokens.verify(token + "x", room: room, now: now)) == .invalidToken)
        #expect(code(await tokens.verify("a.b.c", room: room, now: now)) == .invalidToken)
        let stranger = await JoinTokens(secrets: [String(repeating: "t", count: 32)])
        #expect(code(await stranger.verify(token, room: room, now: now)) == .invalidToken)
    }

    @Test func namesAndIdentitiesFollowTheClientRules() async throws {
        let tokens = await JoinTokens(secrets: [secret])
        for (identity, name) in [("ok", "bad\u{0}name"), ("bad\u{7}id", nil), ("ok", String(repeating: "n", count: 65))] {
            let token = try await tokens.mint(room: "meet", identity: identity, name: name, ttl: 60, publish: nil)
            guard case .failure(let error) = await tokens.verify(token, room: room) else {
                Issue.record("accepted \(identity) / \(name ?? "-")")
                continue
            }
            #expect(error.code == .invalidToken)
        }
    }

    @Test func aRotatedSecretStillVerifiesAndTheFirstSigns() async throws {
        let old = await JoinTokens(secrets: [secret])
        let minted = try await old.mint(room: "meet", identity: "bob", name: nil, ttl: 60, publish: nil)
        let rotated = await JoinTokens(secrets: [String(repeating: "n", count: 32), secret])
        #expect(try await rotated.verify(minted, room: room).get().sub.value == "bob")
        let fresh = try await rotated.mint(room: "meet", identity: "bob", name: nil, ttl: 60, publish: nil)
        let newOnly = await JoinTokens(secrets: [String(repeating: "n", count: 32)])
        #expect(try await newOnly.verify(fresh, room: room).get().sub.value == "bob")
    }
}
