import Foundation
import HTTPTypes

/// An error answer as RFC 9457 problem details (`application/problem+json`). Every error the API returns is one
/// of these, thrown by a route and turned into a response by `ProblemMiddleware`.
public struct ProblemDetails: Error, Sendable, Hashable, Codable {
    /// A URI naming the kind of problem; the API's own kinds are `https://postdesk.invalid/problems/<slug>`.
    public var type: String
    public var title: String
    public var status: Int
    /// What exactly was wrong with this request.
    public var detail: String

    public init(type: String, title: String, status: Int, detail: String) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
    }

    static func make(_ slug: String, _ status: HTTPResponse.Status, _ detail: String) -> ProblemDetails {
        ProblemDetails(
            type: "https://postdesk.invalid/problems/\(slug)", title: status.reasonPhrase, status: status.code,
            detail: detail)
    }

    static func notFound(_ detail: String) -> ProblemDetails { make("not-found", .notFound, detail) }
    static func badRequest(_ detail: String) -> ProblemDetails { make("bad-request", .badRequest, detail) }
    static func unprocessable(_ detail: String) -> ProblemDetails {
        make("validation", .unprocessableContent, detail)
    }
    static func unauthorized(_ detail: String) -> ProblemDetails { make("unauthorized", .unauthorized, detail) }
    static func forbidden(_ detail: String) -> ProblemDetails { make("forbidden", .forbidden, detail) }
    static func unavailable(_ detail: String) -> ProblemDetails {
        make("unavailable", .serviceUnavailable, detail)
    }
}
