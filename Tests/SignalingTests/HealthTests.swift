import Foundation
import HummingbirdTesting
import SwitchboardApp
import Testing

@Suite("HTTP basics")
struct HealthTests {
    @Test func healthzAnswersOK() async throws {
        var configuration = SwitchboardConfiguration()
        configuration.dataDirectory = NSTemporaryDirectory() + "switchboard-health-\(UInt64.random(in: 0 ... .max))"
        let app = try await buildApplication(configuration)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok\n")
            }
            try await client.execute(uri: "/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
