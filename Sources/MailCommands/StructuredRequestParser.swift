import MailParser

/// Reads a structured request (seed 000, Octopus's `CreateSR`) from a mail's text:
///
/// ```
/// CreateSR
/// Type: Accès VPN
/// Requérant: jdupont
/// Utilisateur: jdupont; marie.curie@example.test
/// --- Poste de travail
/// - Nom du poste: PC-0042
/// - Date de début: 05/12/2026
/// - Justification:
/// Télétravail pendant
/// deux semaines.
/// CreateSR
/// ```
///
/// The block runs from a line that is only the token (ignoring case and surrounding blanks) to the next such
/// line. Inside it: `Label: value` lines, with or without a leading `- `; `--- ` lines are section titles (a `---`
/// or `-` alone, an untitled one); a long-text field's value runs from the text after its label (if any) and the
/// next line to the next line starting with `- ` or `--- ` (or that is `-` or `---`). The `Requérant:`/
/// `Requester:` line is mandatory, the `Utilisateur:`/`User:` line is not. Labels are French or English, one
/// language per block, French tried first (seed 000). Built-in lines: `Type` (both languages), `Requérant` or
/// `Demandeur` / `Requester` or `Querent`, `Utilisateur` or `Bénéficiaire` / `User`; the type's fields add theirs.
/// A quoted line (`> CreateSR`) never opens a block: quoted reply history does not command. Only the first block
/// counts.
public struct StructuredRequestParser: Sendable, Hashable {
    /// The line that opens and closes a block (`NewSRBodyEnclosingToken`).
    public let token: String
    public let types: [StructuredRequestType]
    /// The longest requester or user, in bytes: an address's limit (RFC 5321's 256-byte path, without `<>`).
    public static let maximumPersonBytes = 254

    public init(token: String = "CreateSR", types: [StructuredRequestType]) {
        self.token = String(CommandText.trimmed(token))
        self.types = types
    }

    /// The request `text` carries, or why it is not one; nil when no line of `text` is the token, so ordinary
    /// mail pays one search for the token's bytes (O(n × token) byte comparisons, in practice O(n)) and no
    /// allocation. A text with the token pays O(n) more in its bytes: one line pass to the block, and up to
    /// three passes over the block's lines (French, English, then both to tell mixed from unknown labels).
    /// `sender` is the envelope or From address (any form; compared in `MailAddressForm`).
    public func parse(_ text: String, sender: String) -> StructuredRequestResult? {
        let tokenBytes = Array(token.utf8)
        guard !tokenBytes.isEmpty else { return nil }
        var text = text
        let block: Block? = text.withUTF8 { buffer in
            guard ByteText.firstRange(ofIgnoringCase: tokenBytes, in: buffer) != nil else { return nil }
            return Self.block(in: buffer, token: tokenBytes)
        }
        guard let block else { return nil }
        guard let lines = block.lines else {
            return .invalid(StructuredRequestError(.unterminatedBlock(token: token), line: block.opening))
        }
        switch request(lines: lines, opening: block.opening, sender: sender) {
        case .success(let request): return .request(request)
        case .failure(let error): return .invalid(error)
        }
    }

