/// A password or access token: its bytes go into the SASL message and nowhere else. Every textual form
/// (`description`, `debugDescription`, `dump`) is a fixed placeholder, so a secret cannot reach a log line through
/// string interpolation or reflection of a value that holds it.
struct SASLSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let bytes: [UInt8]

    init(_ text: String) { bytes = Array(text.utf8) }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var description: String { "<redacted>" }
    var debugDescription: String { "<redacted>" }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
