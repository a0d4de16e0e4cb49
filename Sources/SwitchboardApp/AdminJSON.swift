import Foundation
import Hummingbird
import NIOCore

/// The admin API's JSON responses: objects with sorted keys, errors as `{"error":{"code","message"}}`.
enum AdminJSON {
    static func response(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        response(["error": ["code": code, "message": message]], status: status)
    }

    /// Reads a JSON object body of at most 16 KiB.
    static func body(_ request: Request) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: 16 * 1024)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "the body must be a JSON object")
        }
        return object
    }

    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// An ISO 8601 time or Unix seconds, from a query parameter.
    static func parseTime(_ text: String?) -> Date?? {
        guard let text else { return .some(nil) }
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return .none
    }
}