    /// What is wrong with the token and types, for `postdesk check-config` (an empty list: nothing): an empty
    /// token or one with blanks inside, two types a mail could name alike, a type's fields named or labelled
    /// alike in one language or like a built-in line, a choice field without choices. The parser works with any
    /// configuration (a built-in label wins, the first type named wins), but such a configuration is ambiguous.
    /// O(types × fields × labels).
    public var configurationErrors: [StructuredRequestConfigurationError] {
        var errors: [StructuredRequestConfigurationError] = []
        if token.isEmpty || token.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" }) {
            errors.append(StructuredRequestConfigurationError(.badToken(token)))
        }
        var typeNames: [String: String] = [:]
        for type in types {
            for name in Set(([type.name] + type.labels).map { CaseFolding.folded($0) }) {
                if let other = typeNames[name] {
                    errors.append(
                        StructuredRequestConfigurationError(.ambiguousTypeName(name, other: other), type: type.name))
                } else {
                    typeNames[name] = type.name
                }
            }
            var fieldNames = Set<String>()
            var labels: [StructuredRequest.Language: [String: String]] = [.french: [:], .english: [:]]
            for field in type.fields {
                if !fieldNames.insert(field.name).inserted {
                    errors.append(
                        StructuredRequestConfigurationError(.duplicateFieldName, type: type.name, field: field.name))
                }
                if field.kind == .choice, field.choices.isEmpty {
                    errors.append(
                        StructuredRequestConfigurationError(.choiceWithoutChoices, type: type.name, field: field.name))
                }
                for language in StructuredRequest.Language.allCases {
                    let builtIns = language == .french ? Vocabulary.frenchBuiltIns : Vocabulary.englishBuiltIns
                    for label in Set(field.labels(in: language).map { CaseFolding.folded($0) }) {
                        if builtIns[label] != nil || labels[language]?[label] != nil {
                            let kind = StructuredRequestConfigurationError.Kind.ambiguousFieldLabel(
                                label, language: language)
                            errors.append(StructuredRequestConfigurationError(kind, type: type.name, field: field.name))
                        }
                        labels[language]?[label] = field.name
                    }
                }
            }
        }
        return errors
    }

    // MARK: - The block

    /// The block's lines, without the token lines; `lines` is nil when no closing token follows `opening`.
    struct Block {
        var opening: Int
        var lines: [BlockLine]?
    }

    struct BlockLine {
        var number: Int
        /// The line without its line end and trailing blanks.
        var text: Substring
    }

    /// The first block of `buffer`: one line pass (memchr per line), each line at least as long as the token
    /// trimmed (O(its blanks at both ends)) and compared with the token only when its trimmed length is the
    /// token's (O(token)). O(n) in the bytes up to the closing token; the block's lines are copied once.
    static func block(in buffer: UnsafeBufferPointer<UInt8>, token: [UInt8]) -> Block? {
        var scanner = LineScanner(buffer)
        var number = 0
        var opening: Int?
        var lines: [BlockLine] = []
        while let line = scanner.next() {
            number += 1
            let content = buffer[line.content]
            var isToken = false
            if content.count >= token.count {
                let trimmed = content[ByteText.trimmedRange(content)]
                isToken = trimmed.count == token.count && ByteText.hasPrefixIgnoringCase(trimmed, token)
            }
            guard let opening else {
                if isToken { opening = number }
                continue
            }
            if isToken { return Block(opening: opening, lines: lines) }
            let text = String(decoding: content, as: UTF8.self)
            let end = text.utf8.lastIndex { !$0.isWhitespace }.map { text.utf8.index(after: $0) } ?? text.startIndex
            lines.append(BlockLine(number: number, text: text[..<end]))
        }
        return opening.map { Block(opening: $0, lines: nil) }
    }

    // MARK: - Lines

    /// What a block line is, by its first bytes.
    enum Shape {
        case blank
        /// `--- Title` or `--- Label: value`.
        case section(Substring)
        /// `- Label: value`.
        case item(Substring)
        /// `Label: value` without a delimiter.
        case plain(Substring)
    }

    /// O(the line's blanks at both ends).
    static func shape(of line: Substring) -> Shape {
        let body = CommandText.trimmed(line)
        if body.isEmpty { return .blank }
        // A delimiter alone on its line (`--- ` or `- `, its blank trimmed away) is an untitled section.
        if body.utf8.elementsEqual("---".utf8) || body.utf8.elementsEqual("-".utf8) {
            return .section(body[body.endIndex...])
        }
        // Bytes, not characters: `- ` followed by a combining mark is one character `-` and one ` ́`.
        if body.utf8.starts(with: "--- ".utf8) {
            return .section(body[body.utf8.index(body.startIndex, offsetBy: 4)...])
        }
        if body.utf8.starts(with: "- ".utf8) { return .item(body[body.utf8.index(body.startIndex, offsetBy: 2)...]) }
        return .plain(body)
    }

    /// Whether the line ends a long text: a `- ` or `--- ` delimiter. O(leading blanks).
    static func isDelimiter(_ line: Substring) -> Bool {
        switch shape(of: line) {
        case .section, .item: return true
        case .blank, .plain: return false
        }
    }

    /// `Label: value` split at the first `:`; nil without one. O(line).
    static func labelled(_ text: Substring) -> (label: Substring, value: Substring)? {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return (CommandText.trimmed(text[..<colon]), text[text.utf8.index(after: colon)...])
    }

    // MARK: - Labels

    enum Target: Hashable {
        case type
        case requester
        case user
        case field(Int)
    }

    /// Label (`CommandText.caselessKey`) → target, per language, for one type.
    struct Vocabulary {
        var french: [[UInt8]: Target] = [:]
        var english: [[UInt8]: Target] = [:]
        /// The longest key's length in bytes.
        var longest = 0

        /// O(fields × labels).
        init(_ type: StructuredRequestType) {
            for (index, field) in type.fields.enumerated() {
                for label in field.labels(in: .french) { french[CommandText.caselessKey(label)] = .field(index) }
                for label in field.labels(in: .english) { english[CommandText.caselessKey(label)] = .field(index) }
            }
            // The built-in lines win over a field labelled the same (`configurationErrors` reports that).
            for (label, target) in Self.frenchBuiltIns { french[CommandText.caselessKey(label)] = target }
            for (label, target) in Self.englishBuiltIns { english[CommandText.caselessKey(label)] = target }
            longest = (Array(french.keys) + Array(english.keys)).map(\.count).max() ?? 0
        }

        /// The key of a label from mail; nil when it is too long to be any (no fold then). O(label).
        func key(_ label: some StringProtocol) -> [UInt8]? {
            CommandText.caselessKey(label, matchingAtMost: longest)
        }

        /// The target `key` (a label's `CommandText.caselessKey`) names in `language`. O(key).
        func target(_ key: [UInt8]?, in language: StructuredRequest.Language) -> Target? {
            guard let key else { return nil }
            return language == .french ? french[key] : english[key]
        }

        static let frenchBuiltIns: [String: Target] = [
            "type": .type, "requérant": .requester, "demandeur": .requester, "utilisateur": .user,
            "bénéficiaire": .user,
        ]
        static let englishBuiltIns: [String: Target] = [
            "type": .type, "requester": .requester, "querent": .requester, "user": .user,
        ]
    }

    struct Entry {
        var target: Target
        var value: String
        var line: Int
    }

    enum Attempt {
        case parsed([Entry])
        /// A label the language (or, with no language, neither language) does not know.
        case unknownLabel(Substring, line: Int)
        case failed(StructuredRequestError)
    }

    /// Reads the block's lines with the labels of `language`, or (nil) of either, French first: then a block
    /// mixing languages fails at the first label of the language it did not start in. O(block), one pass.
    static func attempt(
        _ lines: [BlockLine], type: StructuredRequestType, vocabulary: Vocabulary,
        language: StructuredRequest.Language?
    ) -> Attempt {
        var entries: [Entry] = []
        var blockLanguage: StructuredRequest.Language?
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            let text: Substring
            let isSection: Bool
            switch shape(of: line.text) {
            case .blank: continue
            case .section(let rest): (text, isSection) = (rest, true)
            case .item(let rest), .plain(let rest): (text, isSection) = (rest, false)
            }
            guard let (label, value) = labelled(text) else {
                if isSection { continue }
                return .failed(
                    StructuredRequestError(.unexpectedLine(CommandText.kept(text)), type: type.name, line: line.number))
            }
            let key = vocabulary.key(label)
            let target: Target
            switch language {
            case .french?:
                guard let found = vocabulary.target(key, in: .french) else {
                    if isSection { continue }
                    return .unknownLabel(label, line: line.number)
                }
                target = found
            case .english?:
                guard let found = vocabulary.target(key, in: .english) else {
                    if isSection { continue }
                    return .unknownLabel(label, line: line.number)
                }
                target = found
            case nil:
                let french = vocabulary.target(key, in: .french)
                let english = vocabulary.target(key, in: .english)
                guard let found = french ?? english else {
                    if isSection { continue }
                    return .unknownLabel(label, line: line.number)
                }
                // A label that means the same in both languages says nothing about the block's language.
                if french != english {
                    let labelLanguage: StructuredRequest.Language = french != nil ? .french : .english
                    if let blockLanguage, blockLanguage != labelLanguage {
                        let error = StructuredRequestError(
                            .mixedLanguages(label: CommandText.kept(label)), type: type.name, line: line.number)
                        return .failed(error)
                    }
                    blockLanguage = labelLanguage
                }
                target = found
            }
            guard case .field(let fieldIndex) = target, type.fields[fieldIndex].kind == .longText else {
                entries.append(Entry(target: target, value: String(CommandText.trimmed(value)), line: line.number))
                continue
            }
            var parts: [Substring] = []
            let inline = CommandText.trimmed(value)
            if !inline.isEmpty { parts.append(inline) }
            while index < lines.count, !isDelimiter(lines[index].text) {
                parts.append(lines[index].text)
                index += 1
            }
            entries.append(Entry(target: target, value: longText(parts), line: line.number))
        }
        return .parsed(entries)
    }

    /// The lines joined with LF, blank lines at both ends dropped. O(total length).
    static func longText(_ parts: [Substring]) -> String {
        guard let first = parts.firstIndex(where: { !CommandText.trimmed($0).isEmpty }),
            let last = parts.lastIndex(where: { !CommandText.trimmed($0).isEmpty })
        else { return "" }
        var text = ""
        text.reserveCapacity(parts[first...last].reduce(0) { $0 + $1.utf8.count + 1 })
        for (offset, part) in parts[first...last].enumerated() {
            if offset > 0 { text.append("\n") }
            text.append(contentsOf: part)
        }
        return text
    }

    // MARK: - The request

    /// The request the block's lines make for `sender`. O(block): one pass for the `Type:` line, up to three
    /// `attempt` passes, one over the entries.
    func request(lines: [BlockLine], opening: Int, sender: String) -> Result<StructuredRequest, StructuredRequestError>
    {
        // The type decides the labels, so it is found first: the first `Type:` line.
        var typeLine: (text: Substring, line: Int)?
        for line in lines {
            let text: Substring
            switch Self.shape(of: line.text) {
            case .blank: continue
            case .section(let rest), .item(let rest), .plain(let rest): text = rest
            }
            if let (label, value) = Self.labelled(text), ByteText.equalsIgnoringCase(label, "type") {
                typeLine = (CommandText.trimmed(value), line.number)
                break
            }
        }
        guard let typeLine else { return .failure(StructuredRequestError(.missingType, line: opening)) }
        guard let type = types.first(where: { $0.isNamed(String(typeLine.text)) }) else {
            return .failure(StructuredRequestError(.unknownType(CommandText.kept(typeLine.text)), line: typeLine.line))
        }
        guard type.allows(sender: sender) else {
            let error = StructuredRequestError(
                .senderNotAllowed(sender: CommandText.kept(MailAddressForm.normalized(sender))), type: type.name,
                line: typeLine.line)
            return .failure(error)
        }
        let vocabulary = Vocabulary(type)
        var language = StructuredRequest.Language.french
        var entries: [Entry]
        switch Self.attempt(lines, type: type, vocabulary: vocabulary, language: .french) {
        case .parsed(let found): entries = found
        case .failed(let error): return .failure(error)
        case .unknownLabel:
            switch Self.attempt(lines, type: type, vocabulary: vocabulary, language: .english) {
            case .parsed(let found): (entries, language) = (found, .english)
            case .failed(let error): return .failure(error)
            case .unknownLabel(let englishLabel, let englishLine):
                var unknown = (label: englishLabel, line: englishLine)
                switch Self.attempt(lines, type: type, vocabulary: vocabulary, language: nil) {
                case .failed(let error): return .failure(error)
                case .unknownLabel(let label, let line): unknown = (label, line)
                case .parsed: break  // Not expected (each label known, one language): the English failure stands.
                }
                let error = StructuredRequestError(
                    .unknownField(label: CommandText.kept(unknown.label)), type: type.name, line: unknown.line)
                return .failure(error)
            }
        }
        return request(entries: entries, type: type, language: language, opening: opening)
    }

    /// The entries checked and made canonical. O(entries' bytes + the type's fields).
    func request(entries: [Entry], type: StructuredRequestType, language: StructuredRequest.Language, opening: Int)
        -> Result<StructuredRequest, StructuredRequestError>
    {
        func failure(_ kind: StructuredRequestError.Kind, _ field: String, _ line: Int) -> Result<
            StructuredRequest, StructuredRequestError
        > {
            .failure(StructuredRequestError(kind, type: type.name, field: field, line: line))
        }
        var requester: [String]?
        var user: [String]?
        var typeSeen = false
        var seenFields = Set<Int>()
        var fields: [TicketField] = []
        for entry in entries {
            switch entry.target {
            case .type:
                if typeSeen { return failure(.duplicateField, "Type", entry.line) }
                typeSeen = true
            case .requester, .user:
                let name = entry.target == .requester ? "Requester" : "User"
                if (entry.target == .requester ? requester : user) != nil {
                    return failure(.duplicateField, name, entry.line)
                }
                let people = Self.people(entry.value)
                if people.isEmpty, entry.target == .requester {
                    return failure(.missingMandatoryField, name, entry.line)
                }
                if people.contains(where: { $0.utf8.count > Self.maximumPersonBytes }) {
                    return failure(.tooLong(limit: Self.maximumPersonBytes), name, entry.line)
                }
                if entry.target == .requester { requester = people } else { user = people }
            case .field(let index):
                let definition = type.fields[index]
                guard seenFields.insert(index).inserted else {
                    return failure(.duplicateField, definition.name, entry.line)
                }
                guard !entry.value.isEmpty else {
                    if definition.mandatory { return failure(.missingMandatoryField, definition.name, entry.line) }
                    continue
                }
                let value: String?
                switch definition.kind {
                case .text, .longText: value = entry.value
                case .number: value = TicketFieldCanonicalForm.number(entry.value)
                case .date:
                    let order: TicketFieldCanonicalForm.DateOrder = language == .french ? .dayFirst : .yearFirstOnly
                    value = TicketFieldCanonicalForm.date(entry.value, order: order)
                case .choice:
                    guard let choice = TicketFieldCanonicalForm.choice(entry.value, among: definition.choices) else {
                        let kind = StructuredRequestError.Kind.unknownChoice(
                            value: CommandText.kept(entry.value), choices: definition.choices)
                        return failure(kind, definition.name, entry.line)
                    }
                    value = choice
                }
                guard let value else {
                    return failure(
                        .invalidValue(kind: definition.kind, value: CommandText.kept(entry.value)), definition.name,
                        entry.line)
                }
                fields.append(TicketField(name: definition.name, kind: definition.kind, value: value))
            }
        }
        guard let requester else { return failure(.missingMandatoryField, "Requester", opening) }
        for (index, definition) in type.fields.enumerated() where definition.mandatory && !seenFields.contains(index) {
            return failure(.missingMandatoryField, definition.name, opening)
        }
        return .success(
            // No `Utilisateur:`/`User:` line: no user named (the pipeline falls back, as for a user it does not know).
            StructuredRequest(
                type: type.name, requester: requester, user: user ?? [], fields: fields, language: language))
    }

    /// `jdupont; DOMAIN\mcurie, <Jane@Example.test>` → `["jdupont", "DOMAIN\mcurie", "jane@example.test"]`.
    /// O(n), split on bytes (`;` and `,` are ASCII, so the cuts are scalar boundaries).
    static func people(_ value: String) -> [String] {
        value.utf8.split(whereSeparator: { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ",") }).compactMap { item in
            let person = CommandText.trimmed(Substring(item))
            if person.isEmpty { return nil }
            return person.utf8.contains(UInt8(ascii: "@")) ? MailAddressForm.normalized(person) : String(person)
        }
    }
}
