import MailParser

/// A queue's attachment policy: file names to ignore (signature logos, S/MIME signatures) and a maximum
/// size. Nothing is dropped silently: every attachment gets a decision with its reason, and the pipeline
/// notes stripped ones on the ticket.
public struct AttachmentPolicy: Sendable, Hashable, Codable {
    /// File-name globs, case-insensitive: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`
    /// and `[!abc]` one character of (not of) a set. The whole name must match (`logo.png` does not match
    /// `mylogo.png`). Attachments without a file name are never ignored by name.
    public var ignoredFileNames: [String]
    /// Attachments larger than this many bytes are stripped; nil for no limit.
    public var maximumSize: Int?

    public init(ignoredFileNames: [String] = [], maximumSize: Int? = nil) {
        self.ignoredFileNames = ignoredFileNames
        self.maximumSize = maximumSize
    }

    /// One decision per attachment, in order.
    public func decisions(for attachments: [ParsedAttachment]) -> [AttachmentDecision] {
        decisions(for: attachments, globs: ignoredFileNames.map(FileNameGlob.init))
    }

    /// The same, with the patterns compiled once (the classifier keeps them).
    func decisions(for attachments: [ParsedAttachment], globs: [FileNameGlob]) -> [AttachmentDecision] {
        guard !attachments.isEmpty else { return [] }
        return attachments.enumerated().map { index, attachment in
            let name = attachment.filename ?? "(unnamed \(attachment.contentType))"
            if let filename = attachment.filename, let glob = globs.first(where: { $0.matches(filename) }) {
                return AttachmentDecision(
                    index: index, filename: attachment.filename, size: attachment.size, action: .ignore,
                    rule: "ignored-file-name", reason: "\(name) matches the ignore pattern \(glob.pattern)")
            }
            if let maximumSize, attachment.size > maximumSize {
                return AttachmentDecision(
                    index: index, filename: attachment.filename, size: attachment.size, action: .strip,
                    rule: "maximum-size",
                    reason: "\(name) is \(attachment.size) bytes, over the limit of \(maximumSize) bytes: stripped")
            }
            return AttachmentDecision(
                index: index, filename: attachment.filename, size: attachment.size, action: .keep, rule: "none",
                reason: "\(name) kept")
        }
    }
}

/// What happens to one attachment.
public struct AttachmentDecision: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable {
        case keep
        /// Matched an ignore pattern: not stored as an attachment (still in the raw message).
        case ignore
        /// Too large: not stored as an attachment; the ticket gets a note (still in the raw message).
        case strip
    }

    /// The position in `ParsedMessage.attachments`.
    public var index: Int
    public var filename: String?
    public var size: Int
    public var action: Action
    /// `ignored-file-name`, `maximum-size` or `none`.
    public var rule: String
    public var reason: String

    public init(index: Int, filename: String?, size: Int, action: Action, rule: String, reason: String) {
        self.index = index
        self.filename = filename
        self.size = size
        self.action = action
        self.rule = rule
        self.reason = reason
    }
}

/// A shell-style file-name pattern, matched case-insensitively over Unicode scalars. Matching is
/// iterative with one backtrack point per `*`, so it runs in O(pattern × name) at worst.
struct FileNameGlob: Sendable {
    let pattern: String
    private let elements: [Element]

    private enum Element: Sendable {
        case literal(Unicode.Scalar)
        case anyOne
        case anyRun
        case set(ranges: [ClosedRange<Unicode.Scalar>], negated: Bool)
    }

    init(_ pattern: String) {
        self.pattern = pattern
        let scalars = Array(pattern.lowercased().unicodeScalars)
        var elements: [Element] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "*":
                if case .anyRun? = elements.last {} else { elements.append(.anyRun) }
            case "?":
                elements.append(.anyOne)
            case "[":
                if let (element, next) = Self.parseSet(scalars, openingAt: index) {
                    elements.append(element)
                    index = next
                    continue
                }
                elements.append(.literal(scalar))
            default:
                elements.append(.literal(scalar))
            }
            index += 1
        }
        self.elements = elements
    }

    /// Parses `[...]` starting at `index`; nil when it is not closed (then `[` is a literal).
    private static func parseSet(_ scalars: [Unicode.Scalar], openingAt index: Int) -> (Element, Int)? {
        var position = index + 1
        var negated = false
        if position < scalars.count, scalars[position] == "!" || scalars[position] == "^" {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<Unicode.Scalar>] = []
        var first = true
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == "]", !first { return (.set(ranges: ranges, negated: negated), position + 1) }
            first = false
            if position + 2 < scalars.count, scalars[position + 1] == "-", scalars[position + 2] != "]" {
                let upper = scalars[position + 2]
                ranges.append(scalar <= upper ? scalar...upper : upper...scalar)
                position += 3
            } else {
                ranges.append(scalar...scalar)
                position += 1
            }
        }
        return nil
    }

    func matches(_ name: String) -> Bool {
        let text = Array(name.lowercased().unicodeScalars)
        var textIndex = 0
        var elementIndex = 0
        var backtrack: (element: Int, text: Int)?
        while textIndex < text.count {
            if elementIndex < elements.count {
                switch elements[elementIndex] {
                case .anyRun:
                    backtrack = (elementIndex, textIndex)
                    elementIndex += 1
                    continue
                case .anyOne:
                    elementIndex += 1
                    textIndex += 1
                    continue
                case .literal(let scalar) where scalar == text[textIndex]:
                    elementIndex += 1
                    textIndex += 1
                    continue
                case .set(let ranges, let negated) where ranges.contains { $0.contains(text[textIndex]) } != negated:
                    elementIndex += 1
                    textIndex += 1
                    continue
                default:
                    break
                }
            }
            guard let point = backtrack else { return false }
            // Let the last `*` swallow one more character and retry from just after it.
            backtrack = (point.element, point.text + 1)
            elementIndex = point.element + 1
            textIndex = point.text + 1
        }
        while elementIndex < elements.count, case .anyRun = elements[elementIndex] { elementIndex += 1 }
        return elementIndex == elements.count
    }
}
