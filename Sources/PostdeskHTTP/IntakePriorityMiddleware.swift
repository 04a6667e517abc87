import Hummingbird

/// Runs every `/api/` request under `IntakePriority`: while intake is busy the API gets a bounded share of the
/// time. Health checks pass untouched.
struct IntakePriorityMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let priority: IntakePriority

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        return try await priority.run { try await next(request, context) }
    }
}
