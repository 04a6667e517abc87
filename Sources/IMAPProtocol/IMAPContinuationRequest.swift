import Foundation

/// A `+` line: the server waits for the rest of a command (after a synchronizing literal, during IDLE) or for
/// a SASL response (then the text is base64 data).
public struct IMAPContinuationRequest: Sendable, Hashable {
    /// The bytes after `+ ` up to the line end.
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The text (UTF-8, invalid bytes replaced).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The text decoded as base64 (a SASL challenge), or nil when it is not base64. An empty text is an empty
    /// challenge. O(n).
    public var base64Decoded: [UInt8]? {
        if bytes.isEmpty { return [] }
        return Data(base64Encoded: Data(bytes)).map { [UInt8]($0) }
    }
}
