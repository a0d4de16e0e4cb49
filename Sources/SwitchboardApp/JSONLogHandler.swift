import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How log lines are written to standard error.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's readable one-line format.
    case text
    /// One JSON object per line (`time`, `level`, `label`, `message`, then the metadata keys), for log shippers.
    case json

    /// Installs this format as the process's logging backend. Call once, before any logger is made.
    public func bootstrap() {
        switch self {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .trace
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, write: JSONLogHandler.standardError) }
        }
    }
}

/// Writes each log event as one JSON object on one line. Metadata keys keep their namespaced names
/// (`sig.room`, `turn.five-tuple`); values are strings, or arrays and objects of them.
public struct JSONLogHandler: LogHandler {
    /// Where finished lines go.
    public typealias Writer = @Sendable (String) -> Void

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: Writer

    /// A handler for `label` writing lines to `write`.
    public init(label: String, write: @escaping Writer) {
        self.label = label
        self.write = write
    }

    /// Writes a line to standard error with one `write(2)`, so concurrent lines do not interleave.
    public static let standardError: Writer = { line in
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        // write(2) on descriptor 2: one system call per line, no shared FILE buffer.
        #if canImport(Glibc)
            _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        #else
            _ = bytes.withUnsafeBytes { Darwin.write(2, $0.baseAddress, $0.count) }
        #endif
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var object: [String: Any] = [
            "time": Self.timestamp(), "level": event.level.rawValue, "label": label, "message": "\(event.message)",
        ]
        for (key, value) in merged where object[key] == nil {
            object[key] = Self.json(value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        write(String(decoding: data, as: UTF8.self))
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(json)
        case .dictionary(let values): return values.mapValues(json)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
