/// One SMTP reply: its three-digit code and its text lines (without the code and separator).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var isPositive: Bool { (200..<400).contains(code) }
    public var isTransient: Bool { (400..<500).contains(code) }
    public var isPermanent: Bool { code >= 500 }

    /// `550 5.1.1 no such user` (lines joined with ` / `).
    public var description: String { "\(code) " + lines.joined(separator: " / ") }
}

/// Assembles SMTP replies from the bytes a server sends (RFC 5321 §4.2: `250-…` lines continue, `250 …` ends).
/// Pure; O(n) in the bytes, each byte looked at once. A line longer than `maximumLineLength` or without a code
/// is a protocol violation.
struct SMTPReplyParser {
    static let maximumLineLength = 4096
    static let maximumLines = 200
    private var line: [UInt8] = []
    private var lines: [String] = []

    enum Failure: Error, Equatable { case lineTooLong, malformed(String), tooManyLines }

    /// Feeds bytes; returns the replies they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Failure) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                if let reply = try finishLine() { replies.append(reply) }
                line.removeAll(keepingCapacity: true)
            } else {
                guard line.count < Self.maximumLineLength else { throw .lineTooLong }
                line.append(byte)
            }
        }
        return replies
    }

    private mutating func finishLine() throws(Failure) -> SMTPReply? {
        let text = String(decoding: line, as: UTF8.self)
        guard line.count >= 3, line[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let code = Int(text.prefix(3))
        else { throw .malformed(String(text.prefix(80))) }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        lines.append(line.count > 4 ? String(text.dropFirst(4)) : "")
        guard lines.count <= Self.maximumLines else { throw .tooManyLines }
        guard separator != UInt8(ascii: "-") else { return nil }
        defer { lines.removeAll() }
        return SMTPReply(code: code, lines: lines)
    }
}
