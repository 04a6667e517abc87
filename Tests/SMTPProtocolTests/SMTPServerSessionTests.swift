import SMTPProtocol
import Testing

private let crlf = "\r\n"

private func transaction(
    from sender: String = "<alice@example.org>", to recipients: [String] = ["<support@example.com>"],
    body: String = "Subject: hi\r\n\r\nHello\r\n"
) -> String {
    "MAIL FROM:\(sender)\r\n" + recipients.map { "RCPT TO:\($0)\r\n" }.joined() + "DATA\r\n" + body + ".\r\n"
}

@Suite("SMTP session: greeting and EHLO/LHLO")
struct GreetingTests {
    @Test func greetingNamesHostAndDialect() {
        let smtp = SessionDriver(dialect: .smtp)
        #expect(smtp.session.greeting.wireText == "220 mx.test ESMTP Postdesk\r\n")
        let lmtp = SessionDriver(dialect: .lmtp)
        #expect(lmtp.session.greeting.wireText == "220 mx.test LMTP Postdesk\r\n")
    }

    @Test func ehloAdvertisesExtensions() throws {
        var driver = SessionDriver(maxMessageSize: 12345, tlsAvailable: true)
        let replies = driver.feed("EHLO client.example\r\n")
        let reply = try #require(replies.first)
        #expect(replies.count == 1)
        #expect(
            reply.wireText
                == "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 12345\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                + "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n")
        #expect(driver.session.info.clientName == "client.example")
    }

    @Test func ehloWithoutTLSDoesNotOfferSTARTTLS() throws {
        var driver = SessionDriver(tlsAvailable: false)
        let reply = try #require(driver.feed("EHLO c\r\n").first)
        #expect(!reply.text.contains("STARTTLS"))
        #expect(reply.text.contains("PIPELINING"))
    }

    @Test func lhloInLMTPAdvertisesButNeverSTARTTLS() throws {
        var driver = SessionDriver(dialect: .lmtp, tlsAvailable: true)
        let reply = try #require(driver.feed("LHLO postfix\r\n").first)
        #expect(reply.code == 250)
        #expect(reply.text.contains("ENHANCEDSTATUSCODES"))
        #expect(!reply.text.contains("STARTTLS"))
    }

    @Test func heloGetsPlainReply() {
        var driver = SessionDriver()
        #expect(driver.feed("HELO client\r\n").map(\.wireText) == ["250 mx.test\r\n"])
    }

    @Test func dialectsRefuseEachOthersGreeting() {
        var lmtp = SessionDriver(dialect: .lmtp)
        #expect(lmtp.feed("EHLO a\r\nHELO a\r\n").statuses == ["500 5.5.1", "500 5.5.1"])
        var smtp = SessionDriver(dialect: .smtp)
        #expect(smtp.feed("LHLO a\r\n").statuses == ["500 5.5.1"])
    }

    @Test func helloNeedsAName() {
        var driver = SessionDriver()
        #expect(driver.feed("EHLO\r\nHELO \r\n").statuses == ["501 5.5.4", "501 5.5.4"])
    }
}

@Suite("SMTP session: transactions")
struct TransactionTests {
    @Test func smtpTransactionDeliversMessage() throws {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\n")
        let replies = driver.feed(transaction())
        #expect(replies.statuses == ["250 2.1.0", "250 2.1.5", "354 -", "250 2.0.0"])
        let delivery = try #require(driver.deliveries.first)
        #expect(delivery.sender == "alice@example.org")
        #expect(delivery.recipients == ["support@example.com"])
        #expect(delivery.data == Array("Subject: hi\r\n\r\nHello\r\n".utf8))
        #expect(delivery.bodyType == .sevenBit)
        #expect(!delivery.smtputf8)
        #expect(delivery.session.clientName == "c")
        #expect(!driver.session.hasTransaction)
    }

