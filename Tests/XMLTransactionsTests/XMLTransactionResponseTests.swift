import Foundation
import Testing

@testable import XMLTransactions

@Suite struct XMLTransactionResponseTests {
    /// Reads a rendered response back with libxml2 (the same reader as transactions), so escaping is checked by a
    /// real XML parser, not by comparing strings alone.
    func reread(_ response: XMLTransactionResponse) throws -> XMLElementNode {
        let bytes = response.bytes
        let result: Result<XMLElementNode, XMLTransactionError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(XMLTransactionError) {
                return .success(try LibXMLTreeReader.read(buffer, limits: .init()))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    @Test func successResponseNamesEveryTicket() throws {
        let response = XMLTransactionResponse(
            externalReference: "batch 2026-12-05 #3",
            results: [
                .succeeded(.createTicket, ticket: 43), .succeeded(.addArticle, ticket: 17),
                .succeeded(.changeTicket, ticket: 18),
            ])
        let expected = try String(
            contentsOf: XMLAPIDocuments.examples.appendingPathComponent("response-success.xml"), encoding: .utf8)
        #expect(response.rendered() == expected)
    }

    @Test func errorResponseMatchesTheDocumentedExample() throws {
        let response = XMLTransactionResponse(
            externalReference: "batch 2026-12-05 #3",
            results: [
                .succeeded(.createTicket, ticket: 43),
                .failed(.addArticle, ticket: 17, code: "ticket-not-found", message: "ticket 17 does not exist"),
                .failed(
                    .changeTicket, ticket: 18, code: "invalid-status",
                    message: "status \"<done>\" is not one of open, pending, solved, closed"),
            ])
        let expected = try String(
            contentsOf: XMLAPIDocuments.examples.appendingPathComponent("response-errors.xml"), encoding: .utf8)
        #expect(response.rendered() == expected)
    }

    @Test func refusalCarriesTheParsersErrorAndLine() throws {
        let bytes = XMLAPIDocuments.transaction(
            "<CreateTicket>\n<Colour>red</Colour></CreateTicket>")
        var refusal: XMLTransactionError?
        do { _ = try XMLTransactionParser().parse(bytes) } catch { refusal = error }
        let error = try #require(refusal)
        let response = XMLTransactionResponse(refusal: error)
        let root = try reread(response)
        #expect(root.name == "PostdeskResponse")
        let element = try #require(root.children.first)
        #expect(element.name == "Error")
        #expect(element.attribute("code") == "unknown-element")
        #expect(element.attribute("line") == "3")
        #expect(element.text == "XML transaction: element <Colour> is not allowed in <CreateTicket> (line 3)")
    }

    @Test func markupQuotesAndControlCharactersAreEscaped() throws {
        let nasty = "a<b>&c\"d'e\u{0}f\u{1B}[31mg\u{7}\r\nh\u{85}i\tj\u{FFFF} Zoë 東京 🎉 שלום"
        let response = XMLTransactionResponse(
            externalReference: nasty,
            results: [.failed(.createTicket, code: "bad\"code'<&>\n", message: nasty)])
        let rendered = response.rendered()
        for raw in ["\u{0}", "\u{1B}", "\u{7}", "\u{85}", "\u{FFFF}", "\r", "<b>", "&c", "\"d", "'e"] {
            #expect(!rendered.contains(raw), "raw \(raw.unicodeScalars.map(\.value)) in the response")
        }
        #expect(
            rendered.contains(
                "a&lt;b&gt;&amp;c&quot;d&apos;e\u{FFFD}f\u{FFFD}[31mg\u{FFFD}&#13;\nh\u{FFFD}i\tj\u{FFFD}"))
        #expect(rendered.contains("code=\"bad&quot;code&apos;&lt;&amp;&gt;&#10;\""))
        let root = try reread(response)
        let cleaned = "a<b>&c\"d'e\u{FFFD}f\u{FFFD}[31mg\u{FFFD}\r\nh\u{FFFD}i\tj\u{FFFD} Zoë 東京 🎉 שלום"
        #expect(root.children.first { $0.name == "ExternalReference" }?.text == cleaned)
        let result = try #require(root.children.first { $0.name == "Result" })
        #expect(result.attribute("status") == "error")
        #expect(result.attribute("ticket") == nil)
        #expect(result.children.first?.attribute("code") == "bad\"code'<&>\n")
        #expect(result.children.first?.text == cleaned)
    }
}
