import Foundation
import MailParser
import MessageSpool
import Testing
import TicketPipeline
import TicketStoreSQLite

@testable import PostdeskHTTP

/// `/api/v1/messages`, `/bounces`, `/quarantine` (+ replay), `/mailboxes` and `/readyz`, over a real socket.
@Suite struct RecordEndpointTests {
    @Test func messagesBouncesAndMailboxes() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Überweisung fehlt"))
        let messages = try await api.get("/api/v1/messages?limit=10", template: "/api/v1/messages")
        #expect(messages.status == 200)
        let record = (messages.json["items"] as? [[String: Any]])?.first ?? [:]
        #expect(record["subject"] as? String == "Überweisung fehlt")
        #expect(record["ticket_number"] as? Int == number)
        #expect(record["disposition"] as? String == "created")

        let bounces = try await api.get("/api/v1/bounces?unmatched=true", template: "/api/v1/bounces")
        #expect(bounces.status == 200)
        #expect((bounces.json["items"] as? [Any])?.isEmpty == true)

        try await api.store.saveMailboxStatus(
            MailboxStatus(mailbox: "büro", state: .healthy, lastPoll: Date(), lastSuccess: Date(), messagesFetched: 3))
        let mailboxes = try await api.get("/api/v1/mailboxes", template: "/api/v1/mailboxes")
        #expect(mailboxes.status == 200)
        let mailbox = (mailboxes.json["items"] as? [[String: Any]])?.first ?? [:]
        #expect(mailbox["mailbox"] as? String == "büro")
        #expect(mailbox["state"] as? String == "healthy")
        #expect(mailbox["messages_fetched"] as? Int == 3)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func messageRecordsArePagedWithoutDuplicatesOrGaps() async throws {
        let api = try await APIFixture()
        for index in 0..<5 { try await api.deliver(MailSamples.rawUTF8(subject: "Nachricht \(index) – ö")) }
        var subjects: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await api.get(
                "/api/v1/messages?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), template: "/api/v1/messages")
            #expect(page.status == 200, "\(page.text)")
            subjects += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["subject"] as? String }
            cursor = page.json["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(subjects == (0..<5).reversed().map { "Nachricht \($0) – ö" })

        // A cursor of another list is refused.
        let tickets = try await api.get("/api/v1/tickets?limit=1", template: "/api/v1/tickets")
        let ticketCursor = try #require(tickets.json["next_cursor"] as? String)
        let crossed = try await api.get("/api/v1/messages?cursor=\(ticketCursor)", template: "/api/v1/messages")
        #expect(crossed.status == 400)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func mailCommandsAreListedPagedAndFilteredBySender() async throws {
        let api = try await APIFixture()
        let commands: [(String, String, NewMailCommandRecord.Outcome, String)] = [
            ("kunde@example.org", "solve", .applied, "#1 solved"),
            ("other@example.org", "solve", .refused, "Ωμέγα <other@example.org> is neither the requester of #1"),
            ("kunde@example.org", "update", .invalid, "@VARIABLE@ ‘Größe’ is unknown (line 2)"),
        ]
        try await api.store.write { transaction in
            for (sender, operation, outcome, detail) in commands {
                try transaction.recordCommand(
                    NewMailCommandRecord(
                        receivedAt: Date(), sender: sender, kind: "variable-command", operation: operation,
                        ticketNumber: operation == "update" ? nil : 1, outcome: outcome, detail: detail,
                        rawSHA256: String(repeating: "a", count: 64)))
            }
        }
        let all = try await api.get("/api/v1/commands?limit=2", template: "/api/v1/commands")
        #expect(all.status == 200, "\(all.text)")
        let first = all.json["items"] as? [[String: Any]] ?? []
        #expect(first.compactMap { $0["detail"] as? String } == [commands[2].3, commands[1].3])
        #expect(first.first?["outcome"] as? String == "invalid")
        #expect(first.first?["ticket_number"] == nil)
        let cursor = try #require(all.json["next_cursor"] as? String)
        let rest = try await api.get("/api/v1/commands?limit=2&cursor=\(cursor)", template: "/api/v1/commands")
        #expect((rest.json["items"] as? [[String: Any]])?.compactMap { $0["operation"] as? String } == ["solve"])
        #expect(rest.json["next_cursor"] is NSNull)

        // One sender's, however the address is written.
        let mine = try await api.get("/api/v1/commands?sender=KUNDE@Example.org", template: "/api/v1/commands")
        #expect(
            (mine.json["items"] as? [[String: Any]])?.compactMap { $0["operation"] as? String } == ["update", "solve"])
        let bad = try await api.get("/api/v1/commands?sender=nobody", template: "/api/v1/commands")
        #expect(bad.status == 400, "\(bad.text)")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func bouncingAddressesAreListedAndClearedWithAWriteToken() async throws {
        let api = try await APIFixture()
        try await api.store.write { transaction in
            try transaction.markBouncing(
                address: "zoë@example.org", reason: "550 5.1.1 Benutzer unbekannt", at: Date(timeIntervalSinceNow: -60))
            try transaction.markBouncing(address: "gone@example.org", reason: "mailbox full", at: Date())
        }
        let list = try await api.get("/api/v1/contacts/bouncing", template: "/api/v1/contacts/bouncing")
        #expect(list.status == 200, "\(list.text)")
        let items = list.json["items"] as? [[String: Any]] ?? []
        #expect(items.compactMap { $0["address"] as? String } == ["gone@example.org", "zoë@example.org"])
        #expect(items.last?["reason"] as? String == "550 5.1.1 Benutzer unbekannt")

