import MailParser
import TestSupport
import Testing

@testable import MailCommands

/// A reproducible pseudo-random source (`SplitMix64`, its seed spread first) with the command fuzzers' helpers:
/// each seed gives the same texts on every run.
struct SeededGenerator: RandomNumberGenerator {
    private var base: SplitMix64

    init(seed: UInt64) { base = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15) }

    mutating func next() -> UInt64 { base.next() }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }

    /// `count` items of `pieces` joined.
    mutating func soup(_ pieces: [String], count: ClosedRange<Int>) -> String {
        (0..<Int.random(in: count, using: &self)).map { _ in pick(pieces) }.joined()
    }
}

/// Seeded random commands written the ways mail carries them (LF, CRLF, percent-encoded bodies) read back as
/// written; seeded random soups of command syntax, prose and quoting never crash, hang or break a command's
/// invariants.
@Suite("Variable commands: seeded random texts")
struct VariableCommandFuzzTests {
    let parser = VariableCommandParser()

    /// Value material: scripts, blanks inside, punctuation, and apostrophes that do not close a value.
    static let valuePieces = [
        "a", "Z", "7", " ", "é", "打印", "Ж", "🖨️", "عربي", "-", "/", "#", "(x)", "l'x", "it’s", "=", "%", "\"", ".",
        ",", "@", "ü", "क", "ß",
    ]
    static let namePieces = ["A", "B", "_", "1", "X", "URGENCY", "c"]

    static func value(_ random: inout SeededGenerator) -> String {
        var value = String(CommandText.trimmed(random.soup(valuePieces, count: 1...8)))
        // A value that ends in punctuation after an apostrophe-free stretch is fine; one that is empty is not.
        if value.isEmpty { value = "v" }
        return value
    }

    /// Each byte that is not an ASCII letter or digit as `%XX`, as a `mailto:` body encodes it.
    static func percentEncoded(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            if (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39 {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                var hex: [UInt8] = [0x25]
                HexEncoding.appendUppercase(byte, to: &hex)
                output += String(decoding: hex, as: UTF8.self)
            }
        }
        return output
    }

    @Test func randomCommandsReadBackInEveryForm() {
        var random = SeededGenerator(seed: 15)
        for round in 0..<400 {
            let operation: VariableOperation? = random.pick([nil, .create, .update, .solve, .restart, .stop])
            let needsTarget = operation.map { $0 != .create } ?? random.chance(50)
            let target = needsTarget ? random.pick(["12", "#12", "[Support #12]", "S160824_000001"]) : nil
            let choice = random.chance(30) ? random.pick(["0", "1", "2"]) : nil
            var names = Set<String>()
            var fields: [VariableField] = []
            var lines: [String] = []
            if let operation { lines.append("@OPERATION@='\(operation.rawValue.uppercased())'") }
            if let target { lines.append("@RFC_NUMBER@='\(target)'") }
            if let choice { lines.append("@CHOICE@='\(choice)'") }
            var groups: [String] = []
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                let name = random.soup(Self.namePieces, count: 1...4)
                guard !["operation", "rfc_number", "choice", "fields_to_update"].contains(name.lowercased()),
                    names.insert(name.lowercased()).inserted
                else { continue }
                let value = Self.value(&random)
                fields.append(VariableField(name: name, value: value))
                if random.chance(30), !value.contains("}") {
                    groups.append("{\(name)=\(value)}")
                } else {
                    if !groups.isEmpty { lines.append("@FIELDS_TO_UPDATE@=" + groups.joined(separator: " ")) }
                    groups = []
                    lines.append("@\(name)@='\(value)'")
                }
            }
            if !groups.isEmpty { lines.append("@FIELDS_TO_UPDATE@=" + groups.joined(separator: " ")) }
            guard !lines.isEmpty else { continue }
            let expected = VariableCommandResult.command(
                VariableCommand(
                    operation: operation ?? (target == nil ? .create : .update), target: target, fields: fields,
                    choice: choice))
            let forms = [
                lines.joined(separator: "\n"), "Bonjour,\r\n" + lines.joined(separator: "\r\n") + "\r\n",
                lines.joined(separator: " "), Self.percentEncoded(lines.joined(separator: "\n")),
                "mailto:support@example.test?subject=OK&body="
                    + Self.percentEncoded("Merci\n\n" + lines.joined(separator: "\n")),
            ]
            for (index, form) in forms.enumerated() where index != 2 || !lines.contains(where: { $0.hasSuffix("}") }) {
                let result = parser.parse(form)
                #expect(result == expected, "round \(round), form \(index): \(form)")
            }
        }
    }

    static let soupPieces = [
        "@", "@", "@OPERATION@", "@RFC_NUMBER@", "@CHOICE@", "@FIELDS_TO_UPDATE@", "@X@", "=", "'", "’", "‘", "{",
        "}", "K=V", "%40", "%3D", "%27", "%0A", "%FF", "%", "\n", "\r\n", "\r", "> ", " ", "\t", "SOLVE", "update",
        "12", "é", "打", "🖨️", "a@b.c", "CreateSR", ":", ",", ".",
    ]

    @Test func randomSoupsKeepTheInvariants() {
        var random = SeededGenerator(seed: 2026)
        for round in 0..<3_000 {
            let text = random.soup(Self.soupPieces, count: 0...60)
            let result = parser.parse(text)
            if case .command(let command) = result {
                #expect((command.operation == .create) == (command.target == nil), "round \(round): \(text)")
                let names = command.fields.map { $0.name.lowercased() }
                #expect(Set(names).count == names.count, "round \(round): \(text)")
                #expect(!names.contains(""), "round \(round): \(text)")
            }
            if case .invalid(let error) = result {
                #expect(error.description.hasPrefix("variable command: "))
                #expect(error.line >= 1 && error.line <= LineScanner.lines(text).count)
            }
            // The same text as quoted reply history commands nothing.
            let quoted = LineScanner.lines(text).map { "> " + $0 }.joined(separator: "\n")
            #expect(parser.parse(quoted) == nil, "round \(round): \(quoted)")
        }
    }
}
