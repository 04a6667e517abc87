import AsyncHTTPClient
import Foundation
import MailParser
import NIOCore
import Testing

extension EndToEndTests {
    /// Issue 14: an agent answers through the daemon's API; the real outbound worker sends it through a real private
    /// Postfix to the requester and the Cc participants; the requester's answer to it, built from its headers and
    /// delivered over LMTP, threads onto the same ticket.
    @Suite("Agent replies through the API and a real Postfix relay")
    struct AgentReplyEndToEndTests {
        @Test("a reply reaches the requester and the Cc participants, threaded; the answer to it threads back")
        func replyThroughTheRelayAndTheAnswerThreadsBack() async throws {
            let port = try LoopbackSockets.freePort()
            try await OutboundRig.run(
                label: "reply",
                extraConfig: { rig in
                    // The rig's base configuration turns the API off; the environment key turns it on.
                    rig.postdesk.environment = ProcessInfo.processInfo.environment.merging(
                        ["POSTDESK_HTTP_LISTEN": "127.0.0.1:\(port)"]) { $1 }
                    return ""
                }
            ) { rig in
                let original = customerMessage(
                    subject: "Drucker brennt – =?UTF-8?Q?gr=C3=BC=C3=9Fe?=", id: "reply-e2e@example.org",
                    headers: [
                        "Cc: =?UTF-8?B?Wm/DqyDDhW5nc3Ryw7Zt?= <zoe@example.org>, Zweite Adresse <support@support.test>"
                    ])
                #expect(try rig.deliver(original, from: "kunde@example.org") == 250)
                // The acknowledgement of the new ticket comes first.
                #expect(await rig.waitForMessages(1).count == 1, "log:\n\(rig.postdesk.serverLog)")

                let token = try await rig.postdesk.cli(
                    ["tokens", "create", "agent", "--scope", "write"], label: "token"
                )
                .trimmingCharacters(in: .whitespacesAndNewlines)
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = client.shutdown() }
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/tickets/1/replies")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/json")
                let text = "Hallo Jürgen,\n\nder Techniker kommt am Dienstag. 日本語も大丈夫です。\n\nÅsa vom Support"
                let body = try JSONSerialization.data(
                    withJSONObject: [
                        "text": text, "html": "<p>Hallo <b>Jürgen</b>, der Techniker kommt am Dienstag.</p>",
                        "cc": ["chef@example.org"], "status": "pending",
                    ])
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await client.execute(request, timeout: .seconds(30))
                let answer = String(buffer: try await response.body.collect(upTo: 1 << 20))
                #expect(response.status.code == 201, "\(answer)")

                // Acknowledgement + the requester + Zoë + the added Cc.
                let received = await rig.waitForMessages(4, seconds: 90)
                let replies = received.filter { $0.subject?.hasSuffix("Re: Drucker brennt – grüße") == true }
                // One mail to the requester with the others in Cc, a copy per envelope recipient (smtp-sink's
                // X-Rcpt-Args): nobody twice, never our own address.
                let envelopes = replies.map(MailCapture.envelopeRecipients(of:))
                #expect(
                    envelopes.sorted { $0.description < $1.description }
                        == [["chef@example.org"], ["kunde@example.org"], ["zoe@example.org"]],
                    "got \(rig.capturedSummary); log:\n\(rig.postdesk.serverLog)")
                #expect(Set(replies.compactMap(\.messageID)).count == 1, "every copy is the same message")
                for mail in replies {
                    #expect(mail.to == [MailAddress(name: "Jürgen Groß", address: "kunde@example.org")])
                    #expect(
                        mail.cc == [
                            MailAddress(name: "Zoë Ångström", address: "zoe@example.org"),
                            MailAddress(name: nil, address: "chef@example.org"),
                        ], "\(mail.cc)")
                    #expect(mail.subject == "[Support #1] Re: Drucker brennt – grüße")
                    let messageID = try #require(mail.messageID)
                    #expect(messageID.hasPrefix("T1.A") && messageID.hasSuffix("@desk-a.test"), "\(messageID)")
                    #expect(mail.inReplyTo == ["reply-e2e@example.org"])
                    #expect(mail.references == ["reply-e2e@example.org"])
                    #expect(mail.text.contains("日本語も大丈夫です。") && mail.text.contains("Hallo Jürgen,"))
                    #expect(mail.html?.contains("<b>Jürgen</b>") == true, "the HTML alternative is mailed too")
                    #expect(!mail.headers.contains { $0.name == "Auto-Submitted" }, "an agent's reply is no auto-reply")
                }
                let toRequester = try #require(replies.first)
                #expect(
                    toRequester.from.first?.address == "support@support.test",
                    "the queue's first address")

                // The requester answers the reply, using its headers.
                let replyID = try #require(toRequester.messageID)
                let answerMail = customerMessage(
                    subject: "Re: " + (toRequester.subject ?? ""), id: "answer-e2e@example.org",
                    headers: ["In-Reply-To: <\(replyID)>", "References: <reply-e2e@example.org> <\(replyID)>"],
                    body: "Danke, Dienstag passt. Grüße\n")
                #expect(try rig.deliver(answerMail, from: "kunde@example.org") == 250)
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 1, "\(tickets.map(\.subject))")
                var show = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/tickets/1")
                show.headers.add(name: "Authorization", value: "Bearer \(token)")
                let shown = try await client.execute(show, timeout: .seconds(30))
                let ticket =
                    try JSONSerialization.jsonObject(
                        with: Data(String(buffer: try await shown.body.collect(upTo: 1 << 20)).utf8))
                    as? [String: Any] ?? [:]
                let articles = ticket["articles"] as? [[String: Any]] ?? []
                #expect(articles.map { $0["direction"] as? String } == ["inbound", "outbound", "inbound"])
                #expect(articles.count == 3 && articles[1]["text"] as? String == text)
                #expect(articles.count == 3 && articles[1]["message_id"] as? String == replyID)
                #expect((articles.last?["text"] as? String)?.contains("Dienstag passt") == true)
            }
        }
    }
}
