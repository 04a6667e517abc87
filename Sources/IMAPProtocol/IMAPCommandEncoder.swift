import Foundation

/// Turns `IMAPCommand`s into tagged command bytes (RFC 9051 / RFC 3501 syntax). Strings are written as an atom
/// when they can be, else as a quoted string (`"` and `\` escaped), else — CR, LF, 8-bit bytes, or over 1000
/// bytes — as a literal: non-synchronizing `{n+}` when the server announced LITERAL+ (or LITERAL- and n ≤ 4096),
/// else synchronizing `{n}`, which cuts the command into segments (see `IMAPEncodedCommand`). Encoding is
/// O(command length).
///
/// ```swift
/// var encoder = IMAPCommandEncoder(capabilities: greetingCapabilities)
/// let login = try encoder.encode(.login(username: user, password: password))
/// // send login.segments[0]; for each later segment wait for .continuationRequest, then send it;
/// // the command is done at .tagged(login.tag, _)
/// ```
public struct IMAPCommandEncoder: Sendable {
    /// How literals are sent.
    public enum LiteralMode: Sendable, Hashable {
        /// `{n}`: wait for the server's `+` before the literal's bytes.
        case synchronizing
        /// `{n+}` for every literal (LITERAL+).
        case nonSynchronizing
        /// `{n+}` up to 4096 bytes, `{n}` above (LITERAL-).
        case nonSynchronizingUpTo4096
    }

    /// Set by `adopt(_:)`; synchronizing until the server's capabilities are known.
    public var literalMode: LiteralMode
    /// Whether AUTHENTICATE carries the initial response (SASL-IR).
    public var saslInitialResponse: Bool
    /// Where the tags come from.
    public var tags: IMAPTagGenerator

    /// Longest string written quoted; longer ones become literals.
    static let maxQuotedLength = 1000

    public init(tags: IMAPTagGenerator = IMAPTagGenerator(), capabilities: IMAPCapabilities? = nil) {
        self.tags = tags
        literalMode = .synchronizing
        saslInitialResponse = false
        if let capabilities { adopt(capabilities) }
    }

    /// Takes the literal mode and SASL-IR from the server's capabilities (call again after login and after
    /// STARTTLS: capabilities change).
    public mutating func adopt(_ capabilities: IMAPCapabilities) {
        if capabilities.literalPlus {
            literalMode = .nonSynchronizing
        } else if capabilities.literalMinus {
            literalMode = .nonSynchronizingUpTo4096
        } else {
            literalMode = .synchronizing
        }
        saslInitialResponse = capabilities.saslInitialResponse
    }

    /// Ends IDLE (sent without a tag after the server's `+`).
    public static let idleDone: [UInt8] = Array("DONE\r\n".utf8)

    /// Cancels an AUTHENTICATE exchange (answer to a `+` challenge).
    public static let saslCancel: [UInt8] = Array("*\r\n".utf8)

    /// A SASL response line: `bytes` in base64, then CRLF (an empty response is an empty line). O(n).
    public static func saslResponse(_ bytes: [UInt8]) -> [UInt8] {
        Array(Data(bytes).base64EncodedString().utf8) + [.cr, .lf]
    }

