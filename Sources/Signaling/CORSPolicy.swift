import Hummingbird

/// Which origins may call an endpoint cross-origin (`--cors-origin`); none by default.
public struct CORSPolicy: Sendable {
    /// Allowed origins, or `*` for any.
    public var origins: [String]

    public init(origins: [String]) {
        self.origins = origins
    }

    /// `response` with the CORS headers `request`'s Origin earns (none for an origin not allowed).
    func apply(to response: Response, for request: Request) -> Response {
        guard let origin = request.headers[.origin], !origins.isEmpty else { return response }
        var response = response
        if origins.contains("*") {
            response.headers[.accessControlAllowOrigin] = "*"
        } else if origins.contains(origin) {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlAllowCredentials] = "true"
            response.headers[.vary] = "Origin"
        }
        return response
    }

    /// The answer to a preflight `OPTIONS` for `methods`.
    func preflight(_ request: Request, methods: String, defaultHeaders: String) -> Response {
        var response = Response(status: .noContent)
        response.headers[.accessControlAllowMethods] = methods
        response.headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? defaultHeaders
        return apply(to: response, for: request)
    }
}
