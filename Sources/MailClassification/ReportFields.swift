import MailParser

/// One block of `Name: value` fields from a machine-readable report part (`message/delivery-status`,
/// `message/feedback-report`, `message/disposition-notification`). These parts are header-like groups
/// separated by blank lines: a DSN has one per-message group and one group per recipient.
struct ReportFieldBlock {
    /// Field names lower-cased, values unfolded and trimmed, in order.
    var fields: [(name: String, value: String)] = []

    func value(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    func values(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }

    /// Parses the report part's bytes. Lines may end in CRLF or LF; continuation lines start with a blank.
    static func blocks(_ bytes: [UInt8]) -> [ReportFieldBlock] {
        let text = String(decoding: bytes, as: UTF8.self)
        var blocks: [ReportFieldBlock] = []
        var current = ReportFieldBlock()
        for line in LineScanner.lines(text) {
            if ByteText.trimmed(line).isEmpty {
                if !current.fields.isEmpty { blocks.append(current) }
                current = ReportFieldBlock()
                continue
            }
            if let first = line.utf8.first, first == 0x20 || first == 0x09 {
                guard !current.fields.isEmpty else { continue }
                current.fields[current.fields.count - 1].value += " " + ByteText.trimmed(line)
                continue
            }
            guard let colon = line.utf8.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = ByteText.lowercasedASCII(ByteText.trimmed(line[..<colon]))
            guard !name.isEmpty, !name.utf8.contains(0x20) else { continue }
            current.fields.append((name, String(ByteText.trimmed(line[line.index(after: colon)...]))))
        }
        if !current.fields.isEmpty { blocks.append(current) }
        return blocks
    }

    /// A typed value (`rfc822; user@example.com`, `smtp; 550 5.1.1 ...`, `dns; mx.example.net`) without its
    /// type prefix, and an address without angle brackets.
    static func untyped(_ value: String) -> String {
        var result = ByteText.trimmed(value)
        if let semicolon = result.utf8.firstIndex(of: UInt8(ascii: ";")) {
            let type = result[..<semicolon]
            if !type.isEmpty, !type.utf8.contains(where: { $0 == 0x40 || $0 == 0x20 || $0 == 0x3C }) {
                result = ByteText.trimmed(result[result.index(after: semicolon)...])
            }
        }
        if result.hasPrefix("<"), result.hasSuffix(">"), result.count >= 2 { result = result.dropFirst().dropLast() }
        return String(result)
    }

    /// The status code without a trailing comment: `5.0.0 (permanent failure)` → `5.0.0`.
    static func statusCode(_ value: String) -> String {
        let trimmedValue = ByteText.trimmed(value)
        let end = trimmedValue.firstIndex { $0 == " " || $0 == "(" || $0 == "\t" } ?? trimmedValue.endIndex
        return String(trimmedValue[..<end])
    }
}

/// Finds SMTP enhanced status codes (RFC 3463, `5.1.1`) in free diagnostic text.
enum EnhancedStatusCode {
    /// The first `class.subject.detail` code with class 2, 4 or 5, standing as its own word.
    static func first(in text: some StringProtocol) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let standsAlone = index == 0 || !(isDigit(bytes[index - 1]) || bytes[index - 1] == 0x2E)
            if standsAlone, byte == 0x32 || byte == 0x34 || byte == 0x35, index + 1 < bytes.count,
                bytes[index + 1] == 0x2E
            {
                var position = index + 2
                let subjectDigits = digits(bytes, from: &position)
                if (1...3).contains(subjectDigits), position < bytes.count, bytes[position] == 0x2E {
                    position += 1
                    let detailDigits = digits(bytes, from: &position)
                    // A sentence may end right after the code ("... 5.1.1."), a fourth number may not.
                    let endsWord =
                        position == bytes.count
                        || !(isDigit(bytes[position])
                            || (bytes[position] == 0x2E && position + 1 < bytes.count && isDigit(bytes[position + 1])))
                    if (1...3).contains(detailDigits), endsWord {
                        return String(decoding: bytes[index..<position], as: UTF8.self)
                    }
                }
            }
            index += 1
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func digits(_ bytes: [UInt8], from position: inout Int) -> Int {
        let start = position
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        return position - start
    }
}
