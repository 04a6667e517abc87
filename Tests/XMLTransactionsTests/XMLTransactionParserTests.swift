import Foundation
import MailCommands
import MailParser
import Testing

@testable import XMLTransactions

@Suite struct XMLTransactionParserTests {
    let parser = XMLTransactionParser()

    func parseError(_ bytes: [UInt8], limits: XMLTransactionLimits = .init()) -> XMLTransactionError? {
        do {
            _ = try XMLTransactionParser(limits: limits).parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyTransactionExampleParses() throws {
        let names = try XMLAPIDocuments.exampleNames()
        #expect(names.count >= 8)
        for name in names where !name.hasPrefix("response-") {
            let bytes = try XMLAPIDocuments.example(name)
            do {
                let transaction = try parser.parse(bytes)
                #expect(!transaction.operations.isEmpty, "\(name)")
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
    }

    @Test func createTicketExampleCarriesEverything() throws {
        let transaction = try parser.parse(try XMLAPIDocuments.example("create-ticket.xml"))
        #expect(transaction.password == "correct horse battery staple")
        #expect(transaction.responseAddress == "erp-inbox@example.test")
        #expect(transaction.responseBcc == "support-archive@example.test")
        #expect(transaction.externalReference == "ERP-2026-4711")
        guard case .createTicket(let create) = transaction.operations.first else {
            Issue.record("not a CreateTicket: \(transaction.operations)")
            return
        }
        #expect(create.queue == "Support")
        #expect(create.subject == "Imprimante du 3ᵉ étage hors ligne")
        #expect(create.text == "Bonjour,\n\nl'imprimante « Salle Zoë » ne répond plus depuis 08:15.\nMerci !")
        #expect(create.requester == XMLRequester(address: "zoe.unal@example.test", name: "Zoë Ünal"))
        #expect(create.priority == "high")
        #expect(create.category == "Hardware")
        #expect(create.type == "Incident")
        #expect(
            create.fields == [
                TicketField(name: "Site", kind: .choice, value: "Lyon"),
                TicketField(name: "Asset number", kind: .number, value: "4217"),
                TicketField(name: "Noticed on", kind: .date, value: "2026-12-04"),
            ])
    }

    @Test func addArticleExampleKeepsCJKEmojiAndCDATA() throws {
        let transaction = try parser.parse(try XMLAPIDocuments.example("add-article.xml"))
        #expect(
            transaction.operations == [
                .addArticle(
                    XMLAddArticle(
                        ticket: 42, text: "Der Techniker kommt morgen um 9 Uhr. 技術者は明日9時に来ます。 🛠️", isInternal: false)),
                .addArticle(
                    XMLAddArticle(
                        ticket: 42, text: "Log excerpt: <error code=\"E17\"> & retry failed", isInternal: true)),
            ])
    }

    @Test func changeTicketExampleKeepsRightToLeftText() throws {
        let transaction = try parser.parse(try XMLAPIDocuments.example("change-ticket.xml"))
        #expect(transaction.responseAddress == nil)
        #expect(
            transaction.operations == [
                .changeTicket(
                    XMLChangeTicket(
                        ticket: 42, status: "solved", priority: "normal", assignee: "noor.haddad@example.test",
                        fields: [
                            TicketField(
                                name: "Resolution", kind: .longText, value: "Toner replaced.\nمشكلة الحبر تم حلها.")
                        ]))
            ])
    }

    @Test func severalOperationsKeepTheirOrder() throws {
        let transaction = try parser.parse(try XMLAPIDocuments.example("several-operations.xml"))
        #expect(transaction.operations.map(\.kind) == [.createTicket, .addArticle, .changeTicket])
        #expect(transaction.operations.map(\.ticket) == [nil, 17, 18])
        #expect(transaction.externalReference == "batch 2026-12-05 #3")
    }

    @Test func declaredISO88591IsDecoded() throws {
        let bytes = try XMLAPIDocuments.example("create-ticket-latin1.xml")
        #expect(bytes.contains(0xE9) && !bytes.contains(0xC3))  // really Latin-1 on disk, not UTF-8
        let transaction = try parser.parse(bytes)
        guard case .createTicket(let create) = transaction.operations.first else {
            Issue.record("not a CreateTicket")
            return
        }
        #expect(create.subject == "Café crème: machine à réparer")
        #expect(create.text == "La machine à café fuit. François")
        #expect(create.requester.name == "François Müller")
    }

    @Test func characterReferencesAndPredefinedEntitiesAreDecoded() throws {
        let bytes = XMLAPIDocuments.transaction(
            "<AddArticle ticket=\"7\"><Text>caf&#xE9; &lt;b&gt; &amp; &quot;q&quot; &#128512; עברית</Text></AddArticle>"
        )
        let transaction = try parser.parse(bytes)
        #expect(transaction.operations == [.addArticle(XMLAddArticle(ticket: 7, text: "café <b> & \"q\" 😀 עברית"))])
    }

    @Test func invalidUTF8IsRefusedWithLibxml2sReason() throws {
        var bytes = XMLAPIDocuments.transaction(XMLAPIDocuments.minimalCreate)
        let hello = Array("Hello".utf8)
        let index = bytes.indices.first { Array(bytes[$0..<min($0 + 5, bytes.count)]) == hello }!
        bytes[index + 1] = 0xFF
        let error = try #require(parseError(bytes))
        guard case .notXML(let reason) = error.kind else {
            Issue.record("expected notXML, got \(error)")
            return
        }
        #expect(reason.contains("UTF-8"), "\(reason)")
        #expect(error.line == 2)
        #expect(error.code == "not-xml")
    }

    @Test func unsupportedEncodingsAreRefusedBeforeLibxml2() throws {
        let utf7 = Array("<?xml version=\"1.0\" encoding=\"UTF-7\"?><PostdeskTransaction version=\"1\"/>".utf8)
        #expect(parseError(utf7)?.kind == .unsupportedEncoding("UTF-7"))
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in "<PostdeskTransaction version=\"1\"/>".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(parseError(utf16)?.kind == .unsupportedEncoding("UTF-16 or UTF-32"))
        #expect(parseError(Array(utf16.dropFirst(2)))?.kind == .unsupportedEncoding("UTF-16 or UTF-32"))
        // "encoding" later in the document is not the declaration's: without one the document is UTF-8.
        let laterEncoding = Array(
            "<?xml version=\"1.0\"?>\n<PostdeskTransaction version=\"1\"><Password>p</Password><AddArticle ticket=\"1\"><Text>encoding=\"UTF-7\"</Text></AddArticle></PostdeskTransaction>"
                .utf8)
        #expect(parseError(laterEncoding) == nil)
        let stylesheet = Array(
            "<?xml-stylesheet href=\"a\" encoding=\"UTF-7\"?><PostdeskTransaction version=\"1\"/>".utf8)
        #expect(parseError(stylesheet)?.kind == .missingElement("Password"))
        #expect(parseError([])?.kind == .notXML(reason: "the document is empty"))
        #expect(parseError(Array("hello".utf8))?.code == "not-xml")
    }

    @Test func unknownElementsAndAttributesAreRefusedWithTheirPlace() throws {
        let unknown = XMLAPIDocuments.transaction(
            "<CreateTicket><Subject>S</Subject>\n<Colour>red</Colour><Text>T</Text><Requester>a@example.test</Requester></CreateTicket>"
        )
        let error = try #require(parseError(unknown))
        #expect(error.kind == .unknownElement("Colour"))
        #expect(error.element == "CreateTicket")
        #expect(error.line == 3)
        #expect(error.description == "XML transaction: element <Colour> is not allowed in <CreateTicket> (line 3)")

        #expect(
            parseError(XMLAPIDocuments.transaction("<DeleteEverything/>"))?.kind == .unknownElement("DeleteEverything"))
        let wrongRoot = Array("<RangerMSPTransaction version=\"1\"/>".utf8)
        #expect(parseError(wrongRoot)?.kind == .unknownElement("RangerMSPTransaction"))
        let attribute = XMLAPIDocuments.transaction("<AddArticle ticket=\"1\" author=\"x\"><Text>T</Text></AddArticle>")
        #expect(parseError(attribute)?.kind == .unknownAttribute("author"))
        let namespaced = Array(
            "<PostdeskTransaction xmlns=\"urn:x\" version=\"1\"><Password>p</Password>\(XMLAPIDocuments.minimalCreate)</PostdeskTransaction>"
                .utf8)
        #expect(parseError(namespaced)?.kind == .unknownAttribute("xmlns"))
        let xinclude = XMLAPIDocuments.transaction(
            "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\" parse=\"text\"/>")
        #expect(parseError(xinclude)?.kind == .unknownElement("xi:include"))
        let nested = XMLAPIDocuments.transaction("<AddArticle ticket=\"1\"><Text>a<b>bold</b></Text></AddArticle>")
        #expect(parseError(nested)?.kind == .unknownElement("b"))
        let headerAttribute = XMLAPIDocuments.transaction(
            XMLAPIDocuments.minimalCreate, header: "<Password hint=\"x\">p</Password>")
        #expect(parseError(headerAttribute)?.kind == .unknownAttribute("hint"))
        let stray = XMLAPIDocuments.transaction("stray text" + XMLAPIDocuments.minimalCreate)
        #expect(parseError(stray)?.kind == .unexpectedText)
    }

