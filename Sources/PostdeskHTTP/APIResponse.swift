import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// How the API writes its answers: JSON in snake_case with RFC 3339 dates, problem details, and downloads that a
/// browser never renders.
enum APIResponse {
    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let body = try jsonEncoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func problem(_ problem: ProblemDetails, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        headers.append(contentsOf: extra)
        let body = (try? jsonEncoder.encode(problem)) ?? Data()
        return Response(
            status: HTTPResponse.Status(code: problem.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Bytes to save, never to show: `Content-Disposition: attachment`, `nosniff`, and a CSP that forbids
    /// everything should a browser render it anyway.
    static func download(_ bytes: [UInt8], contentType: String, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: contentType, .contentDisposition: ContentDisposition.attachment(filename: filename),
                ProblemMiddleware.noSniff: "nosniff",
                .contentSecurityPolicy: "default-src 'none'; sandbox", .cacheControl: "private, no-store",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
