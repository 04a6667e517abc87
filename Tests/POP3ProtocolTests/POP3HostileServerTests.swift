import POP3Protocol
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A parser past the greeting with `kinds` declared.
private func parser(
    _ kinds: [POP3ResponseKind], limits: POP3ParserLimits = POP3ParserLimits()
) throws -> POP3ResponseParser {
    var parser = POP3ResponseParser(limits: limits)
    _ = try parser.parse(bytes("+OK ready\r\n"))
    for kind in kinds { parser.expect(kind) }
    return parser
}

private func failure(
    _ kinds: [POP3ResponseKind], _ input: [UInt8], limits: POP3ParserLimits = POP3ParserLimits()
) throws -> POP3ProtocolError? {
    var parser = try parser(kinds, limits: limits)
    do {
        _ = try parser.parse(input)
        return nil
    } catch {
        // Dead after an error: the same error again, whatever comes next.
        #expect(throws: error) { try parser.parse(bytes("+OK\r\n")) }
        #expect(parser.failure == error)
        return error
    }
}

@Suite("POP3 responses: status lines and response codes")
struct POP3StatusLineTests {
    @Test func extendedResponseCodesAreParsed() throws {
        var parser = try parser(Array(repeating: .status, count: 7))
        let events = try parser.parse(
            bytes(
                "-ERR [IN-USE] Do you have another POP session running?\r\n"
                    + "-ERR [LOGIN-DELAY] wait 900 seconds\r\n-ERR [SYS/TEMP] disk full\r\n"
                    + "-err [SYS/PERM] mailbox is corrupt\r\n-ERR [AUTH] bad password\r\n"
                    + "-ERR [SYS TEMP] not a code\r\n+OK [UTF8/extra] fine\r\n"))
        let lines = events.map { event -> POP3StatusLine? in
            switch event {
            case .ok(let line), .error(let line): return line
            default: return nil
            }
        }
        #expect(
            lines.map { $0?.code?.meaning } == [
                .inUse, .loginDelay, .temporarySystemFailure, .permanentSystemFailure, .authenticationFailure, nil,
                .other,
            ])
        #expect(lines[0]?.text == "Do you have another POP session running?")
        #expect(lines[2]?.code?.levels == ["SYS", "TEMP"])
        #expect(lines[5]?.text == "[SYS TEMP] not a code")
        #expect(lines[6]?.code?.description == "[UTF8/extra]")
    }

    @Test func statusLinesWithoutTextAndWithBareLineFeedsAreRead() throws {
        var parser = try parser([.status, .status, .status])
        #expect(
            try parser.parse(bytes("+OK\r\n-ERR\n+OK   spaced \r\n")) == [
                .ok(POP3StatusLine(text: "")), .error(POP3StatusLine(text: "")), .ok(POP3StatusLine(text: "  spaced ")),
            ])
    }

    @Test func nonASCIIStatusTextIsKeptRaw() throws {
        var parser = try parser([.status])
        #expect(
            try parser.parse(bytes("-ERR Passwort falsch für jürgen\r\n"))
                == [.error(POP3StatusLine(text: "Passwort falsch für jürgen"))])
    }

    @Test func aStatusLineUpToTheLimitIsAcceptedAndOneMoreByteIsNot() throws {
        let limit = POP3ParserLimits().statusLineBytes
        let longest = "-ERR " + String(repeating: "x", count: limit - 7) + "\r\n"
        #expect(longest.utf8.count == limit)
        var fine = try parser([.status])
        #expect(try fine.parse(bytes(longest)).count == 1)
        let error = try failure([.status], bytes("-ERR x" + String(repeating: "x", count: limit - 7) + "\r\n"))
        #expect(error?.kind == .lineTooLong(limit: limit))
        #expect(error?.context == "status line of a status response")
        #expect(error?.streamOffset == 11)
        #expect(error.map { $0.excerpt.hasPrefix("-ERR xxx") && $0.excerpt.hasSuffix("…") } == true)
    }

    @Test func anEndlessLineFailsAtTheLimitWithoutBufferingMore() throws {
        var parser = try parser([.status])
        var thrown: POP3ProtocolError?
        for _ in 0..<100 {
            do { _ = try parser.parse([UInt8](repeating: 0x41, count: 1000)) } catch {
                thrown = error
                break
            }
        }
        #expect(thrown?.kind == .lineTooLong(limit: 8192))
    }

    @Test func garbageIsAMalformedStatusLineWithEscapedContext() throws {
        let error = try failure([.status], bytes("HTTP/1.1 400 Bad Request\u{1B}[2J\r\n"))
        #expect(error?.kind == .malformedStatusLine)
        #expect(error?.excerpt == "HTTP/1.1 400 Bad Request\\u{1B}[2J")
        #expect(error?.description.contains("at byte 11") == true)
        #expect(try failure([.status], bytes("+OKAY\r\n"))?.kind == .malformedStatusLine)
        #expect(try failure([.status], bytes("+ aGk=\r\n"))?.kind == .malformedStatusLine)  // only during AUTH
    }

    @Test func challengesMustBeBase64() throws {
        var parser = try parser([.authenticationStep, .authenticationStep])
        #expect(try parser.parse(bytes("+ \r\n+\r\n")) == [.saslChallenge([]), .saslChallenge([])])
        let error = try failure([.authenticationStep], bytes("+ not base64!\r\n"))
        guard case .invalidChallenge? = error?.kind else {
            Issue.record("\(String(describing: error))")
            return
        }
    }

    @Test func bytesNobodyAskedForAreHeldUpToTheLimit() throws {
        var parser = try parser([])
        #expect(try parser.parse(bytes("+OK early\r\n")) == [])
        #expect(parser.bufferedByteCount == 11)
        parser.expect(.status)
        #expect(try parser.parse([]) == [.ok(POP3StatusLine(text: "early"))])
        #expect(parser.bufferedByteCount == 0)
        let error = try failure([], [UInt8](repeating: 0x2B, count: 8193))
        #expect(error?.kind == .unsolicitedData(limit: 8192))
    }
}

