import Foundation
import MailCommands
import MailParser
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// The command stage through the whole `TicketIntake` (real parser, real SQLite store): hostile and unusual mail
/// where commands are on, checked in what the store holds.
@Suite struct MailCommandStageTests {
    static let password = "correct horse battery staple"

    static var policy: QueuePolicy {
        var policy = QueuePolicy()
        policy.commands = MailCommandPolicy(
            xml: XMLCommandSettings(password: password),
            structuredRequests: StructuredRequestSettings(
                parser: StructuredRequestParser(
                    types: [
                        StructuredRequestType(
                            name: "Badge", labels: ["Carte d’accès"],
                            fields: [
                                StructuredRequestFieldDefinition(
                                    name: "étage", kind: .number, labels: ["Étage", "Floor"], mandatory: true)
                            ])
                    ])),
            variableCommands: true, commandsPerSenderPerHour: 2)
        policy.repliesToCommands = true
        return policy
    }

    static func message(
        from: String = "Zoë <zoe@example.com>", subject: String = "Demande", id: String = UUID().uuidString,
        contentType: String = "text/plain; charset=UTF-8", body: String
    ) -> String {
        [
            "From: \(from)", "To: support@localhost", "Subject: \(subject)", "Message-ID: <\(id)@example.com>",
            "MIME-Version: 1.0", "Content-Type: \(contentType)", "Content-Transfer-Encoding: 8bit", "", body,
        ].joined(separator: "\r\n")
    }

    static func xmlMail(_ document: [UInt8], id: String) -> String {
        [
            "From: robot@example.com", "To: support@localhost", "Subject: XML", "Message-ID: <\(id)@example.com>",
            "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"b\"", "", "--b",
            "Content-Type: text/plain", "", "attached", "--b", "Content-Type: application/xml",
            "Content-Transfer-Encoding: base64", "",
            Data(document).base64EncodedString(options: .lineLength76Characters),
            "--b--", "",
        ].joined(separator: "\r\n")
    }

    @Test("An HTML-only CreateSR with English labels and an accented field name becomes a typed request")
    func htmlOnlyStructuredRequest() async throws {
        let fixture = try PipelineFixture(support: Self.policy)
        defer { fixture.directory.remove() }
        let html = """
            <html><body><p>Hello,</p><p>CreateSR<br>Type: Badge<br>Requester: zoe@example.com<br>\
            User: zoe@example.com<br>Floor: 7<br>CreateSR</p></body></html>
            """
        let results = await fixture.deliver(Self.message(contentType: "text/html; charset=UTF-8", body: html))
        guard case .created(let number) = results.first else {
            Issue.record("not created: \(results)")
            return
        }
        let ticket = try #require(try await fixture.store.ticket(number: number))
        #expect(ticket.defaults.type == "Badge", "\(ticket.activities.map(\.text))")
        #expect(ticket.fields == [TicketField(name: "étage", kind: .number, value: "7")])
    }

    @Test(
        "A reply quoting a CreateSR mail Outlook-style threads onto its ticket; a block above a signature parses"
    )
    func quotedStructuredRequestDoesNotOpenAnother() async throws {
        let fixture = try PipelineFixture(support: Self.policy)
        defer { fixture.directory.remove() }
        let block = "CreateSR\nType: Badge\nRequester: zoe@example.com\nUser: zoe@example.com\nFloor: 7\nCreateSR\n"
        let request = Self.message(
            subject: "Carte d’accès", id: "sr-first", body: "Bonjour,\n\n" + block + "\n-- \nZoë Müller\nService RH\n")
        guard case .created(let number) = await fixture.deliver(request).first else {
            Issue.record("the request opened no ticket")
            return
        }
        let opened = try #require(try await fixture.store.ticket(number: number))
        #expect(opened.defaults.type == "Badge", "\(opened.activities.map(\.text))")

        // Outlook quotes without `>`: the earlier block is in the text, below the attribution header.
        let reply = Self.message(
            subject: "RE: Carte d’accès [Support #\(number)]", id: "sr-reply",
            body: "Des nouvelles ? Merci.\n\nFrom: Zoë Müller <zoe@example.com>\nSent: Monday, 23 November 2026 10:00\n"
                + "To: support@localhost\nSubject: Carte d’accès\n\nBonjour,\n\n" + block)
        let results = await fixture.deliver(reply)
        #expect(results.first == .appended(ticket: number), "\(results)")
        #expect(try await fixture.store.listTickets(limit: 10, offset: 0).count == 1)
    }

