import MailParser
import Testing

@testable import MailCommands

/// The `CreateSR` layout of seed 000: the token alone on the first and last lines, `Label: value` lines, `- `
/// and `--- ` delimiters, long-text fields running to the next delimiter, French or English labels.
@Suite("Structured requests: happy paths")
struct StructuredRequestParserTests {
    static let vpn = StructuredRequestType(
        name: "VPN access", labels: ["Accès VPN"],
        fields: [
            StructuredRequestFieldDefinition(
                name: "workstation", kind: .text, labels: ["Nom du poste", "Workstation"], mandatory: true),
            StructuredRequestFieldDefinition(
                name: "start", kind: .date, labels: ["Date de début", "Start date"], mandatory: true),
            StructuredRequestFieldDefinition(name: "weeks", kind: .number, labels: ["Nombre de semaines", "Weeks"]),
            StructuredRequestFieldDefinition(
                name: "profile", kind: .choice, labels: ["Profil", "Profile"], choices: ["Standard", "Administrateur"]),
            StructuredRequestFieldDefinition(
                name: "reason", kind: .longText, labels: ["Justification", "Reason"], mandatory: true),
        ])
    static let badge = StructuredRequestType(
        name: "Badge", labels: ["Badge d'accès"],
        fields: [StructuredRequestFieldDefinition(name: "floor", kind: .number, labels: ["Étage", "Floor"])],
        allowedSenders: ["@example.test", "guard@elsewhere.test"])
    static let parser = StructuredRequestParser(types: [vpn, badge])

    static let french = """
        Bonjour,

        Merci de créer la demande ci-dessous.

        CreateSR
        Type: Accès VPN
        Requérant: jdupont
        Utilisateur: jdupont; DOMAIN\\mcurie; <Marie.Curie@Example.TEST>
        --- Poste de travail
        - Nom du poste: PC-0042
        - Date de début: 5/12/2026
        - Nombre de semaines: 2
        - Profil: standard
        - Justification:
        Télétravail pendant deux semaines :
        accès aux serveurs de fichiers.

        --- Fin
        CreateSR

        Cordialement,
        Jean
        """

    @Test func frenchBlockFromTheSeedLayout() throws {
        let result = try #require(Self.parser.parse(Self.french, sender: "jean.dupont@example.test"))
        #expect(
            result
                == .request(
                    StructuredRequest(
                        type: "VPN access", requester: ["jdupont"],
                        user: ["jdupont", "DOMAIN\\mcurie", "marie.curie@example.test"],
                        fields: [
                            TicketField(name: "workstation", kind: .text, value: "PC-0042"),
                            TicketField(name: "start", kind: .date, value: "2026-12-05"),
                            TicketField(name: "weeks", kind: .number, value: "2"),
                            TicketField(name: "profile", kind: .choice, value: "Standard"),
                            TicketField(
                                name: "reason", kind: .longText,
                                value: "Télétravail pendant deux semaines :\naccès aux serveurs de fichiers."),
                        ],
                        language: .french)))
    }

    @Test func englishBlockWithConfiguredNameAndCRLF() throws {
        let text = [
            "createsr", "Type: VPN access", "Requester: jane@example.test", "User: jane@example.test",
            "- Workstation: LAPTOP-7", "- Start date: 2026-02-28", "- Reason: needs the", "VPN from home",
            "--- Other", "CREATESR",
        ].joined(separator: "\r\n")
        let result = try #require(Self.parser.parse(text, sender: "jane@example.test"))
        guard case .request(let request) = result else {
            Issue.record("expected a request, got \(result)")
            return
        }
        #expect(request.language == .english)
        #expect(request.type == "VPN access")
        #expect(request.requester == ["jane@example.test"])
        #expect(
            request.fields == [
                TicketField(name: "workstation", kind: .text, value: "LAPTOP-7"),
                TicketField(name: "start", kind: .date, value: "2026-02-28"),
                TicketField(name: "reason", kind: .longText, value: "needs the\nVPN from home"),
            ])
    }

    @Test func textWithoutTheTokenIsNotARequest() {
        #expect(Self.parser.parse("Bonjour,\nmon VPN ne marche pas.\n", sender: "a@example.test") == nil)
        #expect(Self.parser.parse("", sender: "a@example.test") == nil)
    }

    @Test func customToken() throws {
        let parser = StructuredRequestParser(token: "NouvelleDemande", types: [Self.badge])
        let text = "NouvelleDemande\nType: Badge d'accès\nRequérant: a\nUtilisateur: b\n- Étage: 3\nNouvelleDemande\n"
        let result = try #require(parser.parse(text, sender: "a@example.test"))
        #expect(
            result
                == .request(
                    StructuredRequest(
                        type: "Badge", requester: ["a"], user: ["b"],
                        fields: [TicketField(name: "floor", kind: .number, value: "3")], language: .french)))
        #expect(parser.parse(Self.french, sender: "a@example.test") == nil)
    }

    /// The README's request type (`queues.support.commands.requests.types`).
    static let readmeType = StructuredRequestType(
        name: "Accès VPN", labels: ["VPN access"],
        fields: [
            StructuredRequestFieldDefinition(
                name: "poste", kind: .text, labels: ["Poste", "Workstation"], mandatory: true),
            StructuredRequestFieldDefinition(name: "motif", kind: .longText, labels: ["Motif", "Reason"]),
            StructuredRequestFieldDefinition(name: "nombre", kind: .number, labels: ["Nombre", "Count"]),
        ])

    /// The README's copy-paste example, under the README's configuration, is a valid request.
    @Test func readmeExample() throws {
        let type = Self.readmeType
        let text = """
            CreateSR
            Type: Accès VPN
            Demandeur: jane@example.org
            Poste: PC-42
            Nombre: 3
            Motif:
            Télétravail à Zürich
            ---
            CreateSR
            """
        #expect(
            StructuredRequestParser(types: [type]).parse(text, sender: "jane@example.org")
                == .request(
                    StructuredRequest(
                        type: "Accès VPN", requester: ["jane@example.org"], user: [],
                        fields: [
                            TicketField(name: "poste", kind: .text, value: "PC-42"),
                            TicketField(name: "nombre", kind: .number, value: "3"),
                            TicketField(name: "motif", kind: .longText, value: "Télétravail à Zürich"),
                        ],
                        language: .french)))
    }
}
