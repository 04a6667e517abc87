import Foundation
import MailParser

/// The opaque `cursor` of the API's lists: where the previous page ended. It encodes the list's kind and the last
/// number or id of that page (`t1:<number>` for tickets, `m1:`, `b1:`, `q1:`, `c1:` for message records, bounces,
/// quarantine and mail commands, `w1:<event sequence>:<endpoint>` for webhook deliveries, `a1:<contact id>:<time>`
/// for bouncing addresses; base64url) so that clients cannot build one by accident nor use one list's cursor for
/// another.
struct PageCursor: Sendable, Hashable {
    /// Which list, and the format's version.
    var kind: String
    /// The smallest number or id on the previous page: the next page continues below it.
    var last: Int64
    /// The second key of lists ordered by two (webhook deliveries: the endpoint within an event; bouncing addresses:
    /// the exact time, the contact id ordering addresses of the same moment); nil for others.
    var name: String?

    static let tickets = "t1"
    static let messages = "m1"
    static let bounces = "b1"
    static let quarantine = "q1"
    static let mailCommands = "c1"
    static let webhookDeliveries = "w1"
    static let bouncingAddresses = "a1"

    var encoded: String { Base64URL.encode(Data("\(kind):\(last)\(name.map { ":" + $0 } ?? "")".utf8)) }

    /// nil for anything this server did not hand out for list `kind` (not base64url, another list or version,
    /// not a positive number, a second key where the list has none or none where it has one, a time that is not one).
    init?(encoded: String, kind: String) {
        guard encoded.utf8.count <= 256, let data = Base64URL.decode(encoded),
            let text = String(data: data, encoding: .utf8), text.hasPrefix(kind + ":")
        else { return nil }
        let fields = text.dropFirst(kind.count + 1).split(
            separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let hasName = kind == Self.webhookDeliveries || kind == Self.bouncingAddresses
        guard fields.count == (hasName ? 2 : 1), let last = Int64(fields[0]), last > 0 else { return nil }
        if hasName {
            guard !fields[1].isEmpty else { return nil }
            if kind == Self.bouncingAddresses, Double(fields[1])?.isFinite != true { return nil }
            name = String(fields[1])
        }
        self.kind = kind
        self.last = last
    }

    init(kind: String, last: Int64, name: String? = nil) {
        self.kind = kind
        self.last = last
        self.name = name
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