    @Test func lmtpRepliesOncePerRecipientInOrder() {
        var driver = SessionDriver(dialect: .lmtp)
        driver.deliveryReplies = { _ in
            [
                SMTPReply(code: 250, enhancedStatus: "2.0.0", "one"),
                SMTPReply(code: 452, enhancedStatus: "4.2.2", "two"),
                SMTPReply(code: 550, enhancedStatus: "5.1.1", "three"),
            ]
        }
        driver.feed("LHLO c\r\n")
        let replies = driver.feed(transaction(to: ["<a@x.test>", "<b@x.test>", "<c@x.test>"]))
        #expect(Array(replies.suffix(3)).map(\.text) == ["one", "two", "three"])
        #expect(driver.deliveries.first?.recipients == ["a@x.test", "b@x.test", "c@x.test"])
    }

    @Test func lmtpPadsMissingBackendRepliesWithTemporaryFailure() {
        var driver = SessionDriver(dialect: .lmtp)
        driver.deliveryReplies = { _ in [SMTPReply(code: 250, enhancedStatus: "2.0.0", "one")] }
        driver.feed("LHLO c\r\n")
        let replies = driver.feed(transaction(to: ["<a@x.test>", "<b@x.test>"]))
        #expect(Array(replies.suffix(2)).statuses == ["250 2.0.0", "451 4.3.0"])
    }

    @Test(arguments: [
        ([250, 250], 250), ([250, 550, 451], 451), ([250, 550], 550), ([550, 452, 451], 452),
    ])
    func smtpCombinesRecipientRepliesIntoOne(codes: [Int], expected: Int) {
        var driver = SessionDriver(dialect: .smtp)
        driver.deliveryReplies = { _ in codes.map { SMTPReply(code: $0, enhancedStatus: nil, "r\($0)") } }
        driver.feed("EHLO c\r\n")
        let replies = driver.feed(transaction(to: codes.indices.map { "<r\($0)@x.test>" }))
        #expect(replies.last?.code == expected)
        #expect(replies.count == codes.count + 3)
    }

