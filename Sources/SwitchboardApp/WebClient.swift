import Foundation
import Hummingbird
import Logging
import Signaling

/// Finds the browser client's folder: `explicit` if it holds an `index.html`, else `public/` of the Switchboard
/// checkout in the working directory or holding the executable, else `share/switchboard/public` beside its `bin/`.
public func locateWebClient(explicit: String?) -> String? {
    WebClient.locate(explicit: explicit)
}

/// The browser client in `public/`: static files at `/`, and `/r/<room>` answered with its `index.html`
/// (a shareable room link), all under a strict Content-Security-Policy.
struct WebClient: Sendable {
    /// The folder holding `index.html`.
    let directory: String

    /// Nothing but this server may supply scripts, styles or connections (CSP 3's 'self' covers its ws:/wss:):
    /// the client works air-gapped.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        + "frame-ancestors 'none'; form-action 'self'"

    func register(on router: Router<SignalingRequestContext>, logger: Logger) {
        router.add(middleware: RoomLinkMiddleware())
        router.add(
            middleware: FileMiddleware(
                directory, cacheControl: .init([(MediaType(type: .any), [CacheControl.CacheControlValue.noCache])]),
                searchForIndexHtml: true,
                logger: logger))
    }

    static func locate(explicit: String?, executablePath: String = CommandLine.arguments.first ?? "") -> String? {
        if let explicit { return hasIndex(explicit) ? explicit : nil }
        let executableDirectory = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        // Only a Switchboard checkout (a Package.swift beside public/) or an install's share/ folder: an unrelated
        // public/ that happens to lie above the binary or in the working directory is never served.
        let checkouts =
            [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
            + (1...4).map { depth in (0..<depth).reduce(executableDirectory) { url, _ in url.deletingLastPathComponent() } }
        let candidates =
            checkouts.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("Package.swift").path) }
            .map { $0.appendingPathComponent("public") }
            + [executableDirectory.deletingLastPathComponent().appendingPathComponent("share/switchboard/public")]
        return candidates.map(\.path).first(where: hasIndex)
    }

    private static func hasIndex(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("index.html"))
    }
}

/// Serves `index.html` for `/r/<room>` (and `/r/<room>/`): the page reads the room from its own address.
struct RoomLinkMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        guard request.method == .get || request.method == .head, segments.count >= 3, segments.count <= 4,
            segments[0].isEmpty, segments[1] == "r", !segments[2].isEmpty, segments.count == 3 || segments[3].isEmpty
        else { return try await next(request, context) }
        var head = request.head
        head.path = "/index.html"
        return try await next(Request(head: head, body: request.body), context)
    }
}

/// Headers every answer carries: no MIME sniffing, no framing, no referrer leaks, and the client's CSP.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.contentSecurityPolicy] = WebClient.contentSecurityPolicy
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
