import IMAPProtocol
import TestSupport
import Testing

/// The response grammar, one construct at a time.
@Suite("Response parser")
struct ResponseParserTests {
    @Test func greetings() throws {
        let ok = try ParserDriver.run(Array("* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n".utf8)).events
        #expect(
            ok == [
                .greeting(
                    IMAPResponseCondition(
                        status: .ok, code: .capability(IMAPCapabilities(["IMAP4rev1", "IDLE"])), text: "ready"))
            ])
        let preauth = try ParserDriver.run(Array("* PREAUTH hi\r\n".utf8)).events
        #expect(preauth == [.greeting(IMAPResponseCondition(status: .preauth, text: "hi"))])
        let bye = try ParserDriver.run(Array("* BYE [UNAVAILABLE] too busy\r\n".utf8)).events
        #expect(bye == [.greeting(IMAPResponseCondition(status: .bye, code: .unavailable, text: "too busy"))])
        for bad in ["* NO go away\r\n", "a1 OK x\r\n", "+ go\r\n", "* 1 EXISTS\r\n"] {
            #expect(ParserDriver.error(Array(bad.utf8), expectGreeting: true)?.kind == .unexpectedGreeting, "\(bad)")
        }
    }

    @Test func taggedCompletionsAndCodes() throws {
        let events = try ParserDriver.events(
            "a1 OK [READ-WRITE] Select completed\r\n" + "a2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
                + "a3 BAD Error in IMAP command\r\n" + "a4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
                + "a5 OK [APPENDUID 38505 3955] APPEND completed\r\n" + "a6 NO [TRYCREATE] no such mailbox\r\n"
                + "a7 NO [NONEXISTENT] gone\r\n" + "a8 OK [X-FOO bar baz] odd\r\n" + "a9 OK\r\n"
                + "* OK [ALERT] System shutdown in 10 minutes\r\n" + "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
                + "* BYE [UNAVAILABLE] later\r\n")
        #expect(
            events[0]
                == .tagged(tag: "a1", IMAPResponseCondition(status: .ok, code: .readWrite, text: "Select completed")))
        #expect(
            events[1]
                == .tagged(
                    tag: "a2",
                    IMAPResponseCondition(status: .no, code: .authenticationFailed, text: "Authentication failed.")))
        #expect(events[2] == .tagged(tag: "a3", IMAPResponseCondition(status: .bad, text: "Error in IMAP command")))
        let copy = IMAPResponseCode.copyUID(
            uidValidity: 38505, source: IMAPUIDSet(ranges: [.init(304, 304), .init(319, 320)]),
            destination: IMAPUIDSet(ranges: [.init(3956, 3958)]))
        #expect(events[3] == .tagged(tag: "a4", IMAPResponseCondition(status: .ok, code: copy, text: "Done")))
        if case .tagged(_, let condition) = events[3], case .copyUID(_, let source, let destination)? = condition.code {
            #expect(source.uids() == [304, 319, 320] && destination.uids() == [3956, 3957, 3958])
        }
        #expect(
            events[4]
                == .tagged(
                    tag: "a5",
                    IMAPResponseCondition(
                        status: .ok, code: .appendUID(uidValidity: 38505, uids: IMAPUIDSet([3955])),
                        text: "APPEND completed")))
        #expect(
            events[5]
                == .tagged(tag: "a6", IMAPResponseCondition(status: .no, code: .tryCreate, text: "no such mailbox")))
        #expect(events[6] == .tagged(tag: "a7", IMAPResponseCondition(status: .no, code: .nonexistent, text: "gone")))
        #expect(
            events[7]
                == .tagged(
                    tag: "a8",
                    IMAPResponseCondition(status: .ok, code: .other(name: "X-FOO", text: "bar baz"), text: "odd")))
        #expect(events[8] == .tagged(tag: "a9", IMAPResponseCondition(status: .ok, text: "")))
        #expect(
            events[9]
                == .untagged(
                    .condition(IMAPResponseCondition(status: .ok, code: .alert, text: "System shutdown in 10 minutes")))
        )
        #expect(
            events[10]
                == .untagged(
                    .condition(
                        IMAPResponseCondition(status: .ok, code: .uidValidity(3_857_529_045), text: "UIDs valid"))))
        #expect(
            events[11] == .untagged(.condition(IMAPResponseCondition(status: .bye, code: .unavailable, text: "later"))))
        // Codes print as the server wrote them, for log lines that quote the server.
        let printed = events.compactMap { event -> String? in
            switch event {
            case .tagged(_, let condition), .untagged(.condition(let condition)): return condition.code?.description
            default: return nil
            }
        }
        #expect(
            printed == [
                "READ-WRITE", "AUTHENTICATIONFAILED", "COPYUID 38505 304,319:320 3956:3958", "APPENDUID 38505 3955",
                "TRYCREATE", "NONEXISTENT", "X-FOO bar baz", "ALERT", "UIDVALIDITY 3857529045", "UNAVAILABLE",
            ])
    }

    @Test func continuationRequests() throws {
        let events = try ParserDriver.events("+ idling\r\n+\r\n+ \r\n+ dGVzdA==\r\n")
        #expect(events.count == 4)
        guard case .continuationRequest(let idling) = events[0], case .continuationRequest(let empty) = events[1],
            case .continuationRequest(let challenge) = events[3]
        else {
            Issue.record("not continuation requests: \(events)")
            return
        }
        #expect(idling.text == "idling")
        #expect(empty.bytes.isEmpty && empty.base64Decoded == [])
        #expect(challenge.base64Decoded == Array("test".utf8))
        #expect(idling.base64Decoded == nil)
    }

    @Test func plaintextAfterTheSTARTTLSGoAheadIsVisible() throws {
        for (bytes, clean) in [
            (Transcripts.server("starttls"), true),
            (Transcripts.server("starttls") + Array("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n".utf8), false),
        ] {
            var parser = IMAPResponseParser()
            parser.feed(bytes)
            while let event = try parser.next() {
                if case .tagged("a1", let condition) = event {
                    #expect(condition.status == .ok)
                    #expect(parser.isAtResponseBoundary == clean)
                    break
                }
            }
        }
    }

    @Test func mailboxDataResponses() throws {
        let events = try ParserDriver.events(
            "* CAPABILITY IMAP4rev1 LITERAL+ AUTH=XOAUTH2 MOVE\r\n" + "* ENABLED CONDSTORE\r\n"
                + "* FLAGS (\\Answered \\Seen $Forwarded)\r\n" + "* 23 EXISTS\r\n* 3 RECENT\r\n* 44 EXPUNGE\r\n"
                + "* LIST (\\HasNoChildren) \"/\" \"Sent Items\"\r\n" + "* LIST (\\Noselect) NIL Archiv\r\n"
                + "* LIST () \"/\" {19}\r\nErledigt/&ANw-ber\"x\r\n" + "* LSUB () \".\" Gel\u{00F6}scht\r\n"
                + "* LIST (\\HasChildren) \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
                + "* STATUS \"Sent Items\" (MESSAGES 231 UIDNEXT 44292 SIZE 99999999999)\r\n"
                + "* VANISHED (EARLIER) 300:310,405,411\r\n" + "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n")
        #expect(
            events[0] == .untagged(.capability(IMAPCapabilities(["IMAP4rev1", "LITERAL+", "AUTH=XOAUTH2", "MOVE"]))))
        #expect(events[1] == .untagged(.enabled(["CONDSTORE"])))
        #expect(events[2] == .untagged(.flags([.answered, .seen, IMAPFlag("$Forwarded")])))
        #expect(events[3...5] == [.untagged(.exists(23)), .untagged(.recent(3)), .untagged(.expunge(44))])
        #expect(
            events[6]
                == .untagged(
                    .list(
                        IMAPListEntry(
                            attributes: ["\\HasNoChildren"], delimiter: "/", mailbox: IMAPMailboxName("Sent Items")))))
        #expect(
            events[7]
                == .untagged(
                    .list(IMAPListEntry(attributes: ["\\Noselect"], delimiter: nil, mailbox: IMAPMailboxName("Archiv")))
                ))
        guard case .untagged(.list(let literalName)) = events[8], case .untagged(.list(let utf8Name)) = events[9] else {
            Issue.record("not LIST")
            return
        }
        #expect(literalName.mailbox.wireBytes == Array("Erledigt/&ANw-ber\"x".utf8))
        #expect(literalName.mailbox.name == "Erledigt/Über\"x")
        #expect(utf8Name.mailbox.name == "Gelöscht")  // a UTF8=ACCEPT server's raw UTF-8 name
        #expect(
            events[10]
                == .untagged(
                    .list(IMAPListEntry(attributes: ["\\HasChildren"], delimiter: "/", mailbox: IMAPMailboxName("Foo")))
                ))
        var status = IMAPMailboxStatus()
        status.messages = 231
        status.uidNext = 44292
        status.size = 99_999_999_999
        #expect(events[11] == .untagged(.status(IMAPMailboxName("Sent Items"), status)))
        #expect(
            events[12]
                == .untagged(
                    .vanished(IMAPUIDSet(ranges: [.init(300, 310), .init(405, 405), .init(411, 411)]), earlier: true)))
        #expect(events[13] == .untagged(.other(name: "NAMESPACE", text: "((\"\" \"/\")) NIL NIL")))
    }

    @Test func searchResponsesStreamTheirNumbers() throws {
        let events = try ParserDriver.events(
            "* SEARCH\r\n* SEARCH 2 84 882\r\n* search 5\r\n* SEARCH 2 5 6 (MODSEQ 917162500)\r\n"
                + "* ESEARCH (TAG \"a5\") UID COUNT 0\r\n")
        #expect(events[0] == .untagged(.search([], modSequence: nil)))
        #expect(events[1] == .untagged(.search([2, 84, 882], modSequence: nil)))
        #expect(events[2] == .untagged(.search([5], modSequence: nil)))
        #expect(events[3] == .untagged(.search([2, 5, 6], modSequence: 917_162_500)))
        var extended = IMAPExtendedSearch(tag: "a5", uid: true)
        extended.count = 0
        #expect(events[4] == .untagged(.extendedSearch(extended)))
        // 200,000 UIDs: a 1.3 MB line, far over the line limit, parsed as it arrives with a small buffer.
        let uids = (1...200_000).map { UInt32($0) * 3 }
        let line = Array(("* SEARCH " + uids.map(String.init).joined(separator: " ") + "\r\na1 OK done\r\n").utf8)
        let driver = try ParserDriver.run(line, chunkSizes: [4096], expectGreeting: false)
        #expect(
            driver.events == [
                .untagged(.search(uids, modSequence: nil)),
                .tagged(tag: "a1", IMAPResponseCondition(status: .ok, text: "done")),
            ])
        #expect(driver.maxBuffered <= 4096)
        // Fed one byte at a time, the numbers are still read once each (the test would crawl if not).
        let oneByte = try ParserDriver.run(
            Array(line.prefix(300_000)) + Array("\r\n".utf8), chunkSizes: [1], expectGreeting: false)
        guard case .untagged(.search(let prefix, nil))? = oneByte.events.first else {
            Issue.record("no SEARCH")
            return
        }
        #expect(prefix.count > 40_000 && Array(uids.prefix(prefix.count - 1)) == prefix.dropLast())
    }

    @Test func fetchStreamsTheBodyWithTheUIDAfterIt() throws {
        let message = "Subject: Grüße\r\n\r\nZeile 1\r\n\u{00FF}\r\n"
        let size = message.utf8.count
        let stream =
            "* 12 FETCH (RFC822.SIZE \(size) BODY[] {\(size)}\r\n\(message) UID 4711 FLAGS (\\Seen))\r\na1 OK done\r\n"
        let driver = try ParserDriver.run(Array(stream.utf8), chunkSizes: [5], expectGreeting: false)
        #expect(
            driver.events == [
                .fetchBegin(sequence: 12), .fetchAttribute(.rfc822Size(UInt64(size))),
                .bodyBegin(IMAPBodySection(kind: .body), size: UInt64(size)), .bodyBytes(Array(message.utf8)), .bodyEnd,
                .fetchAttribute(.uid(4711)), .fetchAttribute(.flags([.seen])), .fetchEnd,
                .tagged(tag: "a1", IMAPResponseCondition(status: .ok, text: "done")),
            ])
        // The body came out in pieces of the 5-byte chunks, never as one buffer.
        #expect(driver.bodyChunkSizes.max()! <= 5)
        #expect(driver.maxBuffered <= 80)
    }

    @Test func largeBodyStreamsInTheChunksFedWithBoundedBuffer() throws {
        var random = SplitMix64(seed: 42)
        // 4 MiB with CRLF, bare LF, NUL and every 8-bit value.
        let body = (0..<(4 * 1024 * 1024)).map { index -> UInt8 in
            index % 77 == 75 ? 0x0D : index % 77 == 76 ? 0x0A : UInt8(truncatingIfNeeded: random.next())
        }
        let head = Array("* 1 FETCH (UID 9 RFC822.SIZE \(body.count) BODY[] {\(body.count)}\r\n".utf8)
        let stream = head + body + Array(")\r\na4 OK done\r\n".utf8)
        var parser = IMAPResponseParser(expectGreeting: false)
        var received: [UInt8] = []
        received.reserveCapacity(body.count)
        var maxBuffered = 0
        var events = 0
        let chunkSize = 16 * 1024
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + chunkSize)
            stream[offset..<end].withUnsafeBytes { parser.feed($0) }
            offset = end
            maxBuffered = max(maxBuffered, parser.bufferedByteCount)
            while let event = try parser.next() {
                events += 1
                if case .bodyBytes(let bytes) = event {
                    #expect(bytes.count <= chunkSize)
                    received += bytes
                }
            }
        }
        try parser.finish()
        #expect(received == body)
        #expect(maxBuffered <= chunkSize)
        #expect(events > body.count / chunkSize)
        #expect(parser.isAtResponseBoundary)
        #expect(parser.consumedByteCount == UInt64(stream.count))
    }

    @Test func fetchBodyVariants() throws {
        let events = try ParserDriver.events(
            "* 1 FETCH (UID 1 BODY[] NIL)\r\n" + "* 2 FETCH (BODY[HEADER] \"Subject: x\\\"y\")\r\n"
                + "* 3 FETCH (RFC822 {3}\r\nabc UID 3)\r\n" + "* 4 FETCH (BODY[]<100> {0}\r\n)\r\n"
                + "* 5 FETCH (BINARY[1] ~{2}\r\n\u{1}\u{2})\r\n" + "* 6 FETCH ()\r\n")
        #expect(
            events == [
                .fetchBegin(sequence: 1), .fetchAttribute(.uid(1)), .bodyNil(IMAPBodySection(kind: .body)), .fetchEnd,
                .fetchBegin(sequence: 2), .bodyBegin(IMAPBodySection(kind: .body, section: "HEADER"), size: 12),
                .bodyBytes(Array("Subject: x\"y".utf8)), .bodyEnd, .fetchEnd,
                .fetchBegin(sequence: 3), .bodyBegin(IMAPBodySection(kind: .rfc822), size: 3),
                .bodyBytes(Array("abc".utf8)),
                .bodyEnd, .fetchAttribute(.uid(3)), .fetchEnd,
                .fetchBegin(sequence: 4), .bodyBegin(IMAPBodySection(kind: .body, origin: 100), size: 0), .bodyEnd,
                .fetchEnd,
                .fetchBegin(sequence: 5), .bodyBegin(IMAPBodySection(kind: .binary, section: "1"), size: 2),
                .bodyBytes([1, 2]),
                .bodyEnd, .fetchEnd,
                .fetchBegin(sequence: 6), .fetchEnd,
            ])
    }

    @Test func unknownFetchAttributesAreSkippedWithTheirLiterals() throws {
        let events = try ParserDriver.events(
            "* 1 FETCH (X-GM-LABELS (\\Inbox \"a b\" Entwürfe) X-SECTION BODY[HEADER.FIELDS (A B)]<0> ENVELOPE (NIL {3}\r\nx y NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL) "
                + "BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 3 1 NIL NIL NIL NIL) "
                + "X-UNKNOWN[1] {5}\r\nhello BINARY.SIZE[1] 38 PREVIEW {4}\r\nÄä UID 9)\r\n")
        #expect(events == [.fetchBegin(sequence: 1), .fetchAttribute(.uid(9)), .fetchEnd])
    }

    @Test func literalsInsideNonBodyResponsesAreBuffered() throws {
        let events = try ParserDriver.events("* LIST () \"/\" {6}\r\nfoo\r\nb\r\n")
        #expect(
            events == [
                .untagged(
                    .list(
                        IMAPListEntry(
                            attributes: [], delimiter: "/", mailbox: IMAPMailboxName(wireBytes: Array("foo\r\nb".utf8)))
                    ))
            ])
    }
}
