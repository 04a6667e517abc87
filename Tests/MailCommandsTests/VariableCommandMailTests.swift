import MailParser
import Testing

@testable import MailCommands

/// Whole messages through `MessageParser` to the parser, as the pipeline hands it `ParsedMessage.text`: the
/// windows-1252 apostrophes Outlook types, an approval mail's `mailto:` links in HTML, a quoted reply.
@Suite("Variable commands: from raw mail")
struct VariableCommandMailTests {
    let parser = VariableCommandParser()

    @Test func windows1252TypographicApostrophes() throws {
        // 0x91 and 0x92 are ‘ and ’ in windows-1252.
        var body = Array("@OPERATION@=".utf8) + [0x91] + Array("RESTART".utf8) + [0x92] + [0x0D, 0x0A]
        body += Array("@RFC_NUMBER@=".utf8) + [0x92] + Array("42".utf8) + [0x92] + [0x0D, 0x0A]
        body += Array("@COMMENT@='l".utf8) + [0x92] + Array("imprimante '".utf8) + [0x0D, 0x0A]
        let raw = StructuredRequestMailTests.message(
            ["From: a@example.test", "MIME-Version: 1.0", "Content-Type: text/plain; charset=windows-1252"],
            body: body)
        let parsed = MessageParser.parse(raw)
        #expect(
            parser.parse(parsed.text)
                == .command(
                    VariableCommand(
                        operation: .restart, target: "42",
                        fields: [VariableField(name: "COMMENT", value: "l’imprimante")],
                        choice: nil)), "\(parsed.text)")
    }

    /// A reply to an approval mail that quotes it as HTML: whatever the text made from it shows of the two
    /// links, it never becomes one answer silently.
    @Test func replyQuotingBothApprovalLinksIsNotSilentlyOneAnswer() throws {
        let html = """
            <html><body><p>OK pour moi.</p>
            <p><a href="mailto:support@example.test?subject=Accepted&amp;body=%40OPERATION%40%3D%27SOLVE%27%0A%40RFC_NUMBER%40%3D%2712%27%0A%40CHOICE%40%3D%271%27">Accepted</a>
            <a href="mailto:support@example.test?subject=Refused&amp;body=%40OPERATION%40%3D%27SOLVE%27%0A%40RFC_NUMBER%40%3D%2712%27%0A%40CHOICE%40%3D%270%27">Refused</a></p>
            </body></html>
            """
        let raw = StructuredRequestMailTests.message(
            ["From: a@example.test", "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8"],
            body: Array(html.utf8))
        let parsed = MessageParser.parse(raw)
        switch parser.parse(parsed.text) {
        case nil: break
        case .invalid(let error): #expect(error.kind == .duplicateVariable)
        case .command(let command): Issue.record("one answer chosen from two links: \(command)\n\(parsed.text)")
        }
    }

    @Test func decodedMailtoBodyAsAClientSendsIt() throws {
        let body =
            "Do not change the text below\r\n\r\n@OPERATION@='SOLVE'\r\n@RFC_NUMBER@='[Support #12]'\r\n@CHOICE@='1'\r\n"
        let raw = StructuredRequestMailTests.message(
            [
                "From: a@example.test", "Subject: Accepted", "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8; format=flowed",
            ], body: Array(body.utf8))
        #expect(
            parser.parse(MessageParser.parse(raw).text)
                == .command(VariableCommand(operation: .solve, target: "[Support #12]", fields: [], choice: "1")))
    }
}
