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

    /// Reads a JSON object body of at most 16 KiB; `nil` when it is larger or not a JSON object.
    static func body(_ request: Request) async -> [String: Any]? {
        guard let buffer = try? await request.body.collect(upTo: 16 * 1024) else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
    }

    /// A path parameter, percent-decoded (`/users/a%20b` names `a b`).
    static func parameter(_ context: some RequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
