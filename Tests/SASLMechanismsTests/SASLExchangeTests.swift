import SASLMechanisms
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
private func base64(_ raw: [UInt8]) -> String { SASLBase64.encodedString(raw) }

@Suite("SASL: exact messages against the published examples")
struct SASLPublishedExampleTests {
    @Test func plainWithoutAuthorizationIdentityMatchesRFC4616() throws {
        let exchange = try SASLExchange.plain(username: "tim", password: "tanstaaftanstaaf")
        #expect(exchange.initialResponse == bytes("\0tim\0tanstaaftanstaaf"))
        #expect(exchange.mechanism == .plain)
    }

    @Test func plainWithAuthorizationIdentityMatchesRFC4616() throws {
        let exchange = try SASLExchange.plain(username: "Kurt", password: "xipj3plmq", authorizationIdentity: "Ursel")
        #expect(exchange.initialResponse == bytes("Ursel\0Kurt\0xipj3plmq"))
    }

    @Test func xoauth2MatchesGooglesExample() throws {
        let exchange = try SASLExchange.xoauth2(
            username: "someuser@example.com", accessToken: "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
        let initial = try #require(exchange.initialResponse)
        #expect(
            initial
                == bytes(
                    "user=someuser@example.com\u{1}auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\u{1}\u{1}")
        )
        #expect(
            base64(initial)
                == "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        )
    }

