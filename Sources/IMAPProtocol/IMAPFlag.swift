/// A message flag or keyword (`\Seen`, `\Deleted`, `$Forwarded`); `\*` in PERMANENTFLAGS. Flags compare ASCII
/// case-insensitively (RFC 9051 2.3.2), so `\SEEN` equals `\Seen`.
public struct IMAPFlag: Sendable, Hashable, CustomStringConvertible {
    /// The flag as written on the wire.
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public static let seen = IMAPFlag("\\Seen")
    public static let deleted = IMAPFlag("\\Deleted")
    public static let answered = IMAPFlag("\\Answered")
    public static let flagged = IMAPFlag("\\Flagged")
    public static let draft = IMAPFlag("\\Draft")
    public static let recent = IMAPFlag("\\Recent")

    public var description: String { name }

    public static func == (lhs: IMAPFlag, rhs: IMAPFlag) -> Bool {
        lhs.name.utf8.elementsEqual(rhs.name.utf8) { IMAPFlag.folded($0) == IMAPFlag.folded($1) }
    }

    public func hash(into hasher: inout Hasher) {
        for byte in name.utf8 { hasher.combine(IMAPFlag.folded(byte)) }
    }

    @inline(__always) static func folded(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
