import POP3Protocol
import SASLMechanisms
import TestSupport
import Testing

/// Real Dovecot 2.3 sessions (captured by `Transcripts/capture.py` against a private instance) parsed whole, one
/// byte at a time and in random chunks: the same events every way, and the message bodies equal to the messages
/// delivered into the mailbox.
@Suite("POP3 responses: real Dovecot transcripts")
struct POP3TranscriptTests {
    static func parseWhole(_ fixture: TranscriptFixture) throws -> (events: [POP3Event], parser: POP3ResponseParser) {
        var feeder = ChunkFeeder(fixture.parser())
        try feeder.feed(fixture.server[...])
        return (feeder.events, feeder.parser)
    }

    @Test(arguments: TranscriptFixture.names)
    func byteByByteAndRandomChunksGiveTheSameEvents(name: String) throws {
        let fixture = try TranscriptFixture.load(name)
        let (whole, parser) = try Self.parseWhole(fixture)
        #expect(parser.isBetweenResponses)
        #expect(parser.pendingExpectationCount == 0)
        #expect(parser.bufferedByteCount == 0)
        // Every declared response produced exactly one status event.
        let statusEvents = whole.filter {
            switch $0 {
            case .ok, .error, .saslChallenge: return true
            default: return false
            }
        }
        #expect(statusEvents.count == fixture.kinds.count)

        var single = ChunkFeeder(fixture.parser())
        try single.feed(fixture.server, sizes: { 1 })
        #expect(single.events == whole)

        var generator = SplitMix64(seed: 0x5EED_0000 + UInt64(name.utf8.count))
        for _ in 0..<20 {
            var random = ChunkFeeder(fixture.parser())
            let maximum = [2, 7, 64, 1500, 70_000].randomElement(using: &generator)!
            try random.feed(fixture.server, sizes: { Int.random(in: 1...maximum, using: &generator) })
            #expect(random.events == whole)
        }
    }

