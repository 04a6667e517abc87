import Foundation
import MailParser
import Testing
import TicketPipeline
import TicketStoreSQLite

@testable import PostdeskHTTP

/// `POST /api/v1/tickets/{number}/replies`: one transaction writes the outbound article, the queued mails to the
/// requester and the Cc participants, the status change and the events; over a real socket into a real SQLite
/// file, on tickets the real pipeline made from non-ASCII mail.
@Suite struct ReplyEndpointTests {
    static let template = "/api/v1/tickets/{number}/replies"

    /// A customer's message copying a colleague (with a non-ASCII name) and one of our own addresses.
    static func customerMessage(id: String) -> String {
        """
        From: =?UTF-8?B?SsO8cmdlbiBHcm/Dnw==?= <kunde@example.com>\r
        To: Support <support@example.org>\r
        Cc: =?UTF-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <zoe@example.net>, <other@support.test>\r
        Subject: Drucker brennt – Hilfe!\r
        Message-ID: <\(id)>\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: 8bit\r
        \r
        Grüße aus Köln\r

        """
    }

    private func queuedMail(_ store: SQLiteTicketStore) async throws -> [OutboundMailItem] {
        try await store.write { try $0.dueOutboundMail(at: Date().addingTimeInterval(60), limit: 100) }
    }