    @Test func pipelinedTransactionsInOneWrite() {
        var driver = SessionDriver()
        let input =
            "EHLO c\r\n" + transaction(to: ["<a@x.test>", "<b@x.test>"], body: "first\r\n") + "RSET\r\n"
            + transaction(from: "<>", body: "second\r\n") + "QUIT\r\n"
        let replies = driver.feed(input)
        #expect(
            replies.codes == [250, 250, 250, 250, 354, 250, 250, 250, 250, 354, 250, 221])
        #expect(driver.deliveries.map(\.data) == [Array("first\r\n".utf8), Array("second\r\n".utf8)])
        #expect(driver.deliveries.map(\.sender) == ["alice@example.org", ""])
        #expect(driver.closed)
    }

    @Test func wholeSessionSplitIntoAnyChunkSizeGivesTheSameMessage() {
        let body = "Subject: x\r\n\r\n..stuffed\r\n.\rnot end\r\nline\n.\nbare\r\n\u{0}\u{FF}\r\n"
        let input = Array(("EHLO c\r\n" + transaction(body: body) + "QUIT\r\n").utf8)
        var expected: [UInt8]?
        for chunkSize in [1, 2, 3, 5, 7, 64, input.count] {
            var driver = SessionDriver()
            let replies = driver.feed(bytes: input, chunkSize: chunkSize)
            #expect(replies.codes == [250, 250, 250, 354, 250, 221], "chunk size \(chunkSize)")
            let data = driver.deliveries.first?.data
            #expect(data != nil)
            if expected == nil { expected = data }
            #expect(data == expected, "chunk size \(chunkSize)")
        }
        var unstuffed = Array(body.utf8)
        unstuffed.remove(at: Array(body.utf8).firstIndex(of: UInt8(ascii: "."))!)
        let firstDotCR = Array("\r\n.\rnot".utf8)
        // ".\rnot end": the leading dot is transparency stuffing too, the CR stays.
        if let start = unstuffed.indices.first(where: { Array(unstuffed[$0...].prefix(firstDotCR.count)) == firstDotCR }
        ) {
            unstuffed.remove(at: start + 2)
        }
        #expect(expected == unstuffed)
    }

    @Test func nullSenderAccepted() {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\n")
        #expect(driver.feed("MAIL FROM:<>\r\n").statuses == ["250 2.1.0"])
        #expect(driver.feed("RCPT TO:<>\r\n").statuses == ["501 5.1.3"])
    }

    @Test func postmasterWithoutDomainAndQuotedLocalPart() {
        var driver = SessionDriver()
        var received: [String] = []
        driver.validate = {
            received.append($0); return nil
        }
        driver.feed("EHLO c\r\nMAIL FROM:<\"john doe\"@example.org>\r\n")
        let replies = driver.feed("RCPT TO:<Postmaster>\r\nRCPT TO:<@relay.test:user@x.test>\r\n")
        #expect(replies.statuses == ["250 2.1.5", "250 2.1.5"])
        #expect(received == ["Postmaster", "user@x.test"])
    }

    @Test func spaceAfterColonTolerated() {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\n")
        #expect(driver.feed("mail from: <a@b.test>\r\nrcpt to: <c@d.test>\r\n").codes == [250, 250])
    }

    @Test func unknownRecipientGetsBackendReply() {
        var driver = SessionDriver()
        driver.validate = { $0 == "nobody@x.test" ? .unknownRecipient($0) : nil }
        driver.route = { "queue-of-\($0)" }
        driver.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\n")
        let replies = driver.feed("RCPT TO:<nobody@x.test>\r\nRCPT TO:<ok@x.test>\r\nDATA\r\nx\r\n.\r\n")
        #expect(replies.statuses == ["550 5.1.1", "250 2.1.5", "354 -", "250 2.0.0"])
        #expect(driver.deliveries.first?.recipients == ["ok@x.test"])
        // The backend's decision at RCPT comes back with the delivery: nothing is routed twice.
        #expect(driver.deliveries.first?.envelope.recipients.map(\.route) == ["queue-of-ok@x.test"])
    }

    @Test func smtputf8AndEightBitMIME() throws {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\n")
        let replies = driver.feed(
            "MAIL FROM:<jöran@exämple.test> SMTPUTF8 BODY=8BITMIME SIZE=100\r\nRCPT TO:<用户@例子.test>\r\n"
                + "DATA\r\nSubject: Grüße\r\n\r\n€\r\n.\r\n")
        #expect(replies.codes == [250, 250, 354, 250])
        let delivery = try #require(driver.deliveries.first)
        #expect(delivery.smtputf8)
        #expect(delivery.bodyType == .eightBitMIME)
        #expect(delivery.sender == "jöran@exämple.test")
        #expect(delivery.recipients == ["用户@例子.test"])
        #expect(delivery.data == Array("Subject: Grüße\r\n\r\n€\r\n".utf8))
    }

    @Test func utf8AddressToleratedWithoutSMTPUTF8Parameter() {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\n")
        #expect(driver.feed("MAIL FROM:<jöran@example.test>\r\nRCPT TO:<søren@x.test>\r\n").codes == [250, 250])
    }

    @Test func invalidUTF8InCommandRefused() {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\n")
        let replies = driver.feed(bytes: Array("MAIL FROM:<a".utf8) + [0xFF] + Array("@b.test>\r\n".utf8))
        #expect(replies.statuses == ["501 5.5.4"])
    }

    @Test func rsetNoopVrfyHelp() {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\n")
        let replies = driver.feed("RSET\r\nRCPT TO:<x@y.test>\r\nNOOP\r\nVRFY bob\r\nHELP\r\nrset\r\n")
        #expect(replies.statuses == ["250 2.0.0", "503 5.5.1", "250 2.0.0", "252 2.5.0", "214 2.0.0", "250 2.0.0"])
    }

    @Test func ehloResetsTransaction() {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\nEHLO c\r\n")
        #expect(driver.feed("RCPT TO:<x@y.test>\r\n").statuses == ["503 5.5.1"])
    }

    @Test func quitClosesAndIgnoresTheRest() {
        var driver = SessionDriver()
        let replies = driver.feed("QUIT\r\nNOOP\r\n")
        #expect(replies.statuses == ["221 2.0.0"])
        #expect(driver.closed)
        #expect(driver.session.phase == .closed)
    }
}

