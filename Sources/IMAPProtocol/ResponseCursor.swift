/// Reads the grammar of one framed segment (a whole response with its buffered literals, or the part of a FETCH
/// response up to a streamed body literal). Every read advances `index` or throws, so each parse of a segment
/// is O(segment length); list nesting is capped at `maxNesting`.
struct ResponseCursor {
    let bytes: ArraySlice<UInt8>
    var index: Int
    let maxNesting: Int
    private var depth = 0

    init(_ bytes: ArraySlice<UInt8>, maxNesting: Int) {
        self.bytes = bytes
        index = bytes.startIndex
        self.maxNesting = maxNesting
    }

    var atEnd: Bool { index >= bytes.endIndex }

    func peek() -> UInt8? {
        index < bytes.endIndex ? bytes[index] : nil
    }

    func fail(_ expected: String) -> ParseFailure {
        ParseFailure(.syntax(expected: expected), at: index)
    }

    mutating func expect(_ byte: UInt8, _ expected: String) throws(ParseFailure) {
        guard peek() == byte else { throw fail(expected) }
        index += 1
    }

    mutating func space() throws(ParseFailure) {
        try expect(.space, "SP")
    }

    /// Consumes `byte` when it is next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    var atLineEnd: Bool { peek() == .cr || peek() == .lf }

    /// CRLF (or a bare LF) that ends the segment.
    mutating func lineEnd() throws(ParseFailure) {
        _ = skip(.cr)
        try expect(.lf, "CRLF")
        guard atEnd else { throw fail("end of response") }
    }

    /// The bytes up to the line end (not consumed). O(n).
    mutating func restOfLine() -> ArraySlice<UInt8> {
        let begin = index
        while let byte = peek(), byte != .cr, byte != .lf { index += 1 }
        return bytes[begin..<index]
    }

    /// 1*ATOM-CHAR (RFC 9051), plus `]` when `allowBracket` (ASTRING-CHAR, tags).
    mutating func atom(allowBracket: Bool = false, _ expected: String = "atom") throws(ParseFailure) -> ArraySlice<
        UInt8
    > {
        let begin = index
        while let byte = peek(), byte.isAtomChar || (allowBracket && byte == .closeBracket) { index += 1 }
        guard index > begin else { throw fail(expected) }
        return bytes[begin..<index]
    }

    /// An atom, ASCII upper-cased, as a String (keywords: status words, response names, code names).
    mutating func keyword(_ expected: String = "keyword") throws(ParseFailure) -> String {
        Self.upper(try atom(expected))
    }

    static func upper(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }

    /// A decimal number up to `limit`.
    mutating func number(limit: UInt64, _ what: String) throws(ParseFailure) -> UInt64 {
        let begin = index
        var value: UInt64 = 0
        while let byte = peek(), byte.isDigit {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1, !overflow2, sum <= limit else {
                throw ParseFailure(.numberOutOfRange(what), at: begin)
            }
            value = sum
            index += 1
        }
        guard index > begin else { throw fail(what) }
        return value
    }

    mutating func number32(_ what: String = "number") throws(ParseFailure) -> UInt32 {
        UInt32(try number(limit: UInt64(UInt32.max), what))
    }

    mutating func number64(_ what: String = "number") throws(ParseFailure) -> UInt64 {
        try number(limit: .max, what)
    }

    /// A quoted string's content, escapes removed. O(n).
    mutating func quoted() throws(ParseFailure) -> [UInt8] {
        try expect(.quote, "quoted string")
        var content: [UInt8] = []
        while true {
            guard let byte = peek(), byte != .cr, byte != .lf else { throw fail("closing quote") }
            index += 1
            if byte == .quote { return content }
            if byte == .backslash {
                guard let escaped = peek(), escaped == .quote || escaped == .backslash else {
                    throw fail("\\\" or \\\\ after backslash")
                }
                index += 1
                content.append(escaped)
            } else {
                content.append(byte)
            }
        }
    }

    /// `{n}` or `~{n}` (a `+` tolerated) and its CRLF; returns n. The caller reads the n bytes (or streams them).
    mutating func literalHeader() throws(ParseFailure) -> UInt64 {
        _ = skip(.tilde)
        try expect(.openBrace, "literal")
        let size = try number64("literal size")
        _ = skip(.plus)
        try expect(.closeBrace, "} of literal")
        _ = skip(.cr)
        try expect(.lf, "CRLF after literal size")
        return size
    }

    /// The next `count` bytes (a buffered literal's content; the framer guaranteed they are present).
    mutating func take(_ count: UInt64) throws(ParseFailure) -> ArraySlice<UInt8> {
        guard count <= UInt64(bytes.endIndex - index) else { throw fail("literal bytes") }
        let begin = index
        index += Int(count)
        return bytes[begin..<index]
    }

    /// string = quoted / literal (buffered).
    mutating func string() throws(ParseFailure) -> [UInt8] {
        switch peek() {
        case .quote: return try quoted()
        case .openBrace, .tilde: return Array(try take(try literalHeader()))
        default: throw fail("string")
        }
    }

