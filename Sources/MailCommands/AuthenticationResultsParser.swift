import MailParser

/// The RFC 8601 grammar over a value's UTF-8 bytes with one forward cursor: every loop either advances the
/// cursor or ends, so a parse is O(n) in the bytes (`work` counts the steps, for the tests that prove it).
///
/// Lenient where real MTAs are: a trailing `;`, property values with `/`, `+`, `=` (base64 `header.b`), and
/// UTF-8 (RFC 6532) in values. Strict where a forgery or a cut could hide: comments and quoted strings must close,
/// every `method=result` and `ptype.property=value` must be complete.
struct AuthenticationResultsParser {
    private let bytes: [UInt8]
    private var position = 0
    private var authservID: String?
    /// Bytes looked at, counted for the linear-cost tests.
    private(set) var work = 0

    init(_ value: String) {
        bytes = Array(value.utf8)
    }

    mutating func parse() throws(AuthenticationResultsSyntaxError) -> AuthenticationResults {
        try skipCFWS()
        guard position < bytes.count else { throw error(.empty) }
        let id = try readValue(what: "an authserv-id")
        authservID = id
        try skipCFWS()
        var version: Int?
        if let byte = peek(), AuthenticationResultsByte.isDigit(byte) {
            version = try readNumber(what: "a version")
            try skipCFWS()
        }
        guard peek() == AuthenticationResultsByte.semicolon else {
            throw error(.expected("\";\" after the authserv-id"))
        }
        advance()
        try skipCFWS()
        let noResultStart = position
        if let word = readKeyword(), word == "none" {
            try skipCFWS()
            if peek() == AuthenticationResultsByte.semicolon {
                advance()
                try skipCFWS()
            }
            guard position == bytes.count else { throw error(.expected("the end after \"none\"")) }
            return AuthenticationResults(authservID: id, version: version, results: [])
        }
        position = noResultStart
        var results: [AuthenticationResults.MethodResult] = []
        while position < bytes.count {
            results.append(try readResult())
            try skipCFWS()
            guard position < bytes.count else { break }
            guard peek() == AuthenticationResultsByte.semicolon else { throw error(.expected("\";\" between results")) }
            advance()
            try skipCFWS()
        }
        guard !results.isEmpty else { throw error(.expected("a method=result")) }
        return AuthenticationResults(authservID: id, version: version, results: results)
    }

    /// The authserv-id alone (the value up to it), or nil when it cannot be read. O(bytes up to the id's end).
    mutating func readAuthservID() -> String? {
        guard (try? skipCFWS()) != nil, position < bytes.count else { return nil }
        return try? readValue(what: "an authserv-id")
    }

    // MARK: - Grammar

    /// `methodspec [CFWS reasonspec] [CFWS 1*propspec]`, the cursor on the method.
    private mutating func readResult() throws(AuthenticationResultsSyntaxError) -> AuthenticationResults.MethodResult {
        guard let method = readKeyword() else { throw error(.expected("a method")) }
        try skipCFWS()
        var methodVersion: Int?
        if peek() == AuthenticationResultsByte.slash {
            advance()
            try skipCFWS()
            methodVersion = try readNumber(what: "a method version")
            try skipCFWS()
        }
        guard peek() == AuthenticationResultsByte.equals else {
            throw error(.expected("\"=\" after the method \"\(clipped(method))\""))
        }
        advance()
        try skipCFWS()
        guard let result = readKeyword() else { throw error(.expected("a result for \"\(clipped(method))\"")) }
        var entry = AuthenticationResults.MethodResult(method: method, methodVersion: methodVersion, result: result)
        while true {
            try skipCFWS()
            guard let byte = peek(), byte != AuthenticationResultsByte.semicolon else { break }
            guard let word = readKeyword() else { throw error(.expected("a property or reason")) }
            try skipCFWS()
            if word == "reason", peek() == AuthenticationResultsByte.equals {
                advance()
                try skipCFWS()
                entry.reason = try readValue(what: "a reason")
                continue
            }
            guard peek() == AuthenticationResultsByte.dot else {
                throw error(.expected("\".\" after the property type \"\(clipped(word))\""))
            }
            advance()
            try skipCFWS()
            guard let name = readKeyword() else {
                throw error(.expected("a property name after \"\(clipped(word)).\""))
            }
            try skipCFWS()
            guard peek() == AuthenticationResultsByte.equals else {
                throw error(.expected("\"=\" after \"\(clipped(word)).\(clipped(name))\""))
            }
            advance()
            try skipCFWS()
            let value = try readPropertyValue()
            entry.properties.append(AuthenticationResults.Property(type: word, name: name, value: value))
        }
        return entry
    }