@Suite("POP3 responses: hostile listings")
struct POP3HostileListingTests {
    @Test func uidlEntriesAreValidated() throws {
        let bad: [(String, POP3ProtocolError.Kind)] = [
            ("1 " + String(repeating: "a", count: 71), .invalidUniqueID),
            ("1 abc\u{7F}", .invalidUniqueID),
            ("1 äbc", .invalidUniqueID),
            ("1", .malformedListingLine),
            ("0 abc", .malformedListingLine),
            ("-1 abc", .malformedListingLine),
            ("x abc", .malformedListingLine),
            ("1 abc def", .malformedListingLine),
            ("1234567890123456789 abc", .malformedListingLine),
            ("", .malformedListingLine),
        ]
        for (line, kind) in bad {
            let error = try failure([.uniqueIDListing], bytes("+OK\r\n1 fine\r\n" + line + "\r\n.\r\n"))
            #expect(error?.kind == kind, "\(line.debugDescription)")
            #expect(error?.context == "UIDL listing line 2", "\(line.debugDescription)")
            #expect(error?.streamOffset == 11 + 5 + 8, "\(line.debugDescription)")
        }
        var parser = try parser([.uniqueIDListing])
        let longest = String(repeating: "~", count: 70)
        #expect(
            try parser.parse(bytes("+OK\r\n1 \(longest)\r\n2\t!\r\n3 x  \r\n.\r\n")).last
                == .uniqueIDListing([
                    POP3UniqueIDEntry(messageNumber: 1, uniqueID: longest),
                    POP3UniqueIDEntry(messageNumber: 2, uniqueID: "!"),
                    POP3UniqueIDEntry(messageNumber: 3, uniqueID: "x"),
                ]))
    }

    @Test func duplicatesInOneListingAreRefused() throws {
        let sameID = try failure([.uniqueIDListing], bytes("+OK\r\n1 a\r\n2 b\r\n3 a\r\n.\r\n"))
        #expect(sameID?.kind == .duplicateUniqueID("a"))
        #expect(sameID?.context == "UIDL listing line 3")
        let sameNumber = try failure([.uniqueIDListing], bytes("+OK\r\n1 a\r\n1 b\r\n.\r\n"))
        #expect(sameNumber?.kind == .duplicateMessageNumber(1))
        let sameScan = try failure([.scanListing], bytes("+OK\r\n1 10\r\n2 20\r\n2 30\r\n.\r\n"))
        #expect(sameScan?.kind == .duplicateMessageNumber(2))
    }

    @Test func scanListingsAllowTrailingInformationButNotGarbage() throws {
        var parser = try parser([.scanListing])
        #expect(
            try parser.parse(bytes("+OK 2 messages\r\n1 120 extra info\r\n2 0\r\n.\r\n")).last
                == .scanListing([POP3ScanEntry(messageNumber: 1, size: 120), POP3ScanEntry(messageNumber: 2, size: 0)]))
        for line in ["1", "1 -5", "1 12x", "1 99999999999999999999", "one 5"] {
            let error = try failure([.scanListing], bytes("+OK\r\n\(line)\r\n.\r\n"))
            #expect(error?.kind == .malformedListingLine, "\(line)")
        }
    }

    @Test func listingLinesAndListingsAreCapped() throws {
        let longLine = "1 " + String(repeating: "9", count: 1100)
        #expect(
            try failure([.scanListing], bytes("+OK\r\n\(longLine)\r\n.\r\n"))?.kind == .lineTooLong(limit: 1024))
        let limits = POP3ParserLimits(listingEntries: 1000, listingBytes: 1 << 20)
        var entries = (1...1000).map { "\($0) uid-\($0)\r\n" }.joined()
        var fine = try parser([.uniqueIDListing], limits: limits)
        guard case .uniqueIDListing(let all)? = try fine.parse(bytes("+OK\r\n" + entries + ".\r\n")).last else {
            Issue.record("no listing")
            return
        }
        #expect(all.count == 1000)
        entries += "1001 uid-1001\r\n"
        #expect(
            try failure([.uniqueIDListing], bytes("+OK\r\n" + entries + ".\r\n"), limits: limits)?.kind
                == .listingTooLarge(limit: 1000))
        let small = POP3ParserLimits(listingBytes: 4096)
        let many = (1...1000).map { "\($0) \($0)\r\n" }.joined()
        #expect(
            try failure([.scanListing], bytes("+OK\r\n" + many + ".\r\n"), limits: small)?.kind
                == .listingTooLarge(limit: 4096))
    }

    /// 200,000 Dovecot-style entries (5.3 MB) in 64 KiB chunks: parsed whole, and one entry over a cap of exactly
    /// 200,000 is refused. (The default cap is 1,000,000; a debug build parses about 40,000 entries a second.)
    @Test func aLargeUIDLListingParsesUpToItsCap() throws {
        let total = 200_000
        var wire = bytes("+OK\r\n")
        wire.reserveCapacity(total * 27)
        for number in 1...total {
            wire += bytes("\(number) \(String(number, radix: 16, uppercase: true))0000000\(number % 10)6b13d108\r\n")
        }
        wire += bytes(".\r\n")
        let limits = POP3ParserLimits(listingEntries: total)
        var listing = try parser([.uniqueIDListing], limits: limits)
        var count = 0
        var start = 0
        while start < wire.count {
            let end = min(wire.count, start + 65536)
            for event in try listing.parse(wire[start..<end]) {
                if case .uniqueIDListing(let entries) = event { count = entries.count }
            }
            start = end
        }
        #expect(count == total)
        let error = try failure(
            [.uniqueIDListing], Array(wire.dropLast(3)) + bytes("\(total + 1) z\r\n.\r\n"), limits: limits)
        #expect(error?.kind == .listingTooLarge(limit: total))
    }

    @Test func capabilityLinesAreSplitAndStuffedLinesUnstuffed() throws {
        var parser = try parser([.capabilityListing])
        #expect(
            try parser.parse(bytes("+OK\r\nsasl PLAIN XOAUTH2\r\n\r\nLOGIN-DELAY 900\r\n..odd\r\n.\r\n")).last
                == .capabilities([
                    POP3Capability(name: "SASL", arguments: ["PLAIN", "XOAUTH2"]),
                    POP3Capability(name: "LOGIN-DELAY", arguments: ["900"]), POP3Capability(name: ".ODD"),
                ]))
    }
}

