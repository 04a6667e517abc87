import Foundation
import Testing

extension EndToEndTests {
    /// Issue 12 point 1 end to end: two messages without Message-ID and with the same body are two tickets; a
    /// redelivery of each (same bytes) is a duplicate of its own — over LMTP and through a real Postfix.
    @Suite("Deduplication end to end")
    struct DeduplicationEndToEndTests {
        /// The pair of the issue: no Message-ID, the same one-line body; non-ASCII in names and subjects.
        static func pair() -> [(sender: String, raw: String, subject: String)] {
            func mail(from: String, subject: String, encodedSubject: String) -> String {
                "From: \(from)\r\nTo: support@support.test\r\nSubject: \(encodedSubject)\r\n"
                    + "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
                    + "Content-Type: text/plain; charset=utf-8\r\n\r\nSent from my iPhone\r\n"
            }
            return [
                (
                    "alice@example.test",
                    mail(
                        from: "=?UTF-8?Q?Alice_M=C3=BCller?= <alice@example.test>", subject: "Server down in Paris",
                        encodedSubject: "Server down in Paris"),
                    "Server down in Paris"
                ),
                (
                    "bob@other.test",
                    mail(
                        from: "=?UTF-8?B?Qm9iIMOYc3RlcmfDpXJk?= <bob@other.test>", subject: "Invoice question – €",
                        encodedSubject: "=?UTF-8?Q?Invoice_question_=E2=80=93_=E2=82=AC?="),
                    "Invoice question – €"
                ),
            ]
        }

        /// How many message records carry each disposition (`postdesk messages list --json`).
        static func dispositions(_ rig: EndToEndRig) async throws -> [String: Int] {
            let json = try await rig.postdesk.cli(["messages", "list", "--json"], label: "records")
            let records = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            var counts: [String: Int] = [:]
            for record in records { counts[record["disposition"] as? String ?? "?", default: 0] += 1 }
            return counts
        }

        @Test("Same body, different mail over LMTP: two tickets; each redelivery a duplicate")
        func sameBodyOverLMTP() async throws {
            try await EndToEndRig.run(label: "dedup-lmtp", withPostfix: false) { rig in
                for round in 0..<2 {
                    for (sender, raw, subject) in Self.pair() {
                        let transcript = try await rig.clients.lmtpSession(
                            socket: rig.postdesk.socketPath, from: sender, rcpts: ["support@support.test"],
                            message: raw, label: "\(sender)-\(round)")
                        #expect(transcript.data.map(\.code) == [250], "\(subject): \(transcript.data)")
                    }
                }
                let tickets = try await rig.postdesk.listTickets()
                #expect(Set(tickets.compactMap(\.subject)) == Set(Self.pair().map(\.subject)), "\(tickets)")
                #expect(tickets.allSatisfy { $0.articleCount == 1 })
                #expect(try await Self.dispositions(rig) == ["created": 2, "duplicate": 2])
            }
        }

        @Test("Same body, different mail through Postfix: two tickets; each resent a duplicate")
        func sameBodyThroughPostfix() async throws {
            try await EndToEndRig.run(label: "dedup-postfix") { rig in
                let postfix = try rig.requirePostfix()
                // As for a remote client (a monitoring system): Postfix adds no Message-ID or Date, only its
                // Received field, which differs on every pass and is no part of the key.
                await postfix.stop()
                try await postfix.setMainParameters(["local_header_rewrite_clients": ""])
                try await postfix.start()
                for round in 0..<2 {
                    let mails = Self.pair().map { sender, raw, subject in
                        OutgoingMail(
                            from: sender, to: ["support@support.test"], subject: subject,
                            messageID: "\(sender)-\(round)", raw: raw)
                    }
                    _ = try await rig.clients.inject(mails, port: postfix.smtpPort, label: "round-\(round)")
                    try await postfix.waitForEmptyQueue(seconds: 60)
                }
                #expect(postfix.countDeliveries(status: "sent") == 4)
                let tickets = try await rig.postdesk.listTickets()
                #expect(Set(tickets.compactMap(\.subject)) == Set(Self.pair().map(\.subject)), "\(tickets)")
                #expect(tickets.allSatisfy { $0.articleCount == 1 })
                #expect(try await Self.dispositions(rig) == ["created": 2, "duplicate": 2])
            }
        }
    }
}
