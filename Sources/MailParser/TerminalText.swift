/// Makes text from mail safe to print on an operator's terminal or into a log line: C0 controls, DEL and C1
/// controls become visible `\u{1B}`-style escapes, so that a subject or name cannot carry an escape sequence
/// (OSC 52 clipboard writes, hidden or rewritten lines, forged log lines) into the terminal.
///
/// JSON output needs none of this: its encoder already escapes every control character.
public enum TerminalText {
    /// Where the text goes: one line (every control escaped), or a multi-line body (line feeds and tabs kept, and
    /// a carriage return that ends a line before its line feed).
    public enum Layout: Sendable {
        case singleLine
        case multiLine
    }

    /// `text` with its control characters escaped. O(n) in the text's Unicode scalars, one pass to find the
    /// first control character and (only when there is one) one pass to build the copy.
    public static func escaped(_ text: String, layout: Layout = .singleLine) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { isControl($0) }) else { return text }
        var result = String.UnicodeScalarView(scalars[..<first])
        var index = first
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            defer { index = next }
            guard isControl(scalar) else {
                result.append(scalar)
                continue
            }
            if layout == .multiLine {
                let keep =
                    scalar == "\n" || scalar == "\t"
                    || (scalar == "\r" && next != scalars.endIndex && scalars[next] == "\n")
                if keep {
                    result.append(scalar)
                    continue
                }
            }
            result.append(contentsOf: "\\u{\(hex(scalar.value))}".unicodeScalars)
        }
        return String(result)
    }

    /// C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return digits.count < 2 ? "0" + digits : digits
    }
}
