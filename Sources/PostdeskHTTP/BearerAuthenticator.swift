import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import TicketStoreSQLite

/// Checks `Authorization: Bearer <token>` on every API route but the spec: 401 without a token or with one that
/// is unknown or revoked, 403 when its scope is `read` and the method changes something (anything but GET and
/// HEAD needs `write`).
///
/// The presented token is hashed (SHA-256) and compared with every active token's stored hash in constant time,
/// so neither the comparison nor an index lookup tells an attacker how close a guess was. The tokens are read
/// from the store on each request (a handful of rows): one created or revoked by `postdesk tokens` counts at once.
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = APIRequestContext
    let tokens: any TicketDatabaseReading
    let usage: TokenUsage
    let logger: Logger

    /// Paths served without a token.
    static let publicPaths: Set<String> = ["/api/v1/openapi.yaml"]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/"), !Self.publicPaths.contains(request.uri.path) else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw ProblemDetails.unauthorized("this endpoint needs an Authorization: Bearer token")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ProblemDetails.unauthorized("the Authorization header must be 'Bearer <token>'")
        }
        let presented = APIToken.hash(parts[1].trimmingCharacters(in: .whitespaces))
        var match: APITokenRecord?
        for record in try await tokens.apiTokens() where record.revokedAt == nil {
            // No early exit: every active token is compared, whichever matches.
            if APIToken.constantTimeEquals(record.hash, presented) { match = record }
        }
        guard let match else {
            logger.notice("API request with an unknown or revoked token", metadata: ["path": "\(request.uri.path)"])
            throw ProblemDetails.unauthorized("the token is unknown or revoked")
        }
        let required: APIScope = request.method == .get || request.method == .head ? .read : .write
        guard (APIScope(rawValue: match.scope) ?? .read).allows(required) else {
            throw ProblemDetails.forbidden(
                "the token '\(match.name)' has scope \(match.scope); \(request.method) needs scope \(required.rawValue)"
            )
        }
        usage.used(match.name)
        var context = context
        context.tokenName = match.name
        return try await next(request, context)
    }
}

/// Notes when each token was last used, at most once a minute per token: each note is a commit on the store's
/// single writer, which a busy API client must not turn into one fsync per request. The note is written in the
/// background; a failure only loses the timestamp.
final class TokenUsage: Sendable {
    private let lastNoted = Mutex<[String: ContinuousClock.Instant]>([:])
    private let record: @Sendable (String, Date) async throws -> Void
    private let interval: Duration

    init(interval: Duration = .seconds(60), record: @escaping @Sendable (String, Date) async throws -> Void) {
        self.interval = interval
        self.record = record
    }

    func used(_ name: String) {
        let now = ContinuousClock.now
        let due = lastNoted.withLock { noted -> Bool in
            if let last = noted[name], now - last < interval { return false }
            noted[name] = now
            return true
        }
        guard due else { return }
        let record = self.record
        Task { try? await record(name, Date()) }
    }
}
