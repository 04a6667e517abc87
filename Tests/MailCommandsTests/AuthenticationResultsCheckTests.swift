import MailCommands
import MailParser
import Testing

/// `AuthenticationRequirement.check`: only the topmost `Authentication-Results` with our authserv-id counts. The
/// header values come out of a real parse of the raw message, as the pipeline will hand them over.
@Suite("Authentication-Results requirement")
struct AuthenticationResultsCheckTests {
    static let requirement = AuthenticationRequirement(authservID: "mx.postdesk.test", methods: [.dkim, .dmarc])

    /// The `Authentication-Results` values of a raw message, topmost first.
    static func values(_ fields: [String]) -> [String] {
        let raw = (fields + ["From: Bob <bob@example.org>", "Subject: @OPERATION@='SOLVE'", "", "body", ""])
            .joined(separator: "\r\n")
        let message = MessageParser.parse(Array(raw.utf8))
        return message.headers.filter { $0.name.lowercased() == "authentication-results" }.map(\.value)
    }

    @Test func oursPassing() {
        let check = Self.requirement.check(
            headerValues: Self.values([
                "Authentication-Results: MX.Postdesk.TEST; dkim=pass (2048-bit key; unprotected) header.d=example.org",
                "\theader.b=\"abc\"; spf=fail smtp.mailfrom=example.org; dmarc=pass (p=reject) header.from=example.org",
            ]))
        #expect(check == .passed(reason: "Authentication-Results of mx.postdesk.test: dkim=pass, dmarc=pass"))
        #expect(check.isPassed)
    }

    @Test func dkimFailWithSPFPass() {
        let requirement = AuthenticationRequirement(authservID: "mx.postdesk.test", methods: [.dkim, .spf])
        let check = requirement.check(
            headerValues: Self.values([
                "Authentication-Results: mx.postdesk.test; dkim=fail reason=\"signature verification failed\""
                    + " header.d=example.org; spf=pass smtp.mailfrom=bob@example.org"
            ]))
        #expect(
            check
                == .failed(
                    reason: "Authentication-Results of mx.postdesk.test: required method did not pass: dkim=fail"))
        // SPF alone is satisfied by the same field.
        let spfOnly = AuthenticationRequirement(authservID: "mx.postdesk.test", methods: [.spf])
        #expect(
            spfOnly.check(headerValues: Self.values(["Authentication-Results: mx.postdesk.test; dkim=fail; spf=pass"]))
                .isPassed)
    }

    @Test func oneOfSeveralSignaturesPassing() {
        let check = Self.requirement.check(headerValues: [
            "mx.postdesk.test; dkim=fail header.d=a.test; dkim=pass header.d=example.org; dmarc=pass"
        ])
        #expect(check.isPassed)
    }

    @Test func forgedFieldBelowOursDoesNotCount() {
        // The sender put a passing field with our authserv-id into the message; our MTA prepended its own above.
        let check = Self.requirement.check(
            headerValues: Self.values([
                "Authentication-Results: mx.postdesk.test; dkim=none; spf=softfail smtp.mailfrom=evil.test; dmarc=fail",
                "Received: from evil.test by mx.postdesk.test",
                "Authentication-Results: mx.postdesk.test; dkim=pass header.d=example.org; dmarc=pass",
            ]))
        #expect(
            check
                == .failed(
                    reason:
                        "Authentication-Results of mx.postdesk.test: required method did not pass: dkim=none; dmarc=fail"
                ))
    }

    @Test func fieldAboveOursWithAnotherAuthservIDIsIgnored() {
        let check = Self.requirement.check(
            headerValues: Self.values([
                "Authentication-Results: relay.elsewhere.test; dkim=pass header.d=example.org; dmarc=pass",
                "Authentication-Results: mx.postdesk.test; dkim=fail; dmarc=fail",
            ]))
        #expect(!check.isPassed)
        // Another service's id that merely starts like ours is not ours.
        let lookalike = Self.requirement.check(headerValues: [
            "mx.postdesk.test.evil.test; dkim=pass; dmarc=pass", "\"mx.postdesk.test\" ; dkim=pass; dmarc=pass",
        ])
        #expect(lookalike == .passed(reason: "Authentication-Results of mx.postdesk.test: dkim=pass, dmarc=pass"))
    }

    @Test func missingFieldFails() {
        #expect(
            Self.requirement.check(headerValues: Self.values([]))
                == .failed(reason: "no Authentication-Results field from mx.postdesk.test"))
        #expect(
            Self.requirement.check(headerValues: ["other.test; dkim=pass; dmarc=pass"])
                == .failed(reason: "no Authentication-Results field from mx.postdesk.test"))
        #expect(
            Self.requirement.check(headerValues: ["mx.postdesk.test; none"])
                == .failed(
                    reason:
                        "Authentication-Results of mx.postdesk.test: required method did not pass: dkim: no result; dmarc: no result"
                ))
    }

    @Test func malformedFieldOfOursFailsAndMalformedOthersAreSkipped() {
        #expect(
            Self.requirement.check(headerValues: [
                "(unterminated", "relay.test; dkim", "mx.postdesk.test; dkim=pass (oops; dmarc=pass",
                "mx.postdesk.test; dkim=pass; dmarc=pass",
            ])
                == .failed(
                    reason:
                        "Authentication-Results of mx.postdesk.test is malformed: unterminated comment at byte 28"
                ))
    }

    @Test func nothingRequiredPasses() {
        let none = AuthenticationRequirement(authservID: "mx.postdesk.test", methods: [])
        #expect(none.check(headerValues: []) == .passed(reason: "no authentication method is required"))
    }
}