    @Test func aReplyQueuesMailToTheRequesterAndTheCcParticipantsInOneTransaction() async throws {
        let api = try await APIFixture(replies: APIFixture.replySender)
        api.store.recordsEvents = true
        let number = try await api.deliver(Self.customerMessage(id: "first-reply-test@example.com"))
        let eventsBefore = try await api.store.outboxEvents().count
        let text = "Wir schicken einen Techniker. Grüße, Åsa – 日本語\n\n-- \nSupport"

        let reply = try await api.request(
            .POST, "/api/v1/tickets/\(number)/replies", token: api.writeToken,
            body: """
                {"text": \(try Self.json(text)), "html": "<p>Wir schicken einen Techniker.</p>",
                 "cc": ["chef@example.com", "ZOE@example.net"], "status": "pending"}
                """, template: Self.template)
        #expect(reply.status == 201, "\(reply.text)")
        #expect(reply.json["direction"] as? String == "outbound")
        #expect(reply.json["source"] as? String == "api")
        #expect(reply.json["text"] as? String == text)
        #expect(reply.json["html"] as? String == "<p>Wir schicken einen Techniker.</p>")
        #expect(reply.json["subject"] as? String == "Re: Drucker brennt – Hilfe!")
        #expect((reply.json["from"] as? [String: Any])?["address"] as? String == "support@example.org")
        let to = (reply.json["to"] as? [[String: Any]] ?? []).map { $0["address"] as? String }
        #expect(to == ["kunde@example.com"])
        let cc = (reply.json["cc"] as? [[String: Any]] ?? []).map { $0["address"] as? String }
        #expect(cc == ["zoe@example.net", "chef@example.com"], "our own address is never copied; no duplicates")
        let messageID = try #require(reply.json["message_id"] as? String)
        #expect(APIFixture.replySender.messageIDs.ticket(fromMessageID: messageID) == number)
        #expect(reply.json["in_reply_to"] as? [String] == ["first-reply-test@example.com"])
        #expect(reply.json["references"] as? [String] == ["first-reply-test@example.com"])
        let articleID = try #require(reply.json["id"] as? Int)
        #expect(reply.headers.first(name: "location") == "/api/v1/tickets/\(number)/articles/\(articleID)")

        // One mail, queued as a copy per recipient, each threaded under the customer's message, the ticket's
        // subject; every copy shows the requester in To and the others in Cc, and names the requester's copy as
        // the one whose id signs the Message-ID.
        let mails = try await queuedMail(api.store)
        #expect(mails.map(\.mail.recipient.address) == ["kunde@example.com", "zoe@example.net", "chef@example.com"])
        #expect(mails.first?.mail.recipient.name == "Jürgen Groß")
        #expect(mails[1].mail.recipient.name == "Zoë Ångström")
        #expect(mails.allSatisfy { $0.mail.kind == .reply && $0.mail.ticketNumber == number })
        #expect(mails.allSatisfy { $0.mail.text == text && $0.mail.subject == "Re: Drucker brennt – Hilfe!" })
        #expect(mails.allSatisfy { $0.mail.inReplyTo == "first-reply-test@example.com" })
        #expect(messageID == APIFixture.replySender.messageIDs.messageID(ticket: number, article: mails[0].id))
        var shared = NewOutboundMail.SharedAddressing(
            to: [MailAddress(name: "Jürgen Groß", address: "kunde@example.com")],
            cc: [
                MailAddress(name: "Zoë Ångström", address: "zoe@example.net"),
                MailAddress(name: nil, address: "chef@example.com"),
            ])
        #expect(mails.first?.mail.sharedAddressing == shared, "the requester's copy signs with its own id")
        shared.messageIDOf = mails[0].id
        #expect(mails.dropFirst().allSatisfy { $0.mail.sharedAddressing == shared })

        // The status changed, and the events say so: the article first, then the change.
        let ticket = try #require(try await api.store.ticket(number: number))
        #expect(ticket.status == "pending")
        #expect(ticket.activities.contains { $0.kind == "reply" && $0.text.contains("token writer") })
        let events = Array(try await api.store.outboxEvents().dropFirst(eventsBefore))
        #expect(events.map(\.type) == ["article.added", "ticket.updated"])
        #expect(events.first?.articleID == Int64(articleID))
        #expect(events.first?.payload.contains(#""direction":"outbound""#) == true)

        // A second reply threads under the same customer message and references the first reply.
        let second = try await api.request(
            .POST, "/api/v1/tickets/\(number)/replies", token: api.writeToken, body: #"{"text": "Noch etwas."}"#,
            template: Self.template)
        #expect(second.status == 201, "\(second.text)")
        #expect(second.json["references"] as? [String] == ["first-reply-test@example.com", messageID])
        #expect(second.json["in_reply_to"] as? [String] == ["first-reply-test@example.com"])
        let secondMails = try await queuedMail(api.store).dropFirst(3)
        #expect(
            secondMails.map(\.mail.recipient.address) == ["kunde@example.com", "zoe@example.net", "chef@example.com"],
            "the thread's Cc participant and the one the first reply added are copied again")
        #expect(try await api.store.ticket(number: number)?.status == "pending", "no status: unchanged")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func refusalsArePreciseAndWriteNothing() async throws {
        let api = try await APIFixture(replies: APIFixture.replySender)
        let number = try await api.deliver(Self.customerMessage(id: "refusals@example.com"))
        func post(_ path: String, _ body: String) async throws -> APIFixture.Reply {
            try await api.request(.POST, path, token: api.writeToken, body: body, template: Self.template)
        }
        let path = "/api/v1/tickets/\(number)/replies"
        #expect(try await post("/api/v1/tickets/999/replies", #"{"text": "Hallo"}"#).status == 404)
        for body in [
            #"{"text": "   "}"#, #"{"text": 5}"#, #"{}"#, #"{"text": "x", "status": "gelöst"}"#,
            #"{"text": "x", "cc": ["Zoë <zoe@example.net>"]}"#, #"{"text": "x", "cc": "zoe@example.net"}"#,
            #"{"text": "x", "cc": ["zoe@exa mple.net"]}"#, #"{"text": "x", "html": 3}"#, #"{"text": "x", "to": []}"#,
        ] {
            let refused = try await post(path, body)
            #expect(refused.status == 422, "\(body): \(refused.text)")
            #expect(refused.contentType == "application/problem+json")
        }
        #expect(try await post(path, "not json").status == 400)
        let readOnly = try await api.request(
            .POST, path, token: api.readToken, body: #"{"text": "x"}"#, template: Self.template)
        #expect(readOnly.status == 403)
        #expect(try await queuedMail(api.store).isEmpty)
        #expect(try await api.store.ticket(number: number)?.articles.count == 1)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func withoutOutboundMailAReplyIsAConflict() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(Self.customerMessage(id: "conflict@example.com"))
        let refused = try await api.request(
            .POST, "/api/v1/tickets/\(number)/replies", token: api.writeToken, body: #"{"text": "Hallo"}"#,
            template: Self.template)
        #expect(refused.status == 409, "\(refused.text)")
        #expect((refused.json["detail"] as? String)?.contains("outbound mail is not configured") == true)
        #expect(try await queuedMail(api.store).isEmpty)
        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func aTicketWithoutARequesterAddressCannotBeAnswered() async throws {
        let api = try await APIFixture(replies: APIFixture.replySender)
        let number = try await api.store.write { transaction in
            try transaction.createTicket(
                NewTicket(
                    queue: "support", subject: "Ohne Absender – ümlaut", requesterID: nil, source: .api,
                    createdAt: Date()))
        }
        let refused = try await api.request(
            .POST, "/api/v1/tickets/\(number)/replies", token: api.writeToken, body: #"{"text": "Hallo"}"#,
            template: Self.template)
        #expect(refused.status == 409, "\(refused.text)")
        #expect((refused.json["detail"] as? String)?.contains("no requester address") == true)
        #expect(try await queuedMail(api.store).isEmpty)
        #expect(try await api.store.ticket(number: number)?.articles.isEmpty == true)
        await api.tearDown()
    }

    @Test func plainAddressesMatchTheSpecPattern() {
        for good in ["a@b", "zoe.o'neil+x@example-1.co.uk", "!#$%&'*+/=?^_`{|}~-@x"] {
            #expect(APIInput.isPlainAddress(good), "\(good)")
        }
        for bad in ["", "@b", "a@", "a@b.", "a@.b", "a b@c", "zoë@example.net", "a@b@c", "<a@b>", "a@b_c"] {
            #expect(!APIInput.isPlainAddress(bad), "\(bad)")
        }
    }

    static func json(_ text: String) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
    }
}