    @Test func userPassSessionReadsEveryListingAndBody() throws {
        let fixture = try TranscriptFixture.load("user-pass-retr")
        let (events, _) = try Self.parseWhole(fixture)
        var iterator = events.makeIterator()
        func next() -> POP3Event? { iterator.next() }

        #expect(next() == .ok(POP3StatusLine(text: "Dovecot (Debian) ready.")))
        #expect(next() == .ok(POP3StatusLine(text: "")))
        guard case .capabilities(let capabilities)? = next() else { Issue.record("no CAPA"); return }
        #expect(
            capabilities.map(\.name) == [
                "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE",
                "STLS", "USER", "SASL",
            ])
        #expect(capabilities.saslMechanisms == ["PLAIN", "LOGIN"])
        #expect(next() == .ok(POP3StatusLine(text: "")))  // USER
        #expect(next() == .ok(POP3StatusLine(text: "Logged in.")))
        guard case .ok(let stat)? = next() else { Issue.record("no STAT"); return }
        let messages = try ["1-ascii.eml", "2-non-ascii.eml", "3-eight-bit.eml", "4-big.eml"].map(
            TranscriptFixture.message)
        #expect(
            try POP3MaildropStatus(statusLine: stat)
                == POP3MaildropStatus(messageCount: 4, totalSize: messages.map(\.count).reduce(0, +)))
        #expect(next() == .ok(POP3StatusLine(text: "4 messages:")))
        #expect(
            next() == .scanListing(messages.enumerated().map { POP3ScanEntry(messageNumber: $0 + 1, size: $1.count) }))
        #expect(next() == .ok(POP3StatusLine(text: "")))
        guard case .uniqueIDListing(let uids)? = next() else { Issue.record("no UIDL"); return }
        #expect(uids.map(\.messageNumber) == [1, 2, 3, 4])
        #expect(Set(uids.map(\.uniqueID)).count == 4)
        guard case .ok(let list2)? = next(), case .ok(let uidl3)? = next() else { Issue.record("no LIST 2"); return }
        #expect(try POP3ScanEntry(statusLine: list2) == POP3ScanEntry(messageNumber: 2, size: messages[1].count))
        #expect(try POP3UniqueIDEntry(statusLine: uidl3) == uids[2])
        for message in messages {
            #expect(next() == .ok(POP3StatusLine(text: "\(message.count) octets")))
            #expect(next() == .bodyBytes(message), "body differs from the delivered message")
            #expect(next() == .bodyEnd(byteCount: message.count))
        }
        // TOP 2 0: the header and the empty line; TOP 2 3: and three body lines.
        let header = Array(messages[1].prefix(through: try #require(headerEnd(messages[1]))))
        #expect(next() == .ok(POP3StatusLine(text: "")))
        #expect(next() == .bodyBytes(header))
        #expect(next() == .bodyEnd(byteCount: header.count))
        #expect(next() == .ok(POP3StatusLine(text: "")))
        guard case .bodyBytes(let top3)? = next() else { Issue.record("no TOP 2 3 body"); return }
        #expect(top3.starts(with: header))
        #expect(String(decoding: top3[header.count...], as: UTF8.self).hasPrefix("Grüße aus Köln"))
        #expect(top3[header.count...].split(separator: 0x0A).count == 3)
        #expect(next() == .bodyEnd(byteCount: top3.count))
        #expect(next() == .error(POP3StatusLine(text: "There's no message 99.")))  // RETR 99
        #expect(next() == .error(POP3StatusLine(text: "There's no message 99.")))  // LIST 99
        #expect(next() == .error(POP3StatusLine(text: "There's no message 99.")))  // UIDL 99: no lines follow
        #expect(next() == .ok(POP3StatusLine(text: "Marked to be deleted.")))
        #expect(next() == .error(POP3StatusLine(text: "Message is deleted.")))
        #expect(next() == .ok(POP3StatusLine(text: "")))  // NOOP
        #expect(next() == .ok(POP3StatusLine(text: "")))  // RSET
        #expect(next() == .ok(POP3StatusLine(text: "Logging out.")))
        #expect(next() == nil)
    }

    @Test func dotStuffedLinesComeBackUnstuffed() throws {
        let fixture = try TranscriptFixture.load("user-pass-retr")
        // The wire really was stuffed: "..a line", "...two dots", ".." for the lone dot.
        let wire = String(decoding: fixture.server, as: UTF8.self)
        #expect(wire.contains("\r\n..a line that starts with a dot\r\n...two dots\r\n..\r\n.. dot space\r\n...\r\n"))
        let message = try TranscriptFixture.message("2-non-ascii.eml")
        let (events, _) = try Self.parseWhole(fixture)
        #expect(events.contains(.bodyBytes(message)))
    }

    @Test func authExchangesDriveTheSASLStateMachine() throws {
        // LOGIN: prompts decoded, answers equal what the real client sent.
        let login = try TranscriptFixture.load("auth-login")
        let (events, _) = try Self.parseWhole(login)
        var exchange = try SASLExchange.login(username: "bench", password: "benchpw")
        var sent = try POP3Command.auth(mechanism: "LOGIN", initialResponse: exchange.initialResponse).encoded()
        for event in events {
            if case .saslChallenge(let challenge) = event {
                sent += try POP3Command.authResponse(try exchange.respond(toChallenge: challenge)).encoded()
            }
        }
        #expect(events[1] == .saslChallenge(Array("Username:".utf8)))
        #expect(events[3] == .ok(POP3StatusLine(text: "Logged in.")))
        #expect(login.client.starts(with: sent))

        // PLAIN without an initial response: the empty challenge gets the credentials.
        let plain = try TranscriptFixture.load("auth-plain-challenge")
        let (plainEvents, _) = try Self.parseWhole(plain)
        #expect(plainEvents[1] == .saslChallenge([]))
        var plainExchange = try SASLExchange.plain(username: "bench", password: "benchpw")
        let answer = try plainExchange.respond(toChallenge: [])
        let expected =
            try POP3Command.auth(mechanism: "PLAIN", initialResponse: nil).encoded()
            + POP3Command.authResponse(answer).encoded() + POP3Command.quit.encoded()
        #expect(plain.client == expected)
    }

    @Test func oauthFailuresSurfaceDovecotsJSONAndEndCleanly() throws {
        let fixture = try TranscriptFixture.load("auth-oauth")
        let (events, _) = try Self.parseWhole(fixture)
        var sent: [UInt8] = []
        var outcomes: [POP3Event] = []
        var serverErrors: [SASLServerError?] = []
        let exchanges = [
            try SASLExchange.xoauth2(username: "bench", accessToken: "bad-token"),
            try SASLExchange.oauthBearer(username: "bench", accessToken: "bad-token", host: "localhost", port: 21110),
        ]
        var remaining = events.dropFirst()  // the greeting
        for var exchange in exchanges {
            sent += try POP3Command.auth(
                mechanism: exchange.mechanism.rawValue, initialResponse: exchange.initialResponse
            )
            .encoded()
            exchange.initialResponseSent()
            while case .saslChallenge(let challenge)? = remaining.first {
                remaining = remaining.dropFirst()
                sent += try POP3Command.authResponse(try exchange.respond(toChallenge: challenge)).encoded()
            }
            outcomes.append(remaining.removeFirst())
            serverErrors.append(exchange.serverError)
            #expect(exchange.phase == .failureAcknowledged)
        }
        // A good token, this time without an initial response: the empty challenge gets it.
        var good = try SASLExchange.xoauth2(username: "bench", accessToken: "good-token")
        sent += try POP3Command.auth(mechanism: "XOAUTH2", initialResponse: nil).encoded()
        guard case .saslChallenge(let empty)? = remaining.first else {
            Issue.record("no empty challenge")
            return
        }
        sent += try POP3Command.authResponse(try good.respond(toChallenge: empty)).encoded()
        #expect(remaining.dropFirst().first == .ok(POP3StatusLine(text: "Logged in.")))
        sent += try POP3Command.quit.encoded()

        #expect(sent == fixture.client)
        let refused = POP3StatusLine(code: POP3ResponseCode(levels: ["AUTH"]), text: "Authentication failed.")
        #expect(outcomes == [.error(refused), .error(refused)])
        #expect(serverErrors[0]?.status == "401")
        #expect(serverErrors[0]?.schemes == "bearer")
        #expect(serverErrors[0]?.scope == "mail")
        #expect(serverErrors[0]?.rawText == #"{"status":"401","schemes":"bearer","scope":"mail"}"#)
        #expect(serverErrors[1]?.status == "invalid_token")
    }

    @Test func failuresCarryDovecotsResponseCodes() throws {
        let (events, _) = try Self.parseWhole(try TranscriptFixture.load("auth-failures"))
        let errors = events.compactMap { event -> POP3StatusLine? in
            if case .error(let line) = event { return line }
            return nil
        }
        #expect(
            errors.map(\.code?.meaning) == [
                .authenticationFailure, nil, .authenticationFailure,
                .authenticationFailure, nil,
            ])
        #expect(errors[0].text == "Authentication failed.")
        #expect(errors[1].text == "Authentication aborted by client.")
        #expect(errors[2].text == "Unsupported authentication mechanism.")
    }

    @Test func stlsLeavesNothingBufferedForTheHandshake() throws {
        let fixture = try TranscriptFixture.load("stls")
        var parser = fixture.parser()
        let events = try parser.parse(fixture.server)
        #expect(events.last == .ok(POP3StatusLine(text: "Begin TLS negotiation now.")))
        #expect(parser.bufferedByteCount == 0)
        // A server that pipelines plaintext after its +OK (the STARTTLS injection) is visible to the driver.
        var injected = fixture.parser()
        _ = try injected.parse(fixture.server + Array("+OK injected\r\n".utf8))
        #expect(injected.bufferedByteCount == 14)
    }

    @Test func clientBytesOfTheRealSessionEqualTheEncoder() throws {
        let commands: [POP3Command] = [
            .capa, .user("bench"), .pass("benchpw"), .stat, .list(nil), .uidl(nil), .list(2), .uidl(3), .retr(1),
            .retr(2), .retr(3), .retr(4), .top(2, lines: 0), .top(2, lines: 3), .retr(99), .list(99), .uidl(99),
            .dele(1), .retr(1), .noop, .rset, .quit,
        ]
        let fixture = try TranscriptFixture.load("user-pass-retr")
        #expect(try commands.flatMap { try $0.encoded() } == fixture.client)
        var kinds = commands.map(\.responseKind)
        kinds[16] = .uniqueIDListing  // the capture declared UIDL 99 as a listing on purpose (-ERR ends it)
        #expect([.status] + kinds == fixture.kinds)
    }

    private func headerEnd(_ message: [UInt8]) -> Int? {
        let separator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        guard message.count >= 4 else { return nil }
        for index in 0...(message.count - 4) where message[index..<(index + 4)].elementsEqual(separator) {
            return index + 3
        }
        return nil
    }
}
