import Crypto
import Hummingbird
import Logging

/// Guards `/api/admin/`: a bearer token from `--admin-token`. No token gets 401, a wrong one 403; with no
/// `--admin-token` configured the API does not exist (404), so it is never open by accident.
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else {
            return AdminJSON.error(.notFound, "admin_disabled", "the admin API is off: start the server with --admin-token")
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            var response = AdminJSON.error(.unauthorized, "unauthorized", "send Authorization: Bearer <admin token>")
            response.headers[.wwwAuthenticate] = "Bearer realm=\"switchboard-admin\""
            return response
        }
        // Compare digests, so the time taken says nothing about how much of the token matched.
        let given = SHA256.hash(data: Array(header.dropFirst("bearer ".count).utf8))
        guard given == SHA256.hash(data: Array(token.utf8)) else {
            logger.notice(
                "admin API: wrong token",
                metadata: [
                    "http.path": "\(request.uri.path)",
                    "http.peer": "\((context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress ?? "?")",
                ])
            return AdminJSON.error(.forbidden, "forbidden", "the admin token is wrong")
        }
        do {
            return try await next(request, context)
        } catch is AdminUnavailable {
            return AdminJSON.error(.serviceUnavailable, "unavailable", "this server runs without a database")
        } catch let error as HTTPError where error.status == .notFound {
            return AdminJSON.error(.notFound, "not_found", "no such admin resource")
        }
    }
}