    @Test func missingPasswordAndOtherMissingPartsAreNamed() throws {
        let noPassword = XMLAPIDocuments.transaction(XMLAPIDocuments.minimalCreate, header: "")
        let error = try #require(parseError(noPassword))
        #expect(error.kind == .missingElement("Password"))
        #expect(error.description == "XML transaction: element <Password> is missing in <PostdeskTransaction> (line 2)")
        let blankPassword = XMLAPIDocuments.transaction(
            XMLAPIDocuments.minimalCreate, header: "<Password> \n </Password>")
        #expect(parseError(blankPassword)?.kind == .invalidValue("the password is empty"))
        #expect(
            parseError(XMLAPIDocuments.transaction(""))?.kind
                == .missingElement("CreateTicket, AddArticle or ChangeTicket"))
        let noSubject = XMLAPIDocuments.transaction(
            "<CreateTicket><Text>T</Text><Requester>a@example.test</Requester></CreateTicket>")
        #expect(parseError(noSubject)?.kind == .missingElement("Subject"))
        #expect(
            parseError(XMLAPIDocuments.transaction("<AddArticle><Text>T</Text></AddArticle>"))?.kind
                == .missingAttribute("ticket"))
        #expect(
            parseError(XMLAPIDocuments.transaction("<ChangeTicket ticket=\"3\"/>"))?.kind
                == .invalidValue("the change changes nothing"))
        let noVersion = Array("<PostdeskTransaction><Password>p</Password></PostdeskTransaction>".utf8)
        #expect(parseError(noVersion)?.kind == .wrongVersion(found: nil))
        let version2 = Array("<PostdeskTransaction version=\"2\"><Password>p</Password></PostdeskTransaction>".utf8)
        #expect(parseError(version2)?.kind == .wrongVersion(found: "2"))
    }

    @Test func duplicateElementsAreRefused() throws {
        let twoPasswords = XMLAPIDocuments.transaction(
            XMLAPIDocuments.minimalCreate, header: "<Password>a</Password><Password>b</Password>")
        #expect(parseError(twoPasswords)?.kind == .duplicateElement("Password"))
        let twoSubjects = XMLAPIDocuments.transaction(
            "<CreateTicket><Subject>A</Subject><Subject>B</Subject><Text>T</Text><Requester>a@example.test</Requester></CreateTicket>"
        )
        #expect(parseError(twoSubjects)?.kind == .duplicateElement("Subject"))
        let twoFields = XMLAPIDocuments.transaction(
            "<ChangeTicket ticket=\"1\"><Field name=\"Site\" kind=\"text\">A</Field><Field name=\"Site\" kind=\"text\">B</Field></ChangeTicket>"
        )
        #expect(parseError(twoFields)?.kind == .duplicateElement("Field name=\"Site\""))
        let duplicateAttribute = XMLAPIDocuments.transaction(
            "<AddArticle ticket=\"1\" ticket=\"2\"><Text>T</Text></AddArticle>")
        #expect(parseError(duplicateAttribute)?.code == "not-xml")
        let headerAfterOperation = XMLAPIDocuments.transaction(
            XMLAPIDocuments.minimalCreate + "<ResponseAddress>x@example.test</ResponseAddress>")
        #expect(
            parseError(headerAfterOperation)?.kind
                == .invalidValue("<ResponseAddress> must come before the first operation"))
    }

    @Test func valuesAreChecked() throws {
        func change(_ inner: String, ticket: String = "1") -> [UInt8] {
            XMLAPIDocuments.transaction("<ChangeTicket ticket=\"\(ticket)\">\(inner)</ChangeTicket>")
        }
        #expect(parseError(change("<Status>open</Status>", ticket: "0"))?.code == "invalid-value")
        #expect(parseError(change("<Status>open</Status>", ticket: "12a"))?.code == "invalid-value")
        #expect(parseError(change("<Status>open</Status>", ticket: "1234567890123456789"))?.code == "invalid-value")
        #expect(parseError(change("<Field name=\"N\" kind=\"number\">1.5</Field>"))?.code == "invalid-value")
        #expect(parseError(change("<Field name=\"D\" kind=\"date\">2026-02-29</Field>"))?.code == "invalid-value")
        #expect(parseError(change("<Field name=\"D\" kind=\"colour\">red</Field>"))?.code == "invalid-value")
        #expect(parseError(change("<Field kind=\"text\">x</Field>"))?.kind == .missingAttribute("name"))
        let leap = try parser.parse(
            change("<Field name=\"D\" kind=\"date\">2024-02-29</Field><Field name=\"N\" kind=\"number\">-007</Field>"))
        #expect(
            leap.operations == [
                .changeTicket(
                    XMLChangeTicket(
                        ticket: 1,
                        fields: [
                            TicketField(name: "D", kind: .date, value: "2024-02-29"),
                            TicketField(name: "N", kind: .number, value: "-7"),
                        ]))
            ])
        let badAddress = XMLAPIDocuments.transaction(
            XMLAPIDocuments.minimalCreate,
            header: "<Password>p</Password><ResponseAddress>not an address</ResponseAddress>")
        #expect(parseError(badAddress)?.code == "invalid-value")
        let internalMaybe = XMLAPIDocuments.transaction(
            "<AddArticle ticket=\"1\" internal=\"maybe\"><Text>T</Text></AddArticle>")
        #expect(parseError(internalMaybe)?.code == "invalid-value")
        let longestReference = XMLAPIDocuments.transaction(
            XMLAPIDocuments.minimalCreate,
            header: "<Password>p</Password><ExternalReference>\(String(repeating: "é", count: 256))</ExternalReference>"
        )
        #expect(try parser.parse(longestReference).externalReference?.unicodeScalars.count == 256)
        let longReference = XMLAPIDocuments.transaction(
            XMLAPIDocuments.minimalCreate,
            header: "<Password>p</Password><ExternalReference>\(String(repeating: "é", count: 257))</ExternalReference>"
        )
        #expect(parseError(longReference)?.code == "invalid-value")
    }

    @Test func ordinaryMailIsToldApartCheaply() throws {
        for name in try XMLAPIDocuments.exampleNames() where !name.hasPrefix("response-") {
            #expect(XMLTransactionParser.mayBeTransaction(try XMLAPIDocuments.example(name)), "\(name)")
        }
        #expect(XMLTransactionParser.mayBeTransaction(Array("\u{FEFF}\n  <PostdeskTransaction version=\"1\"/>".utf8)))
        #expect(!XMLTransactionParser.mayBeTransaction(Array("Bonjour Zoë,\n<PostdeskTransaction>".utf8)))
        #expect(!XMLTransactionParser.mayBeTransaction(Array("<html><body>Hello</body></html>".utf8)))
        #expect(!XMLTransactionParser.mayBeTransaction([UInt8]()))
        let late = Array(
            ("<?xml version=\"1.0\"?><!--" + String(repeating: "x", count: 5000) + "--><PostdeskTransaction/>").utf8)
        #expect(!XMLTransactionParser.mayBeTransaction(late))  // past the first 4 KiB: not looked for
    }

    @Test func passwordsAreComparedWithTheSharedConstantTimeComparison() throws {
        let transaction = try parser.parse(
            XMLAPIDocuments.transaction(XMLAPIDocuments.minimalCreate, header: "<Password>\n  Pässwörd 🔑\n</Password>"))
        #expect(transaction.password == "Pässwörd 🔑")
        #expect(transaction.passwordMatches(expected: "Pässwörd 🔑"))
        #expect(!transaction.passwordMatches(expected: "Pässwörd 🔐"))
        #expect(!transaction.passwordMatches(expected: "Pässwörd"))
        #expect(!transaction.passwordMatches(expected: "Pässwörd 🔑 and more"))
        #expect(!XMLTransaction.passwordMatches("", expected: ""))  // no password configured: nothing matches
        #expect(!XMLTransaction.passwordMatches("x", expected: ""))
        #expect(XMLTransaction.passwordMatches("s3cret", expected: "s3cret"))
        // The same function APIToken uses, reached through MailParser: equal only when equal, whatever the lengths.
        #expect(ConstantTimeComparison.equals("abc", "abc"))
        #expect(!ConstantTimeComparison.equals("abcabc", "abc"))
        #expect(!ConstantTimeComparison.equals("ab", "abc"))
        #expect(!ConstantTimeComparison.equals("", "abc"))
        #expect(!ConstantTimeComparison.equals("abd", "abc"))
    }

    @Test func concurrentParsesShareOneLibxml2Initialisation() async throws {
        let bytes = try XMLAPIDocuments.example("several-operations.xml")
        let expected = try parser.parse(bytes)
        let parser = self.parser
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<50).allSatisfy { _ in (try? parser.parse(bytes)) == expected }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}
