/// The text of a `+OK` or `-ERR` line, with its RFC 2449 response code split off.
public struct POP3StatusLine: Sendable, Hashable, CustomStringConvertible {
    /// The `[…]` response code, if the text starts with a well-formed one.
    public let code: POP3ResponseCode?
    /// The human text after the status indicator and the code, as UTF-8 (invalid sequences replaced), raw: escape
    /// it before logging (`TerminalText.escaped`).
    public let text: String

    /// Makes a status line from parts.
    public init(code: POP3ResponseCode? = nil, text: String) {
        self.code = code
        self.text = text
    }

    /// Splits the text after `+OK `/`-ERR ` into code and text. A `[` without a well-formed code leaves everything
    /// in `text`. O(n) in the line, one pass.
    init(parsing bytes: ArraySlice<UInt8>) {
        let open = UInt8(ascii: "["), close = UInt8(ascii: "]"), slash = UInt8(ascii: "/")
        if bytes.first == open, let closeIndex = bytes.firstIndex(of: close) {
            let inner = bytes[(bytes.startIndex + 1)..<closeIndex]
            let levels = inner.split(separator: slash, omittingEmptySubsequences: false)
            let wellFormed =
                !levels.isEmpty
                && levels.allSatisfy { level in
                    !level.isEmpty && level.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != open }
                }
            if wellFormed {
                var rest = bytes[(closeIndex + 1)...]
                if rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
                code = POP3ResponseCode(levels: levels.map { String(decoding: $0, as: UTF8.self) })
                text = String(decoding: rest, as: UTF8.self)
                return
            }
        }
        code = nil
        text = String(decoding: bytes, as: UTF8.self)
    }

    public var description: String {
        (code.map { "\($0) " } ?? "") + text
    }
}