    /// `Keyword` (letters, digits, `-`, `_`), lower-cased; nil (cursor unmoved) when there is none.
    private mutating func readKeyword() -> String? {
        let start = position
        while let byte = peek(),
            AuthenticationResultsByte.isLetter(byte) || AuthenticationResultsByte.isDigit(byte)
                || byte == AuthenticationResultsByte.hyphen || byte == AuthenticationResultsByte.underscore
        {
            advance()
        }
        guard position > start else { return nil }
        return String(
            decoding: bytes[start..<position].map { $0 | (AuthenticationResultsByte.isLetter($0) ? 0x20 : 0) },
            as: UTF8.self)
    }

    /// `1*DIGIT`, at most nine digits.
    private mutating func readNumber(what: String) throws(AuthenticationResultsSyntaxError) -> Int {
        let start = position
        while let byte = peek(), AuthenticationResultsByte.isDigit(byte) { advance() }
        guard position > start, position - start <= 9 else {
            position = start
            throw error(.expected(what))
        }
        return bytes[start..<position].reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// RFC 2045 `value`: a quoted string or a token.
    private mutating func readValue(what: String) throws(AuthenticationResultsSyntaxError) -> String {
        if peek() == AuthenticationResultsByte.quote { return try readQuotedString() }
        let start = position
        while let byte = peek(), AuthenticationResultsByte.isToken(byte) { advance() }
        guard position > start else { throw error(.expected(what)) }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// `pvalue`: a quoted string (a quoted local part may go on with `@domain`), or everything up to a blank, `;`,
    /// `(` or `"`.
    private mutating func readPropertyValue() throws(AuthenticationResultsSyntaxError) -> String {
        var value = ""
        if peek() == AuthenticationResultsByte.quote {
            value = try readQuotedString()
            guard peek() == AuthenticationResultsByte.at else { return value }
        }
        let start = position
        while let byte = peek(), !byte.isWhitespace, byte != AuthenticationResultsByte.semicolon,
            byte != AuthenticationResultsByte.openParen,
            byte != AuthenticationResultsByte.quote, byte >= 0x20, byte != 0x7F
        {
            advance()
        }
        value += String(decoding: bytes[start..<position], as: UTF8.self)
        guard !value.isEmpty else { throw error(.expected("a property value")) }
        return value
    }

    /// A quoted string, the cursor on its opening quote; `\` quotes the next byte.
    private mutating func readQuotedString() throws(AuthenticationResultsSyntaxError) -> String {
        let open = position
        advance()
        var content: [UInt8] = []
        while let byte = peek() {
            advance()
            switch byte {
            case AuthenticationResultsByte.quote:
                return String(decoding: content, as: UTF8.self)
            case AuthenticationResultsByte.backslash:
                guard let quoted = peek() else { break }
                advance()
                content.append(quoted)
            default:
                content.append(byte)
            }
        }
        position = open
        throw error(.unterminatedQuotedString)
    }

    /// Blanks, line breaks of a folded field, and comments (nested, with quoted pairs), counted not recursed.
    private mutating func skipCFWS() throws(AuthenticationResultsSyntaxError) {
        while let byte = peek() {
            if byte.isWhitespace {
                advance()
            } else if byte == AuthenticationResultsByte.openParen {
                let open = position
                var depth = 0
                while let inner = peek() {
                    advance()
                    if inner == AuthenticationResultsByte.openParen {
                        depth += 1
                    } else if inner == AuthenticationResultsByte.closeParen {
                        depth -= 1
                        if depth == 0 { break }
                    } else if inner == AuthenticationResultsByte.backslash, peek() != nil {
                        advance()
                    }
                }
                guard depth == 0 else {
                    position = open
                    throw error(.unterminatedComment)
                }
            } else {
                return
            }
        }
    }

    // MARK: - Cursor

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func advance() {
        position += 1
        work += 1
    }

    /// A keyword from the value for an error message: at most 64 bytes (keywords are ASCII), so a megabyte-long
    /// method name does not become a megabyte-long record.
    private func clipped(_ keyword: String) -> String {
        keyword.utf8.count <= 64 ? keyword : String(keyword.prefix(64)) + "…"
    }

    private func error(_ kind: AuthenticationResultsSyntaxError.Kind) -> AuthenticationResultsSyntaxError {
        AuthenticationResultsSyntaxError(kind: kind, offset: position, authservID: authservID)
    }
}

/// The bytes the grammar names, and its classes of bytes.
private enum AuthenticationResultsByte {
    static let quote: UInt8 = 0x22
    static let openParen: UInt8 = 0x28
    static let hyphen: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let at: UInt8 = 0x40
    static let backslash: UInt8 = 0x5C
    static let closeParen: UInt8 = 0x29
    static let underscore: UInt8 = 0x5F

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    /// RFC 2045 token bytes (no CTLs, space or tspecials), plus UTF-8 (RFC 6532).
    static func isToken(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte != 0x7F else { return false }
        switch byte {
        case 0x28, 0x29, 0x3C, 0x3E, 0x40, 0x2C, 0x3B, 0x3A, 0x5C, 0x22, 0x2F, 0x5B, 0x5D, 0x3F, 0x3D: return false
        default: return true
        }
    }
}
