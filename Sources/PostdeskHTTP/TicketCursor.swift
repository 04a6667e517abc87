import Foundation

/// The opaque `cursor` of the ticket list: where the previous page ended. It encodes the last ticket number
/// (`t1:<number>`, base64url) so that clients cannot build one by accident, and a format version so it can change.
struct TicketCursor: Sendable, Hashable {
    var lastNumber: Int

    var encoded: String { Base64URL.encode(Data("t1:\(lastNumber)".utf8)) }

    /// nil for anything this server did not hand out (not base64url, another version, not a positive number).
    init?(encoded: String) {
        guard encoded.utf8.count <= 64, let data = Base64URL.decode(encoded),
            let text = String(data: data, encoding: .utf8), text.hasPrefix("t1:"),
            let number = Int(text.dropFirst(3)), number > 0
        else { return nil }
        lastNumber = number
    }

    init(lastNumber: Int) {
        self.lastNumber = lastNumber
    }
}
