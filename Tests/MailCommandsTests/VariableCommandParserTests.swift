import MailParser
import Testing

@testable import MailCommands

/// Seed 003's commands: `@VAR@='value'` lines, `@FIELDS_TO_UPDATE@={K=V} {K=V}`, `@CHOICE@`, and the
/// percent-encoded body of the approval mail's `mailto:` links.
@Suite("Variable commands: happy paths")
struct VariableCommandParserTests {
    let parser = VariableCommandParser()

    @Test func seedCreationExample() throws {
        let text = """
            Impossible to start the application. See the attached screen captures
            Recipient / Requesting person : fleblanc@aef.com
            @ASSET@='P04319'
            @CODE_CATALOG@='Smartphone'
            @DATE@='02/07/2022'
            @URGENCY@='1'
            """
        let result = try #require(parser.parse(text))
        #expect(
            result
                == .command(
                    VariableCommand(
                        operation: .create, target: nil,
                        fields: [
                            VariableField(name: "ASSET", value: "P04319"),
                            VariableField(name: "CODE_CATALOG", value: "Smartphone"),
                            VariableField(name: "DATE", value: "02/07/2022"),
                            VariableField(name: "URGENCY", value: "1"),
                        ],
                        choice: nil)))
    }

    @Test func seedFieldsToUpdate() throws {
        let text = """
            @OPERATION@='UPDATE'
            @RFC_NUMBER@='100622_000027'
            @FIELDS_TO_UPDATE@={COMMENT=Internal Problem} {ASSET_TAG=ZS_010}
            """
        let result = try #require(parser.parse(text))
        #expect(
            result
                == .command(
                    VariableCommand(
                        operation: .update, target: "100622_000027",
                        fields: [
                            VariableField(name: "COMMENT", value: "Internal Problem"),
                            VariableField(name: "ASSET_TAG", value: "ZS_010"),
                        ],
                        choice: nil)))
    }

    /// The "Refused" link of seed 003, pasted as the mail client left it: one line, percent-encoded.
    @Test func seedMailtoLinkPercentEncoded() throws {
        let link =
            "mailto:noreply@easyvista.com?subject=Refused&body=To%20refuse%20the%20request,%20you%20only%20click"
            + "%20on%20the%20button%20d%27sending%20the%20email.%0ADo%20not%20change%20the%20text%20below%20%0A%0A"
            + "@OPERATION@%3D%27SOLVE%27%0A@RFC_NUMBER@%3D%27S160824_000001%27%0A@CHOICE@%3D%270%27"
        let result = try #require(parser.parse("Please see below.\n" + link + "\n"))
        #expect(
            result == .command(VariableCommand(operation: .solve, target: "S160824_000001", fields: [], choice: "0")))
    }

    @Test func fullyEncodedForm() throws {
        let text = "%40OPERATION%40%3D%27SOLVE%27%0A%40RFC_NUMBER%40%3D%27%231042%27%0A%40CHOICE%40%3D%271%27"
        #expect(
            parser.parse(text) == .command(VariableCommand(operation: .solve, target: "#1042", fields: [], choice: "1"))
        )
    }

    @Test func decodedMailtoBody() throws {
        let text = """
            To approve the request, you only click on the button d'sending the email.
            Do not change the text below

            @OPERATION@='SOLVE'
            @RFC_NUMBER@='[Support #77]'
            @CHOICE@='1'
            """
        #expect(
            parser.parse(text)
                == .command(VariableCommand(operation: .solve, target: "[Support #77]", fields: [], choice: "1")))
    }

    @Test(arguments: [
        ("RESTART", VariableOperation.restart), ("stop", .stop), ("Update", .update), ("SOLVE", .solve),
    ])
    func operations(_ word: String, _ operation: VariableOperation) {
        let text = "@OPERATION@='\(word)'\n@RFC_NUMBER@='12'\n"
        #expect(
            parser.parse(text) == .command(VariableCommand(operation: operation, target: "12", fields: [], choice: nil))
        )
    }

    @Test func targetWithoutOperationIsAnUpdate() {
        #expect(
            parser.parse("@RFC_NUMBER@='12' @URGENCY@='2'")
                == .command(
                    VariableCommand(
                        operation: .update, target: "12", fields: [VariableField(name: "URGENCY", value: "2")],
                        choice: nil)))
    }

    @Test func textWithoutCommandsIsNotACommand() {
        #expect(parser.parse("Hello,\nplease call me back.\n") == nil)
        #expect(parser.parse("") == nil)
    }

    /// The README's copy-paste examples do what the README says.
    @Test func readmeExamples() {
        let update = """
            @OPERATION@='UPDATE'
            @RFC_NUMBER@='[Support #42]'
            @FIELDS_TO_UPDATE@={priority=high} {site=Köln}
            """
        #expect(
            parser.parse(update)
                == .command(
                    VariableCommand(
                        operation: .update, target: "[Support #42]",
                        fields: [
                            VariableField(name: "priority", value: "high"), VariableField(name: "site", value: "Köln"),
                        ],
                        choice: nil)))
        let link =
            "mailto:support@support.test?subject=Solve%20%5BSupport%20%2342%5D&body=%40OPERATION%40%3D%27SOLVE%27%0A"
            + "%40RFC_NUMBER%40%3D%2742%27"
        #expect(
            parser.parse(link) == .command(VariableCommand(operation: .solve, target: "42", fields: [], choice: nil)))
    }
}