    @Test("A 10 MB XML attachment is refused by size, recorded, never processed")
    func hugeXMLAttachment() async throws {
        let fixture = try PipelineFixture(support: Self.policy)
        defer { fixture.directory.remove() }
        var document = Array("<?xml version=\"1.0\"?><PostdeskTransaction version=\"1\"><Password>".utf8)
        document += [UInt8](repeating: UInt8(ascii: "x"), count: 10 << 20)
        document += Array("</Password></PostdeskTransaction>".utf8)
        let results = await fixture.deliver(Self.xmlMail(document, id: "big"))
        #expect(results == [.recorded(.commandRefused)])
        #expect(try await fixture.tickets().isEmpty)
        let records = try await fixture.store.messageRecords(limit: 10, offset: 0)
        let decisions = records.first?.decisions.joined(separator: "\n") ?? ""
        #expect(decisions.contains("XML transaction not read") && decisions.contains("limit"), "\(decisions)")
    }

    @Test("Billion laughs and an external entity in an XML body are refused and recorded; nothing is created")
    func hostileXMLBodies() async throws {
        let fixture = try PipelineFixture(support: Self.policy)
        defer { fixture.directory.remove() }
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
            <PostdeskTransaction version="1"><Password>&lol2;</Password></PostdeskTransaction>
            """
        let external = """
            <?xml version="1.0"?>
            <!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
            <PostdeskTransaction version="1"><Password>\(Self.password)</Password>
            <CreateTicket><Subject>&ext;</Subject><Text>x</Text><Requester>a@example.com</Requester></CreateTicket>
            </PostdeskTransaction>
            """
        for (index, body) in [laughs, external].enumerated() {
            let results = await fixture.deliver(Self.message(id: "hostile\(index)", body: body))
            #expect(results == [.recorded(.commandRefused)])
        }
        #expect(try await fixture.tickets().isEmpty)
    }

    @Test("The rate per sender: the third command within an hour is refused, recorded and an ordinary ticket")
    func ratePerSender() async throws {
        let fixture = try PipelineFixture(support: Self.policy)
        defer { fixture.directory.remove() }
        guard case .created(let number) = await fixture.deliver(Self.message(id: "open", body: "Hallo")).first else {
            Issue.record("no ticket")
            return
        }
        for index in 0..<3 {
            _ = await fixture.deliver(
                Self.message(
                    id: "cmd\(index)",
                    body: "@OPERATION@='UPDATE'\n@RFC_NUMBER@='\(number)'\n@SITE@='Köln – 日本 \(index)'\n"))
        }
        let ticket = try #require(try await fixture.store.ticket(number: number))
        #expect(ticket.fields == [TicketField(name: "SITE", kind: .text, value: "Köln – 日本 1")])
        let tickets = try await fixture.tickets()
        #expect(tickets.count == 2)
        let refused = try #require(try await fixture.store.ticket(number: tickets.map(\.number).max() ?? 0))
        #expect(refused.activities.contains { $0.kind == "command-refused" && $0.text.contains("in the past hour") })
    }

    @Test("Ordinary mail in a queue with every syntax on is an ordinary ticket, prose mentioning @ and CreateSR too")
    func ordinaryMailUntouched() async throws {
        let fixture = try PipelineFixture(support: Self.policy)
        defer { fixture.directory.remove() }
        let body = "Write to @support@ or use CreateSR in the form; <PostdeskTransaction> is XML. Grüße, 日本\n"
        let results = await fixture.deliver(Self.message(body: body))
        guard case .created(let number) = results.first else {
            Issue.record("not created: \(results)")
            return
        }
        let ticket = try #require(try await fixture.store.ticket(number: number))
        #expect(ticket.fields.isEmpty)
        #expect(!ticket.activities.contains { $0.kind.hasPrefix("command") })
    }
}
