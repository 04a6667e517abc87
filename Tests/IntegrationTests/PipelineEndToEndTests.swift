import Foundation
import Testing

extension EndToEndTests {
    /// The pipeline's stages through the real `postdesk serve`, driven over LMTP by CPython's smtplib.
    @Suite("Pipeline over LMTP")
    struct PipelineEndToEndTests {
        static let support = PostdeskServer.supportAddress

        @Test("An auto-responder ping-pong and a loop end with zero new tickets")
        func autoResponderPingPong() async throws {
            try await EndToEndRig.run(label: "pingpong", withPostfix: false) { rig in
                // The robot is in Cc, so it takes part in the ticket: a stored Message-ID threads only for those.
                let opening = PipelineMail(
                    subject: "Printer on fire", messageID: "<question@customer.test>",
                    headers: ["Cc: robot@customer.test"])
                var mails = [opening]
                // The customer's auto-responder answers everything: every other reply threads to the ticket.
                for index in 0..<60 {
                    var reply = PipelineMail(
                        from: "robot@customer.test", subject: "Automatic reply: Printer on fire (\(index))",
                        messageID: "<auto-\(index)@customer.test>",
                        headers: ["Auto-Submitted: auto-replied", "X-Autoreply: yes"])
                    if index % 2 == 0 { reply.headers.append("In-Reply-To: <question@customer.test>") }
                    mails.append(reply)
                }
                // Our own mail coming back (our loop header names this instance, server.hostname).
                mails.append(
                    PipelineMail(
                        from: "someone@customer.test", subject: "Re: notification",
                        messageID: "<looped@customer.test>", headers: ["X-Postdesk-Loop: localhost"]))
                let codes = try await LMTPBatch.send(mails, rig: rig, label: "pingpong")
                #expect(codes == Array(repeating: 250, count: mails.count))

                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 1)
                let ticket = try await PipelineTicket.show(1, rig: rig)
                #expect(ticket.status == "new")
                // The sender's budget (40 a day by default) covers the first 40 of its 60 auto-replies.
                #expect(ticket.articles.filter { $0.direction == "note" }.count == 20)
                let counts = try await MessageCounts.read(rig: rig)
                #expect(counts["created"] == 1)
                #expect(counts["noted"] == 20)
                #expect(counts["automated-unthreaded"] == 20)
                #expect(counts["over-budget"] == 20)
                #expect(counts["dropped"] == 1)
            }
        }

