import Foundation
import Testing

@testable import MailParser

/// The realistic messages in `Corpus/`: each `NAME.eml` has a golden `NAME.json` (the `postdesk parse --json`
/// document). Run with `POSTDESK_UPDATE_GOLDEN=1` to rewrite the golden files after an intended change, then
/// review the diff.
@Suite("Corpus golden files")
struct CorpusTests {
    static let corpusURL = Bundle.module.url(forResource: "Corpus", withExtension: nil)!
    static let sourceCorpusURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Corpus")

    static var messageNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: corpusURL.path)) ?? []
        return files.filter { $0.hasSuffix(".eml") }.map { String($0.dropLast(4)) }.sorted()
    }

    static func parse(_ name: String) throws -> ParsedMessage {
        let raw = try Data(contentsOf: corpusURL.appendingPathComponent(name + ".eml"))
        return MessageParser.parse(Array(raw))
    }

    @Test func corpusIsPresent() {
        #expect(Self.messageNames.count >= 15)
    }

    @Test(arguments: messageNames)
    func goldenJSON(_ name: String) throws {
        let parsed = try Self.parse(name)
        let json = try parsed.jsonData()
        if ProcessInfo.processInfo.environment["POSTDESK_UPDATE_GOLDEN"] == "1" {
            try (json + Data("\n".utf8)).write(to: Self.sourceCorpusURL.appendingPathComponent(name + ".json"))
            return
        }
        let golden = try Data(contentsOf: Self.corpusURL.appendingPathComponent(name + ".json"))
        let expected = String(decoding: golden, as: UTF8.self).trimmingCharacters(in: .newlines)
        #expect(String(decoding: json, as: UTF8.self) == expected, "golden JSON differs for \(name)")
    }

    @Test func gmailInlineImageIsLinkedByContentID() throws {
        let parsed = try Self.parse("gmail-alternative-inline-image")
        #expect(parsed.from.first?.name == "María García")
        #expect(parsed.attachments.count == 1)
        #expect(parsed.attachments.first?.contentID == "ii_lq1x2y3z0")
        #expect(parsed.html?.contains("cid:ii_lq1x2y3z0") == true)
        #expect(parsed.strippedText.hasSuffix("Thanks,\nMaria"))
        #expect(!parsed.strippedText.contains("wrote:"))
    }

    @Test func appleMailBodyAroundInlineAttachment() throws {
        let parsed = try Self.parse("apple-mail-inline-attachment")
        #expect(parsed.subject == "Facture décembre")
        #expect(parsed.text.contains("maintenance du serveur de fichiers"))
        #expect(parsed.text.hasSuffix("Merci,\nJean"))
        #expect(parsed.attachments.map(\.filename) == ["Facture décembre.pdf"])
    }

    @Test func japaneseAndCyrillicAndChinese() throws {
        let japanese = try Self.parse("iso-2022-jp")
        #expect(japanese.subject == "プリンター故障のお知らせ")
        #expect(japanese.from.first?.name == "山田太郎")
        #expect(japanese.text.contains("至急ご確認をお願いします。"))
        let russian = try Self.parse("windows-1251-outlook-express")
        #expect(russian.subject == "Не работает почта")
        #expect(russian.from.first?.name == "Иван Петров")
        #expect(
            russian.strippedText
                == "Здравствуйте!\n\nНе работает почта на сервере, письма не уходят с утра.\nПрошу срочно проверить.")
        let chinese = try Self.parse("gbk-attachment-name")
        #expect(chinese.subject == "系统报错截图")
        #expect(chinese.attachments.first?.filename == "截图.png")
        let big5 = try Self.parse("smime-signed-big5")
        #expect(big5.text.contains("帳號被鎖定"))
        #expect(big5.attachments.map(\.filename) == ["smime.p7s"])
    }

    @Test func mislabelledCharsetsAreRepaired() throws {
        let parsed = try Self.parse("mislabelled-charsets")
        #expect(parsed.subject == "Ticket für Müller")
        #expect(parsed.text.contains("Grüße aus Köln – the labels lie."))
        #expect(parsed.text.contains("Café crème, 5 €"))
        #expect(!parsed.defects.isEmpty)
    }

    @Test func forwardedMessageAndBounce() throws {
        let forwarded = try Self.parse("forwarded-rfc822")
        #expect(forwarded.attachments.first?.filename == "Angebot 2024.eml")
        #expect(forwarded.attachedMessages.first?.text.contains("12 Lizenzen zu je 49 €") == true)
        let bounce = try Self.parse("dsn-bounce")
        #expect(bounce.from == [MailAddress(name: "Mail Delivery System", address: "MAILER-DAEMON@mx.example.org")])
        #expect(bounce.text.contains("User unknown"))
        #expect(bounce.attachments.map(\.contentType) == ["message/delivery-status", "text/rfc822-headers"])
    }

    @Test func calendarInviteKeepsTheICS() throws {
        let parsed = try Self.parse("outlook-calendar-invite")
        #expect(parsed.text == "Let's review the migration plan before the cut-over.\n")
        let invite = try #require(parsed.attachments.first)
        #expect(invite.contentType == "text/calendar")
        #expect(String(decoding: invite.data, as: UTF8.self).contains("METHOD:REQUEST"))
    }

    @Test func scannerPDFWithRFC2231Name() throws {
        let parsed = try Self.parse("scanner-pdf")
        #expect(parsed.date == nil)
        #expect(
            parsed.attachments.first?.filename == "Scan of signed contract for the new office lease - page 1-3.pdf")
    }

    @Test func tnefAttachmentsAndBodyAreExtracted() throws {
        let parsed = try Self.parse("outlook-tnef-winmail")
        #expect(parsed.text == "Please find the printer inventory attached.\nRegards, Lisa\n")
        let attachment = try #require(parsed.attachments.first)
        #expect(parsed.attachments.count == 1)
        #expect(attachment.filename == "printer inventory 2024.csv")
        #expect(attachment.contentType == "text/csv")
        #expect(String(decoding: attachment.data, as: UTF8.self).hasPrefix("Serial,Model"))
    }

    @Test func uuencodedFileBecomesAnAttachment() throws {
        let parsed = try Self.parse("uuencode-old-client")
        #expect(parsed.attachments.first?.filename == "error.log")
        let log = String(decoding: parsed.attachments.first?.data ?? [], as: UTF8.self)
        #expect(log.contains("disk full on /var"))
        #expect(!parsed.text.contains("begin 644"))
        #expect(parsed.text.contains("Regards"))
    }

    @Test func htmlOnlyAlertBecomesReadableText() throws {
        let parsed = try Self.parse("monitoring-alert-html")
        #expect(parsed.text.contains("Host | Severity | Value\nweb01 | High | 97.3 %"))
        #expect(
            parsed.text.contains(
                "CPU > 90% for 5m — see event <https://monitor.example/tr_events.php?triggerid=13&eventid=42>."))
        #expect(parsed.text.contains("- Original problem ID: 42\n- Trigger: CPU"))
    }

    @Test(arguments: [
        ("outlook-reply-html", "Hi,\n\nThe VPN works again, thanks!\n\nBest regards\nTom Baker\nIT Coordinator"),
        (
            "outlook-original-message-de",
            "Hallo,\n\nder Drucker druckt wieder, vielen Dank für die schnelle Hilfe.\n\nMit freundlichen Grüßen\nKlaus Weber"
        ),
        ("thunderbird-reply-fr", "Bonjour,\n\nC'est réglé, merci beaucoup !"),
        ("gmail-reply-es", "Hola,\n\nYa puedo acceder, gracias."),
    ])
    func quotedHistoryIsStripped(_ name: String, _ expected: String) throws {
        let parsed = try Self.parse(name)
        #expect(parsed.strippedText == expected)
        #expect(parsed.text.count > parsed.strippedText.count)
    }
}
