/// Parses the arguments of MAIL and RCPT (RFC 5321 §4.1.2, RFC 6531 for UTF-8 local parts and domains).
///
/// Deliberately lenient where real clients differ (a space after the colon, a source route) and strict where
/// it matters (angle brackets, one `@`, no spaces or control characters outside a quoted local part).
/// UTF-8 in addresses is accepted whether or not MAIL carried SMTPUTF8: Postfix does not always send the
/// parameter when it relays such an address, and refusing would bounce mail we can store perfectly well.
enum SMTPAddressSyntax {
    struct PathAndParameters {
        /// Without angle brackets or source route; "" for `<>`.
        var address: String
        /// Raw `KEY[=VALUE]` words after the path.
        var parameters: [Substring]
    }

    /// `argument` is what follows "FROM:" or "TO:". Returns nil on a syntax error.
    static func parsePath(_ argument: Substring, allowNull: Bool, allowPostmaster: Bool) -> PathAndParameters? {
        var rest = argument.drop(while: { $0 == " " })
        guard rest.first == "<" else { return nil }
        rest = rest.dropFirst()
        // The closing bracket is the first '>' not inside a quoted local part.
        var inQuotes = false
        var escaped = false
        var closing: Substring.Index?
        for index in rest.indices {
            let character = rest[index]
            if escaped {
                escaped = false
                continue
            }
            if inQuotes && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
            } else if character == ">" && !inQuotes {
                closing = index
                break
            }
        }
        guard let closing else { return nil }
        var path = rest[rest.startIndex..<closing]
        let afterPath = rest[rest.index(after: closing)...]
        guard afterPath.isEmpty || afterPath.first == " " else { return nil }
        let parameters = afterPath.split(separator: " ")
        if path.isEmpty {
            return allowNull ? PathAndParameters(address: "", parameters: parameters) : nil
        }
        // A source route ("@a,@b:user@c") is obsolete and must be ignored (RFC 5321 §3.3).
        if path.first == "@" {
            guard let colon = path.firstIndex(of: ":") else { return nil }
            path = path[path.index(after: colon)...]
        }
        if allowPostmaster && path.utf8.count == 10 && path.lowercased() == "postmaster" {
            return PathAndParameters(address: String(path), parameters: parameters)
        }
        guard isValidMailbox(path) else { return nil }
        return PathAndParameters(address: String(path), parameters: parameters)
    }

    /// local-part "@" domain, the local part a dot-string or a quoted string.
    static func isValidMailbox(_ mailbox: Substring) -> Bool {
        guard mailbox.utf8.count <= 256 else { return false }
        let utf8 = mailbox.utf8
        var localEnd: Substring.UTF8View.Index?
        if utf8.first == UInt8(ascii: "\"") {
            var index = utf8.index(after: utf8.startIndex)
            var closed = false
            while index < utf8.endIndex {
                let byte = utf8[index]
                if byte == UInt8(ascii: "\\") {
                    index = utf8.index(after: index)
                    guard index < utf8.endIndex, utf8[index] >= 0x20, utf8[index] != 0x7F else { return false }
                } else if byte == UInt8(ascii: "\"") {
                    closed = true
                    index = utf8.index(after: index)
                    break
                } else if byte < 0x20 || byte == 0x7F {
                    return false
                }
                index = utf8.index(after: index)
            }
            guard closed, index < utf8.endIndex, utf8[index] == UInt8(ascii: "@") else { return false }
            localEnd = index
        } else {
            guard let at = utf8.lastIndex(of: UInt8(ascii: "@")) else { return false }
            let local = utf8[utf8.startIndex..<at]
            guard isDotString(local) else { return false }
            localEnd = at
        }
        guard let localEnd else { return false }
        let domain = utf8[utf8.index(after: localEnd)...]
        return isValidDomain(domain)
    }

    private static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case 0x80...0xFF:
            // UTF-8 (RFC 6531); the line was already validated as UTF-8.
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    private static func isDotString(_ bytes: Substring.UTF8View.SubSequence) -> Bool {
        guard !bytes.isEmpty, bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else { return false }
        var previousDot = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
            } else {
                guard isAtext(byte) else { return false }
                previousDot = false
            }
        }
        return true
    }

    private static func isValidDomain(_ domain: Substring.UTF8View.SubSequence) -> Bool {
        guard !domain.isEmpty, domain.count <= 255 else { return false }
        if domain.first == UInt8(ascii: "[") {
            // Address literal: printable ASCII without brackets or backslash inside.
            guard domain.last == UInt8(ascii: "]"), domain.count > 2 else { return false }
            return domain.dropFirst().dropLast().allSatisfy {
                $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]")
                    && $0 != UInt8(ascii: "\\")
            }
        }
        guard domain.first != UInt8(ascii: "."), domain.last != UInt8(ascii: "."),
            domain.first != UInt8(ascii: "-")
        else { return false }
        var previousDot = false
        for byte in domain {
            switch byte {
            case UInt8(ascii: "."):
                if previousDot { return false }
                previousDot = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), 0x80...0xFF:
                previousDot = false
            default:
                return false
            }
        }
        return true
    }
}