    /// The command with the next tag.
    public mutating func encode(_ command: IMAPCommand) throws(IMAPCommandEncodingError) -> IMAPEncodedCommand {
        let tag = tags.next()
        guard !tag.isEmpty, tag.utf8.allSatisfy({ $0.isAtomChar && $0 != .plus }) else {
            throw IMAPCommandEncodingError(argument: "tag", reason: "\"\(tag)\" is not atom characters without +")
        }
        var writer = CommandWriter(literalMode: literalMode)
        writer.append(tag)
        writer.append(" ")
        switch command {
        case .capability: writer.append("CAPABILITY")
        case .noop: writer.append("NOOP")
        case .logout: writer.append("LOGOUT")
        case .startTLS: writer.append("STARTTLS")
        case .idle: writer.append("IDLE")
        case .login(let username, let password):
            writer.append("LOGIN ")
            try writer.appendString(Array(username.utf8), argument: "username")
            writer.append(" ")
            try writer.appendString(Array(password.utf8), argument: "password")
        case .authenticate(let mechanism, let initialResponse):
            try Self.checkAtom(mechanism, argument: "mechanism")
            writer.append("AUTHENTICATE \(mechanism)")
            if let initialResponse {
                let encoded = initialResponse.isEmpty ? "=" : Data(initialResponse).base64EncodedString()
                if saslInitialResponse {
                    writer.append(" \(encoded)")
                } else {
                    writer.endSegment()
                    writer.append(initialResponse.isEmpty ? "" : encoded)
                }
            }
        case .enable(let names):
            guard !names.isEmpty else { throw IMAPCommandEncodingError(argument: "ENABLE", reason: "no capability") }
            for name in names { try Self.checkAtom(name, argument: "capability") }
            writer.append("ENABLE " + names.joined(separator: " "))
        case .select(let mailbox):
            writer.append("SELECT ")
            try writer.appendString(mailbox.wireBytes, argument: "mailbox")
        case .examine(let mailbox):
            writer.append("EXAMINE ")
            try writer.appendString(mailbox.wireBytes, argument: "mailbox")
        case .create(let mailbox):
            writer.append("CREATE ")
            try writer.appendString(mailbox.wireBytes, argument: "mailbox")
        case .list(let reference, let pattern):
            writer.append("LIST ")
            try writer.appendString(ModifiedUTF7.encode(reference), argument: "reference")
            writer.append(" ")
            try writer.appendString(ModifiedUTF7.encode(pattern), argument: "pattern", wildcards: true)
        case .status(let mailbox, let items):
            guard !items.isEmpty else { throw IMAPCommandEncodingError(argument: "STATUS", reason: "no item") }
            writer.append("STATUS ")
            try writer.appendString(mailbox.wireBytes, argument: "mailbox")
            writer.append(" (" + items.map(\.rawValue).joined(separator: " ") + ")")
        case .uidSearch(let key):
            try Self.checkSets(in: key)
            writer.append("UID SEARCH " + key.wireText)
        case .uidFetch(let set, let items):
            guard !items.isEmpty else { throw IMAPCommandEncodingError(argument: "FETCH", reason: "no item") }
            for item in items { try Self.checkSection(item) }
            writer.append("UID FETCH \(try Self.checked(set)) (" + items.map(\.wireText).joined(separator: " ") + ")")
        case .uidStore(let set, let operation, let flags, let silent):
            for flag in flags { try Self.checkFlag(flag) }
            writer.append(
                "UID STORE \(try Self.checked(set)) \(operation.rawValue)\(silent ? ".SILENT" : "") ("
                    + flags.map(\.name).joined(separator: " ") + ")")
        case .uidCopy(let set, let mailbox):
            writer.append("UID COPY \(try Self.checked(set)) ")
            try writer.appendString(mailbox.wireBytes, argument: "mailbox")
        case .uidMove(let set, let mailbox):
            writer.append("UID MOVE \(try Self.checked(set)) ")
            try writer.appendString(mailbox.wireBytes, argument: "mailbox")
        case .uidExpunge(let set):
            writer.append("UID EXPUNGE \(try Self.checked(set))")
        }
        return IMAPEncodedCommand(tag: tag, segments: writer.finish())
    }

    private static func checkAtom(_ text: String, argument: String) throws(IMAPCommandEncodingError) {
        guard !text.isEmpty, text.utf8.allSatisfy(\.isAtomChar) else {
            throw IMAPCommandEncodingError(argument: argument, reason: "\"\(text)\" is not an atom")
        }
    }

    private static func checkFlag(_ flag: IMAPFlag) throws(IMAPCommandEncodingError) {
        var bytes = flag.name.utf8[...]
        if bytes.first == .backslash { bytes = bytes.dropFirst() }
        guard !bytes.isEmpty, bytes.allSatisfy(\.isAtomChar) else {
            throw IMAPCommandEncodingError(argument: "flag", reason: "\"\(flag.name)\" is not a flag")
        }
    }

    private static func checkSection(_ item: IMAPFetchItem) throws(IMAPCommandEncodingError) {
        switch item {
        case .body(let section, _), .bodyPeek(let section, _):
            guard section.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != .closeBracket }) else {
                throw IMAPCommandEncodingError(argument: "section", reason: "\"\(section)\" is not a section")
            }
        default: return
        }
    }

    private static func checked(_ set: IMAPUIDSet) throws(IMAPCommandEncodingError) -> String {
        guard !set.isEmpty, !set.ranges.contains(where: { $0.first == 0 || $0.last == 0 }) else {
            throw IMAPCommandEncodingError(argument: "UID set", reason: "empty, or contains 0")
        }
        return set.wireText
    }

    private static func checkSets(in key: IMAPSearchKey) throws(IMAPCommandEncodingError) {
        switch key {
        case .uid(let set): _ = try checked(set)
        case .not(let inner): try checkSets(in: inner)
        case .or(let a, let b):
            try checkSets(in: a)
            try checkSets(in: b)
        case .and(let keys): for inner in keys { try checkSets(in: inner) }
        default: return
        }
    }
}
