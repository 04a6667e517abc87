import MailParser
import Testing

@testable import MailCommands

/// Every way a `CreateSR` block can be wrong gets its own error, with the type, field and line, worded for the
/// ticket's error activity.
@Suite("Structured requests: errors")
struct StructuredRequestErrorTests {
    let parser = StructuredRequestParserTests.parser

    func failure(_ lines: [String], sender: String = "jean@example.test") -> StructuredRequestError? {
        guard case .invalid(let error) = parser.parse(lines.joined(separator: "\n"), sender: sender) else {
            Issue.record("expected an invalid request")
            return nil
        }
        return error
    }

    static let validBody = [
        "- Nom du poste: PC-1", "- Date de début: 01/12/2026", "- Justification:", "Raison.",
    ]

    @Test func unknownType() throws {
        let error = try #require(
            failure(["Bonjour", "CreateSR", "Type: Accès VPN 2", "Requérant: a", "Utilisateur: a", "CreateSR"]))
        #expect(error.kind == .unknownType("Accès VPN 2"))
        #expect(error.line == 3)
        #expect(error.description == "structured request: type \"Accès VPN 2\" is unknown (line 3)")
    }

    @Test func missingType() throws {
        let error = try #require(failure(["", "CreateSR", "Requérant: a", "CreateSR"]))
        #expect(error.kind == .missingType)
        #expect(error.line == 2)
        #expect(error.description == "structured request: the block has no Type line (line 2)")
    }

    @Test func missingMandatoryField() throws {
        let lines = [
            "CreateSR", "Type: Accès VPN", "Requérant: a", "Utilisateur: a", "- Nom du poste: PC-1",
            "- Date de début: 01/12/2026", "CreateSR",
        ]
        let error = try #require(failure(lines))
        #expect(error.kind == .missingMandatoryField)
        #expect(error.field == "reason")
        #expect(error.type == "VPN access")
        #expect(error.line == 1)
        #expect(
            error.description
                == "structured request: mandatory field \"reason\" of type \"VPN access\" is missing or empty (line 1)")
    }

    @Test func emptyMandatoryFieldIsMissingAtItsLine() throws {
        let lines =
            ["CreateSR", "Type: Accès VPN", "Requérant: a", "Utilisateur: a", "- Nom du poste:  "]
            + Self.validBody.dropFirst() + ["CreateSR"]
        let error = try #require(failure(lines))
        #expect(error.kind == .missingMandatoryField)
        #expect(error.field == "workstation")
        #expect(error.line == 5)
    }

    @Test func missingOrEmptyRequester() throws {
        let noRequester = try #require(
            failure(["CreateSR", "Type: Accès VPN", "Utilisateur: a"] + Self.validBody + ["CreateSR"]))
        #expect(noRequester.kind == .missingMandatoryField)
        #expect(noRequester.field == "Requester")
        #expect(noRequester.line == 1)
        let emptyRequester = try #require(
            failure(
                ["CreateSR", "Type: Accès VPN", "Requérant: ; ,", "Utilisateur: a"] + Self.validBody + ["CreateSR"]))
        #expect(emptyRequester.field == "Requester")
        #expect(emptyRequester.line == 3)
    }

    /// The user is optional: without one (or with an empty line) the pipeline falls back, as for a user it does
    /// not know.
    @Test func userIsOptional() {
        for userLines in [[], ["Utilisateur:  "], ["Utilisateur: ;"]] {
            let lines = ["CreateSR", "Type: Accès VPN", "Requérant: a"] + userLines + Self.validBody + ["CreateSR"]
            guard case .request(let request) = parser.parse(lines.joined(separator: "\n"), sender: "a@example.test")
            else { return #expect(Bool(false), "\(userLines)") }
            #expect(request.user == [])
            #expect(request.requester == ["a"])
        }
    }

    @Test(arguments: [
        ("- Nombre de semaines: deux", TicketFieldKind.number, "weeks"),
        ("- Nombre de semaines: 1,2,3", .number, "weeks"),
        ("- Date de début: 31/02/2026", .date, "start"),
        ("- Date de début: 2026-13-01", .date, "start"),
        ("- Date de début: demain", .date, "start"),
        ("- Date de début: 29/02/2025", .date, "start"),
    ])
    func badNumberOrDate(_ line: String, _ kind: TicketFieldKind, _ field: String) throws {
        let lines =
            ["CreateSR", "Type: Accès VPN", "Requérant: a", "Utilisateur: a", line] + Self.validBody
            + ["CreateSR"]
        let result = parser.parse(lines.joined(separator: "\n"), sender: "a@example.test")
        guard case .invalid(let error) = result else { return #expect(Bool(false), "\(String(describing: result))") }
        let value = String(line.split(separator: ":", maxSplits: 1)[1].dropFirst())
        #expect(error.kind == .invalidValue(kind: kind, value: value))
        #expect(error.field == field)
        #expect(error.line == 5)
    }

    @Test func englishSlashDateIsAmbiguous() throws {
        let lines = [
            "CreateSR", "Type: VPN access", "Requester: a", "User: a", "- Workstation: PC", "- Start date: 12/05/2026",
            "- Reason: x", "CreateSR",
        ]
        let error = try #require(failure(lines))
        #expect(error.kind == .invalidValue(kind: .date, value: "12/05/2026"))
        #expect(
            error.description
                == "structured request: field \"start\" has \"12/05/2026\", not a date (YYYY-MM-DD, or JJ/MM/AAAA in French) (line 6)"
        )
    }

    @Test func unknownChoice() throws {
        let lines =
            ["CreateSR", "Type: Accès VPN", "Requérant: a", "Utilisateur: a", "- Profil: Root"] + Self.validBody
            + ["CreateSR"]
        let error = try #require(failure(lines))
        #expect(error.kind == .unknownChoice(value: "Root", choices: ["Standard", "Administrateur"]))
        #expect(
            error.description
                == "structured request: field \"profile\" has \"Root\", not one of \"Standard\", \"Administrateur\" (line 5)"
        )
    }

    @Test(arguments: [
        ("someone@other.test", false), ("guard@elsewhere.test", true), ("Guard+badge@ELSEWHERE.test", true),
        ("jean@example.test", true), ("jean@sub.example.test", false), ("other@elsewhere.test", false),
        ("not an address", false),
    ])
    func senderNotAllowed(_ sender: String, _ allowed: Bool) throws {
        let text = "CreateSR\nType: Badge\nRequérant: a\nUtilisateur: a\nCreateSR\n"
        let result = try #require(parser.parse(text, sender: sender))
        if allowed {
            guard case .request = result else { return #expect(Bool(false), "\(result)") }
            return
        }
        guard case .invalid(let error) = result else { return #expect(Bool(false), "\(result)") }
        #expect(error.kind == .senderNotAllowed(sender: MailAddressForm.normalized(sender)))
        #expect(error.type == "Badge")
        #expect(error.line == 2)
    }

    @Test func unterminatedBlock() throws {
        let error = try #require(failure(["Hello", "", "CreateSR", "Type: Accès VPN", "Requérant: a"]))
        #expect(error.kind == .unterminatedBlock(token: "CreateSR"))
        #expect(error.line == 3)
        #expect(
            error.description
                == "structured request: the block opened by \"CreateSR\" is not closed by another CreateSR line (line 3)"
        )
    }

    @Test func mixedLanguageLabels() throws {
        let lines = ["CreateSR", "Type: Accès VPN", "Requérant: a", "User: a"] + Self.validBody + ["CreateSR"]
        let error = try #require(failure(lines))
        #expect(error.kind == .mixedLanguages(label: "User"))
        #expect(error.line == 4)
        let englishFirst = ["CreateSR", "Type: VPN access", "Requester: a", "Utilisateur: a", "CreateSR"]
        let second = try #require(failure(englishFirst))
        #expect(second.kind == .mixedLanguages(label: "Utilisateur"))
        #expect(second.line == 4)
    }

    @Test func unknownFieldLabel() throws {
        let lines =
            ["CreateSR", "Type: Accès VPN", "Requérant: a", "Utilisateur: a", "- Couleur: bleu"]
            + Self.validBody + ["CreateSR"]
        let error = try #require(failure(lines))
        #expect(error.kind == .unknownField(label: "Couleur"))
        #expect(error.line == 5)
        #expect(
            error.description == "structured request: label \"Couleur\" is not a field of type \"VPN access\" (line 5)")
    }

    @Test func unexpectedLine() throws {
        let lines =
            ["CreateSR", "Type: Accès VPN", "Requérant: a", "Utilisateur: a", "merci beaucoup"]
            + Self.validBody + ["CreateSR"]
        let error = try #require(failure(lines))
        #expect(error.kind == .unexpectedLine("merci beaucoup"))
        #expect(error.line == 5)
    }

    @Test func duplicateField() throws {
        let lines =
            ["CreateSR", "Type: Accès VPN", "Requérant: a", "Utilisateur: a"] + Self.validBody
            + ["- Nom du poste: PC-2", "CreateSR"]
        let error = try #require(failure(lines))
        #expect(error.kind == .duplicateField)
        #expect(error.field == "workstation")
        #expect(error.line == 9)
        let twoTypes = try #require(failure(["CreateSR", "Type: Badge", "Type: Badge", "Requérant: a", "CreateSR"]))
        #expect(twoTypes.kind == .duplicateField)
        #expect(twoTypes.field == "Type")
    }

    @Test func longValuesAreCutAndControlsEscapedInTheDescription() throws {
        let long = String(repeating: "é", count: 5_000) + "\u{1B}]52;c;"
        let error = try #require(failure(["CreateSR", "Type: \u{1B}[2J" + long, "CreateSR"]))
        #expect(error.description.count < 200)
        #expect(!error.description.unicodeScalars.contains("\u{1B}"))
        #expect(error.description.contains("…"))
    }
}
