/// Text made safe for an XML 1.0 document we write (the response): the five markup characters as entities, and
/// the characters XML 1.0 cannot carry at all (C0 controls other than tab, line feed and carriage return, and
/// U+FFFE/U+FFFF) — nor their character references — replaced by U+FFFD, as are DEL and the C1 controls, which it
/// only discourages. In attributes tab, line feed and carriage return become character references, so a reader's
/// attribute-value normalisation keeps them; in text only carriage return does (a reader turns CR LF into LF).
/// O(n) in the text's scalars, one pass.
enum XMLTextEscaping {
    static func escaped(_ text: String, inAttribute: Bool) -> String {
        var output = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": output.append(contentsOf: "&lt;".unicodeScalars)
            case ">": output.append(contentsOf: "&gt;".unicodeScalars)
            case "&": output.append(contentsOf: "&amp;".unicodeScalars)
            case "\"": output.append(contentsOf: "&quot;".unicodeScalars)
            case "'": output.append(contentsOf: "&apos;".unicodeScalars)
            case "\r": output.append(contentsOf: "&#13;".unicodeScalars)
            case "\t" where inAttribute: output.append(contentsOf: "&#9;".unicodeScalars)
            case "\n" where inAttribute: output.append(contentsOf: "&#10;".unicodeScalars)
            case "\t", "\n": output.append(scalar)
            default:
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0xFFFE || value == 0xFFFF {
                    output.append("\u{FFFD}")
                } else {
                    output.append(scalar)
                }
            }
        }
        return String(output)
    }
}
