import Foundation
import Logging
import MailParser
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// A ticket read again (the API, a webhook's payload) takes its articles' renderings from the cache instead of
/// loading, parsing and hashing their raw messages again; the cache stays within its budget. Real parser, real
/// SQLite file, non-ASCII mail.
@Suite("Rendered articles: rendered once, read again from the cache")
struct RenderedArticleCacheTests {
    static func rendering(_ text: String) -> RenderedArticle {
        RenderedArticle(storedText: text, html: nil, rawSHA256: String(repeating: "0", count: 64))
    }

    @Test func theLeastRecentlyReadGoFirstAndTheBudgetHolds() {
        let one = Self.rendering(String(repeating: "ä", count: 100))
        let cost = one.cost + RenderedArticleCache.entryOverhead
        let cache = RenderedArticleCache(byteBudget: cost * 10)
        for id in 1...10 { cache.keep(one, for: Int64(id)) }
        #expect(cache.usage.entries == 10)
        // Read 1 and 2 again: they are the most recent now.
        #expect(cache.article(1) == one)
        #expect(cache.article(2) == one)
        cache.keep(one, for: 11)
        let usage = cache.usage
        #expect(usage.bytes <= cache.byteBudget / 4 * 3, "an eviction round frees a quarter of the budget")
        #expect(usage.entries == 7)
        #expect(cache.article(1) != nil && cache.article(2) != nil && cache.article(11) != nil)
        #expect(cache.article(3) == nil && cache.article(4) == nil && cache.article(5) == nil)
    }

    @Test func aRenderingOverAnEighthOfTheBudgetIsNotKept() {
        let cache = RenderedArticleCache(byteBudget: 8_000)
        cache.keep(Self.rendering(String(repeating: "語", count: 400)), for: 1)
        #expect(cache.article(1) == nil)
        #expect(cache.usage.entries == 0 && cache.usage.bytes == 0)
        cache.keep(Self.rendering("kurz"), for: 2)
        #expect(cache.article(2)?.text == "kurz")
    }

    @Test func keepingAnIdAgainReplacesItsCost() {
        let cache = RenderedArticleCache(byteBudget: 1 << 20)
        cache.keep(Self.rendering(String(repeating: "x", count: 1000)), for: 1)
        cache.keep(Self.rendering("y"), for: 1)
        #expect(cache.usage.entries == 1)
        #expect(cache.usage.bytes == Self.rendering("y").cost + RenderedArticleCache.entryOverhead)
    }

    static let requesterMail = Array(
        """
        From: =?UTF-8?B?0JDQvdC90LAg0JrQsNGA0LXQvdC40L3QsA==?= <anna@example.test>
        To: support@localhost
        Subject: =?ISO-8859-7?Q?=C5=EA=F4=F5=F0=F9=F4=DE=F2?=
        Message-ID: <render-1@example.test>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        --b1
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Принтер не печатает. 打印机坏了。

        --\u{20}
        Анна
        --b1
        Content-Type: application/pdf; name="=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="
        Content-Transfer-Encoding: base64

        \(Data(repeating: 0x25, count: 30_000).base64EncodedString(options: .lineLength76Characters))
        --b1--

        """.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)

    static let reply = Array(
        """
        From: =?UTF-8?B?0JDQvdC90LAg0JrQsNGA0LXQvdC40L3QsA==?= <anna@example.test>
        To: support@localhost
        Subject: Re: Drucker
        Message-ID: <render-2@example.test>
        In-Reply-To: <render-1@example.test>
        Content-Type: text/plain; charset=iso-8859-1
        Content-Transfer-Encoding: quoted-printable

        Gr=FC=DFe, es geht wieder.

        > Принтер не печатает.

        """.replacingOccurrences(of: "\n", with: "\r\n").utf8)

    @Test func aTicketReadAgainIsTheSameWithoutRenderingItsMailAgain() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        // The real parser, as the daemon's intake runs it.
        let intake = OutboxEventTests.intake(fixture.store, recordsEvents: false)
        #expect(await OutboxEventTests.deliver(Self.requesterMail, to: intake) == [.created(ticket: 1)])
        #expect(await OutboxEventTests.deliver(Self.reply, to: intake) == [.appended(ticket: 1)])
        _ = try #require(
            try await fixture.store.addInternalNote(number: 1, text: "Rückruf – 回电", author: "Zoë", at: Date()))
        let cache = try #require(fixture.store.renderedArticles)
        #expect(cache.usage.entries == 0)

        let first = try #require(try await fixture.store.ticket(number: 1))
        #expect(first.articles.count == 3)
        #expect(first.articles[0].text.contains("Принтер не печатает. 打印机坏了。"))
        #expect(!first.articles[0].strippedText.contains("Анна"), "the signature is not the new part")
        #expect(first.articles[0].rawSHA256 == sha256Hex(Self.requesterMail))
        #expect(first.articles[0].attachments.first?.filename == "Rechnung März.pdf")
        #expect(first.articles[1].text.contains("Grüße, es geht wieder."))
        #expect(
            first.articles[1].strippedText.trimmingCharacters(in: .whitespacesAndNewlines) == "Grüße, es geht wieder.")
        #expect(first.articles[2].text == "Rückruf – 回电")
        #expect(cache.usage.entries == 2, "the two mails stored as raw messages are kept; the note is its row")

        // The raw messages are not read again: with them gone from the database, the second read is the same.
        _ = try await fixture.store.write { transaction in
            let sqlite = try #require(transaction as? SQLiteTicketTransaction)
            try sqlite.db.execute(sql: "UPDATE raw_messages SET data = x''")
        }
        let second = try #require(try await fixture.store.ticket(number: 1))
        #expect(second.articles == first.articles)

        // A webhook's payload reads the same rendering as the API.
        for article in first.articles {
            let texts = try #require(try await fixture.store.articleTexts(articleID: article.id))
            #expect(texts.text == article.text)
            #expect(texts.strippedText == article.strippedText)
        }

        // The command line's reader keeps nothing, and renders from what is stored now.
        let reader = try SQLiteTicketReader(path: fixture.directory.databasePath)
        #expect(reader.renderedArticles == nil)
        #expect(try await reader.ticket(number: 1)?.articles[0].text.contains("Принтер") == false)
    }
}
