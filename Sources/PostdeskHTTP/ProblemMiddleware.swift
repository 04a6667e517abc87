import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware: every error becomes RFC 9457 problem details, and every request one debug log line
/// (method, path without the query, status, milliseconds; never a header, so never a token).
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let logger: Logger
    static let noSniff = HTTPField.Name("X-Content-Type-Options")!

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let problem as ProblemDetails {
            response = APIResponse.problem(
                problem,
                headers: problem.status == 401 ? [.wwwAuthenticate: "Bearer realm=\"postdesk\""] : [:])
        } catch let error as HTTPError {
            // Hummingbird's own errors: no route (404), method, body too large (413), a bad path parameter.
            let status = error.status
            response = APIResponse.problem(
                ProblemDetails.make(
                    status == .notFound ? "not-found" : "http", status,
                    status == .notFound ? "no such resource: \(request.uri.path)" : error.body ?? status.reasonPhrase))
        } catch {
            logger.error(
                "API request failed",
                metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"])
            response = APIResponse.problem(
                ProblemDetails.make("internal", .internalServerError, "the server could not answer: see its log"))
        }
        // No answer of this server is to be content-sniffed (JSON and YAML included).
        response.headers[Self.noSniff] = "nosniff"
        let elapsed = ContinuousClock.now - started
        logger.debug(
            "api request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ])
        return response
    }
}
