import Glibc
import MailParser

/// The state of one `VariableCommandParser.parse`: reads the text line by line, collecting the variables it
/// finds, and stops at the first error. Each line costs O(its bytes): a `memchr` for `@` or `%`, and for a line
/// with one, one copy and one walk in which every step advances.
struct VariableCommandScanner {
    private var operation: (value: String, line: Int)?
    private var target: (value: String, line: Int)?
    private var choice: String?
    private var fields: [VariableField] = []
    /// The names seen, ASCII-lower-cased bytes: hashing bytes costs O(n) whatever the scalars (a `String`'s hash
    /// normalizes).
    private var names = Set<[UInt8]>()
    private var count = 0
    private var sawCommand = false

    private static let at = UInt8(ascii: "@")
    private static let equals = UInt8(ascii: "=")
    private static let apostrophe = UInt8(ascii: "'")
    private static let openBrace = UInt8(ascii: "{")
    private static let closeBrace = UInt8(ascii: "}")
    private static let nameLimit = VariableCommandParser.maximumNameBytes
    /// What may follow a value's closing apostrophe besides a blank or the line's end.
    private static let closers = Array(",;.:)!?@>]}\r".utf8)

    /// Reads one line of the text (`number` is 1-based); the error ends the parse. O(line): two `memchr`s, and
    /// for a line with `@` or a percent escape one copy (or one decoding) and one `scan` per decoded line.
    mutating func read(line: UnsafeBufferPointer<UInt8>, number: Int) -> VariableCommandError? {
        guard let base = line.baseAddress, !Self.isQuoted(line[...]) else { return nil }
        let hasAt = memchr(base, Int32(Self.at), line.count) != nil
        let hasPercent = memchr(base, Int32(UInt8(ascii: "%")), line.count) != nil
        guard hasAt || hasPercent else { return nil }
        guard hasPercent, Self.hasCommandEscape(line) else {
            return hasAt ? scan(Array(line), number: number) : nil
        }
        let decoded = MIMEHeaderValue.percentDecoded(Array(line)[...])
        guard String(validating: decoded, as: UTF8.self) != nil else {
            // Undecodable: an error only when the line was a command, else it is someone's text.
            var probe = VariableCommandScanner()
            let probeError = probe.scan(decoded, number: number)
            guard probeError != nil || probe.sawCommand else { return nil }
            return VariableCommandError(.invalidPercentEncoding, line: number)
        }
        // The decoded text has line ends of its own (`%0A`): each of its lines is read as a line.
        for part in decoded.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var part = part
            if part.last == UInt8(ascii: "\r") { part = part.dropLast() }
            guard !Self.isQuoted(part) else { continue }
            if let error = scan(Array(part), number: number) { return error }
        }
        return nil
    }

    /// The command read, nil when there was none. O(variables).
    func result() -> VariableCommandResult? {
        guard sawCommand else { return nil }
        var resolved: VariableOperation = target == nil ? .create : .update
        if let operation {
            let word = ByteText.lowercasedASCII(CommandText.trimmed(operation.value))
            // `restart` is the longest operation: a longer word is none, and never meets `==`.
            guard word.utf8.count <= 7, let named = VariableOperation(rawValue: word) else {
                let error = VariableCommandError(
                    .unknownOperation(CommandText.kept(operation.value)), line: operation.line, variable: "OPERATION")
                return .invalid(error)
            }
            resolved = named
        }
        if let target, target.value.isEmpty {
            return .invalid(VariableCommandError(.emptyTarget, line: target.line, variable: "RFC_NUMBER"))
        }
        if resolved == .create, let target {
            return .invalid(VariableCommandError(.targetOnCreate, line: target.line, variable: "RFC_NUMBER"))
        }
        if resolved != .create, target == nil {
            return .invalid(
                VariableCommandError(.missingTarget(resolved), line: operation?.line ?? 1, variable: "OPERATION"))
        }
        return .command(VariableCommand(operation: resolved, target: target?.value, fields: fields, choice: choice))
    }

    /// A line whose first non-blank byte is `>`: quoted reply history. O(leading blanks).
    static func isQuoted(_ line: some Collection<UInt8>) -> Bool {
        line.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } == UInt8(ascii: ">")
    }

    /// Whether the line holds `%40`, `%3D` or `%27` (`@`, `=`, `'` escaped). O(line).
    static func hasCommandEscape(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index + 2 < line.count {
            if line[index] == UInt8(ascii: "%") {
                let high = line[index + 1]
                let low = line[index + 2] | 0x20
                if (high == UInt8(ascii: "4") && low == UInt8(ascii: "0"))
                    || (high == UInt8(ascii: "3") && low == UInt8(ascii: "d"))
                    || (high == UInt8(ascii: "2") && low == UInt8(ascii: "7"))
                {
                    return true
                }
            }
            index += 1
        }
        return false
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            || byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") || byte == UInt8(ascii: "_")
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// The length of the apostrophe at `index` (`'` 1, U+2018 or U+2019 3), nil when there is none. O(1).
    private static func apostropheLength(_ bytes: [UInt8], at index: Int) -> Int? {
        guard index < bytes.count else { return nil }
        if bytes[index] == apostrophe { return 1 }
        if bytes[index] == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80,
            bytes[index + 2] == 0x98 || bytes[index + 2] == 0x99
        {
            return 3
        }
        return nil
    }

    /// Whether an apostrophe ending just before `index` closes a value: the line ends, or a blank, punctuation,
    /// the next `@` or a bare CR (old Mac line end, which `LineScanner` leaves in the line) follows. O(1).
    private static func closesValue(_ bytes: [UInt8], at index: Int) -> Bool {
        guard index < bytes.count else { return true }
        return isBlank(bytes[index]) || closers.contains(bytes[index])
    }

    /// Finds every `@NAME@=value` of one line. O(line): the search for the next `@` starts where the last
    /// candidate's name or value ended, and a value's closing apostrophe is searched once.
    mutating func scan(_ bytes: [UInt8], number: Int) -> VariableCommandError? {
        var index = 0
        let end = bytes.count
        while index < end {
            guard let at = bytes[index...].firstIndex(of: Self.at) else { return nil }
            index = at + 1
            if at > 0, Self.isNameByte(bytes[at - 1]) { continue }
            var nameEnd = at + 1
            while nameEnd < end, nameEnd - at <= Self.nameLimit, Self.isNameByte(bytes[nameEnd]) { nameEnd += 1 }
            // No `@` lies inside a name: the next search may start at its end.
            index = max(index, nameEnd)
            guard nameEnd > at + 1, nameEnd - at - 1 <= Self.nameLimit, nameEnd < end, bytes[nameEnd] == Self.at else {
                continue
            }
            var valueStart = nameEnd + 1
            while valueStart < end, Self.isBlank(bytes[valueStart]) { valueStart += 1 }
            // `@DATE@` alone is a mention; its closing `@` may open the next variable.
            guard valueStart < end, bytes[valueStart] == Self.equals else { continue }
            valueStart += 1
            while valueStart < end, Self.isBlank(bytes[valueStart]) { valueStart += 1 }
            let name = String(decoding: bytes[(at + 1)..<nameEnd], as: UTF8.self)
            let isFieldList = ByteText.equalsIgnoringCase(name, "fields_to_update")
            sawCommand = true
            if isFieldList, valueStart < end, bytes[valueStart] == Self.openBrace {
                switch groups(bytes[valueStart...], name: name, number: number) {
                case .failure(let error): return error
                case .success(let next): index = next
                }
                continue
            }
            guard let openLength = Self.apostropheLength(bytes, at: valueStart) else {
                return VariableCommandError(.valueNotQuoted, line: number, variable: name)
            }
            var close = valueStart + openLength
            var closeLength: Int?
            while close < end {
                if let length = Self.apostropheLength(bytes, at: close), Self.closesValue(bytes, at: close + length) {
                    closeLength = length
                    break
                }
                close += 1
            }
            guard let closeLength else {
                return VariableCommandError(.unterminatedValue, line: number, variable: name)
            }
            let raw = bytes[(valueStart + openLength)..<close]
            index = close + closeLength
            if isFieldList {
                switch groups(raw, name: name, number: number) {
                case .failure(let error): return error
                case .success(let next):
                    guard ByteText.trimmed(raw[next...]).isEmpty else {
                        let rest = String(decoding: raw[next...], as: UTF8.self)
                        return VariableCommandError(
                            .malformedGroup(CommandText.kept(rest)), line: number, variable: name)
                    }
                }
                continue
            }
            let value = String(CommandText.trimmed(String(decoding: raw, as: UTF8.self)))
            if let error = record(name: name, value: value, number: number) { return error }
        }
        return nil
    }

    /// The `{NAME=value}` groups from the start of `bytes` (blanks between them), recorded as fields; the index
    /// after the last group. O(the groups' bytes).
    private mutating func groups(_ bytes: ArraySlice<UInt8>, name: String, number: Int) -> Result<
        Int, VariableCommandError
    > {
        var index = bytes.startIndex
        var found = 0
        while true {
            while index < bytes.endIndex, Self.isBlank(bytes[index]) { index += 1 }
            guard index < bytes.endIndex, bytes[index] == Self.openBrace else { break }
            guard let close = bytes[(index + 1)...].firstIndex(of: Self.closeBrace) else {
                return .failure(VariableCommandError(.unterminatedGroup, line: number, variable: name))
            }
            let inner = bytes[(index + 1)..<close]
            let text = String(decoding: inner, as: UTF8.self)
            guard let equals = inner.firstIndex(of: Self.equals),
                case let key = String(CommandText.trimmed(String(decoding: inner[..<equals], as: UTF8.self))),
                !key.isEmpty
            else {
                return .failure(
                    VariableCommandError(.malformedGroup(CommandText.kept(text)), line: number, variable: name))
            }
            guard key.utf8.count <= Self.nameLimit else {
                return .failure(VariableCommandError(.tooLong(limit: Self.nameLimit), line: number, variable: name))
            }
            let value = String(CommandText.trimmed(String(decoding: inner[(equals + 1)...], as: UTF8.self)))
            if let error = recordField(name: key, value: value, number: number) { return .failure(error) }
            found += 1
            index = close + 1
        }
        guard found > 0 else { return .failure(VariableCommandError(.emptyGroupList, line: number, variable: name)) }
        return .success(index)
    }

    /// Files one `@NAME@='value'`: the operation, target and choice apart, the rest as fields. O(name).
    private mutating func record(name: String, value: String, number: Int) -> VariableCommandError? {
        let key = ByteText.lowercasedASCII(name)
        switch key {
        case "operation", "rfc_number", "choice":
            guard names.insert(Array(key.utf8)).inserted else {
                return VariableCommandError(.duplicateVariable, line: number, variable: name)
            }
            let limit =
                key == "rfc_number"
                ? VariableCommandParser.maximumTargetBytes
                : key == "choice" ? VariableCommandParser.maximumChoiceBytes : Int.max
            guard value.utf8.count <= limit else {
                return VariableCommandError(.tooLong(limit: limit), line: number, variable: name)
            }
            count += 1
            if key == "operation" {
                operation = (value, number)
            } else if key == "rfc_number" {
                target = (value, number)
            } else {
                choice = value
            }
            return nil
        default:
            return recordField(name: name, value: value, number: number)
        }
    }

    /// Files one field, refusing a name seen before (ignoring ASCII case) and the 257th variable. O(name).
    private mutating func recordField(name: String, value: String, number: Int) -> VariableCommandError? {
        guard names.insert(ByteText.lowercased(name.utf8)).inserted else {
            return VariableCommandError(.duplicateVariable, line: number, variable: name)
        }
        count += 1
        guard count <= VariableCommandParser.maximumVariables else {
            return VariableCommandError(
                .tooManyVariables(limit: VariableCommandParser.maximumVariables), line: number, variable: name)
        }
        fields.append(VariableField(name: name, value: value))
        return nil
    }
}
