import Foundation
import Testing

@testable import PostdeskHTTP

/// `/api/v1/tickets`: list, show, downloads, changes and notes, over a real socket, on tickets the real pipeline
/// made from non-ASCII mail in a real SQLite file; every response is checked against the spec.
@Suite struct TicketEndpointTests {
    @Test func listAndShowCarryDecodedTextAndTheStrippedReply() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(MailSamples.germanReplyWithAttachment())
        try await api.deliver(MailSamples.rawUTF8(subject: "Ça ne marche pas — 日本語"))

        let list = try await api.get("/api/v1/tickets", template: "/api/v1/tickets")
        #expect(list.status == 200)
        #expect(list.contentType.hasPrefix("application/json"))
        let tickets = list.json["tickets"] as? [[String: Any]] ?? []
        #expect(
            tickets.map { $0["subject"] as? String } == ["Ça ne marche pas — 日本語", "Drucker brennt – Grüße aus Köln"])
        let requester = tickets.last?["requester"] as? [String: Any]
        #expect(requester?["name"] as? String == "Jürgen Müller")
        #expect(requester?["address"] as? String == "juergen@example.com")
        #expect(list.json["next_cursor"] is NSNull)

        let show = try await api.get("/api/v1/tickets/\(number)", template: "/api/v1/tickets/{number}")
        #expect(show.status == 200)
        let ticket = show.json
        #expect(ticket["subject"] as? String == "Drucker brennt – Grüße aus Köln")
        #expect(ticket["status"] as? String == "new")
        let article = (ticket["articles"] as? [[String: Any]])?.first ?? [:]
        let text = article["text"] as? String ?? ""
        let stripped = article["stripped_text"] as? String ?? ""
        #expect(text.contains("Haben Sie den Drucker neu gestartet?"))
        #expect(text.contains("Hausmeisterei"))
        #expect(stripped.contains("Der Drucker im 3. Stock brennt wieder."))
        #expect(!stripped.contains("Haben Sie den Drucker"), "quoted history stripped: \(stripped)")
        #expect(!stripped.contains("Hausmeisterei"), "signature stripped: \(stripped)")
        let attachment = (article["attachments"] as? [[String: Any]])?.first ?? [:]
        #expect(attachment["filename"] as? String == "Übersicht Straße.pdf")
        #expect(attachment["content_type"] as? String == "application/pdf")
        #expect(attachment["size"] as? Int == MailSamples.pdfContent.count)
        #expect(ticket["activities"] is [Any])

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func threePagesHaveNoDuplicatesAndNoGaps() async throws {
        let api = try await APIFixture()
        var numbers: [Int] = []
        for index in 0..<7 {
            numbers.append(try await api.deliver(MailSamples.rawUTF8(subject: "Seite \(index) – Überlauf")))
        }
        var seen: [Int] = []
        var cursor: String?
        var pages = 0
        repeat {
            let query = "limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await api.get("/api/v1/tickets?\(query)", template: "/api/v1/tickets")
            #expect(page.status == 200)
            seen += (page.json["tickets"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? Int }
            cursor = page.json["next_cursor"] as? String
            pages += 1
            if pages == 1 {
                // A ticket arriving while a client pages does not shift the pages it has not read.
                numbers.append(try await api.deliver(MailSamples.rawUTF8(subject: "Neu während des Blätterns")))
            }
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen == numbers.dropLast().sorted(by: >), "every ticket once, newest first")
        #expect(Set(seen).count == seen.count)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func filtersByQueueStatusRequesterAndUpdateTime() async throws {
        let api = try await APIFixture()
        let german = try await api.deliver(MailSamples.germanReplyWithAttachment())
        let sales = try await api.deliver(
            MailSamples.rawUTF8(subject: "Angebot für Ölheizung"), to: "sales@example.org")
        let zoe = try await api.deliver(MailSamples.rawUTF8(subject: "Frage zu Rechnung №42"))

        func numbers(_ query: String) async throws -> [Int] {
            let reply = try await api.get("/api/v1/tickets?\(query)", template: "/api/v1/tickets")
            #expect(reply.status == 200, "\(query): \(reply.text)")
            return (reply.json["tickets"] as? [[String: Any]] ?? []).compactMap { $0["number"] as? Int }
        }
        #expect(try await numbers("queue=sales") == [sales])
        #expect(try await numbers("requester=JUERGEN%40example.com") == [german])
        #expect(try await numbers("requester=zoe%40example.net") == [zoe, sales])
        #expect(try await numbers("queue=support&requester=zoe%40example.net") == [zoe])

        let change = try await api.request(
            .PATCH, "/api/v1/tickets/\(zoe)", token: api.writeToken, body: #"{"status": "pending"}"#,
            template: "/api/v1/tickets/{number}")
        #expect(change.status == 200)
        #expect(try await numbers("status=pending") == [zoe])
        #expect(try await numbers("status=new") == [sales, german])
        let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        #expect(try await numbers("updated_since=\(future)") == [])
        #expect(try await numbers("updated_since=2026-01-01T00:00:00Z").count == 3)
        #expect(try await numbers("updated_since=2026-01-01T00:00:00.500Z").count == 3)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func downloadsAreAttachmentsThatAreNeverSniffed() async throws {
        let api = try await APIFixture()
        let raw = MailSamples.germanReplyWithAttachment()
        let number = try await api.deliver(raw)
        let article = try #require(
            (try await api.get("/api/v1/tickets/\(number)", template: "/api/v1/tickets/{number}").json["articles"]
                as? [[String: Any]])?.first)
        let id = try #require(article["id"] as? Int)
        #expect(article["raw_url"] as? String == "/api/v1/tickets/\(number)/articles/\(id)/raw")

        let message = try await api.get(
            "/api/v1/tickets/\(number)/articles/\(id)/raw",
            template: "/api/v1/tickets/{number}/articles/{article}/raw")
        #expect(message.status == 200)
        #expect(message.body == Array(raw.utf8))
        #expect(message.contentType == "message/rfc822")
        #expect(
            message.headers.first(name: "content-disposition")
                == "attachment; filename=\"ticket-\(number)-article-\(id).eml\"")
        #expect(message.headers.first(name: "x-content-type-options") == "nosniff")

        let attachment = try #require((article["attachments"] as? [[String: Any]])?.first)
        let url = try #require(attachment["url"] as? String)
        let file = try await api.get(url, template: "/api/v1/tickets/{number}/articles/{article}/attachments/{sha256}")
        #expect(file.status == 200)
        #expect(file.body == MailSamples.pdfContent)
        #expect(file.contentType == "application/pdf")
        #expect(
            file.headers.first(name: "content-disposition")
                == "attachment; filename=\"_bersicht Stra_e.pdf\"; filename*=UTF-8''%C3%9Cbersicht%20Stra%C3%9Fe.pdf")
        #expect(file.headers.first(name: "x-content-type-options") == "nosniff")
        #expect(file.headers.first(name: "content-security-policy")?.contains("sandbox") == true)

        // The attachment is reachable only through the article that has it.
        let elsewhere = try await api.get(
            "/api/v1/tickets/\(number)/articles/\(id + 1)/attachments/\(attachment["sha256"] as? String ?? "")",
            template: "/api/v1/tickets/{number}/articles/{article}/attachments/{sha256}")
        #expect(elsewhere.status == 404)
        #expect(elsewhere.contentType == "application/problem+json")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func changesAndNotesAreRecordedAsActivities() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Heizung kaputt – dringend"))
        let template = "/api/v1/tickets/{number}"

        let changed = try await api.request(
            .PATCH, "/api/v1/tickets/\(number)", token: api.writeToken,
            body: #"{"status": "solved", "priority": "hoch", "assignee": "Zoë Ångström", "category": null}"#,
            template: template)
        #expect(changed.status == 200, "\(changed.text)")
        #expect(changed.json["status"] as? String == "solved")
        #expect(changed.json["priority"] as? String == "hoch")
        #expect(changed.json["assignee"] as? String == "Zoë Ångström")
        let activities = (changed.json["activities"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        #expect(activities.contains("status: new → solved (by token writer)"))
        #expect(activities.contains("assignee: (none) → Zoë Ångström (by token writer)"))
        #expect(activities.contains("priority: (none) → hoch (by token writer)"))
        #expect(!activities.contains { $0.hasPrefix("category") }, "clearing an empty field is no change")

        // The same change again changes nothing and records nothing.
        let again = try await api.request(
            .PATCH, "/api/v1/tickets/\(number)", token: api.writeToken, body: #"{"status": "solved"}"#,
            template: template)
        #expect((again.json["activities"] as? [Any])?.count == (changed.json["activities"] as? [Any])?.count)

        let note = try await api.request(
            .POST, "/api/v1/tickets/\(number)/notes", token: api.writeToken,
            body: #"{"text": "Techniker bestellt für Dienstag. Привет!\n\nDanke"}"#,
            template: "/api/v1/tickets/{number}/notes")
        #expect(note.status == 201, "\(note.text)")
        #expect(note.json["direction"] as? String == "note")
        #expect(note.json["source"] as? String == "api")
        #expect(note.json["text"] as? String == "Techniker bestellt für Dienstag. Привет!\n\nDanke")
        #expect(note.json["raw_url"] is NSNull)
        let noteID = try #require(note.json["id"] as? Int)
        #expect(note.headers.first(name: "location") == "/api/v1/tickets/\(number)/articles/\(noteID)")

        let shown = try await api.get("/api/v1/tickets/\(number)", template: template)
        #expect((shown.json["articles"] as? [[String: Any]])?.count == 2)
        let kinds = (shown.json["activities"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.filter { $0 == "changed" }.count == 3)
        #expect(kinds.contains("note"))
        // The list reflects the change.
        let listed = try await api.get("/api/v1/tickets?status=solved", template: "/api/v1/tickets")
        #expect((listed.json["tickets"] as? [[String: Any]])?.first?["assignee"] as? String == "Zoë Ångström")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }
}
