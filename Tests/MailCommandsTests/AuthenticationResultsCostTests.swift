import Testing

@testable import MailCommands

/// Hostile `Authentication-Results` values cost work proportional to their bytes: the parser counts every byte it
/// steps over, and no input makes it step more than about twice per byte.
@Suite("Authentication-Results: linear cost")
struct AuthenticationResultsCostTests {
    static let megabyte = 1 << 20

    /// Parses `value` and returns the steps taken per byte.
    static func stepsPerByte(_ value: String) -> Double {
        var parser = AuthenticationResultsParser(value)
        _ = try? parser.parse()
        return Double(parser.work) / Double(value.utf8.count)
    }

    @Test(arguments: [
        String(repeating: "(", count: megabyte),
        "mx.test; dkim=pass " + String(repeating: "(", count: megabyte) + String(repeating: ")", count: megabyte),
        "mx.test; " + String(repeating: "dkim=pass header.d=example.org; ", count: megabyte / 32),
        "mx.test; dkim=pass reason=\"" + String(repeating: "\\\"", count: megabyte / 2),
        "mx.test; spf=pass smtp.mailfrom=" + String(repeating: "a", count: megabyte),
        "mx.test " + String(repeating: " \r\n\t", count: megabyte / 3) + "; none",
        String(repeating: "a", count: megabyte) + "; dkim=pass",
        "mx.test; dkim=pass " + String(repeating: "header.d=x ", count: megabyte / 11),
        "mx.test; " + String(repeating: "d", count: megabyte),
    ])
    func hostileValueIsLinear(_ value: String) {
        #expect(Self.stepsPerByte(value) <= 2.0)
    }

    @Test func errorsQuoteAtMost64BytesOfAKeyword() {
        let method = String(repeating: "d", count: Self.megabyte)
        do {
            _ = try AuthenticationResults.parsing("mx.test; " + method)
            Issue.record("parsed")
        } catch {
            #expect(error.kind == .expected("\"=\" after the method \"" + String(repeating: "d", count: 64) + "…\""))
        }
    }

    @Test func manyResultsAreAllKept() throws {
        let value = "mx.test; " + String(repeating: "spf=pass; ", count: 50_000)
        let parsed = try #require(AuthenticationResults.parse(value))
        #expect(parsed.results.count == 50_000)
    }

    @Test func checkReadsOnlyTheAuthservIDOfOthers() {
        // A thousand large foreign fields above ours: each is read up to its authserv-id, then skipped.
        let foreign = "relay.test; dkim=pass " + String(repeating: "(x)", count: 10_000)
        var reader = AuthenticationResultsParser(foreign)
        _ = reader.readAuthservID()
        #expect(reader.work == "relay.test".utf8.count)
        let requirement = AuthenticationRequirement(authservID: "mx.test", methods: [.dkim])
        let values = Array(repeating: foreign, count: 1_000) + ["mx.test; dkim=pass"]
        #expect(requirement.check(headerValues: values).isPassed)
    }
}
