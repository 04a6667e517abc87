import Foundation
import MailParser

/// The opaque `cursor` of the API's lists: where the previous page ended. It encodes the list's kind and the last
/// number or id of that page (`t1:<number>` for tickets, `m1:`, `b1:`, `q1:` for message records, bounces and
/// quarantine; base64url) so that clients cannot build one by accident nor use one list's cursor for another.
struct PageCursor: Sendable, Hashable {
    /// Which list, and the format's version.
    var kind: String
    /// The smallest number or id on the previous page: the next page continues below it.
    var last: Int64

    static let tickets = "t1"
    static let messages = "m1"
    static let bounces = "b1"
    static let quarantine = "q1"

    var encoded: String { Base64URL.encode(Data("\(kind):\(last)".utf8)) }

    /// nil for anything this server did not hand out for list `kind` (not base64url, another list or version,
    /// not a positive number).
    init?(encoded: String, kind: String) {
        guard encoded.utf8.count <= 64, let data = Base64URL.decode(encoded),
            let text = String(data: data, encoding: .utf8), text.hasPrefix(kind + ":"),
            let last = Int64(text.dropFirst(kind.count + 1)), last > 0
        else { return nil }
        self.kind = kind
        self.last = last
    }

    init(kind: String, last: Int64) {
        self.kind = kind
        self.last = last
    }

    /// The `cursor` query parameter of `request` for list `kind`: nil when absent, 400 when not one of ours.
    static func from(_ text: String?, kind: String) throws -> PageCursor? {
        guard let text else { return nil }
        guard let cursor = PageCursor(encoded: text, kind: kind) else {
            throw ProblemDetails.badRequest("cursor is not one this server handed out (use next_cursor as it is)")
        }
        return cursor
    }
}
