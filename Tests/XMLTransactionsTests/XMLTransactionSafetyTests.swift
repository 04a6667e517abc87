import Foundation
import Testing

@testable import XMLTransactions

/// Hostile documents: external entities, entity expansion, size, depth and element count. Each is refused with a
/// precise error, quickly, touching neither the file system nor the network.
@Suite struct XMLTransactionSafetyTests {
    let parser = XMLTransactionParser()

    func parseError(_ bytes: [UInt8], limits: XMLTransactionLimits = .init()) -> XMLTransactionError? {
        do {
            _ = try XMLTransactionParser(limits: limits).parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    static func xxe(_ systemID: String, parameterEntity: Bool = false) -> [UInt8] {
        let declaration =
            parameterEntity
            ? "<!ENTITY % ext SYSTEM \"\(systemID)\"> %ext;" : "<!ENTITY ext SYSTEM \"\(systemID)\">"
        return Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE PostdeskTransaction [\(declaration)]>
            <PostdeskTransaction version="1"><Password>p</Password>
            <CreateTicket><Subject>&ext;</Subject><Text>&ext;</Text><Requester>a@example.test</Requester></CreateTicket>
            </PostdeskTransaction>
            """.utf8)
    }

    static let billionLaughs: [UInt8] = {
        var declarations = "<!ENTITY lol0 \"lol\">"
        for level in 1...9 {
            declarations += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">"
        }
        return Array(
            """
            <?xml version="1.0"?>
            <!-- laughs -->
            <!DOCTYPE PostdeskTransaction [\(declarations)]>
            <PostdeskTransaction version="1"><Password>p</Password>
            <AddArticle ticket="1"><Text>&lol9;</Text></AddArticle></PostdeskTransaction>
            """.utf8)
    }()

    @Test func externalEntityToEtcPasswdIsRefusedBeforeParsing() throws {
        for parameterEntity in [false, true] {
            let error = try #require(parseError(Self.xxe("file:///etc/passwd", parameterEntity: parameterEntity)))
            #expect(error.kind == .doctypeRefused)
            #expect(error.line == 2)
            #expect(!error.description.contains("root:"))
            #expect(
                error.description == "XML transaction: a DOCTYPE is refused (no DTDs, no entity declarations) (line 2)")
        }
    }

    @Test func externalEntityToLoopbackHTTPConnectsNowhere() throws {
        let listener = try LoopbackListener()
        let url = "http://127.0.0.1:\(listener.port)/evil.dtd"
        for parameterEntity in [false, true] {
            #expect(parseError(Self.xxe(url, parameterEntity: parameterEntity))?.kind == .doctypeRefused)
        }
        #expect(!listener.someoneConnected())
    }

    /// Defence in depth: even when the prolog scan is bypassed, the reader (no NOENT, no DTDLOAD, NONET) loads
    /// nothing and stops at the DOCTYPE node.
    @Test func readerAloneStillRefusesDoctypeAndLoadsNothing() throws {
        let listener = try LoopbackListener()
        let documents = [
            Self.xxe("http://127.0.0.1:\(listener.port)/a.dtd"),
            Self.xxe("http://127.0.0.1:\(listener.port)/b.dtd", parameterEntity: true),
            Self.xxe("file:///etc/passwd"), Self.billionLaughs,
        ]
        for document in documents {
            let clock = ContinuousClock()
            let start = clock.now
            let result: Result<XMLElementNode, XMLTransactionError> = document.withUnsafeBufferPointer { buffer in
                do throws(XMLTransactionError) {
                    return .success(try LibXMLTreeReader.read(buffer, limits: .init()))
                } catch {
                    return .failure(error)
                }
            }
            guard case .failure(let error) = result else {
                Issue.record("the reader accepted a DOCTYPE")
                continue
            }
            #expect(error.kind == .doctypeRefused || error.code == "not-xml", "\(error)")
            #expect(!error.description.contains("root:"))
            #expect(clock.now - start < .seconds(2))
        }
        #expect(!listener.someoneConnected())
    }

    @Test func billionLaughsIsRefusedAtOnce() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(parseError(Self.billionLaughs))
        #expect(clock.now - start < .seconds(1))
        #expect(error.kind == .doctypeRefused)
        #expect(error.line == 3)
        // Without a DOCTYPE an entity reference is simply undeclared: libxml2 refuses it, nothing expands.
        let undeclared = Array(
            "<PostdeskTransaction version=\"1\"><Password>&lol9;</Password></PostdeskTransaction>".utf8)
        let second = try #require(parseError(undeclared))
        #expect(second.code == "not-xml")
        #expect(second.description.contains("lol9"), "\(second)")
    }

    @Test func doctypeAfterCommentsAndInAnyCaseIsRefused() throws {
        let hidden = Array(
            "\u{FEFF}<?xml version=\"1.0\"?>\n<!-- a -->\n<?pi x?>\n<!doctype PostdeskTransaction SYSTEM \"file:///etc/passwd\">\n<PostdeskTransaction version=\"1\"/>"
                .utf8)
        let error = try #require(parseError(hidden))
        #expect(error.kind == .doctypeRefused)
        #expect(error.line == 4)
        // A DOCTYPE after the root element is not well-formed: libxml2 refuses it without reading its subset.
        let trailing = Array(
            "<PostdeskTransaction version=\"1\"><Password>p</Password></PostdeskTransaction><!DOCTYPE x [<!ENTITY a \"b\">]>"
                .utf8)
        #expect(parseError(trailing)?.code == "not-xml")
    }

    @Test func tenMegabytesAreRefusedByTheByteLimitWithoutReading() throws {
        let filler = String(repeating: "x", count: 10 << 20)
        let bytes = XMLAPIDocuments.transaction(
            "<AddArticle ticket=\"1\"><Text>\(filler)</Text></AddArticle>")
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(parseError(bytes))
        let elapsed = clock.now - start
        #expect(error.kind == .tooLarge(bytes: bytes.count, limit: 1 << 20))
        #expect(elapsed < .milliseconds(50), "\(elapsed)")
        #expect(error.description.hasPrefix("XML transaction: \(bytes.count) bytes is more than the limit of 1048576"))
    }

    @Test func textLongerThanItsLimitIsRefused() throws {
        let bytes = XMLAPIDocuments.transaction(
            "<AddArticle ticket=\"1\"><Text>\(String(repeating: "é", count: 600))</Text></AddArticle>")
        let error = try #require(parseError(bytes, limits: .init(maxTextBytes: 1000)))
        #expect(error.kind == .textTooLong(limit: 1000))
        #expect(error.element == "Text")
    }

    @Test func depthTenThousandStopsAtTheDepthLimit() throws {
        let depth = 10_000
        let bytes = XMLAPIDocuments.transaction(
            String(repeating: "<ChangeTicket ticket=\"1\">", count: depth)
                + String(repeating: "</ChangeTicket>", count: depth))
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(parseError(bytes))
        #expect(clock.now - start < .seconds(1))
        #expect(error.kind == .tooDeep(limit: 32))
        #expect(error.element == "ChangeTicket")
        // A legitimate document deeper than a lowered limit is refused the same way.
        let valid = try XMLAPIDocuments.example("create-ticket.xml")
        #expect(parseError(valid, limits: .init(maxDepth: 2))?.kind == .tooDeep(limit: 2))
    }

    @Test func twoHundredThousandElementsStopAtTheElementLimit() throws {
        let bytes = XMLAPIDocuments.transaction(String(repeating: "<a/>", count: 200_000))
        #expect(bytes.count < 1 << 20)  // under the byte limit: the element limit must catch it
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(parseError(bytes))
        #expect(clock.now - start < .seconds(1))
        #expect(error.kind == .tooManyElements(limit: 10_000))
        // With the limit lifted the whole document is read in one linear pass, then refused for its content.
        let lifted = clock.now
        let unknown = try #require(parseError(bytes, limits: .init(maxElements: 300_000)))
        #expect(unknown.kind == .unknownElement("a"))
        #expect(clock.now - lifted < .seconds(10))
    }
}
