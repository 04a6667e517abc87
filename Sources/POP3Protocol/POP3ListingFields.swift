/// Reads the blank-separated fields of one listing line from left to right. Every call advances; the whole line
/// costs O(n), one pass.
struct POP3ListingFields {
    private var rest: ArraySlice<UInt8>

    init(_ line: ArraySlice<UInt8>) {
        rest = line
        trimTrailingBlanks()
    }

    /// True when nothing but blanks is left.
    var atEnd: Bool { rest.isEmpty }

    /// A decimal number of at most 18 digits (so it fits an `Int`), after leading blanks.
    mutating func number() -> Int? {
        skipBlanks()
        let digits = rest.prefix { $0 >= 0x30 && $0 <= 0x39 }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        rest = rest[digits.endIndex...]
        guard rest.isEmpty || isBlank(rest.first!) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// A message number: a number ≥ 1.
    mutating func messageNumber() -> Int? {
        guard let value = number(), value >= 1 else { return nil }
        return value
    }

    /// The next run of non-blank bytes, after leading blanks.
    mutating func word() -> ArraySlice<UInt8>? {
        skipBlanks()
        let word = rest.prefix { !isBlank($0) }
        guard !word.isEmpty else { return nil }
        rest = rest[word.endIndex...]
        skipBlanks()
        return word
    }

    /// Skips one or more blanks; false if there was none.
    mutating func skipBlank() -> Bool {
        guard let first = rest.first, isBlank(first) else { return false }
        skipBlanks()
        return true
    }

    private mutating func skipBlanks() {
        rest = rest.drop { isBlank($0) }
    }

    private mutating func trimTrailingBlanks() {
        while let last = rest.last, isBlank(last) { rest = rest.dropLast() }
    }

    private func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
}
