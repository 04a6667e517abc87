import POP3Protocol
import SASLMechanisms
import Testing

@Suite("POP3 commands: exact bytes")
struct POP3CommandTests {
    private func text(_ command: POP3Command) throws -> String {
        String(decoding: try command.encoded(), as: UTF8.self)
    }

    @Test func everyCommandEncodesToItsExactLine() throws {
        let expected: [(POP3Command, String)] = [
            (.capa, "CAPA\r\n"), (.stls, "STLS\r\n"), (.user("bench"), "USER bench\r\n"),
            (.pass("bench pw with spaces"), "PASS bench pw with spaces\r\n"), (.stat, "STAT\r\n"),
            (.list(nil), "LIST\r\n"), (.list(7), "LIST 7\r\n"), (.uidl(nil), "UIDL\r\n"), (.uidl(12), "UIDL 12\r\n"),
            (.retr(1), "RETR 1\r\n"), (.top(3, lines: 0), "TOP 3 0\r\n"), (.top(3, lines: 25), "TOP 3 25\r\n"),
            (.dele(999_999), "DELE 999999\r\n"), (.noop, "NOOP\r\n"), (.rset, "RSET\r\n"), (.quit, "QUIT\r\n"),
            (.auth(mechanism: "PLAIN", initialResponse: nil), "AUTH PLAIN\r\n"),
            (.auth(mechanism: "PLAIN", initialResponse: []), "AUTH PLAIN =\r\n"),
            (
                .auth(mechanism: "PLAIN", initialResponse: Array("\0bench\0benchpw".utf8)),
                "AUTH PLAIN AGJlbmNoAGJlbmNocHc=\r\n"
            ),
            (.auth(mechanism: "XOAUTH2", initialResponse: nil), "AUTH XOAUTH2\r\n"),
            (.authResponse(Array("bench".utf8)), "YmVuY2g=\r\n"), (.authResponse([]), "\r\n"),
            (.authResponse([0x01]), "AQ==\r\n"), (.authCancel, "*\r\n"),
        ]
        for (command, line) in expected {
            #expect(try text(command) == line, "\(command)")
        }
    }

    @Test func utf8ArgumentsAreSentAsUTF8() throws {
        #expect(try POP3Command.user("jürgen").encoded() == Array("USER jürgen\r\n".utf8))
        #expect(try POP3Command.pass("pässwörd-日本").encoded() == Array("PASS pässwörd-日本\r\n".utf8))
    }

    @Test func argumentsThatWouldInjectACommandAreRefused() {
        let bad: [(POP3Command, String)] = [
            (.user("bench\r\nDELE 1"), "USER argument"), (.user("bench\nDELE 1"), "USER argument"),
            (.user("bench\rx"), "USER argument"), (.pass("pw\0"), "PASS argument"), (.user(""), "USER argument"),
            (.pass(""), "PASS argument"), (.retr(0), "RETR message number"), (.dele(-1), "DELE message number"),
            (.list(0), "LIST message number"), (.uidl(-5), "UIDL message number"),
            (.top(1, lines: -1), "TOP line count"), (.top(0, lines: 1), "TOP message number"),
            (.auth(mechanism: "PLAIN\r\nDELE 1", initialResponse: nil), "AUTH mechanism"),
            (.auth(mechanism: "plain", initialResponse: nil), "AUTH mechanism"),
            (.auth(mechanism: "", initialResponse: nil), "AUTH mechanism"),
            (.auth(mechanism: String(repeating: "A", count: 21), initialResponse: nil), "AUTH mechanism"),
        ]
        for (command, context) in bad {
            let error = #expect(throws: POP3ProtocolError.self, "\(command)") { try command.encoded() }
            #expect(error?.context == context)
            if case .invalidArgument = error?.kind {} else { Issue.record("wrong kind for \(command)") }
        }
    }

