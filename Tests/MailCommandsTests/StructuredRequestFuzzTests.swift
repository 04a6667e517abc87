import MailParser
import Testing

@testable import MailCommands

/// Seeded random requests written in either language read back as written; seeded random soups of block
/// syntax are a request exactly when a line is the token, and never crash or hang.
@Suite("Structured requests: seeded random texts")
struct StructuredRequestFuzzTests {
    let parser = StructuredRequestParserTests.parser

    static let textPieces = [
        "a", "Z", "7", " ", "é", "東京", "Ж", "🖥️", "عربي", "-", "/", "#", ":", "l'x", "=", "%", "@", "ü", "ß", "—",
    ]

    static func text(_ random: inout SeededGenerator) -> String {
        let value = String(CommandText.trimmed(random.soup(textPieces, count: 1...10)))
        return value.isEmpty ? "v" : value
    }

    /// A long-text line that is no delimiter and no token.
    static func longTextLine(_ random: inout SeededGenerator) -> String {
        var line = random.soup(textPieces, count: 0...10)
        while let last = line.unicodeScalars.last, last == " " { line.unicodeScalars.removeLast() }
        let body = CommandText.trimmed(line)
        if body.hasPrefix("- ") || body.hasPrefix("--- ") || body == "-" { return "x" + line }
        return line
    }

    static func randomCase(_ label: String, _ random: inout SeededGenerator) -> String {
        random.chance(50) ? label : random.chance(50) ? label.uppercased() : label.lowercased()
    }

    @Test func randomRequestsReadBack() {
        var random = SeededGenerator(seed: 0)
        let type = StructuredRequestParserTests.vpn
        for round in 0..<300 {
            let language: StructuredRequest.Language = random.chance(50) ? .french : .english
            let french = language == .french
            let workstation = Self.text(&random)
            let weeks = String(Int.random(in: 0...999, using: &random))
            var reasonLines = (0..<Int.random(in: 1...6, using: &random)).map { _ in Self.longTextLine(&random) }
            reasonLines[0] = String(("début " + reasonLines[0]).trimmingSuffix(" "))
            reasonLines[reasonLines.count - 1] += " fin"
            let day = Int.random(in: 1...28, using: &random)
            let month = Int.random(in: 1...12, using: &random)
            let dateText = french && random.chance(50) ? "\(day)/\(month)/2027" : "2027-\(month)-\(day)"
            let label = { (index: Int) in
                Self.randomCase(type.fields[index].labels[french ? 0 : 1], &random)
            }
            // A long text ends at the next `- ` or `--- ` line: an undelimited `Label: value` line after one is
            // part of it (seed 000), so every field line here has its `- `.
            var fieldLines = [
                (0, "- \(label(0)): \(workstation)"), (1, "- \(label(1)) : \(dateText)"),
                (2, "- \(label(2)):\(weeks)"), (4, "- \(label(4)):\n" + reasonLines.joined(separator: "\n")),
            ]
            fieldLines.shuffle(using: &random)
            let people = (french ? ["Requérant", "Utilisateur"] : ["Requester", "User"]).map {
                Self.randomCase($0, &random)
            }
            let lines =
                ["CreateSR", "Type: " + random.pick(["VPN access", "Accès VPN", "accès vpn"])]
                + ["\(people[0]): r1; R2@Example.test", "\(people[1]): u1", "--- Section \(round)"]
                + fieldLines.map(\.1) + ["CreateSR"]
            let separator = random.chance(50) ? "\n" : "\r\n"
            let result = parser.parse("Bonjour" + separator + lines.joined(separator: separator), sender: "x@y.test")
            let canonicalDate = TicketFieldCanonicalForm.date("2027-\(month)-\(day)", order: .yearFirstOnly)!
            let values: [Int: String] = [
                0: workstation, 1: canonicalDate, 2: weeks, 4: reasonLines.joined(separator: "\n"),
            ]
            let expected = StructuredRequest(
                type: "VPN access", requester: ["r1", "r2@example.test"], user: ["u1"],
                fields: fieldLines.map { index, _ in
                    TicketField(name: type.fields[index].name, kind: type.fields[index].kind, value: values[index]!)
                }, language: language)
            #expect(result == .request(expected), "round \(round): \(lines.joined(separator: "\n"))")
        }
    }

    static let soupPieces = [
        "CreateSR", "createsr", " CreateSR ", "CreateSR\t", "\n", "\r\n", "\n", "> ", "- ", "--- ", ":", " : ",
        "Type", "Type: Accès VPN", "Type: Badge", "Requérant", "Requester", "User", "Utilisateur", "Nom du poste",
        "Workstation", "Justification", "Étage", "3", "x", "é", "東", "🖥️", "\u{00A0}", "-", "@",
    ]

    /// The reference: some line, trimmed of SP, HT and CR, is the token ignoring ASCII case.
    static func hasTokenLine(_ text: String) -> Bool {
        text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).contains { line in
            let trimmed = String(decoding: line, as: UTF8.self).unicodeScalars.drop {
                $0 == " " || $0 == "\t" || $0 == "\r"
            }
            var scalars = Array(trimmed)
            while let last = scalars.last, last == " " || last == "\t" || last == "\r" { scalars.removeLast() }
            return String(String.UnicodeScalarView(scalars)).lowercased() == "createsr"
        }
    }

    @Test func randomSoupsAreRequestsExactlyWhenALineIsTheToken() {
        var random = SeededGenerator(seed: 1505)
        for round in 0..<3_000 {
            let text = random.soup(Self.soupPieces, count: 0...40)
            let result = parser.parse(text, sender: "guard@elsewhere.test")
            #expect((result != nil) == Self.hasTokenLine(text), "round \(round): \(text)")
            if case .invalid(let error) = result {
                #expect(error.description.hasPrefix("structured request: "))
                #expect(error.line >= 1 && error.line <= LineScanner.lines(text).count)
            }
            if case .request(let request) = result {
                #expect(!request.requester.isEmpty)
            }
        }
    }
}

extension String {
    /// The string without trailing `character`s.
    func trimmingSuffix(_ character: Character) -> Substring {
        var text = self[...]
        while text.last == character { text = text.dropLast() }
        return text
    }
}
