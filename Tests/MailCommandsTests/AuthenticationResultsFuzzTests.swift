import Testing

@testable import MailCommands

/// Seeded random values built from the grammar's own bytes: no crash, the linear bound holds on every one, and
/// `parse` and `parsing` agree.
@Suite("Authentication-Results: random values")
struct AuthenticationResultsFuzzTests {
    static let pieces = [
        "mx.test", "mx.test", " ", "\t", "\r\n ", ";", ";", "=", ".", "/", "(", ")", "\\", "\"", "@", "dkim", "spf",
        "dmarc", "pass", "fail", "none", "header", "d", "smtp", "mailfrom", "reason", "1", "42", "é", "🔥", "\u{301}",
        "x", "-", "_", "\u{0}", "\u{7F}",
    ]

    @Test func randomValuesAreLinearAndConsistent() {
        var generator = AlertFuzzGenerator(seed: 0x5EED_A17E)
        for _ in 0..<3_000 {
            let count = Int(generator.next() % 40)
            var value = ""
            for _ in 0..<count { value += Self.pieces[Int(generator.next() % UInt64(Self.pieces.count))] }
            var parser = AuthenticationResultsParser(value)
            let parsed = try? parser.parse()
            #expect(parser.work <= 2 * max(value.utf8.count, 1), "\(value.debugDescription)")
            #expect((AuthenticationResults.parse(value) == nil) == (parsed == nil))
            if let parsed {
                #expect(!parsed.authservID.isEmpty)
            }
        }
    }
}

/// A small seeded generator (AlertFuzzGenerator), so that a failure can be replayed.
struct AlertFuzzGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
