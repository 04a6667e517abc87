import MailParser

/// One filter rule of a queue.
public enum FilterRule: Sendable, Hashable, Codable {
    /// The exact sender address, case-insensitive; a `+tag` sub-address of it matches too.
    case address(String)
    /// The sender's domain; with `includeSubdomains`, `mail.example.com` matches `example.com` as well.
    case domain(String, includeSubdomains: Bool)
    /// A keyword in the subject and/or the text body, case-insensitive.
    case keyword(String, match: KeywordMatch, fields: KeywordFields)

    /// A stable description for the record, e.g. `domain example.com (and subdomains)`.
    public var description: String {
        switch self {
        case .address(let address): "address \(address)"
        case .domain(let domain, let includeSubdomains):
            "domain \(domain)" + (includeSubdomains ? " (and subdomains)" : " (exact)")
        case .keyword(let keyword, let match, let fields):
            "keyword \"\(keyword)\" (\(match.rawValue) in \(fields.description))"
        }
    }
}

public enum KeywordMatch: String, Sendable, Hashable, Codable {
    /// The keyword must stand as a whole word: not preceded or followed by a letter, digit or `_`.
    case wholeWord = "whole word"
    /// The keyword may appear anywhere, also inside a longer word.
    case substring
}

/// Which parts of the message a keyword rule searches.
public struct KeywordFields: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let subject = KeywordFields(rawValue: 1)
    /// The readable text body (`ParsedMessage.text`).
    public static let body = KeywordFields(rawValue: 2)
    public static let subjectAndBody: KeywordFields = [.subject, .body]

    var description: String {
        switch self {
        case .subject: "subject"
        case .body: "body"
        default: "subject and body"
        }
    }
}

/// A queue's filters. Ignore rules win: a message matching any ignore rule is ignored even if an allow rule
/// matches too. When the allow list is not empty, a message must match one of its rules or it is ignored;
/// an empty allow list allows everything. Address and domain rules test every From address and the envelope
/// sender.
public struct MailFilter: Sendable, Hashable, Codable {
    public var allow: [FilterRule]
    public var ignore: [FilterRule]

    public init(allow: [FilterRule] = [], ignore: [FilterRule] = []) {
        self.allow = allow
        self.ignore = ignore
    }

    /// Evaluates the filter; the decision says which rule matched.
    public func evaluate(_ message: ParsedMessage, envelope: MailEnvelope) -> FilterDecision {
        guard !allow.isEmpty || !ignore.isEmpty else {
            return FilterDecision(
                outcome: .accepted, list: nil, rule: nil, matched: nil, reason: "no filters configured")
        }
        var subject = FilterSubject(message: message, envelope: envelope)
        for rule in ignore {
            if let matched = subject.match(rule) {
                return FilterDecision(
                    outcome: .ignored, list: .ignore, rule: rule, matched: matched,
                    reason: "ignore list: \(rule.description) matched \(matched)")
            }
        }
        guard !allow.isEmpty else {
            return FilterDecision(
                outcome: .accepted, list: nil, rule: nil, matched: nil, reason: "no ignore rule matched")
        }
        for rule in allow {
            if let matched = subject.match(rule) {
                return FilterDecision(
                    outcome: .accepted, list: .allow, rule: rule, matched: matched,
                    reason: "allow list: \(rule.description) matched \(matched)")
            }
        }
        return FilterDecision(
            outcome: .ignored, list: .allow, rule: nil, matched: nil,
            reason: "not on the allow list (\(allow.count) rule\(allow.count == 1 ? "" : "s"), none matched)")
    }
}

/// A filter's decision, for the record: ignored mail is recorded with who and why, never lost.
public struct FilterDecision: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable { case accepted, ignored }
    public enum List: String, Sendable, Hashable, Codable { case allow, ignore }

    public var outcome: Outcome
    /// The list that decided; nil when no filter applied.
    public var list: List?
    /// The rule that matched; nil when nothing matched (accepted without filters, or not on the allow list).
    public var rule: FilterRule?
    /// What matched: the address, the domain, or `keyword in subject|body`.
    public var matched: String?
    public var reason: String

    public init(outcome: Outcome, list: List?, rule: FilterRule?, matched: String?, reason: String) {
        self.outcome = outcome
        self.list = list
        self.rule = rule
        self.matched = matched
        self.reason = reason
    }
}