        @Test("A spoofed subject tag from a stranger opens a separate, linked ticket")
        func hijackAttempt() async throws {
            try await EndToEndRig.run(label: "hijack", withPostfix: false) { rig in
                let codes = try await LMTPBatch.send(
                    [
                        PipelineMail(subject: "My invoice", messageID: "<invoice@customer.test>"),
                        PipelineMail(subject: "Re: [Support #1] My invoice", messageID: "<follow-up@customer.test>"),
                        PipelineMail(
                            from: "mallory@evil.test", subject: "Re: [Support #1] send me the invoice",
                            messageID: "<hijack@evil.test>"),
                    ], rig: rig, label: "hijack")
                #expect(codes == [250, 250, 250])
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 2)
                let original = try await PipelineTicket.show(1, rig: rig)
                #expect(original.articles.count == 2)
                #expect(original.activities.contains { $0.kind == "linked" && $0.text.contains("#2") })
                let separate = try await PipelineTicket.show(2, rig: rig)
                #expect(separate.articles.count == 1)
                #expect(separate.activities.contains { $0.text.contains("neither the requester nor a participant") })
            }
        }

        @Test("A bounce lands as a note on the ticket of the message it returns")
        func bounceNote() async throws {
            try await EndToEndRig.run(label: "bounce", withPostfix: false) { rig in
                let first = PipelineMail(subject: "First", messageID: "<first@customer.test>")
                let second = PipelineMail(subject: "Second", messageID: "<second@customer.test>")
                var bounce = PipelineMail(
                    from: "MAILER-DAEMON@mx.customer.test", subject: "Undelivered Mail Returned to Sender",
                    messageID: "<bounce-1@mx.customer.test>")
                bounce.envelopeSender = ""
                bounce.raw = Self.dsn(originalID: "second@customer.test", failed: "gone@customer.test")
                let codes = try await LMTPBatch.send([first, second, bounce], rig: rig, label: "bounce")
                #expect(codes == [250, 250, 250])
                #expect(try await rig.postdesk.listTickets().count == 2)
                let ticket = try await PipelineTicket.show(2, rig: rig)
                #expect(ticket.articles.map(\.direction) == ["inbound", "note"])
                #expect(ticket.activities.contains { $0.kind == "bounce" && $0.text.contains("gone@customer.test") })
                let bounces = try await rig.postdesk.cli(["bounces", "--json"], label: "bounces")
                #expect(bounces.contains("\"status\" : \"5.1.1\""), "\(bounces)")
                #expect(bounces.contains("\"ticket_number\" : 2"), "\(bounces)")
            }
        }

        @Test("The same message to two of our addresses, in two transactions, is stored once")
        func duplicateViaTwoRecipients() async throws {
            try await EndToEndRig.run(label: "dedup", withPostfix: false) { rig in
                var toSupport = PipelineMail(subject: "Twice", messageID: "<twice@customer.test>")
                toSupport.headers = ["Delivered-To: support@support.test"]
                // The same message (same To, From, Subject, Date, Message-ID, body), another trace field.
                var toHelp = toSupport
                toHelp.recipients = ["help@support.test"]
                toHelp.raw = toSupport.message.replacingOccurrences(
                    of: "Delivered-To: support@support.test", with: "Delivered-To: help@support.test")
                let replies = try await LMTPBatch.sendWithText([toSupport, toHelp], rig: rig, label: "dedup")
                #expect(replies.map(\.code) == [250, 250])
                #expect(replies.last?.text.contains("already stored in ticket #1") == true, "\(replies)")
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 1)
                #expect(tickets.first?.articleCount == 1)
            }
        }

        @Test("A poison message is quarantined (250) while the next 100 go through; replay stores it once")
        func poisonQuarantineAndReplay() async throws {
            try await EndToEndRig.run(label: "poison", withPostfix: false) { rig in
                try rig.postdesk.setExtraConfig("pipeline:\n  max_attachments: 2\n")
                _ = await rig.postdesk.terminate()
                try await rig.postdesk.start()

                var poison = PipelineMail(subject: "Many files", messageID: "<poison@customer.test>")
                poison.raw = Self.withAttachments(count: 3, messageID: "<poison@customer.test>")
                let following = (0..<100).map { index in
                    PipelineMail(subject: "After poison \(index)", messageID: "<after-\(index)@customer.test>")
                }
                let replies = try await LMTPBatch.sendWithText([poison] + following, rig: rig, label: "poison")
                #expect(replies.map(\.code) == Array(repeating: 250, count: 101))
                #expect(replies.first?.text.contains("quarantine") == true, "\(replies.first.map(\.text) ?? "")")
                #expect(try await rig.postdesk.listTickets().count == 100)

                let listed = try await rig.postdesk.cli(["quarantine", "list", "--json"], label: "quarantine-list")
                let entries = try JSONDecoder().decode([QuarantineListEntry].self, from: Data(listed.utf8))
                #expect(entries.count == 1)
                let id = try #require(entries.first?.id)
                #expect(entries.first?.error.contains("3 attachments") == true)

                // Still failing under the same limit: it stays, exit status 1.
                await #expect(throws: (any Error).self) {
                    _ = try await rig.postdesk.cli(["quarantine", "replay", "\(id)"], label: "replay-fails")
                }
                // The operator raises the limit and replays — twice.
                try rig.postdesk.setExtraConfig("pipeline:\n  max_attachments: 10\n")
                let replayed = try await rig.postdesk.cli(["quarantine", "replay", "\(id)"], label: "replay")
                #expect(replayed.contains("created #101"), "\(replayed)")
                let again = try await rig.postdesk.cli(["quarantine", "replay", "--all"], label: "replay-all")
                #expect(!again.contains("created"), "\(again)")
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 101)
                #expect(tickets.filter { $0.subject == "Many files" }.count == 1)
                let counts = try await MessageCounts.read(rig: rig)
                #expect(counts["quarantined"] == 1)
                #expect(counts["created"] == 101)
            }
        }

        static func dsn(originalID: String, failed: String) -> String {
            let boundary = "dsn-boundary-1"
            return """
                From: MAILER-DAEMON@mx.customer.test (Mail Delivery System)
                To: support@support.test
                Subject: Undelivered Mail Returned to Sender
                Message-ID: <bounce-1@mx.customer.test>
                Auto-Submitted: auto-replied
                MIME-Version: 1.0
                Content-Type: multipart/report; report-type=delivery-status; boundary="\(boundary)"

                --\(boundary)
                Content-Type: text/plain

                Your message could not be delivered.

                --\(boundary)
                Content-Type: message/delivery-status

                Reporting-MTA: dns; mx.customer.test

                Final-Recipient: rfc822; \(failed)
                Action: failed
                Status: 5.1.1
                Diagnostic-Code: smtp; 550 5.1.1 <\(failed)>: User unknown

                --\(boundary)
                Content-Type: text/rfc822-headers

                From: Customer <customer@example.test>
                To: \(failed)
                Subject: Second
                Message-ID: <\(originalID)>

                --\(boundary)--
                """.replacingOccurrences(of: "\n", with: "\r\n")
        }

        static func withAttachments(count: Int, messageID: String) -> String {
            var text = "From: customer@example.test\r\nTo: support@support.test\r\nSubject: Many files\r\n"
            text += "Message-ID: \(messageID)\r\nMIME-Version: 1.0\r\n"
            text += "Content-Type: multipart/mixed; boundary=\"parts\"\r\n\r\n"
            text += "--parts\r\nContent-Type: text/plain\r\n\r\nSee the files.\r\n"
            for index in 0..<count {
                text += "--parts\r\nContent-Type: application/octet-stream\r\n"
                text += "Content-Disposition: attachment; filename=\"file\(index).bin\"\r\n\r\ncontent \(index)\r\n"
            }
            return text + "--parts--\r\n"
        }
    }
}