@Suite("POP3 responses: streamed message bodies")
struct POP3BodyStreamTests {
    /// Parses `+OK` + `wire`, cut at every single position, and checks body and what follows.
    private func checkEverySplit(_ wire: String, body expected: [UInt8], then next: POP3Event? = nil) throws {
        try checkEverySplit(bytes(wire), body: expected, then: next)
    }

    private func checkEverySplit(_ wire: [UInt8], body expected: [UInt8], then next: POP3Event? = nil) throws {
        let input = bytes("+OK\r\n") + wire
        for split in 0...input.count {
            var feeder = ChunkFeeder(try parser([.messageBody, .status]))
            try feeder.feed(input[..<split])
            try feeder.feed(input[split...])
            var expectedEvents: [POP3Event] = [.ok(POP3StatusLine(text: ""))]
            if !expected.isEmpty { expectedEvents.append(.bodyBytes(expected)) }
            expectedEvents.append(.bodyEnd(byteCount: expected.count))
            if let next { expectedEvents.append(next) }
            #expect(feeder.events == expectedEvents, "split at \(split)")
        }
    }

    @Test func terminatorIsFoundWhereverTheChunkBoundaryFalls() throws {
        try checkEverySplit(
            "Subject: x\r\n\r\nbody\r\n.\r\n+OK next\r\n", body: bytes("Subject: x\r\n\r\nbody\r\n"),
            then: .ok(POP3StatusLine(text: "next")))
        try checkEverySplit(".\r\n", body: [])
    }

