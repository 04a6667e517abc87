import TestSupport
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
        var generator = SplitMix64(seed: 0x5EED_A17E)
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
