/// The extensions an EHLO reply offers (RFC 5321 §4.1.1.1): keyword → parameters, keywords upper-cased.
struct SMTPExtensions: Sendable, Hashable {
    private var offered: [String: [String]] = [:]

    /// Reads the lines after the first (the greeting line). O(n) in the reply's text.
    init(ehloReply: SMTPReply) {
        for line in ehloReply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first?.uppercased() else { continue }
            offered[keyword] = Array(words.dropFirst())
        }
    }

    func offers(_ keyword: String) -> Bool { offered[keyword] != nil }

    /// The parameters of `keyword` (`SIZE 10240000` → `["10240000"]`); empty if not offered.
    func parameters(_ keyword: String) -> [String] { offered[keyword] ?? [] }
}
