import MailParser
import Testing

@testable import MailCommands

/// Real mail text around and inside a `CreateSR` block: quoted history, prose that names the token, line ends,
/// non-ASCII labels and values.
@Suite("Structured requests: mail text")
struct StructuredRequestTextTests {
    let parser = StructuredRequestParserTests.parser

    @Test func blockInQuotedReplyHistoryIsNotARequest() {
        let reply = StructuredRequestParserTests.french.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "> " + $0 }.joined(separator: "\n")
        #expect(
            parser.parse("Merci, c'est fait.\n\nLe 5 déc., Jean a écrit :\n" + reply, sender: "a@example.test") == nil)
        #expect(parser.parse(">CreateSR\n>Type: Badge\n>CreateSR", sender: "a@example.test") == nil)
    }

    @Test(arguments: [
        "Please put CreateSR on its own line, then Type: …",
        "CreateSR: the token we use\nand CreateSR again",
        "Le jeton « CreateSR » ouvre le bloc.",
        "xCreateSR\nCreateSRx\n",
        "CreateS\nR",
    ])
    func proseThatNamesTheTokenIsNotARequest(_ text: String) {
        #expect(parser.parse(text, sender: "a@example.test") == nil)
    }

    @Test func crlfAndLFGiveTheSameRequest() throws {
        let lf = StructuredRequestParserTests.french
        let crlf = LineScanner.lines(lf).joined(separator: "\r\n")
        #expect(crlf.utf8.count > lf.utf8.count)
        let result = try #require(parser.parse(crlf, sender: "a@example.test"))
        #expect(result == parser.parse(lf, sender: "a@example.test"))
        guard case .request = result else { return #expect(Bool(false), "\(result)") }
    }

    @Test func nonASCIIValuesInManyScripts() throws {
        let text = """
            CreateSR
            Type : Accès VPN
            Requérant : 李雷; Алексей.Иванов@пример.рф
            Utilisateur : 😀user
            - Nom du poste : ПК-042 东京 🖥️
            - Date de début : 2026-12-05
            - Justification :
            Télétravail — 在家工作 — Удалённая работа — العمل عن بعد 🏠
            - Profil : ADMINISTRATEUR
            CreateSR
            """
        let result = try #require(parser.parse(text, sender: "a@example.test"))
        guard case .request(let request) = result else { return #expect(Bool(false), "\(result)") }
        #expect(request.requester == ["李雷", "Алексей.Иванов@пример.рф"])
        #expect(request.user == ["😀user"])
        #expect(
            request.fields == [
                TicketField(name: "workstation", kind: .text, value: "ПК-042 东京 🖥️"),
                TicketField(name: "start", kind: .date, value: "2026-12-05"),
                TicketField(
                    name: "reason", kind: .longText, value: "Télétravail — 在家工作 — Удалённая работа — العمل عن بعد 🏠"),
                TicketField(name: "profile", kind: .choice, value: "Administrateur"),
            ])
    }

    /// French typography puts a no-break space before `:`; labels may be written in capitals, accented ones too
    /// (`CaseFolding`; a decomposed accent is another label, as there: mail software sends NFC).
    @Test func labelSpellings() throws {
        let text = [
            "  CreateSR  ", "TYPE\u{00A0}: ACCÈS VPN", "REQUÉRANT\u{202F}: a", "Utilisateur: b",
            "- NOM DU POSTE: PC", "- DATE DE DÉBUT: 1.2.2026", "- justification: une ligne", "CreateSR",
        ].joined(separator: "\n")
        let result = try #require(parser.parse(text, sender: "a@example.test"))
        #expect(
            result
                == .request(
                    StructuredRequest(
                        type: "VPN access", requester: ["a"], user: ["b"],
                        fields: [
                            TicketField(name: "workstation", kind: .text, value: "PC"),
                            TicketField(name: "start", kind: .date, value: "2026-02-01"),
                            TicketField(name: "reason", kind: .longText, value: "une ligne"),
                        ],
                        language: .french)))
    }

    @Test func onlyTheFirstBlockCounts() throws {
        let second = "\nCreateSR\nType: inconnu\nCreateSR\n"
        let result = try #require(parser.parse(StructuredRequestParserTests.french + second, sender: "a@example.test"))
        guard case .request = result else { return #expect(Bool(false), "\(result)") }
    }

    @Test func longTextKeepsItsLinesAndEndsAtEitherDelimiter() throws {
        let text = """
            CreateSR
            Type: Accès VPN
            Requérant: a
            Utilisateur: a
            - Justification: première ligne

              deuxième : avec deux-points
            -pas un délimiteur
            ---pas non plus

            --- Section
            - Nom du poste: PC
            - Date de début: 01/01/2027
            CreateSR
            """
        let result = try #require(parser.parse(text, sender: "a@example.test"))
        guard case .request(let request) = result else { return #expect(Bool(false), "\(result)") }
        #expect(
            request.fields.first
                == TicketField(
                    name: "reason", kind: .longText,
                    value: "première ligne\n\n  deuxième : avec deux-points\n-pas un délimiteur\n---pas non plus"))
    }

    @Test func choicesMatchCaselessly() {
        let choices = ["Straße", "Ελλάδα", "Standard"]
        #expect(TicketFieldCanonicalForm.choice(" STRASSE ", among: choices) == "Straße")
        #expect(TicketFieldCanonicalForm.choice("ΕΛΛΆΔΑ", among: choices) == "Ελλάδα")
        #expect(TicketFieldCanonicalForm.choice("standard", among: choices) == "Standard")
        #expect(TicketFieldCanonicalForm.choice("Standar", among: choices) == nil)
    }

    /// A delimiter alone on its line (`--- ` or `- `, whose blank a mail client may drop) ends a long text too: the
    /// README's example.
    @Test func bareDelimitersEndALongText() throws {
        let type = StructuredRequestParserTests.readmeType
        let parser = StructuredRequestParser(types: [type])
        for delimiter in ["---", "--- ", "-", "- ", " --- "] {
            let text = [
                "CreateSR", "Type: Accès VPN", "Demandeur: jane@example.org", "Poste: PC-42", "Motif:",
                "Télétravail à Zürich", delimiter, "Nombre: 3", "CreateSR",
            ].joined(separator: "\n")
            #expect(
                parser.parse(text, sender: "jane@example.org")
                    == .request(
                        StructuredRequest(
                            type: "Accès VPN", requester: ["jane@example.org"], user: [],
                            fields: [
                                TicketField(name: "poste", kind: .text, value: "PC-42"),
                                TicketField(name: "motif", kind: .longText, value: "Télétravail à Zürich"),
                                TicketField(name: "nombre", kind: .number, value: "3"),
                            ],
                            language: .french)), "delimiter \(delimiter.debugDescription)")
        }
    }

    @Test(arguments: [
        ("0", "0"), ("-0", "0"), ("007", "7"), ("+12", "12"), ("-12,50", "-12.5"), ("3.000", "3"), ("1 234", "1234"),
        ("1\u{00A0}234,5", "1234.5"), ("1\u{202F}000", "1000"), ("0.25", "0.25"),
    ])
    func canonicalNumbers(_ text: String, _ canonical: String) {
        #expect(TicketFieldCanonicalForm.number(text) == canonical)
    }

    @Test(arguments: ["", "-", "1.", ".5", "1..2", "1 2 3.4 5", "12 ", "1,2,3", "١٢", "1e5", "--1", "1-"])
    func notNumbers(_ text: String) {
        // "12 " is trimmed first; every other text here is refused.
        #expect(TicketFieldCanonicalForm.number(text) == (text == "12 " ? "12" : nil))
    }

    @Test(arguments: [
        ("2024-02-29", TicketFieldCanonicalForm.DateOrder.yearFirstOnly, "2024-02-29"),
        ("2024/2/9", .yearFirstOnly, "2024-02-09"), ("29/02/2024", .dayFirst, "2024-02-29"),
        ("1.2.2026", .dayFirst, "2026-02-01"), ("2000-02-29", .dayFirst, "2000-02-29"),
    ])
    func canonicalDates(_ text: String, _ order: TicketFieldCanonicalForm.DateOrder, _ canonical: String) {
        #expect(TicketFieldCanonicalForm.date(text, order: order) == canonical)
    }

    @Test(arguments: [
        "1900-02-29", "2026-04-31", "2026-00-10", "2026-01-00", "29/02/2024", "2026-1-1-1", "2026.01.02", "26-01-02",
        "2026-001-02", "２０２６-01-01", "",
    ])
    func notDatesInEnglish(_ text: String) {
        #expect(TicketFieldCanonicalForm.date(text, order: .yearFirstOnly) == nil)
    }
}
