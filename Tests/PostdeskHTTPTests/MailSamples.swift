import Foundation

/// Real-looking mail for the API tests: RFC 2047 names and subjects in several charsets, raw UTF-8, an RFC 2231
/// attachment name, quoted history and a signature for `stripped_text`.
enum MailSamples {
    /// "Drucker brennt – Grüße aus Köln" (RFC 2047 B, UTF-8) from "Jürgen Müller" (RFC 2047 Q, ISO-8859-1), a
    /// reply with German quoted history and a signature, and a PDF named "Übersicht Straße.pdf" (RFC 2231).
    static func germanReplyWithAttachment(id: String = UUID().uuidString) -> String {
        let subject = Data("Drucker brennt – Grüße aus Köln".utf8).base64EncodedString()
        let pdf = Data("%PDF-1.4 Übersicht\n".utf8).base64EncodedString()
        return """
            From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <Juergen@Example.com>\r
            To: Support <support@example.org>\r
            Subject: =?UTF-8?B?\(subject)?=\r
            Message-ID: <\(id)@example.com>\r
            Date: Sat, 05 Dec 2026 09:00:00 +0100\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="grenze"\r
            \r
            --grenze\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            Der Drucker im 3. Stock brennt wieder. Bitte schnell!\r
            \r
            Am 04.12.2026 um 10:00 schrieb Support <support@example.org>:\r
            > Haben Sie den Drucker neu gestartet?\r
            > Grüße, Ihr Support\r
            \r
            -- \r
            Jürgen Müller, Hausmeisterei\r
            --grenze\r
            Content-Type: application/pdf; name="=?UTF-8?Q?=C3=9Cbersicht_Stra=C3=9Fe.pdf?="\r
            Content-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht%20Stra%C3%9Fe.pdf\r
            Content-Transfer-Encoding: base64\r
            \r
            \(pdf)\r
            --grenze--\r

            """
    }

    /// A plain message with a raw UTF-8 subject and name (as SMTPUTF8 mail has them).
    static func rawUTF8(
        subject: String, from: String = "Zoë Ångström <zoe@example.net>", id: String = UUID().uuidString
    )
        -> String
    {
        """
        From: \(from)\r
        To: support@example.org\r
        Subject: \(subject)\r
        Message-ID: <\(id)@example.net>\r
        Date: Sat, 05 Dec 2026 09:10:00 +0000\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: 8bit\r
        \r
        Привет! 日本語のテキスト. Ça marche?\r

        """
    }

    /// Just the expected PDF bytes of `germanReplyWithAttachment`.
    static let pdfContent = Array("%PDF-1.4 Übersicht\n".utf8)
}