@Suite("SMTP session: sequence and syntax errors")
struct ErrorTests {
    @Test func commandsOutOfSequence() {
        var driver = SessionDriver()
        #expect(driver.feed("MAIL FROM:<a@b.test>\r\n").statuses == ["503 5.5.1"])
        driver.feed("EHLO c\r\n")
        #expect(driver.feed("RCPT TO:<a@b.test>\r\nDATA\r\n").statuses == ["503 5.5.1", "503 5.5.1"])
        driver.feed("MAIL FROM:<a@b.test>\r\n")
        #expect(driver.feed("MAIL FROM:<a@b.test>\r\n").statuses == ["503 5.5.1"])
        #expect(driver.feed("DATA\r\n").statuses == ["554 5.5.1"])
    }

    @Test func dataWithOnlyRefusedRecipients() {
        var driver = SessionDriver(dialect: .lmtp)
        driver.validate = { .unknownRecipient($0) }
        driver.feed("LHLO c\r\nMAIL FROM:<a@b.test>\r\n")
        #expect(driver.feed("RCPT TO:<x@y.test>\r\nDATA\r\n").statuses == ["550 5.1.1", "554 5.5.1"])
        #expect(driver.session.phase == .command)
    }

    @Test func syntaxErrors() {
        var driver = SessionDriver()
        driver.feed("EHLO c\r\n")
        let replies = driver.feed(
            "MAIL FROM:<not an address>\r\nMAIL FROM:a@b.test\r\nMAIL TO:<a@b.test>\r\nMAIL FROM:<a@b.test>\r\n"
                + "RCPT TO:<two@@x.test>\r\nRCPT TO:<x@y.test\r\nRCPT TO:<.x@y.test>\r\nRCPT TO:<x@-y.test>\r\n"
                + "RCPT TO:<x@y.test> NOTIFY=NEVER\r\nDATA now\r\nFROB\r\n\r\n")
        #expect(
            replies.statuses == [
                "501 5.1.7", "501 5.1.7", "501 5.5.4", "250 2.1.0", "501 5.1.3", "501 5.1.3", "501 5.1.3",
                "501 5.1.3", "555 5.5.4", "501 5.5.4", "500 5.5.1", "500 5.5.2",
            ])
    }

    @Test func mailParameters() {
        var driver = SessionDriver(maxMessageSize: 1000)
        driver.feed("EHLO c\r\n")
        let replies = driver.feed(
            "MAIL FROM:<a@b.test> SIZE=1001\r\nMAIL FROM:<a@b.test> SIZE=abc\r\nMAIL FROM:<a@b.test> BODY=BINARYMIME\r\n"
                + "MAIL FROM:<a@b.test> XFOO=1\r\nMAIL FROM:<a@b.test> SMTPUTF8=yes\r\nMAIL FROM:<a@b.test> SIZE=1000\r\n"
        )
        #expect(replies.statuses == ["552 5.3.4", "501 5.5.4", "501 5.5.4", "555 5.5.4", "501 5.5.4", "250 2.1.0"])
    }

    @Test func tooManyRecipients() {
        var driver = SessionDriver(maxRecipients: 2)
        driver.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\n")
        let replies = driver.feed("RCPT TO:<1@x.test>\r\nRCPT TO:<2@x.test>\r\nRCPT TO:<3@x.test>\r\n")
        #expect(replies.statuses == ["250 2.1.5", "250 2.1.5", "452 4.5.3"])
    }

    @Test func tooManyErrorsCloseTheSession() {
        var driver = SessionDriver(maxErrors: 3)
        let replies = driver.feed("A\r\nB\r\nC\r\nNOOP\r\n")
        #expect(replies.statuses == ["500 5.5.1", "500 5.5.1", "500 5.5.1", "421 4.7.0"])
        #expect(driver.closed)
    }

    @Test func refusedRecipientsCountTowardTheErrorLimitInSMTP() {
        var driver = SessionDriver(maxErrors: 3)
        driver.validate = { $0.hasPrefix("known") ? nil : .unknownRecipient($0) }
        driver.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\n")
        let replies = driver.feed(
            "RCPT TO:<known@x.test>\r\nRCPT TO:<n1@x.test>\r\nRCPT TO:<n2@x.test>\r\nRCPT TO:<n3@x.test>\r\n"
                + "RCPT TO:<known@x.test>\r\n")
        #expect(replies.statuses == ["250 2.1.5", "550 5.1.1", "550 5.1.1", "550 5.1.1", "421 4.7.0"])
        #expect(driver.closed)
        #expect(driver.deliveries.isEmpty)
    }

    /// LMTP's peer is the local MTA relaying what its own checks let through: a 421 would defer the valid
    /// recipients of the same message along with the unknown ones, again at every retry.
    @Test func refusedRecipientsDoNotEndAnLMTPSession() {
        var driver = SessionDriver(dialect: .lmtp, maxRecipients: 50, maxErrors: 3)
        driver.validate = { $0.hasPrefix("known") ? nil : .unknownRecipient($0) }
        driver.feed("LHLO c\r\nMAIL FROM:<a@b.test>\r\n")
        let unknown = (0..<10).map { "RCPT TO:<n\($0)@x.test>\r\n" }.joined()
        let replies = driver.feed(unknown + "RCPT TO:<known@x.test>\r\nDATA\r\nhi\r\n.\r\n")
        #expect(replies.statuses == Array(repeating: "550 5.1.1", count: 10) + ["250 2.1.5", "354 -", "250 2.0.0"])
        #expect(!driver.closed)
        #expect(driver.deliveries.map(\.recipients) == [["known@x.test"]])
    }

    @Test func partialCommandLineIsTimedFromItsFirstOctet() {
        var driver = SessionDriver()
        #expect(driver.session.partialCommandSince == nil)
        let before = ContinuousClock.now
        driver.feed("EHLO c\r\nNO")
        let since = driver.session.partialCommandSince
        #expect(since.map { $0 >= before } == true)
        driver.feed("O")
        #expect(driver.session.partialCommandSince == since, "more octets of the same line keep its start")
        driver.feed("P\r\n")
        #expect(driver.session.partialCommandSince == nil)
        #expect(driver.session.transactionSince == nil)
        driver.feed("MAIL FROM:<a@b.test>\r\n")
        #expect(driver.session.transactionSince != nil)
        driver.feed("RSET\r\n")
        #expect(driver.session.transactionSince == nil)
    }

    @Test func commandLineLimitIs512OctetsIncludingCRLF() {
        var driver = SessionDriver()
        let fits = "NOOP " + String(repeating: "x", count: 512 - 7) + "\r\n"
        let tooLong = "NOOP " + String(repeating: "x", count: 512 - 6) + "\r\n"
        #expect(fits.utf8.count == 512)
        #expect(driver.feed(fits + tooLong + "NOOP\r\n").statuses == ["250 2.0.0", "500 5.5.2", "250 2.0.0"])
    }

    @Test func veryLongCommandLineAcrossReadsIsDiscardedAndReadingContinues() {
        var driver = SessionDriver()
        let input = Array(("EHLO " + String(repeating: "y", count: 5000) + "\r\nNOOP\r\n").utf8)
        #expect(driver.feed(bytes: input, chunkSize: 100).statuses == ["500 5.5.2", "250 2.0.0"])
        var whole = SessionDriver()
        #expect(whole.feed(bytes: input).statuses == ["500 5.5.2", "250 2.0.0"])
    }

    @Test func bareLFEndsCommandLines() {
        var driver = SessionDriver()
        #expect(driver.feed("EHLO c\nNOOP\n").codes == [250, 250])
    }
}

