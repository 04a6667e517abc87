/// The capability names a server announced (CAPABILITY response or response code), with the checks a client
/// needs. Names compare ASCII case-insensitively; each check is O(number of capabilities).
public struct IMAPCapabilities: Sendable, Hashable {
    /// The names as the server wrote them (`IMAP4rev1`, `AUTH=PLAIN`, `LITERAL+`).
    public let names: [String]

    public init(_ names: [String]) {
        self.names = names
    }

    /// Whether `name` was announced (ASCII case-insensitive).
    public func contains(_ name: String) -> Bool {
        names.contains { Self.equalIgnoringCase($0, name) }
    }

    /// The SASL mechanisms from `AUTH=` entries, upper-cased (`PLAIN`, `XOAUTH2`).
    public var authenticationMechanisms: [String] {
        names.compactMap { name in
            guard name.utf8.count > 5, Self.equalIgnoringCase(String(name.prefix(5)), "AUTH=") else { return nil }
            return String(name.dropFirst(5)).uppercased()
        }
    }

    /// RFC 7888 LITERAL+: every literal may be non-synchronizing.
    public var literalPlus: Bool { contains("LITERAL+") }
    /// RFC 7888 LITERAL-: literals up to 4096 bytes may be non-synchronizing.
    public var literalMinus: Bool { contains("LITERAL-") }
    /// RFC 4959 SASL-IR: AUTHENTICATE may carry the initial response.
    public var saslInitialResponse: Bool { contains("SASL-IR") }
    public var idle: Bool { contains("IDLE") }
    public var move: Bool { contains("MOVE") }
    /// RFC 4315 UIDPLUS (UID EXPUNGE, COPYUID, APPENDUID). IMAP4rev2 servers have it built in.
    public var uidPlus: Bool { contains("UIDPLUS") || contains("IMAP4rev2") }
    public var startTLS: Bool { contains("STARTTLS") }
    /// LOGIN is refused (usually until STARTTLS).
    public var loginDisabled: Bool { contains("LOGINDISABLED") }

    static func equalIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8) { IMAPFlag.folded($0) == IMAPFlag.folded($1) }
    }
}
