import Foundation

/// How one command-line option may be given.
public struct OptionSpec: Sendable, Equatable {
    /// The long name without dashes, e.g. `http-port`.
    public var name: String
    /// Whether it is a flag (no value).
    public var isFlag: Bool
    /// Whether it may be given several times (its environment variable is then comma-separated).
    public var isRepeatable: Bool

    /// Describes an option.
    public init(_ name: String, isFlag: Bool = false, isRepeatable: Bool = false) {
        self.name = name
        self.isFlag = isFlag
        self.isRepeatable = isRepeatable
    }

    /// The environment variable that sets it: `SWITCHBOARD_` and the name upper-cased with `_` for `-`.
    public var environmentName: String {
        "SWITCHBOARD_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}

/// A configuration source could not be read.
public struct OptionSourceError: Error, Equatable, CustomStringConvertible {
    /// What was wrong, naming the file, line or variable.
    public var description: String

    /// Describes the failure.
    public init(description: String) {
        self.description = description
    }
}

/// Merges options from a config file, the environment and the command line, in rising precedence.
///
/// The result is one argument list for the parser. An option given in a higher source replaces every
/// occurrence of it from the lower sources (so repeatable options are replaced, not appended).
public enum OptionSources {
    /// The option that names the config file.
    public static let configOption = "config"

    /// Builds the effective argument list.
    /// - Parameters:
    ///   - arguments: the command line after the subcommand name.
    ///   - environment: the process environment.
    ///   - options: every option the command accepts.
    ///   - readFile: reads a config file's text.
    public static func merge(
        arguments: [String], environment: [String: String], options: [OptionSpec],
        readFile: (String) throws -> String
    ) throws -> [String] {
        let specs = Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0) })
        let commandLine = try parse(arguments: arguments, specs: specs)
        let fromEnvironment = try environmentArguments(environment, options: options)
        let configPath =
            commandLine.last { $0.name == configOption }?.value
            ?? fromEnvironment.last { $0.name == configOption }?.value
        var fromFile: [(name: String, value: String?)] = []
        if let path = configPath {
            let text: String
            do {
                text = try readFile(path)
            } catch {
                throw OptionSourceError(description: "cannot read config file '\(path)': \(error)")
            }
            fromFile = try fileArguments(text, path: path, specs: specs)
        }
        var merged: [(name: String, value: String?)] = []
        for source in [fromFile, fromEnvironment, commandLine.filter { $0.name != "" }] {
            let names = Set(source.map(\.name))
            merged.removeAll { names.contains($0.name) }
            merged += source
        }
        let positional = commandLine.filter { $0.name == "" }.compactMap(\.value)
        return positional
            + merged.filter { $0.name != configOption }.flatMap { option -> [String] in
                if let value = option.value { return ["--\(option.name)", value] }
                return ["--\(option.name)"]
            }
    }

    static func parse(arguments: [String], specs: [String: OptionSpec]) throws -> [(name: String, value: String?)] {
        var result: [(name: String, value: String?)] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                result.append((name: "", value: argument))
                continue
            }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                result.append((name: String(body[..<equals]), value: String(body[body.index(after: equals)...])))
                continue
            }
            let name = String(body)
            guard let spec = specs[name], !spec.isFlag else {
                // Flags and unknown names pass through; the parser reports unknown ones.
                result.append((name: name, value: nil))
                continue
            }
            guard index < arguments.count else {
                result.append((name: name, value: nil))
                continue
            }
            result.append((name: name, value: arguments[index]))
            index += 1
        }
        return result
    }

    static func environmentArguments(
        _ environment: [String: String], options: [OptionSpec]
    ) throws -> [(name: String, value: String?)] {
        var result: [(name: String, value: String?)] = []
        for spec in options {
            guard let raw = environment[spec.environmentName] else { continue }
            if spec.isFlag {
                switch raw.lowercased() {
                case "1", "true", "yes", "on": result.append((name: spec.name, value: nil))
                case "0", "false", "no", "off", "": continue
                default:
                    throw OptionSourceError(description: "\(spec.environmentName) must be true or false, not '\(raw)'")
                }
            } else if spec.isRepeatable {
                for item in raw.split(separator: ",") where !item.isEmpty {
                    result.append((name: spec.name, value: item.trimmingCharacters(in: .whitespaces)))
                }
            } else {
                result.append((name: spec.name, value: raw))
            }
        }
        return result
    }

    /// Config file lines are `name = value`, `name` alone for a flag, `#` comments and blank lines.
    /// Repeatable options may appear on several lines.
    static func fileArguments(
        _ text: String, path: String, specs: [String: OptionSpec]
    ) throws -> [(name: String, value: String?)] {
        var result: [(name: String, value: String?)] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1)
            var name = parts[0].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("--") { name.removeFirst(2) }
            guard let spec = specs[name], name != configOption else {
                throw OptionSourceError(description: "\(path):\(number + 1): unknown option '\(name)'")
            }
            var value = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil
            if let quoted = value, quoted.count >= 2, quoted.hasPrefix("\""), quoted.hasSuffix("\"") {
                value = String(quoted.dropFirst().dropLast())
            }
            if spec.isFlag {
                switch value?.lowercased() {
                case nil, "true", "yes", "on", "1": result.append((name: name, value: nil))
                case "false", "no", "off", "0": continue
                default: throw OptionSourceError(description: "\(path):\(number + 1): '\(name)' is a flag; use true or false")
                }
            } else {
                guard let value else {
                    throw OptionSourceError(description: "\(path):\(number + 1): '\(name)' needs a value")
                }
                result.append((name: name, value: value))
            }
        }
        return result
    }
}
