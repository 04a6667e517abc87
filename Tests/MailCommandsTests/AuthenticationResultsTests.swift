import MailCommands
import Testing

/// RFC 8601 syntax: comments, quoted strings, `none`, versions, several results, properties.
@Suite("Authentication-Results parsing")
struct AuthenticationResultsTests {
    typealias Result = AuthenticationResults.MethodResult
    typealias Property = AuthenticationResults.Property

    @Test func typicalPostfixStack() throws {
        let value = """
            mx.postdesk.test;\r
            \tdkim=pass (2048-bit key; unprotected) header.d=example.org header.i=@example.org header.b="AbC+/x=9";\r
            \tspf=pass (mx.postdesk.test: domain of bob@example.org designates 192.0.2.1 as permitted sender)\r
            \t smtp.mailfrom=bob@example.org;\r
            \tdmarc=pass (p=reject dis=none) header.from=example.org
            """
        let parsed = try #require(AuthenticationResults.parse(value))
        #expect(parsed.authservID == "mx.postdesk.test")
        #expect(parsed.version == nil)
        #expect(
            parsed.results == [
                Result(
                    method: "dkim", result: "pass",
                    properties: [
                        Property(type: "header", name: "d", value: "example.org"),
                        Property(type: "header", name: "i", value: "@example.org"),
                        Property(type: "header", name: "b", value: "AbC+/x=9"),
                    ]),
                Result(
                    method: "spf", result: "pass",
                    properties: [Property(type: "smtp", name: "mailfrom", value: "bob@example.org")]),
                Result(
                    method: "dmarc", result: "pass",
                    properties: [Property(type: "header", name: "from", value: "example.org")]),
            ])
        #expect(parsed.results(for: "dkim").first?.property("header", "d") == "example.org")
    }

    @Test func rfc8601AppendixExamples() throws {
        // B.2: nothing was done.
        let none = try #require(AuthenticationResults.parse("example.org 1; none"))
        #expect(none == AuthenticationResults(authservID: "example.org", version: 1, results: []))
        // B.3: a comment before the version and a method version.
        let b3 = try #require(
            AuthenticationResults.parse("example.com (comment) 1; spf/1=pass smtp.mailfrom=example.net"))
        #expect(b3.version == 1)
        #expect(b3.results.first?.methodVersion == 1)
        // B.4: several results, an auth result with a quoted-string-free property.
        let b4 = try #require(
            AuthenticationResults.parse(
                "example.com;\n auth=pass (cram-md5) smtp.auth=sender@example.net;\n spf=pass smtp.mailfrom=example.net"
            ))
        #expect(b4.results.map(\.method) == ["auth", "spf"])
        #expect(b4.results.first?.property("smtp", "auth") == "sender@example.net")
        // B.6: reason and a quoted local part.
        let b6 = try #require(
            AuthenticationResults.parse(
                #"example.com; dkim=fail reason="bad signature; key revoked" header.i="john doe"@example.org"#))
        #expect(b6.results.first?.reason == "bad signature; key revoked")
        #expect(b6.results.first?.property("header", "i") == "john doe@example.org")
    }

    @Test func commentsAndQuotedStrings() throws {
        let parsed = try #require(
            AuthenticationResults.parse(
                #"("mx" (nested; (deeper)) \) ) "mx.postdesk.test" ; dkim (a) = (b) FAIL (c) header . d = (d) x.test"#
            ))
        #expect(parsed.authservID == "mx.postdesk.test")
        #expect(
            parsed.results == [
                Result(
                    method: "dkim", result: "fail", properties: [Property(type: "header", name: "d", value: "x.test")])
            ])
        // A semicolon inside a comment or a quoted string does not start a result.
        let hidden = try #require(AuthenticationResults.parse(#"mx; spf=fail (x; dkim=pass) reason="y; dmarc=pass""#))
        #expect(hidden.results.map(\.method) == ["spf"])
    }

    @Test func unicodeValues() throws {
        let parsed = try #require(
            AuthenticationResults.parse("mx.postdesk.test; spf=pass smtp.mailfrom=josé@exämple.test (façade ✓)"))
        #expect(parsed.results.first?.property("smtp", "mailfrom") == "josé@exämple.test")
    }

    @Test(arguments: [
        ("", AuthenticationResultsSyntaxError.Kind.empty),
        ("  (only a comment) ", .empty),
        ("mx.test", .expected("\";\" after the authserv-id")),
        ("mx.test; ", .expected("a method=result")),
        ("mx.test; dkim", .expected("\"=\" after the method \"dkim\"")),
        ("mx.test; dkim=", .expected("a result for \"dkim\"")),
        ("mx.test; dkim=pass header", .expected("\".\" after the property type \"header\"")),
        ("mx.test; dkim=pass header.d", .expected("\"=\" after \"header.d\"")),
        ("mx.test; dkim=pass header.d=", .expected("a property value")),
        ("mx.test; dkim=pass (unterminated", .unterminatedComment),
        (#"mx.test; dkim=pass reason="open"#, .unterminatedQuotedString),
        ("mx.test; none; spf=pass", .expected("the end after \"none\"")),
        ("mx.test 1x; spf=pass", .expected("\";\" after the authserv-id")),
        ("mx.test; spf/=pass", .expected("a method version")),
        ("mx.test; spf=pass dkim=pass", .expected("\".\" after the property type \"dkim\"")),
        ("; spf=pass", .expected("an authserv-id")),
    ])
    func malformed(_ value: String, _ kind: AuthenticationResultsSyntaxError.Kind) {
        #expect(AuthenticationResults.parse(value) == nil)
        #expect(throws: AuthenticationResultsSyntaxError.self) { try AuthenticationResults.parsing(value) }
        do {
            _ = try AuthenticationResults.parsing(value)
        } catch {
            #expect(error.kind == kind, "\(value): \(error)")
        }
    }

    @Test func errorsSayWhereAndWhose() {
        do {
            _ = try AuthenticationResults.parsing("mx.postdesk.test; dkim=pass header.d")
            Issue.record("parsed")
        } catch {
            #expect(error.authservID == "mx.postdesk.test")
            #expect(error.description == "Authentication-Results: expected \"=\" after \"header.d\" at byte 36")
        }
    }
}
