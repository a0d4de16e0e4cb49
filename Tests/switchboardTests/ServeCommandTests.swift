import ArgumentParser
import Testing

@testable import switchboard

@Suite("switchboard serve options")
struct ServeCommandTests {
    @Test func defaultsAreTheEmbeddedSetup() throws {
        let command = try ServeCommand.parse([])
        let configuration = command.switchboardConfiguration
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.httpPort == 8080)
        #expect(configuration.dataDirectory == "./switchboard-data")
        #expect(configuration.signaling.roomCapacity == 8)
        #expect(configuration.heartbeatInterval == .seconds(10))
        #expect(configuration.signaling.gracePeriod == .seconds(20))
    }

    @Test func optionsReachTheConfiguration() throws {
        let command = try ServeCommand.parse([
            "--host", "127.0.0.1", "--http-port", "0", "--room-capacity", "2", "--grace-period", "1.5",
            "--log-level", "debug", "--max-message-bytes", "1000", "--join-rate", "7",
        ])
        let configuration = command.switchboardConfiguration
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.httpPort == 0)
        #expect(configuration.signaling.roomCapacity == 2)
        #expect(configuration.signaling.gracePeriod == .milliseconds(1500))
        #expect(configuration.logLevel == .debug)
        #expect(configuration.maxMessageBytes == 1000)
        #expect(configuration.signaling.joinRate == 7)
    }

    @Test(arguments: [
        ["--log-level", "loud"], ["--http-port", "70000"], ["--room-capacity", "0"],
        ["--room-capacity", "100", "--max-room-capacity", "10"], ["--grace-period", "0"], ["--outbound-queue", "0"],
        ["--turn-credential-ttl", "0"], ["--ice-host", "example.org:3478"], ["--ice-host", "::1"],
        ["--tls-cert", "/tmp/cert.pem"], ["--tls", "self-signed", "--tls-key", "/tmp/key.pem"], ["--tls", "yes"],
        ["--join-secret", "short"], ["--admin-token", "short"], ["--drain-period", "-1"],
    ])
    func invalidValuesFailValidation(arguments: [String]) {
        #expect(throws: (any Error).self) { try ServeCommand.parse(arguments) }
    }

    @Test func everyOptionIsDocumentedAndMergeable() {
        let help = ServeCommand.helpMessage(columns: 200)
        for spec in ServeCommand.optionSpecs {
            #expect(help.contains("--\(spec.name)"), "--help lists --\(spec.name)")
        }
        let helpOptions = help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," })
            .filter { $0.hasPrefix("--") && $0 != "--help" && $0 != "--version" }
            .map { String($0.dropFirst(2)).split(separator: " ")[0] }
        for name in Set(helpOptions.map(String.init)) {
            #expect(ServeCommand.optionSpecs.contains { $0.name == name }, "--\(name) can be set from the environment")
        }
    }

    @Test func serveIsTheDefaultSubcommandForOptions() {
        #expect(SwitchboardCommand.serveArguments([]) == [])
        #expect(SwitchboardCommand.serveArguments(["serve", "--http-port", "1"]) == ["--http-port", "1"])
        #expect(SwitchboardCommand.serveArguments(["--http-port", "1"]) == ["--http-port", "1"])
        #expect(SwitchboardCommand.serveArguments(["bench", "signaling"]) == nil)
        #expect(SwitchboardCommand.serveArguments(["--help"]) == nil)
    }
}
