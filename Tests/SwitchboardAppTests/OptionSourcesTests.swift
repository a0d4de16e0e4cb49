import SwitchboardApp
import Testing

@Suite("Options from the command line, environment and config file")
struct OptionSourcesTests {
    let specs = [
        OptionSpec("config"), OptionSpec("host"), OptionSpec("http-port"), OptionSpec("verbose", isFlag: true),
        OptionSpec("peer", isRepeatable: true),
    ]

    func merge(_ arguments: [String], environment: [String: String] = [:], file: String? = nil) throws -> [String] {
        try OptionSources.merge(arguments: arguments, environment: environment, options: specs) { path in
            guard let file else { throw OptionSourceError(description: "no file \(path)") }
            return file
        }
    }

    @Test func environmentNamesArePrefixedUpperSnakeCase() {
        #expect(OptionSpec("http-port").environmentName == "SWITCHBOARD_HTTP_PORT")
    }

    @Test func commandLineBeatsEnvironmentWhichBeatsFile() throws {
        let file = "# comment\nhost = 10.0.0.1\nhttp-port = 1\n\nverbose\n"
        let environment = ["SWITCHBOARD_HTTP_PORT": "2", "SWITCHBOARD_CONFIG": "/etc/sb.conf"]
        let merged = try merge(["--http-port=3"], environment: environment, file: file)
        #expect(merged == ["--host", "10.0.0.1", "--verbose", "--http-port", "3"])
        let withoutCommandLine = try merge([], environment: environment, file: file)
        #expect(withoutCommandLine == ["--host", "10.0.0.1", "--verbose", "--http-port", "2"])
    }

    @Test func repeatableOptionsAreReplacedByAHigherSourceNotAppended() throws {
        let merged = try merge(["--peer", "c"], environment: ["SWITCHBOARD_PEER": "a, b"])
        #expect(merged == ["--peer", "c"])
        #expect(try merge([], environment: ["SWITCHBOARD_PEER": "a, b"]) == ["--peer", "a", "--peer", "b"])
        #expect(try merge(["--config", "x"], file: "peer = a\npeer = \"b\"\n") == ["--peer", "a", "--peer", "b"])
    }

    @Test func flagsFromTheEnvironmentTakeBooleans() throws {
        #expect(try merge([], environment: ["SWITCHBOARD_VERBOSE": "true"]) == ["--verbose"])
        #expect(try merge([], environment: ["SWITCHBOARD_VERBOSE": "0"]) == [])
        #expect(throws: OptionSourceError.self) { try merge([], environment: ["SWITCHBOARD_VERBOSE": "maybe"]) }
    }

    @Test func badConfigFilesFailWithTheirLine() {
        #expect(throws: OptionSourceError(description: "x:2: unknown option 'nope'")) {
            try merge(["--config", "x"], file: "host = a\nnope = 1\n")
        }
        #expect(throws: OptionSourceError(description: "x:1: 'host' needs a value")) {
            try merge(["--config", "x"], file: "host\n")
        }
        #expect(throws: OptionSourceError.self) { try merge(["--config", "missing"]) }
    }

    @Test func positionalArgumentsAndUnknownOptionsPassThroughToTheParser() throws {
        #expect(try merge(["extra", "--unknown"]) == ["extra", "--unknown"])
    }
}