    /// nstring: a string or NIL (nil).
    mutating func nstring() throws(ParseFailure) -> [UInt8]? {
        if let byte = peek(), byte == .quote || byte == .openBrace || byte == .tilde { return try string() }
        guard try keyword("NIL or string") == "NIL" else { throw fail("NIL or string") }
        return nil
    }

    /// astring: an atom (with `]`) or a string. 8-bit bytes are accepted in the atom form: servers with
    /// UTF8=ACCEPT (RFC 6855) should quote such names, and some write them bare.
    mutating func astring() throws(ParseFailure) -> [UInt8] {
        if let byte = peek(), byte == .quote || byte == .openBrace || byte == .tilde { return try string() }
        let begin = index
        while let byte = peek(), byte.isAtomChar || byte == .closeBracket || byte >= 0x80 { index += 1 }
        guard index > begin else { throw fail("astring") }
        return Array(bytes[begin..<index])
    }

    /// Enters a parenthesised list, counting nesting.
    mutating func openList() throws(ParseFailure) {
        try expect(.openParen, "(")
        depth += 1
        guard depth <= maxNesting else { throw ParseFailure(.nestingTooDeep(limit: maxNesting), at: index - 1) }
    }

    mutating func closeList() throws(ParseFailure) {
        try expect(.closeParen, ")")
        depth -= 1
    }

    /// `( item *(SP item) )` or `()`; `item` reads one element.
    mutating func list(_ item: (inout ResponseCursor) throws(ParseFailure) -> Void) throws(ParseFailure) {
        try openList()
        if skip(.closeParen) {
            depth -= 1
            return
        }
        while true {
            try item(&self)
            if skip(.space) { continue }
            try closeList()
            return
        }
    }

    /// A flag: `\Seen`, `\*`, or a keyword atom.
    mutating func flag() throws(ParseFailure) -> IMAPFlag {
        let begin = index
        if skip(.backslash) {
            if !skip(.asterisk) { _ = try atom("flag") }
        } else {
            _ = try atom("flag")
        }
        return IMAPFlag(String(decoding: bytes[begin..<index], as: UTF8.self))
    }

    mutating func flagList() throws(ParseFailure) -> [IMAPFlag] {
        var flags: [IMAPFlag] = []
        try list { (cursor: inout ResponseCursor) throws(ParseFailure) in flags.append(try cursor.flag()) }
        return flags
    }

    /// Skips one value of any shape: NIL, number, atom (with `[...]`), string, or a nested list. O(value).
    mutating func skipValue() throws(ParseFailure) {
        switch peek() {
        case .openParen:
            try list { (cursor: inout ResponseCursor) throws(ParseFailure) in try cursor.skipValue() }
        case .quote, .openBrace, .tilde:
            _ = try string()
        case .backslash:
            _ = try flag()
        default:
            // Atom characters, `[` and 8-bit bytes (a label in raw UTF-8); a section's `[...]` may hold spaces.
            let begin = index
            while let byte = peek(), byte.isAtomChar || byte == .closeBracket || byte >= 0x80 {
                if byte == .openBracket {
                    _ = try bracketed()
                } else {
                    index += 1
                }
            }
            guard index > begin else { throw fail("value") }
        }
    }

    /// `[...]` up to the matching `]` (no nesting of brackets in IMAP); returns the content. O(n).
    mutating func bracketed() throws(ParseFailure) -> ArraySlice<UInt8> {
        try expect(.openBracket, "[")
        let begin = index
        while let byte = peek(), byte != .closeBracket {
            guard byte != .cr, byte != .lf else { throw fail("]") }
            index += 1
        }
        let content = bytes[begin..<index]
        try expect(.closeBracket, "]")
        return content
    }

    /// The UID or sequence set syntax of responses (`1:3,7,9:*`), in the server's order.
    mutating func uidSet() throws(ParseFailure) -> IMAPUIDSet {
        var ranges: [IMAPUIDSet.Range] = []
        repeat {
            let first = try number32("UID")
            if skip(.colon) {
                if skip(.asterisk) {
                    ranges.append(IMAPUIDSet.Range(first, nil))
                } else {
                    let last = try number32("UID")
                    ranges.append(IMAPUIDSet.Range(min(first, last), max(first, last)))
                }
            } else {
                ranges.append(IMAPUIDSet.Range(first, first))
            }
        } while skip(.comma)
        return IMAPUIDSet(ranges: ranges)
    }
}

extension UInt8 {
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let asterisk: UInt8 = 0x2A
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let lessThan: UInt8 = 0x3C
    static let greaterThan: UInt8 = 0x3E
    static let openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let tilde: UInt8 = 0x7E

    var isDigit: Bool { self >= 0x30 && self <= 0x39 }

    /// ATOM-CHAR: any CHAR except atom-specials `(){ %*"\]`, SP and controls (RFC 9051 9).
    var isAtomChar: Bool {
        switch self {
        case 0x00...0x20, 0x7F...0xFF: return false
        case .openParen, .closeParen, .openBrace, 0x25, .asterisk, .quote, .backslash, .closeBracket: return false
        default: return true
        }
    }
}
