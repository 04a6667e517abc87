import Foundation
import MailParser
import Testing

@testable import MailClassification

/// Messages written after public bounce and auto-reply collections (Sisimai's set of emails, flufl.bounce's
/// test data): mail whose only signals are its subject and body. One row per form; negative rows are a
/// person's mail that looks alike and must stay a ticket.
enum TextSignalFixture {
    /// A message with LF line ends (turned into CRLF by `Fixture.parsed`).
    static func mail(
        from: String, subject: String, body: String, headers: [String] = [],
        contentType: String = "text/plain; charset=utf-8"
    ) -> String {
        var lines = ["From: \(from)", "To: support@helpdesk.example", "Subject: \(subject)"]
        lines.append("Message-ID: <\(UUID().uuidString)@sender.example>")
        lines.append("Date: Mon, 23 Nov 2026 10:00:00 +0000")
        lines += headers
        lines.append("MIME-Version: 1.0")
        lines.append("Content-Type: \(contentType)")
        return lines.joined(separator: "\n") + "\n\n" + body
    }

    static let eximBody = """
        This message was created automatically by mail delivery software.

        A message that you sent could not be delivered to one or more of its
        recipients. This is a permanent error. The following address(es) failed:

          nobody@example.org
            550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown

        ------ This is a copy of the message, including all the headers. ------

        Subject: [Support #7] Re: Login problem
        Message-ID: <T7.A20.c0de@helpdesk.example>
        """

    static let sendmailBody = """
        The original message was received at Mon, 23 Nov 2026 10:00:00 +0100
        from helpdesk.example [192.0.2.10]

           ----- The following addresses had permanent fatal errors -----
        <gone@corp.example>
            (reason: 550 5.1.1 <gone@corp.example>... User unknown)

           ----- Transcript of session follows -----
        ... while talking to mx.corp.example.:
        >>> RCPT To:<gone@corp.example>
        <<< 550 5.1.1 <gone@corp.example>... User unknown
        """

    static let exchangeBody = """
        Delivery has failed to these recipients or groups:

        Bob Jones (bob@corp.example)
        The email address you entered couldn't be found. Please check the recipient's email address and try to
        resend the message.

        Diagnostic information for administrators:
        Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'
        """

    static let antivirusBody = """
        Your message

          To:      carl@corp.example
          Subject: Invoice 2026-11

        was not delivered to the following recipients because it contains a virus (Eicar-Test-Signature).
        The message was quarantined by the gateway.
        """

    static let genericBody = """
        Your message could not be delivered to the following recipient:

        <nobody@customer.example>: no such user here.
        """
}

@Suite("Classification by subject and body alone")
struct TextSignalTableTests {
    typealias Mail = TextSignalFixture

