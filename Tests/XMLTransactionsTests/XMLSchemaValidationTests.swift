import Foundation
import Testing

@testable import XMLTransactions

/// docs/xml-api/postdesk-transaction.xsd checked with xmllint (libxml2-utils): every example validates, rendered
/// responses validate, and documents the parser refuses are refused by the schema too.
@Suite(.enabled(if: XMLLint.path != nil, "xmllint (libxml2-utils) is not installed"))
struct XMLSchemaValidationTests {
    @Test func everyExampleValidatesAgainstTheSchema() throws {
        for name in try XMLAPIDocuments.exampleNames() {
            let result = try XMLLint.validate(XMLAPIDocuments.examples.appendingPathComponent(name))
            #expect(result.status == 0, "\(name): \(result.output)")
        }
    }

    @Test func renderedResponsesValidate() throws {
        let responses = [
            XMLTransactionResponse(
                externalReference: "ref <1> & \"2\" \u{1}",
                results: [
                    .succeeded(.createTicket, ticket: 1),
                    .failed(.changeTicket, ticket: 2, code: "not-allowed", message: "Zoë may not \u{7}change <2>"),
                    .failed(.addArticle, code: "x", message: ""),
                ]),
            XMLTransactionResponse(externalReference: nil, refusalCode: "wrong-password", message: "wrong password"),
            XMLTransactionResponse(refusal: XMLTransactionError(.doctypeRefused, line: 2)),
        ]
        for response in responses {
            let result = try XMLLint.validate(bytes: response.bytes)
            #expect(result.status == 0, "\(response.rendered()): \(result.output)")
        }
    }

    @Test func documentsTheParserRefusesTheSchemaRefusesToo() throws {
        let refused = [
            XMLAPIDocuments.transaction(XMLAPIDocuments.minimalCreate, header: ""),
            XMLAPIDocuments.transaction("<CreateTicket><Subject>S</Subject><Colour/></CreateTicket>"),
            XMLAPIDocuments.transaction("<AddArticle ticket=\"0\"><Text>T</Text></AddArticle>"),
            XMLAPIDocuments.transaction("<AddArticle ticket=\"1\" internal=\"maybe\"><Text>T</Text></AddArticle>"),
            XMLAPIDocuments.transaction(
                "<ChangeTicket ticket=\"1\"><Field name=\"F\" kind=\"colour\">x</Field></ChangeTicket>"),
            XMLAPIDocuments.transaction(
                "<CreateTicket><Subject> </Subject><Text>T</Text><Requester>a@example.test</Requester></CreateTicket>"),
            XMLAPIDocuments.transaction(
                "<CreateTicket><Subject>S</Subject><Text>T</Text><Requester>not an address</Requester></CreateTicket>"),
            Array("<PostdeskTransaction version=\"2\"><Password>p</Password></PostdeskTransaction>".utf8),
        ]
        for document in refused {
            let text = String(decoding: document, as: UTF8.self)
            #expect(throws: XMLTransactionError.self, "\(text)") { try XMLTransactionParser().parse(document) }
            #expect(try XMLLint.validate(bytes: document).status != 0, "the schema accepted \(text)")
        }
    }
}