@Suite("SMTP session: DATA")
struct DataTests {
    private func deliver(_ body: [UInt8], driver: inout SessionDriver) -> [SMTPReply] {
        driver.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n")
        return driver.feed(bytes: body)
    }

    @Test(arguments: ["\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\r\n. \r\n"])
    func onlyCRLFDotCRLFEndsData(fakeEnd: String) {
        var driver = SessionDriver()
        let body = "a" + fakeEnd + "MAIL FROM:<smuggled@x.test>\r\n"
        let replies = deliver(Array((body + ".\r\n").utf8), driver: &driver)
        #expect(replies.codes == [250])
        #expect(driver.deliveries.count == 1)
        let data = String(decoding: driver.deliveries[0].data, as: UTF8.self)
        #expect(data.contains("smuggled"))
    }

    @Test func bareLineEndsKeptAsReceived() {
        var driver = SessionDriver()
        _ = deliver(Array("one\ntwo\rthree\r\n.\r\n".utf8), driver: &driver)
        #expect(driver.deliveries.first?.data == Array("one\ntwo\rthree\r\n".utf8))
    }

    @Test func dotUnstuffing() {
        var driver = SessionDriver()
        _ = deliver(Array("..\r\n...x\r\n.y\r\nz.\r\n\n..\r\n.\r\n".utf8), driver: &driver)
        #expect(driver.deliveries.first?.data == Array(".\r\n..x\r\ny\r\nz.\r\n\n..\r\n".utf8))
    }

