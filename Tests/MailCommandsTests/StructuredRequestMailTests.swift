import Foundation
import MailParser
import Testing

@testable import MailCommands

/// Whole messages through `MessageParser` (charsets, transfer encodings, HTML-only bodies) to the parser, as
/// the pipeline hands it `ParsedMessage.text`.
@Suite("Structured requests: from raw mail")
struct StructuredRequestMailTests {
    let parser = StructuredRequestParserTests.parser

    static func message(_ headers: [String], body: [UInt8]) -> [UInt8] {
        Array((headers.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body
    }

    @Test func htmlOnlyMail() throws {
        let html = """
            <html><body><p>Bonjour,</p>
            <p>CreateSR<br>
            Type&nbsp;: Acc&egrave;s VPN<br>
            Requ&eacute;rant : jdupont<br>
            Utilisateur : jdupont<br>
            - Nom du poste : PC-0042<br>
            - Date de d&eacute;but : 05/12/2026<br>
            - Justification :<br>
            T&eacute;l&eacute;travail <b>urgent</b><br>
            CreateSR</p>
            <div class="gmail_quote">Le 4 d&eacute;c. :<blockquote>CreateSR<br>Type: ancien<br>CreateSR</blockquote></div>
            </body></html>
            """
        let raw = Self.message(
            [
                "From: Jean <jean@example.test>", "Subject: =?UTF-8?Q?Acc=C3=A8s_VPN?=", "MIME-Version: 1.0",
                "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit",
            ], body: Array(html.utf8))
        let parsed = MessageParser.parse(raw)
        let result = try #require(parser.parse(parsed.text, sender: "jean@example.test"), "\(parsed.text)")
        guard case .request(let request) = result else { return #expect(Bool(false), "\(result)\n\(parsed.text)") }
        #expect(request.fields.map(\.value) == ["PC-0042", "2026-12-05", "Télétravail urgent"])
    }

    @Test func latin1QuotedPrintablePlainText() throws {
        let body =
            "CreateSR\r\nType: Acc=E8s VPN\r\nRequ=E9rant: jdupont\r\nUtilisateur: jdupont\r\n- Nom du poste: =\r\n"
            + "PC-=C9t=E9\r\n- Date de d=E9but: 2026-12-05\r\n- Justification:\r\nGr=E2ce =E0 vous\r\nCreateSR\r\n"
        let raw = Self.message(
            [
                "From: jean@example.test", "MIME-Version: 1.0", "Content-Type: text/plain; charset=iso-8859-1",
                "Content-Transfer-Encoding: quoted-printable",
            ], body: Array(body.utf8))
        let parsed = MessageParser.parse(raw)
        let result = try #require(parser.parse(parsed.text, sender: "jean@example.test"))
        guard case .request(let request) = result else { return #expect(Bool(false), "\(result)") }
        #expect(request.fields.map(\.value) == ["PC-Été", "2026-12-05", "Grâce à vous"])
    }

    @Test func plainTextPartIsPreferredOverHTML() throws {
        let boundary = "b1"
        let body = """
            --b1\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: base64\r
            \r
            \(Data("CreateSR\nType: Badge\nRequester: 警卫\nUser: Охранник\n- Floor: 12\nCreateSR\n".utf8).base64EncodedString())\r
            --b1\r
            Content-Type: text/html; charset=utf-8\r
            \r
            <p>CreateSR<br>Type: inconnu<br>CreateSR</p>\r
            --b1--\r
            """
        let raw = Self.message(
            [
                "From: guard@elsewhere.test", "MIME-Version: 1.0",
                "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            ], body: Array(body.utf8))
        let parsed = MessageParser.parse(raw)
        let result = try #require(parser.parse(parsed.text, sender: "guard@elsewhere.test"))
        #expect(
            result
                == .request(
                    StructuredRequest(
                        type: "Badge", requester: ["警卫"], user: ["Охранник"],
                        fields: [TicketField(name: "floor", kind: .number, value: "12")], language: .english)))
    }
}
