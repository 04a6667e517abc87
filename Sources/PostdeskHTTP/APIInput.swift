import Foundation
import Hummingbird
import MailParser
import NIOCore

/// Reads a request's path parameters, query and JSON body, answering every malformed value with a precise
/// problem (400 for syntax, 422 for a well-formed body whose values are not acceptable) and never with a 5xx.
enum APIInput {
    /// Largest JSON body the API reads: a note of 100,000 characters fits even written as `\uXXXX` escapes.
    static let maxBodyBytes = 2 * 1024 * 1024

    /// A positive integer path parameter (ticket number, article id, quarantine id).
    static func positiveInteger<Number: FixedWidthInteger>(
        _ name: String, _ context: APIRequestContext, as type: Number.Type
    ) throws -> Number {
        let text = context.parameters.get(name) ?? ""
        guard text.utf8.count <= 19, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Number(text),
            value > 0
        else {
            throw ProblemDetails.badRequest("\(name) must be a positive integer, got '\(text.prefix(40))'")
        }
        return value
    }

    /// The first value of query parameter `name`, nil when absent; `name=` is present and empty (and then no
    /// valid number, date, status or cursor).
    static func query(_ name: String, _ request: Request) -> String? {
        request.uri.queryParameters.get(name)
    }

    /// A mail address given as parameter `name` (`sender=`, a path's `{address}`), lower-cased as the store keeps
    /// addresses. As the spec says: 3 to 320 characters with an `@`; anything else is a 400.
    static func address(_ text: String, name: String) throws -> String {
        let address = MailAddressForm.normalized(text)
        guard (3...320).contains(text.unicodeScalars.count), text.contains("@"), address.contains("@") else {
            throw ProblemDetails.badRequest("\(name) must be a mail address, got '\(text.prefix(40))'")
        }
        return address
    }

    /// An integer query parameter within `range`; `fallback` when absent.
    static func integer(_ name: String, _ request: Request, in range: ClosedRange<Int>, default fallback: Int) throws
        -> Int
    {
        guard let text = query(name, request) else { return fallback }
        guard text.utf8.count <= 19, let value = Int(text), range.contains(value) else {
            throw ProblemDetails.badRequest(
                "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(text.prefix(40))'")
        }
        return value
    }

    /// An RFC 3339 date-time query parameter (`2026-12-05T09:00:00Z`, fractional seconds allowed).
    static func dateTime(_ name: String, _ request: Request) throws -> Date? {
        guard let text = query(name, request) else { return nil }
        if text.utf8.count <= 40 {
            if let date = try? Date(text, strategy: .iso8601) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
                return date
            }
        }
        throw ProblemDetails.badRequest(
            "\(name) must be an RFC 3339 date-time such as 2026-12-05T09:00:00Z, got '\(text.prefix(40))'")
    }

    /// The body as a JSON object; 400 when it is not JSON or not an object, 422 for a field not in `allowed`.
    static func jsonObject(
        _ request: Request, allowed: Set<String>
    ) async throws -> [String: Any] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            throw ProblemDetails.make(
                "too-large", .contentTooLarge, "the body is larger than \(maxBodyBytes) bytes")
        }
        let data = Data(buffer.readableBytesView)
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw ProblemDetails.badRequest("the body is not valid JSON")
        }
        guard let object = value as? [String: Any] else {
            throw ProblemDetails.badRequest("the body must be a JSON object")
        }
        let unknown = object.keys.filter { !allowed.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw ProblemDetails.unprocessable(
                "unknown field(s): \(unknown.map { String($0.prefix(40)) }.joined(separator: ", ")); "
                    + "allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        return object
    }

    /// A short text field of a JSON body: absent → nil, `null` → `.some(nil)` when `nullable`, else a string of at
    /// most `maxLength` Unicode scalars (JSON Schema's `maxLength`), not only white space, without control
    /// characters (the spec's `ShortText`), stored trimmed.
    static func textField(
        _ name: String, in object: [String: Any], nullable: Bool, maxLength: Int = 200
    ) throws -> String?? {
        guard let value = object[name] else { return nil }
        if value is NSNull {
            guard nullable else { throw ProblemDetails.unprocessable("\(name) must not be null") }
            return .some(nil)
        }
        guard let text = value as? String else {
            throw ProblemDetails.unprocessable("\(name) must be a string\(nullable ? " or null" : "")")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, text.unicodeScalars.count <= maxLength,
            !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw ProblemDetails.unprocessable(
                "\(name) must be 1 to \(maxLength) characters, not only white space, without control characters")
        }
        return .some(trimmed)
    }

    /// A required long text field (a note's or reply's body): a string with something besides white space, of at
    /// most `maxLength` Unicode scalars, kept as given.
    static func bodyText(_ name: String, in object: [String: Any], maxLength: Int) throws -> String {
        guard let text = object[name] as? String else { throw ProblemDetails.unprocessable("\(name) must be a string") }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, text.unicodeScalars.count <= maxLength
        else {
            throw ProblemDetails.unprocessable(
                "\(name) must not be only white space, and at most \(maxLength) characters")
        }
        return text
    }

    /// Whether `text` is a plain ASCII addr-spec the spec's `PlainAddress` pattern accepts: dot-atom characters,
    /// `@`, then dot-separated labels of letters, digits and hyphens; at most 254 characters. One pass, O(n).
    static func isPlainAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1
        else { return false }
        let atext = Set("!#$%&'*+-/=?^_`{|}~.".utf8)
        let isAlphanumeric: (UInt8) -> Bool = {
            (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
        }
        guard bytes[..<at].allSatisfy({ isAlphanumeric($0) || atext.contains($0) }) else { return false }
        let labels = bytes[(at + 1)...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }
}