        let template = "/api/v1/contacts/bouncing/{address}"
        let path = "/api/v1/contacts/bouncing/GONE@example.org"
        let refused = try await api.request(.DELETE, path, token: api.readToken, template: template)
        #expect(refused.status == 403)
        let cleared = try await api.request(.DELETE, path, token: api.writeToken, template: template)
        #expect(cleared.status == 204, "\(cleared.text)")
        let again = try await api.request(.DELETE, path, token: api.writeToken, template: template)
        #expect(again.status == 404)
        let encoded = "/api/v1/contacts/bouncing/zo%C3%AB@example.org"
        let nonASCII = try await api.request(.DELETE, encoded, token: api.writeToken, template: template)
        #expect(nonASCII.status == 204, "\(nonASCII.text)")
        let empty = try await api.get("/api/v1/contacts/bouncing", template: "/api/v1/contacts/bouncing")
        #expect((empty.json["items"] as? [Any])?.isEmpty == true)
        let wrongMethod = try await api.request(.POST, path, token: api.writeToken, template: nil)
        #expect(wrongMethod.status == 405)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    /// 25 addresses, five of them flagged at the same moment, read 7 at a time: every one once, most recent first,
    /// the page size and the cursor kept; a cursor of another list or a made-up one is a 400.
    @Test func bouncingAddressesArePagedWithACursor() async throws {
        let api = try await APIFixture()
        let base = Date(timeIntervalSince1970: 1_764_900_000.123_456)
        let scripts = ["zoë", "jürgen", "σοφία", "иван", "さくら"]
        var expected: [String] = []
        try await api.store.write { transaction in
            for index in 0..<20 {
                let address = "\(scripts[index % 5])-\(index)@example.org"
                try transaction.markBouncing(
                    address: address, reason: "550 5.1.1 unbekannt \(index)", at: base.addingTimeInterval(Double(index))
                )
            }
            for index in 0..<5 {
                try transaction.markBouncing(
                    address: "same-moment-\(index)@example.org", reason: "mailbox full",
                    at: base.addingTimeInterval(7.5))
            }
        }
        for index in (0..<20).reversed() {
            if index == 7 { expected += (0..<5).reversed().map { "same-moment-\($0)@example.org" } }
            expected.append("\(scripts[index % 5])-\(index)@example.org")
        }
        let template = "/api/v1/contacts/bouncing"
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let query = "?limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await api.get(template + query, template: template)
            #expect(page.status == 200, "\(page.text)")
            let items = (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
            #expect(items.count <= 7)
            seen += items
            cursor = page.json["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 4)
        #expect(seen == expected, "\(seen)")

        let other = try await api.get(template + "?cursor=" + Base64URL.encode(Data("m1:5".utf8)), template: template)
        #expect(other.status == 400)
        let madeUp = try await api.get(
            template + "?cursor=" + Base64URL.encode(Data("a1:5:not-a-time".utf8)), template: template)
        #expect(madeUp.status == 400)
        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func quarantineIsListedShownDownloadedAndReplayedOnce() async throws {
        let api = try await APIFixture()
        let raw = Array(MailSamples.rawUTF8(subject: "Aus der Quarantäne zurück").utf8)
        let id = try await api.store.write { transaction in
            try transaction.quarantine(
                NewQuarantineEntry(
                    receivedAt: Date(), source: .lmtp, sessionID: "s1", envelopeSender: "sender@example.com",
                    envelopeRecipients: ["support@example.org"], raw: RawMessage(raw),
                    error: "parse stage crashed: Zeichensatz unbekannt"))
        }
        let list = try await api.get("/api/v1/quarantine", template: "/api/v1/quarantine")
        #expect(list.status == 200)
        let entry = (list.json["items"] as? [[String: Any]])?.first ?? [:]
        #expect(entry["id"] as? Int == Int(id))
        #expect(entry["error"] as? String == "parse stage crashed: Zeichensatz unbekannt")
        #expect(entry["raw"] == nil, "the bytes are a download, not part of the listing")

        let shown = try await api.get("/api/v1/quarantine/\(id)", template: "/api/v1/quarantine/{id}")
        #expect(shown.status == 200)
        let download = try await api.get("/api/v1/quarantine/\(id)/raw", template: "/api/v1/quarantine/{id}/raw")
        #expect(download.body == raw)
        #expect(download.headers.first(name: "x-content-type-options") == "nosniff")
        #expect(download.headers.first(name: "content-disposition") == "attachment; filename=\"quarantine-\(id).eml\"")

        let forbidden = try await api.request(
            .POST, "/api/v1/quarantine/\(id)/replay", token: api.readToken, template: "/api/v1/quarantine/{id}/replay")
        #expect(forbidden.status == 403)
        let replay = try await api.request(
            .POST, "/api/v1/quarantine/\(id)/replay", token: api.writeToken, template: "/api/v1/quarantine/{id}/replay")
        #expect(replay.status == 200, "\(replay.text)")
        #expect(replay.json["outcome"] as? String == "replayed")
        let recipient = (replay.json["recipients"] as? [[String: Any]])?.first ?? [:]
        #expect(recipient["result"] as? String == "created")
        let ticket = try #require(recipient["ticket"] as? Int)
        let created = try await api.get("/api/v1/tickets/\(ticket)", template: "/api/v1/tickets/{number}")
        #expect(created.json["subject"] as? String == "Aus der Quarantäne zurück")

        let again = try await api.request(
            .POST, "/api/v1/quarantine/\(id)/replay", token: api.writeToken, template: "/api/v1/quarantine/{id}/replay")
        #expect(again.status == 409)
        #expect(again.contentType == "application/problem+json")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func readinessNamesAMailboxThatNeedsAttentionAndTheDaemonsProblems() async throws {
        let api = try await APIFixture(
            readiness: HTTPReadiness(daemonProblems: { ["1 message(s) stuck in a stage past the processing deadline"] })
        )
        try await api.store.saveMailboxStatus(
            MailboxStatus(
                mailbox: "posteingang", state: .needsAttention,
                lastError: "AUTHENTICATIONFAILED: Anmeldung fehlgeschlagen (run postdesk oauth login posteingang)"))
        let ready = try await api.request(.GET, "/readyz", template: "/readyz")
        #expect(ready.status == 503)
        let problems = ready.json["problems"] as? [String] ?? []
        #expect(problems.contains("1 message(s) stuck in a stage past the processing deadline"))
        #expect(
            problems.contains(
                "mailbox posteingang needs attention: AUTHENTICATIONFAILED: Anmeldung fehlgeschlagen "
                    + "(run postdesk oauth login posteingang)"))
        #expect(try await api.request(.GET, "/healthz", template: "/healthz").status == 200, "alive all the same")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func contentDispositionKeepsNonASCIINames() {
        #expect(ContentDisposition.attachment(filename: "report.pdf") == "attachment; filename=\"report.pdf\"")
        #expect(
            ContentDisposition.attachment(filename: "Straße \"neu\".txt")
                == "attachment; filename=\"Stra_e _neu_.txt\"; filename*=UTF-8''Stra%C3%9Fe%20%22neu%22.txt")
        #expect(
            ContentDisposition.attachment(filename: "a\r\nSet-Cookie: x")
                == "attachment; filename=\"a__Set-Cookie: x\"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x")
        #expect(ContentDisposition.attachment(filename: "") == "attachment; filename=\"attachment\"")
        #expect(TicketRoutes.safeContentType("text/html; charset=utf-8") == "text/html")
        #expect(TicketRoutes.safeContentType("text/html\r\nX: y") == "application/octet-stream")
        #expect(TicketRoutes.safeContentType("nonsense") == "application/octet-stream")
    }
}
