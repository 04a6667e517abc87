import HTTPTypes
import Hummingbird

/// Answers a method a route does not have with 405 and `Allow` (RFC 9110 §15.5.6) rather than 404: the
/// resource exists, the method is wrong.
enum MethodNotAllowed {
    static let methods: [HTTPRequest.Method] = [
        .get, .post, .put, .patch, .delete, .trace, .options, HTTPRequest.Method("QUERY")!,
    ]

    /// Every route of the server with its methods (HEAD comes with GET).
    static let routes: [(path: String, allowed: [HTTPRequest.Method])] = [
        ("healthz", [.get]), ("readyz", [.get]), ("api/v1/openapi.yaml", [.get]),
        ("api/v1/tickets", [.get]), ("api/v1/tickets/:number", [.get, .patch]),
        ("api/v1/tickets/:number/notes", [.post]), ("api/v1/tickets/:number/articles/:article/raw", [.get]),
        ("api/v1/tickets/:number/articles/:article/attachments/:sha256", [.get]),
        ("api/v1/messages", [.get]), ("api/v1/bounces", [.get]), ("api/v1/quarantine", [.get]),
        ("api/v1/quarantine/:id", [.get]), ("api/v1/quarantine/:id/raw", [.get]),
        ("api/v1/quarantine/:id/replay", [.post]), ("api/v1/mailboxes", [.get]),
        ("api/v1/tickets/:number/replies", [.post]), ("api/v1/webhooks/deliveries", [.get]),
        ("api/v1/webhooks/deliveries/:id/redeliver", [.post]), ("api/v1/commands", [.get]),
        ("api/v1/contacts/bouncing", [.get]), ("api/v1/contacts/bouncing/:address", [.delete]),
    ]

    static func register(on router: Router<APIRequestContext>) {
        for (path, allowed) in routes {
            let allow = (allowed.contains(.get) ? [.get, .head] + allowed.filter { $0 != .get } : allowed)
                .map(\.rawValue).joined(separator: ", ")
            for method in methods where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ in
                    APIResponse.problem(
                        ProblemDetails.make(
                            "method-not-allowed", .methodNotAllowed, "\(request.uri.path) allows \(allow)"),
                        headers: [.allow: allow])
                }
            }
        }
    }
}