    static let bounces: [FixtureCase] = [
        FixtureCase(
            name: "Exim bounce from mailnull, sender rewritten by a forwarder",
            raw: Mail.mail(
                from: "mailnull@mx.corp.example", subject: "Mail delivery failed: returning message to sender",
                body: Mail.eximBody),
            sender: "SRS0=ab12=XY=helpdesk.example=support@forwarder.example", verdict: .bounce,
            rule: "bounce-subject-body"),
        FixtureCase(
            name: "Returned Mail from a gateway account",
            raw: Mail.mail(from: "mail-gateway@corp.example", subject: "Returned Mail", body: Mail.sendmailBody),
            sender: "mail-gateway@corp.example", verdict: .bounce, rule: "bounce-subject-body"),
        FixtureCase(
            name: "Returned mail: see transcript for details",
            raw: Mail.mail(
                from: "root@old-unix.corp.example", subject: "Returned mail: see transcript for details",
                body: Mail.sendmailBody),
            sender: "root@old-unix.corp.example", verdict: .bounce, rule: "bounce-subject-body"),
        FixtureCase(
            name: "Undelivered mail",
            raw: Mail.mail(from: "mailsystem@customer.example", subject: "Undelivered mail", body: Mail.genericBody),
            sender: "mailsystem@customer.example", verdict: .bounce, rule: "bounce-subject-body"),
        FixtureCase(
            name: "Undeliverable: <address> from an Exchange relay",
            raw: Mail.mail(
                from: "Exchange Relay <relay@corp.example>", subject: "Undeliverable: bob@corp.example",
                body: Mail.exchangeBody),
            sender: "relay@corp.example", verdict: .bounce, rule: "bounce-subject-body"),
        FixtureCase(
            name: "Delivery failure notification, RFC 2047 Q, antivirus gateway",
            raw: Mail.mail(
                from: "=?iso-8859-1?Q?Antivirus_Gateway?= <antivirus@gw.corp.example>",
                subject: "=?iso-8859-1?Q?Delivery_failure_notification?=", body: Mail.antivirusBody),
            sender: "antivirus@gw.corp.example", verdict: .bounce, rule: "bounce-subject-body"),
        FixtureCase(
            name: "Delivery failure notification, RFC 2047 B, antivirus gateway",
            raw: Mail.mail(
                from: "scanner@gw.corp.example", subject: "=?UTF-8?B?RGVsaXZlcnkgZmFpbHVyZSBub3RpZmljYXRpb24=?=",
                body: Mail.antivirusBody),
            sender: "scanner@gw.corp.example", verdict: .bounce, rule: "bounce-subject-body"),
        FixtureCase(
            name: "Unzustellbar: (German Exchange) from a relay",
            raw: Mail.mail(
                from: "relay@firma.example", subject: "Unzustellbar: Angebot", body: Mail.exchangeBody),
            sender: "relay@firma.example", verdict: .bounce, rule: "bounce-subject-body"),
        FixtureCase(
            name: "failure notice (qmail) from a non-MAILER-DAEMON address",
            raw: Mail.mail(from: "qmail@host.example", subject: "failure notice", body: Mail.genericBody),
            sender: "qmail@host.example", verdict: .bounce, rule: "bounce-subject-body"),
    ]

    static let notBounces: [FixtureCase] = [
        FixtureCase(
            name: "'Returned mail question' from a customer",
            raw: Mail.mail(
                from: "Dana <dana@customer.example>", subject: "Returned mail question",
                body: "Hi, a letter I sent you was returned. It could not be delivered, the post office says.\n"
                    + "The user unknown to them? Please check my address."),
            sender: "dana@customer.example", verdict: .accepted, rule: nil),
        FixtureCase(
            name: "'Returned mail' with one failure phrase only",
            raw: Mail.mail(
                from: "Eve <eve@customer.example>", subject: "Returned mail",
                body: "My mail to your sales team could not be delivered. What is their address?"),
            sender: "eve@customer.example", verdict: .accepted, rule: nil),
        FixtureCase(
            name: "a reply to a bounce: 'Re: Undeliverable:'",
            raw: Mail.mail(
                from: "Finn <finn@customer.example>", subject: "Re: Undeliverable: bob@corp.example",
                body: Mail.exchangeBody),
            sender: "finn@customer.example", verdict: .accepted, rule: nil),
        FixtureCase(
            name: "'Undelivered mailbox keys' is another word",
            raw: Mail.mail(
                from: "Gus <gus@customer.example>", subject: "Undelivered mailbox keys",
                body: "The keys could not be delivered, this is a permanent error of your courier."),
            sender: "gus@customer.example", verdict: .accepted, rule: nil),
        FixtureCase(
            name: "'Delivery failure' of a parcel, no mail-system wording",
            raw: Mail.mail(
                from: "Hana <hana@customer.example>", subject: "Delivery failure",
                body: "Your courier left a note. When can you send the parcel again?"),
            sender: "hana@customer.example", verdict: .accepted, rule: nil),
    ]

