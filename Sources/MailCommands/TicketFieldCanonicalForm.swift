/// The canonical text of a typed ticket field's value, the one form the store, the API and the webhooks carry
/// (see `TicketField.value`). Every function is O(n) in the value's bytes, one pass, and returns nil when the
/// text is not a value of that kind.
public enum TicketFieldCanonicalForm {
    /// The order of a date's parts when they are separated by `/`, `.` or `-` and the year comes last.
    public enum DateOrder: Sendable, Hashable {
        /// `JJ/MM/AAAA`, as French (and most European) mail writes dates; ISO 8601 `YYYY-MM-DD` is read too.
        case dayFirst
        /// Only ISO 8601 `YYYY-MM-DD` (and `YYYY/MM/DD`): English mail may mean `MM/DD` or `DD/MM`, and a
        /// guess would silently store the wrong date.
        case yearFirstOnly
    }

    /// `" -0012,50 "` → `-12.5`; `1 234` (space, no-break space or narrow no-break space between digit groups)
    /// → `1234`. An optional sign, digits, and an optional fraction after one `.` or `,`; the integer part loses
    /// its leading zeros, the fraction its trailing zeros, and `-0` is `0`.
    public static func number(_ text: some StringProtocol) -> String? {
        var negative = false
        var integer: [UInt8] = []
        var fraction: [UInt8] = []
        var seenSeparator = false
        var seenDigit = false
        var started = false
        let bytes = Array(CommandText.trimmed(text).utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            defer { index += 1 }
            if !started, byte == 0x2D || byte == 0x2B {
                negative = byte == 0x2D
                started = true
                continue
            }
            started = true
            if byte >= 0x30, byte <= 0x39 {
                seenDigit = true
                if seenSeparator { fraction.append(byte) } else { integer.append(byte) }
                continue
            }
            if byte == 0x2E || byte == 0x2C {
                guard !seenSeparator, seenDigit else { return nil }
                seenSeparator = true
                continue
            }
            // A group separator: a space, U+00A0 (C2 A0) or U+202F (E2 80 AF), only between integer digits.
            let groupLength =
                byte == 0x20
                ? 1
                : (byte == 0xC2 && index + 1 < bytes.count && bytes[index + 1] == 0xA0)
                    ? 2
                    : (byte == 0xE2 && index + 2 < bytes.count && bytes[index + 1] == 0x80 && bytes[index + 2] == 0xAF)
                        ? 3 : 0
            guard groupLength > 0, seenDigit, !seenSeparator else { return nil }
            let after = index + groupLength
            guard after < bytes.count, bytes[after] >= 0x30, bytes[after] <= 0x39 else { return nil }
            index += groupLength - 1
        }
        guard seenDigit, !seenSeparator || !fraction.isEmpty else { return nil }
        while integer.count > 1, integer.first == 0x30 { integer.removeFirst() }
        if integer.isEmpty { integer = [0x30] }
        while fraction.last == 0x30 { fraction.removeLast() }
        let isZero = integer == [0x30] && fraction.isEmpty
        var result: [UInt8] = negative && !isZero ? [0x2D] : []
        result += integer
        if !fraction.isEmpty { result += [0x2E] + fraction }
        return String(decoding: result, as: UTF8.self)
    }

    /// `2026-12-05`, `2026/12/05`, and with `.dayFirst` also `5/12/2026`, `05.12.2026`, `05-12-2026` →
    /// `2026-12-05`; the day must exist in that month (leap years counted).
    public static func date(_ text: some StringProtocol, order: DateOrder) -> String? {
        let bytes = Array(CommandText.trimmed(text).utf8)
        var parts: [[UInt8]] = [[]]
        var separator: UInt8?
        for byte in bytes {
            if byte >= 0x30, byte <= 0x39 {
                parts[parts.count - 1].append(byte)
                guard parts[parts.count - 1].count <= 4 else { return nil }
            } else if byte == 0x2D || byte == 0x2F || byte == 0x2E {
                guard separator == nil || separator == byte, parts.count < 3 else { return nil }
                separator = byte
                parts.append([])
            } else {
                return nil
            }
        }
        guard parts.count == 3 else { return nil }
        let year: [UInt8]
        let month: [UInt8]
        let day: [UInt8]
        if parts[0].count == 4, separator != 0x2E {
            (year, month, day) = (parts[0], parts[1], parts[2])
        } else if order == .dayFirst, parts[2].count == 4 {
            (day, month, year) = (parts[0], parts[1], parts[2])
        } else {
            return nil
        }
        guard (1...2).contains(month.count), (1...2).contains(day.count),
            let yearValue = Int(String(decoding: year, as: UTF8.self)),
            let monthValue = Int(String(decoding: month, as: UTF8.self)),
            let dayValue = Int(String(decoding: day, as: UTF8.self)),
            (1...12).contains(monthValue), dayValue >= 1, dayValue <= daysIn(month: monthValue, year: yearValue)
        else { return nil }
        return "\(year4(yearValue))-\(twoDigits(monthValue))-\(twoDigits(dayValue))"
    }

    /// The configured choice `text` names: the same bytes first, then caselessly (`CaseFolding`), compared as
    /// bytes. O(choices × length).
    public static func choice(_ text: some StringProtocol, among choices: [String]) -> String? {
        let value = CommandText.trimmed(text)
        if let exact = choices.first(where: { $0.utf8.elementsEqual(value.utf8) }) { return exact }
        let keys = choices.map { CommandText.caselessKey($0) }
        guard let key = CommandText.caselessKey(value, matchingAtMost: keys.map(\.count).max() ?? 0) else { return nil }
        return keys.firstIndex(of: key).map { choices[$0] }
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func year4(_ value: Int) -> String {
        let digits = "\(value)"
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