    @Test func descriptionsNeverShowPasswordsOrSASLData() throws {
        let secret = "hunter2-geheim"
        let exchange = try SASLExchange.plain(username: "bench", password: secret)
        let commands: [POP3Command] = [
            .pass(secret), .auth(mechanism: "PLAIN", initialResponse: exchange.initialResponse),
            .authResponse(exchange.initialResponse!),
        ]
        for command in commands {
            var dumped = ""
            dump(command, to: &dumped)
            for text in [
                command.description, command.debugDescription, "\(command)", String(reflecting: command), dumped,
            ] {
                #expect(!text.contains("hunter2"), "\(text)")
                #expect(!text.contains(SASLBase64.encodedString(exchange.initialResponse!)), "\(text)")
            }
        }
        let error = #expect(throws: POP3ProtocolError.self) { try POP3Command.pass("hunter2\r\n").encoded() }
        #expect(error.map { !$0.description.contains("hunter2") } == true)
    }

    @Test func initialResponseFitsFollowsRFC5034Limit() throws {
        // "AUTH PLAIN " + base64 + CRLF: 11 + 4⌈n/3⌉ + 2 ≤ 255 → n ≤ 180 (253 octets; 181 bytes make 257).
        #expect(
            POP3Command.initialResponseFits(mechanism: "PLAIN", initialResponse: [UInt8](repeating: 65, count: 180)))
        #expect(
            !POP3Command.initialResponseFits(mechanism: "PLAIN", initialResponse: [UInt8](repeating: 65, count: 181)))
        let line = try POP3Command.auth(mechanism: "PLAIN", initialResponse: [UInt8](repeating: 65, count: 180))
            .encoded()
        #expect(line.count == 253)
        // A Microsoft-sized token does not fit: the driver sends AUTH XOAUTH2 alone and answers the empty challenge.
        let jwt = String(repeating: "eyJ0eXAiOiJKV1Qi", count: 80)
        let exchange = try SASLExchange.xoauth2(username: "support@contoso.example", accessToken: jwt)
        #expect(!POP3Command.initialResponseFits(mechanism: "XOAUTH2", initialResponse: exchange.initialResponse!))
    }

    @Test func authStartingAnExchangeSendsTheInitialResponseOnlyWhenItFits() throws {
        var plain = try SASLExchange.plain(username: "bench", password: "benchpw")
        #expect(
            POP3Command.auth(starting: &plain)
                == .auth(mechanism: "PLAIN", initialResponse: Array("\0bench\0benchpw".utf8)))
        #expect(plain.phase == .credentialsSent)

        var login = try SASLExchange.login(username: "bench", password: "benchpw")
        #expect(POP3Command.auth(starting: &login) == .auth(mechanism: "LOGIN", initialResponse: nil))
        #expect(login.phase == .started)

        let jwt = String(repeating: "eyJ0eXAiOiJKV1Qi", count: 80)
        var xoauth2 = try SASLExchange.xoauth2(username: "support@contoso.example", accessToken: jwt)
        #expect(POP3Command.auth(starting: &xoauth2) == .auth(mechanism: "XOAUTH2", initialResponse: nil))
        #expect(try xoauth2.respond(toChallenge: []) == xoauth2.initialResponse)
    }

    @Test func responseKindsMatchTheCommands() {
        #expect(POP3Command.capa.responseKind == .capabilityListing)
        #expect(POP3Command.list(nil).responseKind == .scanListing)
        #expect(POP3Command.list(1).responseKind == .status)
        #expect(POP3Command.uidl(nil).responseKind == .uniqueIDListing)
        #expect(POP3Command.uidl(1).responseKind == .status)
        #expect(POP3Command.retr(1).responseKind == .messageBody)
        #expect(POP3Command.top(1, lines: 0).responseKind == .messageBody)
        #expect(POP3Command.auth(mechanism: "LOGIN", initialResponse: nil).responseKind == .authenticationStep)
        #expect(POP3Command.authResponse([]).responseKind == .authenticationStep)
        #expect(POP3Command.authCancel.responseKind == .authenticationStep)
        for command in [POP3Command.stls, .user("u"), .pass("p"), .stat, .dele(1), .noop, .rset, .quit] {
            #expect(command.responseKind == .status)
        }
    }
}