    @Test func emptyMessage() {
        var driver = SessionDriver()
        #expect(deliver(Array(".\r\n".utf8), driver: &driver).codes == [250])
        #expect(driver.deliveries.first?.data == [])
    }

    @Test func eightBitAndNULBytesPreserved() {
        var driver = SessionDriver()
        var body: [UInt8] = Array(0...255).filter { $0 != 10 && $0 != 13 }
        body += [13, 10, 0, 0, 13, 10]
        _ = deliver(body + Array(".\r\n".utf8), driver: &driver)
        #expect(driver.deliveries.first?.data == body)
    }

    @Test func textLineLimitIs1000OctetsIncludingCRLF() {
        var driver = SessionDriver()
        let fits = String(repeating: "a", count: 998) + "\r\n"
        #expect(deliver(Array((fits + "." + fits + ".\r\n").utf8), driver: &driver).statuses == ["250 2.0.0"])

        var refusing = SessionDriver(dialect: .lmtp)
        refusing.feed("LHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nRCPT TO:<z@y.test>\r\nDATA\r\n")
        let long = String(repeating: "a", count: 999) + "\r\n"
        let replies = refusing.feed(bytes: Array(("x\r\n" + long + "after\r\n.\r\nNOOP\r\n").utf8), chunkSize: 300)
        #expect(replies.statuses == ["554 5.6.0", "554 5.6.0", "250 2.0.0"])
        #expect(refusing.deliveries.isEmpty)
    }

    @Test func oversizeMessageReadToTheEndThenRefused() {
        var driver = SessionDriver(maxMessageSize: 100)
        let body = String(repeating: "0123456789\r\n", count: 50) + ".\r\nNOOP\r\n"
        let replies = deliver(Array(body.utf8), driver: &driver)
        #expect(replies.statuses == ["552 5.3.4", "250 2.0.0"])
        #expect(driver.deliveries.isEmpty)
        #expect(!driver.session.hasTransaction)
    }

    @Test func largeMessagesAreHandedOutInChunksAsTheyArrive() {
        var driver = SessionDriver(maxMessageSize: 1_000_000, spoolThreshold: 4096)
        var lines = ""
        var stuffedWire = ""
        for index in 0..<3000 {
            lines += (index % 7 == 0 ? ".stuffed " : "line ") + "\(index)\r\n"
            stuffedWire += (index % 7 == 0 ? "..stuffed " : "line ") + "\(index)\r\n"
        }
        driver.feed("EHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n")
        let replies = driver.feed(bytes: Array((stuffedWire + ".\r\n").utf8), chunkSize: 1000)
        #expect(replies.statuses == ["250 2.0.0"])
        #expect(driver.spoolChunkSizes.count >= 5)
        #expect(driver.spoolChunkSizes.allSatisfy { $0 >= 4096 && $0 < 4096 + 1000 })
        // The spooled chunks and the rest are the message, dot-unstuffed.
        #expect(driver.deliveries.first?.data == Array(lines.utf8))

        var small = SessionDriver(maxMessageSize: 1_000_000, spoolThreshold: 4096)
        _ = deliver(Array("Subject: small\r\n\r\nhi\r\n.\r\n".utf8), driver: &small)
        #expect(small.spoolChunkSizes.isEmpty, "a message under the threshold never touches the spool")
    }

