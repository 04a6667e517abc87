/// A mailbox name as the server knows it: the wire bytes (modified UTF-7 on IMAP4rev1 servers) and the decoded
/// name. Commands send `wireBytes` unchanged, so a name from LIST is selected exactly as listed even when it is
/// not valid modified UTF-7.
public struct IMAPMailboxName: Sendable, Hashable, CustomStringConvertible {
    /// The bytes on the wire.
    public let wireBytes: [UInt8]

    /// The name `name` encoded in modified UTF-7; `INBOX` in any case becomes `INBOX` (RFC 9051 5.1). O(n).
    public init(_ name: String) {
        if IMAPCapabilities.equalIgnoringCase(name, "INBOX") {
            wireBytes = Array("INBOX".utf8)
        } else {
            wireBytes = ModifiedUTF7.encode(name)
        }
    }

    /// A name exactly as the server sent it.
    public init(wireBytes: [UInt8]) {
        self.wireBytes = wireBytes
    }

    public static let inbox = IMAPMailboxName("INBOX")

    /// The decoded name: modified UTF-7 decoded; bytes that are not valid modified UTF-7 (a UTF8=ACCEPT server
    /// sends raw UTF-8) are read as UTF-8 with invalid bytes replaced. O(n).
    public var name: String {
        (try? ModifiedUTF7.decode(wireBytes)) ?? String(decoding: wireBytes, as: UTF8.self)
    }

    public var description: String { name }
}
