import Testing

@testable import Signaling

@Suite("Session ids and resume tokens")
struct SecureIdentifiersTests {
    @Test func identifiersAreURLSafeFullLengthAndDistinct() {
        let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let ids = (0..<1000).map { _ in SecureIdentifiers.sessionID() }
        let tokens = (0..<1000).map { _ in SecureIdentifiers.resumeToken() }
        #expect(ids.allSatisfy { $0.count == 22 && $0.allSatisfy(urlSafe.contains) })
        #expect(tokens.allSatisfy { $0.count == 43 && $0.allSatisfy(urlSafe.contains) })
        #expect(Set(ids).count == ids.count)
        #expect(Set(tokens).count == tokens.count)
    }
}