    static let autoReplies: [(subject: String, rule: String)] = [
        ("Automatic reply: Your printer", "auto-reply-subject"),
        ("Auto Reply: Your printer", "auto-reply-subject"),
        ("Out of Office: Your printer", "auto-reply-subject"),
        ("Out of Office AutoReply: Your printer", "auto-reply-subject"),
        ("Automatische Antwort: Ihr Drucker", "auto-reply-subject"),
        ("AUTOMATISCHE ANTWORT: Ihr Drucker", "auto-reply-subject"),
        ("Abwesenheitsnotiz: Ihr Drucker", "auto-reply-subject"),
        ("Réponse automatique : Votre imprimante", "auto-reply-subject"),
        ("Re\u{301}ponse automatique: Votre imprimante", "auto-reply-subject"),
        ("RÉPONSE AUTOMATIQUE : Votre imprimante", "auto-reply-subject"),
        ("Respuesta automática: Su impresora", "auto-reply-subject"),
        ("Automatisch antwoord: Uw printer", "auto-reply-subject"),
        ("Risposta automatica: La stampante", "auto-reply-subject"),
        ("Resposta automática: Sua impressora", "auto-reply-subject"),
        ("Automatyczna odpowiedź: Drukarka", "auto-reply-subject"),
        ("Automatiskt svar: Din skrivare", "auto-reply-subject"),
        ("Automatisk svar: Din printer", "auto-reply-subject"),
        ("Automaattinen vastaus: Tulostin", "auto-reply-subject"),
        ("Automatická odpověď: Tiskárna", "auto-reply-subject"),
        ("Automatikus válasz: Nyomtató", "auto-reply-subject"),
        ("Otomatik yanıt: Yazıcı", "auto-reply-subject"),
        ("Αυτόματη απάντηση: Εκτυπωτής", "auto-reply-subject"),
        ("Автоматический ответ: Принтер", "auto-reply-subject"),
        ("Автоматична відповідь: Принтер", "auto-reply-subject"),
        ("自動応答: プリンター", "auto-reply-subject"),
        ("自動返信：プリンター", "auto-reply-subject"),
        ("自动回复: 打印机", "auto-reply-subject"),
        ("自動回覆: 印表機", "auto-reply-subject"),
        ("자동 회신: 프린터", "auto-reply-subject"),
        ("AUTO: Jane Doe is out of the office (returning 01.12.2026)", "lotus-notes-auto"),
        ("Auto: John Smith is out of office", "lotus-notes-auto"),
    ]

    static let encodedAutoReplies: [(header: String, rule: String)] = [
        ("=?UTF-8?B?QXV0b21hdGlzY2hlIEFudHdvcnQ6IElociBEcnVja2Vy?=", "auto-reply-subject"),
        ("=?iso-8859-1?Q?R=E9ponse_automatique_:_Votre_imprimante?=", "auto-reply-subject"),
        ("=?ISO-2022-JP?B?GyRCPCtGMDF+RXobKEI=?=: printer", "auto-reply-subject"),
        ("=?koi8-r?B?4dfUz83B1MnexdPLycogz9TXxdQ=?=", "auto-reply-subject"),
        ("=?gb2312?B?19S2r7vYuLQ=?=: printer", "auto-reply-subject"),
    ]

    static let notAutoReplies = [
        "Automatic reply not working in my mailbox", "Re: Automatische Antwort: Ihr Drucker",
        "AW: Réponse automatique : Votre imprimante", "Auto: insurance documents", "Out of office hours support?",
        "Autoreplies are broken", "Fwd: 自動応答: プリンター",
    ]

    static func classify(_ raw: String, sender: String?) -> Classification {
        MailClassifier(helpdeskConfiguration).classify(
            Fixture.parsed(raw), envelope: MailEnvelope(sender: sender, recipients: ["support@helpdesk.example"]))
    }

    @Test(arguments: bounces + notBounces)
    func bounceBySubjectAndBody(_ fixture: FixtureCase) {
        let classification = Self.classify(fixture.raw, sender: fixture.sender)
        #expect(classification.verdict.kind == fixture.verdict, "\(classification.decisions)")
        let deciding = classification.decisions.first { $0.rule != "none" }
        #expect(deciding?.rule == fixture.rule, "\(classification.decisions)")
    }

