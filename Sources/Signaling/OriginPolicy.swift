import Hummingbird
import Logging

/// Which web origins may open a WebSocket (`--allowed-origin`): the defence against cross-site WebSocket
/// hijacking, since browsers send cookies and credentials with a cross-site upgrade but no CORS check applies.
///
/// Always allowed: requests without an Origin or with a non-web one such as `ws://host` (non-browser clients,
/// which can forge it anyway) and pages served by this server itself (the Origin names the Host the request was
/// sent to). Other web origins (`http:`, `https:`, and `null` from sandboxed or file pages) only when listed.
public struct OriginPolicy: Sendable {
    /// Origins allowed besides this server's own (`https://app.example.com`), or `*` for any.
    public var allowed: [String]

    /// A policy allowing `allowed` besides same-origin pages.
    public init(allowed: [String] = []) {
        self.allowed = allowed
    }

    /// Whether a request with these headers may upgrade.
    public func permits(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        if allowed.contains("*") || allowed.contains(origin) { return true }
        guard let schemeEnd = origin.range(of: "://") else { return false }
        let scheme = origin[..<schemeEnd.lowerBound].lowercased()
        // Only web pages can be made to open a socket on someone else's behalf; their origins are http(s).
        guard scheme == "http" || scheme == "https" else { return true }
        guard let host else { return false }
        let originAuthority = origin[schemeEnd.upperBound...].lowercased()
        return Self.authority(originAuthority, scheme: scheme) == Self.authority(host.lowercased(), scheme: scheme)
    }

    /// `host:port` with the scheme's default port made explicit, so `example.com` and `example.com:443` match.
    private static func authority(_ text: String, scheme: String) -> String {
        let hasPort = text.hasPrefix("[") ? text.contains("]:") : text.contains(":")
        if hasPort { return text }
        return text + (scheme == "https" || scheme == "wss" ? ":443" : ":80")
    }

    /// Refuses the upgrade of a request whose Origin is not allowed, with one log line. (hummingbird-websocket
    /// answers every refused upgrade with a bare 400, whatever the reason.)
    func check(_ request: Request, logger: Logger) throws {
        guard permits(origin: request.headers[.origin], host: request.head.authority) else {
            logger.notice(
                "websocket refused: origin not allowed",
                metadata: ["http.origin": "\(request.headers[.origin] ?? "")", "http.path": "\(request.uri.path)"])
            throw HTTPError(.forbidden, message: "origin '\(request.headers[.origin] ?? "")' may not open a WebSocket here")
        }
    }
}
