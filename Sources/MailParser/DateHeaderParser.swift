import Foundation

/// RFC 5322 dates, including the obsolete forms: two-digit years, named and military zones, missing
/// seconds or weekday, comments, asctime order, and the ISO 8601 dates some tools write.
enum DateHeaderParser {
    static func parse(_ value: ArraySlice<UInt8>) -> Date? {
        var day: Int?
        var month: Int?
        var year: Int?
        var time: (hour: Int, minute: Int, second: Int)?
        var offset: Int?
        let trimmed = ByteText.trimmed(value)
        if let iso = parseISO8601(trimmed) { return iso }

        var index = trimmed.startIndex
        let end = trimmed.endIndex
        while index < end {
            let byte = trimmed[index]
            if byte == ASCIIByte.openParen {
                index = MIMEHeaderValue.skipComment(trimmed, from: index)
                continue
            }
            if byte.isWhitespace || byte == ASCIIByte.comma {
                index += 1
                continue
            }
            var tokenEnd = index
            while tokenEnd < end, !trimmed[tokenEnd].isWhitespace, trimmed[tokenEnd] != ASCIIByte.comma,
                trimmed[tokenEnd] != ASCIIByte.openParen
            {
                tokenEnd += 1
            }
            let token = trimmed[index..<tokenEnd]
            index = tokenEnd
            if token.contains(ASCIIByte.colon) {
                if time == nil { time = parseTime(token) }
            } else if (token.first == 0x2B || token.first == ASCIIByte.hyphen), token.count >= 3,
                token.dropFirst().allSatisfy({ $0.isDigit || $0 == ASCIIByte.colon })
            {
                if offset == nil {
                    let digits = token.dropFirst().filter { $0.isDigit }.map { Int($0 - 0x30) }
                    guard digits.count == 4 || digits.count == 2 else { continue }
                    let hours = digits[0] * 10 + digits[1]
                    let minutes = digits.count == 4 ? digits[2] * 10 + digits[3] : 0
                    guard hours < 24, minutes < 60 else { continue }
                    offset = (hours * 3600 + minutes * 60) * (token.first == ASCIIByte.hyphen ? -1 : 1)
                }
            } else if token.allSatisfy({ $0.isDigit }) {
                let number = token.reduce(0) { $0 &* 10 &+ Int($1 - 0x30) }
                if token.count <= 2, day == nil, month == nil || year == nil {
                    day = number
                } else if year == nil {
                    year =
                        token.count == 2
                        ? (number < 50 ? 2000 + number : 1900 + number) : token.count == 3 ? 1900 + number : number
                } else if day == nil {
                    day = number
                }
            } else if token.first?.isASCIILetter == true {
                let word = ByteText.lowercased(token.prefix(while: { $0.isASCIILetter }))
                if month == nil, word.count >= 3, let found = monthNumber(word) {
                    month = found
                } else if offset == nil, let zone = zoneOffset(word) {
                    offset = zone
                }
            }
        }
        guard let day, let month, let year, (1...31).contains(day), (1...9999).contains(year) else { return nil }
        let clock = time ?? (0, 0, 0)
        guard clock.hour < 24, clock.minute < 60, clock.second <= 60 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + clock.hour * 3600 + clock.minute * 60 + min(clock.second, 59) - (offset ?? 0)
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func parseTime(_ token: ArraySlice<UInt8>) -> (hour: Int, minute: Int, second: Int)? {
        let parts = token.split(separator: ASCIIByte.colon, omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        var values: [Int] = []
        for part in parts {
            let digits = part.prefix(while: { $0.isDigit })
            guard !digits.isEmpty, digits.count <= 2 else { return nil }
            values.append(digits.reduce(0) { $0 * 10 + Int($1 - 0x30) })
        }
        return (values[0], values[1], values.count == 3 ? values[2] : 0)
    }

    private static let monthNames: [[UInt8]] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
        "nov", "dec",
    ].map { Array($0.utf8) }

    private static func monthNumber(_ word: [UInt8]) -> Int? {
        guard word.count >= 3 else { return nil }
        let prefix = word.prefix(3)
        return monthNames.firstIndex { $0.elementsEqual(prefix) }.map { $0 + 1 }
    }

    /// Obsolete zone names (RFC 5322 §4.3) plus common non-standard abbreviations. Military letters mean
    /// "unknown" per the RFC and are read as UTC.
    private static func zoneOffset(_ word: [UInt8]) -> Int? {
        let hours: Double?
        switch String(decoding: word, as: UTF8.self) {
        case "ut", "utc", "gmt", "z", "wet", "uct": hours = 0
        case "est": hours = -5
        case "edt": hours = -4
        case "cst": hours = -6
        case "cdt": hours = -5
        case "mst": hours = -7
        case "mdt": hours = -6
        case "pst": hours = -8
        case "pdt": hours = -7
        case "akst": hours = -9
        case "akdt": hours = -8
        case "hst": hours = -10
        case "bst", "cet", "met", "west", "mez": hours = 1
        case "cest", "eet", "mest", "mesz", "sast": hours = 2
        case "eest", "msk", "idt": hours = 3
        case "ist": hours = 5.5
        case "sgt", "hkt", "awst": hours = 8
        case "jst", "kst": hours = 9
        case "aest": hours = 10
        case "aedt": hours = 11
        case "nzst": hours = 12
        case "nzdt": hours = 13
        default:
            hours = word.count == 1 && word[0] != 0x6A ? 0 : nil
        }
        return hours.map { Int($0 * 3600) }
    }

    /// `2024-01-02T03:04:05Z`, `2024-01-02 03:04:05+01:00`.
    private static func parseISO8601(_ value: ArraySlice<UInt8>) -> Date? {
        guard value.count >= 16, value[value.startIndex + 4] == ASCIIByte.hyphen else { return nil }
        let bytes = Array(value)
        guard bytes.count >= 16, bytes[0...3].allSatisfy({ $0.isDigit }), bytes[4] == ASCIIByte.hyphen,
            bytes[7] == ASCIIByte.hyphen, bytes[10] == 0x54 || bytes[10] == 0x74 || bytes[10] == ASCIIByte.space,
            bytes[13] == ASCIIByte.colon
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count, bytes[range].allSatisfy({ $0.isDigit }) else { return nil }
            return bytes[range].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), (1...12).contains(month),
            (1...31).contains(day), hour < 24, minute < 60
        else { return nil }
        var index = 16
        var second = 0
        if index < bytes.count, bytes[index] == ASCIIByte.colon, let found = number(17..<19) {
            second = found
            index = 19
        }
        while index < bytes.count, bytes[index] == ASCIIByte.dot || bytes[index].isDigit { index += 1 }
        var offset = 0
        if index < bytes.count, bytes[index] == 0x2B || bytes[index] == ASCIIByte.hyphen {
            let digits = bytes[(index + 1)...].filter { $0.isDigit }.map { Int($0 - 0x30) }
            if digits.count >= 4 {
                offset = (digits[0] * 10 + digits[1]) * 3600 + (digits[2] * 10 + digits[3]) * 60
                if bytes[index] == ASCIIByte.hyphen { offset = -offset }
            }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second - offset))
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `2006-01-02T15:04:05Z` for the JSON document.
    static func rfc3339UTC(_ date: Date) -> String {
        let total = Int(date.timeIntervalSince1970.rounded(.down))
        var days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secondsOfDay = total - days * 86_400
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondsOfDay / 3600, 2)):"
            + "\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
    }
}
