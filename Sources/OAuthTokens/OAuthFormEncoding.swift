import Foundation

/// `application/x-www-form-urlencoded` (the body of token requests, the query of consent URLs and redirects,
/// RFC 6749 Appendix B). Each function is O(n) in its input's bytes.
enum OAuthFormEncoding {
    /// RFC 3986 unreserved characters: everything else is percent-encoded, so `+`, `&`, `=` and spaces in
    /// values survive every server's decoder.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// The pairs of a query or form body, `+` read as a space; a malformed escape leaves the text as sent.
    static func decode(_ query: Substring) -> [(String, String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = unescape(halves[0])
            return (name, halves.count > 1 ? unescape(halves[1]) : "")
        }
    }

    private static func unescape(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