/// The message's filterable values, computed on first use (lower-casing the body costs; most queues have
/// no keyword rules).
struct FilterSubject {
    let message: ParsedMessage
    let senders: [String]
    private var loweredSubject: [UInt8]?
    private var loweredBody: [UInt8]?

    init(message: ParsedMessage, envelope: MailEnvelope) {
        self.message = message
        var senders = message.from.map { MailAddressForm.normalized($0.address) }
        if let sender = envelope.sender, !sender.isEmpty {
            let normalized = MailAddressForm.normalized(sender)
            if !senders.contains(normalized) { senders.append(normalized) }
        }
        self.senders = senders
    }

    /// What the rule matched, or nil.
    mutating func match(_ rule: FilterRule) -> String? {
        switch rule {
        case .address(let address):
            let wanted = MailAddressForm.normalized(address)
            return senders.first { $0 == wanted }
        case .domain(let domain, let includeSubdomains):
            var wanted = ByteText.lowercasedASCII(ByteText.trimmed(domain))
            if wanted.hasPrefix("@") { wanted.removeFirst() }
            if wanted.hasPrefix("*.") { wanted.removeFirst(2) }
            return senders.first { sender in
                guard let senderDomain = MailAddressForm.domain(sender) else { return false }
                return MailAddressForm.domain(senderDomain, matches: wanted, includeSubdomains: includeSubdomains)
            }
        case .keyword(let keyword, let match, let fields):
            let needle = Array(keyword.lowercased().utf8)
            guard !needle.isEmpty else { return nil }
            if fields.contains(.subject) {
                if loweredSubject == nil { loweredSubject = Array((message.subject ?? "").lowercased().utf8) }
                if KeywordSearch.contains(loweredSubject!, needle, wholeWord: match == .wholeWord) {
                    return "\"\(keyword)\" in subject"
                }
            }
            if fields.contains(.body) {
                if loweredBody == nil { loweredBody = Array(message.text.lowercased().utf8) }
                if KeywordSearch.contains(loweredBody!, needle, wholeWord: match == .wholeWord) {
                    return "\"\(keyword)\" in body"
                }
            }
            return nil
        }
    }
}

/// Searches lower-cased UTF-8 for a lower-cased keyword. A UTF-8 needle can only match at scalar
/// boundaries, so a byte search is exact; word boundaries look at the neighbouring scalars.
enum KeywordSearch {
    static func contains(_ haystack: [UInt8], _ needle: [UInt8], wholeWord: Bool) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var start = 0
        let lastStart = haystack.count - needle.count
        while start <= lastStart {
            guard let candidate = haystack[start...lastStart].firstIndex(of: first) else { return false }
            if haystack[candidate..<(candidate + needle.count)].elementsEqual(needle) {
                if !wholeWord
                    || (!isWordScalar(endingAt: candidate, in: haystack)
                        && !isWordScalar(startingAt: candidate + needle.count, in: haystack))
                {
                    return true
                }
            }
            start = candidate + 1
        }
        return false
    }

    private static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// Whether the scalar just before `index` is a word character.
    private static func isWordScalar(endingAt index: Int, in bytes: [UInt8]) -> Bool {
        guard index > 0 else { return false }
        var start = index - 1
        while start > 0, bytes[start] & 0xC0 == 0x80, index - start < 4 { start -= 1 }
        return firstScalar(bytes[start..<index]).map(isWord) ?? false
    }

    private static func isWordScalar(startingAt index: Int, in bytes: [UInt8]) -> Bool {
        guard index < bytes.count else { return false }
        return firstScalar(bytes[index..<min(bytes.count, index + 4)]).map(isWord) ?? false
    }

    private static func firstScalar(_ bytes: ArraySlice<UInt8>) -> Unicode.Scalar? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) { return scalar }
        return nil
    }
}