/// One message of an `LMTPBatch`.
struct PipelineMail: Encodable {
    var from = "customer@example.test"
    var envelopeSender: String?
    var recipients = [PostdeskServer.supportAddress]
    var subject: String
    var messageID: String
    var headers: [String] = []
    /// The whole message; built from the fields above when nil.
    var raw: String?

    init(
        from: String = "customer@example.test", subject: String, messageID: String, headers: [String] = []
    ) {
        self.from = from
        self.subject = subject
        self.messageID = messageID
        self.headers = headers
    }

    var message: String {
        if let raw { return raw }
        var lines = [
            "From: \(from)", "To: \(recipients.joined(separator: ", "))", "Subject: \(subject)",
            "Message-ID: \(messageID)", "Date: Mon, 23 Nov 2026 10:00:00 +0000",
        ]
        lines += headers
        lines.append("Content-Type: text/plain; charset=utf-8")
        return lines.joined(separator: "\r\n") + "\r\n\r\nHello,\r\nplease help.\r\n"
    }

    enum CodingKeys: String, CodingKey { case sender, rcpts, message }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(envelopeSender ?? from, forKey: .sender)
        try container.encode(recipients, forKey: .rcpts)
        try container.encode(message, forKey: .message)
    }
}

/// Many LMTP transactions over one connection (CPython's smtplib.LMTP), one DATA reply per message.
enum LMTPBatch {
    struct Reply: Decodable {
        let code: Int
        let text: String
    }

    static func send(_ mails: [PipelineMail], rig: EndToEndRig, label: String) async throws -> [Int] {
        try await sendWithText(mails, rig: rig, label: label).map(\.code)
    }

    static func sendWithText(_ mails: [PipelineMail], rig: EndToEndRig, label: String) async throws -> [Reply] {
        let script = rig.scratch.file("lmtp_batch.py")
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let spec = rig.scratch.file("\(label)-batch.json")
        try JSONEncoder().encode(Spec(socket: rig.postdesk.socketPath, messages: mails))
            .write(to: URL(fileURLWithPath: spec))
        let output = try await ChildProcess.run(
            findExecutable("python3") ?? "/usr/bin/python3", [script, spec],
            outputPrefix: rig.scratch.file("\(label)-batch"), timeout: 120)
        return try JSONDecoder().decode([Reply].self, from: Data(output.utf8))
    }

    private struct Spec: Encodable {
        let socket: String
        let messages: [PipelineMail]
    }

    private static let script = #"""
        import json, smtplib, sys

        spec = json.load(open(sys.argv[1]))
        client = smtplib.LMTP(spec["socket"], timeout=60)
        client.ehlo("rig.test")
        replies = []
        for m in spec["messages"]:
            code, text = client.mail(m["sender"])
            if code != 250:
                sys.exit(f"MAIL refused: {code} {text!r}")
            for rcpt in m["rcpts"]:
                code, text = client.rcpt(rcpt)
                if code != 250:
                    sys.exit(f"RCPT refused: {code} {text!r}")
            client.putcmd("data")
            code, text = client.getreply()
            if code != 354:
                sys.exit(f"DATA refused: {code} {text!r}")
            lines = m["message"].encode().replace(b"\r\n", b"\n").split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            client.send(b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n")
            for _ in m["rcpts"]:
                code, text = client.getreply()
                replies.append({"code": code, "text": text.decode(errors="replace")})
        client.quit()
        print(json.dumps(replies))
        """#
}

/// A ticket as `postdesk tickets show N --json` prints it, with what the pipeline adds.
struct PipelineTicket: Decodable {
    struct Article: Decodable {
        let direction: String
    }

    struct Activity: Decodable {
        let kind: String
        let text: String
    }

    let status: String
    let articles: [Article]
    let activities: [Activity]

    static func show(_ number: Int, rig: EndToEndRig) async throws -> PipelineTicket {
        let output = try await rig.postdesk.cli(["tickets", "show", "\(number)", "--json"], label: "show-\(number)")
        return try JSONDecoder().decode(PipelineTicket.self, from: Data(output.utf8))
    }
}

/// `postdesk messages counts --json`: messages per outcome.
enum MessageCounts {
    static func read(rig: EndToEndRig) async throws -> [String: Int] {
        let output = try await rig.postdesk.cli(["messages", "counts", "--json"], label: "counts")
        return try JSONDecoder().decode([String: Int].self, from: Data(output.utf8))
    }
}

/// A row of `postdesk quarantine list --json`.
struct QuarantineListEntry: Decodable {
    let id: Int64
    let error: String
}