    @Test(arguments: autoReplies)
    func autoReplyBySubject(_ row: (subject: String, rule: String)) {
        let raw = Mail.mail(from: "Pat <pat@customer.example>", subject: row.subject, body: "I am away until Monday.")
        let classification = Self.classify(raw, sender: "pat@customer.example")
        #expect(classification.verdict.kind == .automated, "\(row.subject): \(classification.decisions)")
        #expect(classification.automated?.kind == .autoReply)
        #expect(classification.automated?.reasons.map(\.rule) == [row.rule])
    }

    @Test(arguments: encodedAutoReplies)
    func encodedAutoReplySubject(_ row: (header: String, rule: String)) {
        let raw = Mail.mail(from: "pat@customer.example", subject: row.header, body: "Away.")
        let classification = Self.classify(raw, sender: "pat@customer.example")
        #expect(
            classification.automated?.reasons.map(\.rule) == [row.rule],
            "\(Fixture.parsed(raw).subject ?? "-"): \(classification.decisions)")
    }

    @Test(arguments: notAutoReplies)
    func personalSubjectsAreNotAutoReplies(_ subject: String) {
        let raw = Mail.mail(from: "Quinn <quinn@customer.example>", subject: subject, body: "Please help.")
        let classification = Self.classify(raw, sender: "quinn@customer.example")
        #expect(classification.verdict == .accepted, "\(subject): \(classification.decisions)")
    }

    @Test func challengeResponseSenders() {
        let byDomain = Mail.mail(
            from: "Spam Arrest <verify@spamarrest.com>", subject: "[SpamArrest] Re: Your printer",
            body: "Click the link to be added to the list.")
        let byTMDA = Mail.mail(
            from: "ron-confirm@customer.example", subject: "Re: Your printer", body: "Reply to confirm.",
            headers: ["X-Delivery-Agent: TMDA/1.1.12 (Macallan)"])
        let byText = Mail.mail(
            from: "sam@customer.example", subject: "Please confirm your message",
            body: "I use a spam protection service. Click below to be added to my approved senders.")
        let personal = Mail.mail(
            from: "tom@customer.example", subject: "Please confirm your message was received",
            body: "I sent the invoice yesterday; did you get it?")
        for raw in [byDomain, byTMDA, byText] {
            let classification = Self.classify(raw, sender: "x@customer.example")
            #expect(classification.automated?.reasons.map(\.rule) == ["challenge-response"], "\(raw)")
            #expect(classification.verdict.kind == .automated)
        }
        #expect(Self.classify(personal, sender: "tom@customer.example").verdict == .accepted)
    }

    @Test func headerSignalsComeFirstAndTextSignalsAreAdded() {
        let raw = Mail.mail(
            from: "Pat <pat@customer.example>", subject: "Automatische Antwort: Ihr Drucker", body: "Away.",
            headers: ["Auto-Submitted: auto-replied"])
        let automated = Self.classify(raw, sender: "pat@customer.example").automated
        #expect(automated?.reasons.map(\.rule) == ["auto-submitted", "auto-reply-subject"])
        #expect(automated?.kind == .autoReply)
    }

    @Test func hostileSubjectsAndBodiesStayCheap() {
        let subjects = [
            "Returned mail" + String(repeating: ":", count: 200_000),
            "Automatische Antwort" + String(repeating: "\u{301}", count: 200_000),
            "A" + String(repeating: "\u{301}", count: 300_000),
            "自" + String(repeating: "\u{3099}", count: 300_000),
            "AUTO:" + String(repeating: "ü", count: 300_000),
            String(repeating: "自動応答", count: 100_000),
        ]
        let body = String(repeating: "could not be deliveredü", count: 50_000)
        let clock = ContinuousClock()
        for subject in subjects {
            let message = ParsedMessage(
                subject: subject, from: [MailAddress(name: nil, address: "x@y.example")], text: body)
            let elapsed = clock.measure {
                _ = MailClassifier(helpdeskConfiguration).classify(
                    message, envelope: MailEnvelope(sender: "x@y.example"))
            }
            #expect(elapsed < .seconds(2), "\(subject.prefix(20)): \(elapsed)")
        }
    }
}
