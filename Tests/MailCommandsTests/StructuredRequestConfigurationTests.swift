import Testing

@testable import MailCommands

/// The configuration check `postdesk check-config` runs: every ambiguity named, a sound configuration clean.
@Suite("Structured requests: configuration")
struct StructuredRequestConfigurationTests {
    @Test func soundConfigurationHasNoErrors() {
        #expect(StructuredRequestParserTests.parser.configurationErrors.isEmpty)
    }

    @Test func everyAmbiguityIsNamed() {
        let types = [
            StructuredRequestType(
                name: "Badge", labels: ["badge d'accès"],
                fields: [
                    StructuredRequestFieldDefinition(name: "floor", kind: .number, labels: ["Étage", "Floor"]),
                    StructuredRequestFieldDefinition(name: "floor", kind: .text, labels: ["Niveau", "Level"]),
                    StructuredRequestFieldDefinition(name: "door", kind: .choice, labels: ["Porte", "floor"]),
                    StructuredRequestFieldDefinition(name: "who", kind: .text, labels: ["Utilisateur", "Who"]),
                    StructuredRequestFieldDefinition(name: "note", kind: .longText),
                ]),
            StructuredRequestType(name: "BADGE D'ACCÈS"),
        ]
        let errors = StructuredRequestParser(token: "Create SR", types: types).configurationErrors
        #expect(
            errors == [
                StructuredRequestConfigurationError(.badToken("Create SR")),
                StructuredRequestConfigurationError(.duplicateFieldName, type: "Badge", field: "floor"),
                StructuredRequestConfigurationError(.choiceWithoutChoices, type: "Badge", field: "door"),
                StructuredRequestConfigurationError(
                    .ambiguousFieldLabel("floor", language: .english), type: "Badge", field: "door"),
                StructuredRequestConfigurationError(
                    .ambiguousFieldLabel("utilisateur", language: .french), type: "Badge", field: "who"),
                StructuredRequestConfigurationError(
                    .ambiguousTypeName("badge d'accès", other: "Badge"), type: "BADGE D'ACCÈS"),
            ])
        #expect(
            errors[3].description
                == "structured request configuration: type \"Badge\", field \"door\": english label \"floor\" is another field's or a built-in line's"
        )
    }

    /// A field without labels is labelled by its name, in both languages.
    @Test func fieldWithoutLabelsUsesItsName() throws {
        let type = StructuredRequestType(
            name: "Note", fields: [StructuredRequestFieldDefinition(name: "note", kind: .text, mandatory: true)])
        let parser = StructuredRequestParser(types: [type])
        let text = "CreateSR\nType: note\nRequester: a\nUser: a\n- NOTE: x\nCreateSR"
        #expect(
            parser.parse(text, sender: "a@b.test")
                == .request(
                    StructuredRequest(
                        type: "Note", requester: ["a"], user: ["a"],
                        fields: [TicketField(name: "note", kind: .text, value: "x")], language: .english)))
    }
}
