import Foundation
import MailParser
import Testing
import TicketPipeline

/// Mail with bare-CR line ends, end to end: through `TicketIntake` into a real SQLite store, the requester, the
/// subject and the text come from the split header section, not from one field holding it all.
@Suite("Bare CR line ends, through the intake")
struct BareCarriageReturnIntakeTests {
    @Test(
        arguments: [
            ("\"Jürgen Müller\" <m@example.test>", "Jürgen Müller", "hello", "hello"),
            (
                "=?UTF-8?B?0JDQvdC90LAg0JrQsNGA0LXQvdC40L3QsA==?= <m@example.test>", "Анна Каренина",
                "=?UTF-8?Q?Dr=C3=BCcker_f=C3=A4llt_aus?=", "Drücker fällt aus"
            ),
            ("=?ISO-8859-1?Q?Fran=E7ois_Ch=E2telet?= <m@example.test>", "François Châtelet", "Ça coince", "Ça coince"),
        ] as [(String, String, String, String)])
    func bareCRMessageBecomesATicketWithItsRequesterAndSubject(
        _ from: String, _ name: String, _ subject: String, _ decodedSubject: String
    ) async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let raw =
            "From: \(from)\rTo: support@localhost\rSubject: \(subject)\rMessage-ID: <\(UUID().uuidString)@example.test>\r"
            + "Content-Type: text/plain; charset=utf-8\r\rGrüße,\rzweite Zeile\r"
        #expect(await fixture.deliver(raw, sender: "m@example.test") == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.subject == decodedSubject)
        let requester = try #require(ticket.requester)
        #expect(requester.name == name)
        #expect(requester.address == "m@example.test")
        let article = try #require(ticket.articles.first)
        #expect(LineScanner.lines(article.text).prefix(2) == ["Grüße,", "zweite Zeile"], "\(article.text)")
        #expect(try await fixture.store.rawMessage(articleID: article.id) == Array(raw.utf8))
    }

    @Test func bareCRMultipartKeepsItsTextAndAttachment() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let raw = [
            "From: =?UTF-8?B?0JDQvdC90LAg0JrQsNGA0LXQvdC40L3QsA==?= <anna@example.test>", "To: support@localhost",
            "Subject: =?UTF-8?Q?Anh=C3=A4nge?=", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "Content-Type: text/plain; charset=utf-8", "", "Grüße,", "zweite Zeile", "--b",
            "Content-Type: application/octet-stream",
            "Content-Disposition: attachment; filename*=UTF-8''d%C3%A4ten.bin",
            "", "xyz", "--b--", "",
        ].joined(separator: "\r")
        #expect(await fixture.deliver(raw, sender: "anna@example.test") == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.subject == "Anhänge")
        #expect(ticket.requester?.name == "Анна Каренина")
        let article = try #require(ticket.articles.first)
        #expect(LineScanner.lines(article.text) == ["Grüße,", "zweite Zeile"], "\(article.text.debugDescription)")
        #expect(article.attachments.map(\.filename) == ["däten.bin"])
    }
}