    @Test func oauthBearerMatchesRFC7628Section4_1() throws {
        let exchange = try SASLExchange.oauthBearer(
            username: "user@example.com", accessToken: "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
            host: "server.example.com", port: 143)
        let initial = try #require(exchange.initialResponse)
        #expect(
            base64(initial)
                == "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
        )
    }

    @Test func oauthBearerFailureMatchesRFC7628Section4_3() throws {
        var exchange = try SASLExchange.oauthBearer(
            username: "user@example.com", accessToken: "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
            host: "server.example.com", port: 143)
        exchange.initialResponseSent()
        let challenge = try SASLBase64.decode(
            bytes(
                "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0="
            ))
        let answer = try exchange.respond(toChallenge: challenge)
        #expect(answer == [0x01])
        #expect(base64(answer) == "AQ==")
        let error = try #require(exchange.serverError)
        #expect(error.status == "invalid_token")
        #expect(error.scope == "example_scope")
        #expect(error.openIDConfiguration == "https://example.com/.well-known/openid-configuration")
        #expect(error.rawText.hasPrefix("{\"status\":\"invalid_token\""))
        #expect(exchange.phase == .failureAcknowledged)
        #expect(throws: SASLError.self) { try exchange.respond(toChallenge: challenge) }
    }

    @Test func xoauth2FailureMatchesGooglesExampleAndIsAnsweredEmpty() throws {
        var exchange = try SASLExchange.xoauth2(username: "someuser@example.com", accessToken: "ya29.expired")
        exchange.initialResponseSent()
        let challenge = try SASLBase64.decode(
            bytes(
                "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K"))
        #expect(try exchange.respond(toChallenge: challenge) == [])
        let error = try #require(exchange.serverError)
        #expect(error.status == "401")
        #expect(error.schemes == "bearer mac")
        #expect(error.scope == "https://mail.google.com/")
        #expect(error.description == "server error: status=401 scope=https://mail.google.com/ schemes=bearer mac")
    }

    @Test func microsoftStyleNumericStatusIsText() throws {
        let error = SASLServerError(
            challenge: bytes(#"{"status":400,"schemes":"Bearer","scope":"https://mail.google.com/"}"#))
        #expect(error.status == "400")
        #expect(error.schemes == "Bearer")
    }

    @Test func nonJSONFailureKeepsEscapedText() {
        let error = SASLServerError(challenge: bytes("token expired\u{1B}[31m"))
        #expect(error.status == nil)
        #expect(error.rawText == "token expired\\u{1B}[31m")
        #expect(error.description == "server error: raw=token expired\\u{1B}[31m")
    }
}

@Suite("SASL: exchanges step by step")
struct SASLExchangeStepTests {
    @Test func plainAnswersAnEmptyChallengeWhenNoInitialResponseWasSent() throws {
        var exchange = try SASLExchange.plain(username: "bench", password: "benchpw")
        #expect(try exchange.respond(toChallenge: []) == bytes("\0bench\0benchpw"))
        #expect(exchange.phase == .credentialsSent)
        #expect(throws: SASLError.self) { try exchange.respond(toChallenge: []) }
    }

    @Test func plainRejectsAChallengeAfterItsInitialResponse() throws {
        var exchange = try SASLExchange.plain(username: "bench", password: "benchpw")
        exchange.initialResponseSent()
        let error = #expect(throws: SASLError.self) { try exchange.respond(toChallenge: []) }
        #expect(error == .unexpectedChallenge(mechanism: .plain, step: 1, challenge: ""))
    }

    @Test func loginAnswersByOrderWhateverThePromptSays() throws {
        var exchange = try SASLExchange.login(username: "bench", password: "benchpw")
        #expect(exchange.initialResponse == nil)
        #expect(try exchange.respond(toChallenge: bytes("Username:")) == bytes("bench"))
        #expect(try exchange.respond(toChallenge: bytes("User Name\0")) == bytes("benchpw"))
        #expect(throws: SASLError.self) { try exchange.respond(toChallenge: bytes("Password:")) }
    }

    @Test func loginPromptsDecodeFromTheWire() throws {
        #expect(try SASLBase64.decode(bytes("VXNlcm5hbWU6")) == bytes("Username:"))
        #expect(try SASLBase64.decode(bytes("UGFzc3dvcmQ6")) == bytes("Password:"))
    }

    @Test func xoauth2WithoutInitialResponseSendsItOnTheEmptyChallenge() throws {
        var exchange = try SASLExchange.xoauth2(username: "bench", accessToken: "tok-123")
        #expect(try exchange.respond(toChallenge: []) == bytes("user=bench\u{1}auth=Bearer tok-123\u{1}\u{1}"))
        #expect(try exchange.respond(toChallenge: bytes(#"{"status":"400"}"#)) == [])
        #expect(exchange.serverError?.status == "400")
    }

    @Test func oauthBearerEscapesCommaAndEqualsInTheAuthorizationIdentity() throws {
        let exchange = try SASLExchange.oauthBearer(username: "a,b=c", accessToken: "T")
        #expect(exchange.initialResponse == bytes("n,a=a=2Cb=3Dc,\u{1}auth=Bearer T\u{1}\u{1}"))
        let anonymous = try SASLExchange.oauthBearer(username: "", accessToken: "T", host: "localhost", port: 10110)
        #expect(anonymous.initialResponse == bytes("n,,\u{1}host=localhost\u{1}port=10110\u{1}auth=Bearer T\u{1}\u{1}"))
    }
}

@Suite("SASL: non-ASCII credentials and refused input")
struct SASLCredentialTests {
    @Test func utf8UsernamesAndPasswordsAreSentAsUTF8() throws {
        let plain = try SASLExchange.plain(username: "jürgen.müller", password: "pässwörd-日本")
        #expect(plain.initialResponse == [0] + bytes("jürgen.müller") + [0] + bytes("pässwörd-日本"))
        #expect(base64(plain.initialResponse!) == "AGrDvHJnZW4ubcO8bGxlcgBww6Rzc3fDtnJkLeaXpeacrA==")
        var login = try SASLExchange.login(username: "Zoë", password: "Ωmega")
        #expect(try login.respond(toChallenge: bytes("Username:")) == [0x5A, 0x6F, 0xC3, 0xAB])
        #expect(try login.respond(toChallenge: bytes("Password:")) == [0xCE, 0xA9, 0x6D, 0x65, 0x67, 0x61])
        let xoauth2 = try SASLExchange.xoauth2(username: "jürgen@example.com", accessToken: "abc")
        #expect(xoauth2.initialResponse == bytes("user=jürgen@example.com\u{1}auth=Bearer abc\u{1}\u{1}"))
    }

    @Test func refusedCredentialsNameTheFieldNotTheValue() {
        let cases: [(String, () throws(SASLError) -> SASLExchange)] = [
            ("password", { () throws(SASLError) in try .plain(username: "u", password: "se\0cret") }),
            ("username", { () throws(SASLError) in try .plain(username: "", password: "secret") }),
            ("accessToken", { () throws(SASLError) in try .xoauth2(username: "u", accessToken: "secret tok") }),
            ("accessToken", { () throws(SASLError) in try .xoauth2(username: "u", accessToken: "secret\u{1}x") }),
            ("username", { () throws(SASLError) in try .xoauth2(username: "u\u{1}x", accessToken: "secret") }),
            ("accessToken", { () throws(SASLError) in try .oauthBearer(username: "u", accessToken: "=secret") }),
            ("port", { () throws(SASLError) in try .oauthBearer(username: "u", accessToken: "secret", port: 0) }),
            (
                "host",
                { () throws(SASLError) in try .oauthBearer(username: "u", accessToken: "secret", host: "h\u{1}") }
            ),
        ]
        for (field, make) in cases {
            do {
                _ = try make()
                Issue.record("accepted a bad \(field)")
            } catch {
                guard case .invalidCredential(_, let named, _) = error else {
                    Issue.record("wrong error \(error)")
                    continue
                }
                #expect(named == field)
                #expect(!error.description.contains("secret"))
            }
        }
    }
}

@Suite("SASL: secrets never in text")
struct SASLSecrecyTests {
    static let password = "hunter2-Pässword"
    static let token = "ya29.SECRET-TOKEN-value"

    static func exchanges() throws -> [SASLExchange] {
        [
            try .plain(username: "bench", password: password, authorizationIdentity: "admin"),
            try .login(username: "bench", password: password),
            try .xoauth2(username: "bench", accessToken: token),
            try .oauthBearer(username: "bench", accessToken: token, host: "localhost", port: 995),
        ]
    }

    @Test func descriptionDebugDescriptionAndDumpHideTheSecret() throws {
        for var exchange in try Self.exchanges() {
            _ = try? exchange.respond(toChallenge: [])
            _ = try? exchange.respond(toChallenge: Array(#"{"status":"invalid_token"}"#.utf8))
            var dumped = ""
            dump(exchange, to: &dumped)
            for text in [
                exchange.description, exchange.debugDescription, dumped, "\(exchange)", String(reflecting: exchange),
            ] {
                #expect(!text.contains("hunter2"), "\(text)")
                #expect(!text.contains("SECRET"), "\(text)")
                #expect(!text.contains(SASLBase64.encodedString(Array(Self.password.utf8))), "\(text)")
                #expect(text.contains("bench"), "\(text)")
            }
        }
    }

    @Test func errorsHideTheSecret() throws {
        var exchange = try SASLExchange.plain(username: "bench", password: Self.password)
        exchange.initialResponseSent()
        do {
            _ = try exchange.respond(toChallenge: Array("odd".utf8))
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("odd"))
        }
    }
}