    @Test func dotUnstuffingKeepsEverythingElse() throws {
        try checkEverySplit(
            "..\r\n...\r\n.x\r\n. \r\n.\rz\r\nmid.dle\r\n.\r\n", body: bytes(".\r\n..\r\nx\r\n \r\n\rz\r\nmid.dle\r\n"))
    }

    @Test func bareLineFeedsAndEightBitBytesArePreservedExactly() throws {
        let wire: [UInt8] =
            bytes("a\nb\r\n\u{0}\u{1}") + [0xFF, 0xFE, 0x80, 0x0D, 0x0D, 0x0A] + bytes("..x\n.y\n.\r\n")
        let expected: [UInt8] = bytes("a\nb\r\n\u{0}\u{1}") + [0xFF, 0xFE, 0x80, 0x0D, 0x0D, 0x0A] + bytes(".x\ny\n")
        try checkEverySplit(wire, body: expected)
    }

    @Test func aBodyThatNeverEndsIsCountedNotBuffered() throws {
        var parser = try parser([.messageBody])
        _ = try parser.parse(bytes("+OK\r\n"))
        let chunk = [UInt8](repeating: 0x61, count: 65535) + [0x0A]
        var delivered = 0
        for _ in 0..<200 {
            for event in try parser.parse(chunk) {
                guard case .bodyBytes(let part) = event else {
                    Issue.record("unexpected \(event)")
                    continue
                }
                delivered += part.count
            }
            #expect(parser.bufferedByteCount == 0)
            #expect(parser.currentBodyByteCount == delivered)
        }
        #expect(delivered == 200 * 65536)
        #expect(!parser.isBetweenResponses)
    }

    @Test func pipelinedResponsesAreMatchedToTheirDeclaredKindsInOrder() throws {
        // 5,000 pipelined RETR and DELE (RFC 2449 PIPELINING), declared while earlier answers are still arriving.
        var parser = try parser([])
        var wire: [UInt8] = []
        for number in 1...5_000 {
            wire += bytes("+OK\r\nmessage \(number)\r\n.\r\n+OK Marked to be deleted.\r\n")
        }
        var events: [POP3Event] = []
        var start = 0
        var declared = 0
        while start < wire.count {
            while declared < 5_000, declared * 46 <= start + 4096 {
                parser.expect(.messageBody)
                parser.expect(.status)
                declared += 1
            }
            let end = min(wire.count, start + 997)
            events += try parser.parse(wire[start..<end])
            start = end
        }
        #expect(parser.pendingExpectationCount == 0)
        #expect(parser.isBetweenResponses)
        let bodies = events.compactMap { event -> String? in
            if case .bodyBytes(let body) = event { return String(decoding: body, as: UTF8.self) }
            return nil
        }
        #expect(bodies.count >= 5_000)
        #expect(bodies.joined() == (1...5_000).map { "message \($0)\r\n" }.joined())
        #expect(events.filter { $0 == .ok(POP3StatusLine(text: "Marked to be deleted.")) }.count == 5_000)
    }

    @Test func anErrorInsteadOfABodyEndsTheResponse() throws {
        var parser = try parser([.messageBody, .status])
        #expect(
            try parser.parse(bytes("-ERR [SYS/TEMP] try later\r\n+OK\r\n")) == [
                .error(POP3StatusLine(code: POP3ResponseCode(levels: ["SYS", "TEMP"]), text: "try later")),
                .ok(POP3StatusLine(text: "")),
            ])
    }
}