    @Test func aSpooledMessageOverTheLimitIsDiscardedThenRefused() {
        var driver = SessionDriver(dialect: .lmtp, maxMessageSize: 20_000, spoolThreshold: 4096)
        driver.feed("LHLO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nRCPT TO:<z@y.test>\r\nDATA\r\n")
        let body = String(repeating: "0123456789012345678\r\n", count: 2000) + ".\r\nNOOP\r\n"
        let replies = driver.feed(bytes: Array(body.utf8), chunkSize: 1000)
        #expect(replies.statuses == ["552 5.3.4", "552 5.3.4", "250 2.0.0"])
        #expect(driver.discardedSpools == 1)
        #expect(driver.spool.isEmpty)
        #expect(driver.deliveries.isEmpty)
    }

    @Test func messageOfExactlyMaxSizeAccepted() {
        var driver = SessionDriver(maxMessageSize: 100)
        let body = String(repeating: "012345678\r\n", count: 10)
        #expect(body.utf8.count == 110)
        var exact = SessionDriver(maxMessageSize: 110)
        #expect(deliver(Array((body + ".\r\n").utf8), driver: &exact).codes == [250])
        #expect(deliver(Array((body + ".\r\n").utf8), driver: &driver).codes == [552])
    }
}

@Suite("SMTP session: STARTTLS")
struct StartTLSTests {
    @Test func startTLSResetsSessionAndDiscardsPipelinedPlaintext() throws {
        var driver = SessionDriver(tlsAvailable: true)
        driver.feed("EHLO c\r\n")
        let replies = driver.feed("STARTTLS\r\nMAIL FROM:<injected@x.test>\r\n")
        #expect(replies.statuses == ["220 2.0.0"])
        #expect(driver.tlsStarts == 1)
        #expect(driver.discardedAfterSTARTTLS > 0)
        #expect(driver.session.info.tls)
        // The greeting is forgotten: MAIL needs a new EHLO.
        #expect(driver.feed("MAIL FROM:<a@b.test>\r\n").statuses == ["503 5.5.1"])
        let ehlo = try #require(driver.feed("EHLO c\r\n").first)
        #expect(!ehlo.text.contains("STARTTLS"))
        #expect(driver.feed("STARTTLS\r\n").statuses == ["503 5.5.1"])
    }

    @Test func startTLSUnavailable() {
        var plain = SessionDriver(tlsAvailable: false)
        #expect(plain.feed("EHLO c\r\nSTARTTLS\r\n").statuses.last == "502 5.5.1")
        var lmtp = SessionDriver(dialect: .lmtp, tlsAvailable: true)
        #expect(lmtp.feed("LHLO c\r\nSTARTTLS\r\n").statuses.last == "500 5.5.1")
        var withArgument = SessionDriver(tlsAvailable: true)
        #expect(withArgument.feed("EHLO c\r\nSTARTTLS now\r\n").statuses.last == "501 5.5.4")
    }
}

@Suite("SMTP replies")
struct ReplyTests {
    @Test func multilineWireFormat() {
        let reply = SMTPReply(code: 550, enhancedStatus: "5.1.1", "first\nsecond")
        #expect(reply.wireText == "550-5.1.1 first\r\n550 5.1.1 second\r\n")
    }

    @Test func carriageReturnsCannotInjectReplies() {
        let reply = SMTPReply(code: 250, enhancedStatus: nil, "ok\r\n250 fake")
        #expect(reply.wireText == "250-ok\r\n250 250 fake\r\n")
    }

    @Test func transportRepliesCarryTheirCodes() {
        #expect(SMTPReply.timeout(hostname: "h").wireText.hasPrefix("421 4.4.2 h "))
        #expect(SMTPReply.shuttingDown(hostname: "h").wireText.hasPrefix("421 4.3.2 h "))
        #expect(SMTPReply.tooManyConnections(hostname: "h").wireText.hasPrefix("421 4.3.2 h Too many connections"))
    }
}
