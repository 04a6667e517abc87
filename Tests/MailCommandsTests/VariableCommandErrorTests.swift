import MailParser
import Testing

@testable import MailCommands

/// Every way a variable command can be wrong gets its own error, with its line and variable, worded for the
/// activity and the error reply; prose and quoted history are not commands at all.
@Suite("Variable commands: errors and non-commands")
struct VariableCommandErrorTests {
    let parser = VariableCommandParser()

    func failure(_ text: String) -> VariableCommandError? {
        guard case .invalid(let error) = parser.parse(text) else {
            Issue.record("expected an invalid command, got \(String(describing: parser.parse(text)))")
            return nil
        }
        return error
    }

    @Test func unknownOperation() throws {
        let error = try #require(failure("Hello\n\n@RFC_NUMBER@='12'\n@OPERATION@='CLOSE'\n"))
        #expect(error.kind == .unknownOperation("CLOSE"))
        #expect(error.line == 4)
        #expect(error.variable == "OPERATION")
        #expect(
            error.description
                == "variable command: @OPERATION@ value \"CLOSE\" is not CREATE, UPDATE, SOLVE, RESTART or STOP (line 4)"
        )
    }

    @Test func duplicateVariables() throws {
        // Seed 003's own documentation line, pasted as is, asks for three answers at once.
        let seedLine = "@CHOICE@='1' pour une acceptation ou @CHOICE@='0' pour un refus _ou_ @CHOICE@='2'"
        let error = try #require(failure("@OPERATION@='SOLVE'\n@RFC_NUMBER@='1'\n" + seedLine))
        #expect(error.kind == .duplicateVariable)
        #expect(error.variable == "CHOICE")
        #expect(error.line == 3)
        #expect(error.description == "variable command: @CHOICE@ is given twice (line 3)")
        let field = try #require(failure("@URGENCY@='1'\n@FIELDS_TO_UPDATE@={urgency=2}"))
        #expect(field.kind == .duplicateVariable)
        #expect(field.variable == "urgency")
    }

    @Test(arguments: [VariableOperation.update, .solve, .restart, .stop])
    func operationOnATicketNeedsATarget(_ operation: VariableOperation) throws {
        let error = try #require(failure("@OPERATION@='\(operation.rawValue)'\n@CHOICE@='1'"))
        #expect(error.kind == .missingTarget(operation))
        #expect(error.line == 1)
        #expect(
            error.description
                == "variable command: \(operation.rawValue.uppercased()) needs @RFC_NUMBER@ to name the ticket (line 1)"
        )
    }

    @Test func createWithTargetAndEmptyTarget() throws {
        let create = try #require(failure("@OPERATION@='CREATE'\n@RFC_NUMBER@='12'"))
        #expect(create.kind == .targetOnCreate)
        #expect(create.line == 2)
        let empty = try #require(failure("@OPERATION@='SOLVE'\n@RFC_NUMBER@='  '"))
        #expect(empty.kind == .emptyTarget)
    }

    @Test func valueNotQuotedOrNotClosed() throws {
        let bare = try #require(failure("@CHOICE@=1"))
        #expect(bare.kind == .valueNotQuoted)
        #expect(bare.variable == "CHOICE")
        #expect(
            bare.description == "variable command: the value of @CHOICE@ is not between apostrophes ('value') (line 1)")
        let open = try #require(failure("ok\n@COMMENT@='no end\n@CHOICE@='1'"))
        #expect(open.kind == .unterminatedValue)
        #expect(open.line == 2)
        let inner = try #require(failure("@COMMENT@='it'sbroken"))
        #expect(inner.kind == .unterminatedValue)
    }

    @Test func fieldGroupErrors() throws {
        let open = try #require(failure("@RFC_NUMBER@='1'\n@FIELDS_TO_UPDATE@={COMMENT=x} {ASSET=y"))
        #expect(open.kind == .unterminatedGroup)
        #expect(open.line == 2)
        let noEquals = try #require(failure("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@={COMMENT}"))
        #expect(noEquals.kind == .malformedGroup("COMMENT"))
        let noName = try #require(failure("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@={ =x}"))
        #expect(noName.kind == .malformedGroup(" =x"))
        let none = try #require(failure("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@=''"))
        #expect(none.kind == .emptyGroupList)
        let trailing = try #require(failure("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@='{A=1} junk'"))
        #expect(trailing.kind == .malformedGroup("junk"))
    }

    @Test func quotedGroupsAreRead() {
        #expect(
            parser.parse("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@='{A=1} {B=x = y}'")
                == .command(
                    VariableCommand(
                        operation: .update, target: "1",
                        fields: [VariableField(name: "A", value: "1"), VariableField(name: "B", value: "x = y")],
                        choice: nil)))
    }

    @Test func undecodablePercentEncodedCommand() throws {
        let error = try #require(failure("%40OPERATION%40%3D%27SOLVE%FF%27"))
        #expect(error.kind == .invalidPercentEncoding)
        // Undecodable bytes in a line that holds no command are someone's text.
        #expect(parser.parse("100%27 sure, see %FF%40") == nil)
    }

    @Test func tooManyVariables() throws {
        let text = (0...VariableCommandParser.maximumVariables).map { "@V\($0)@='x'" }.joined(separator: "\n")
        let error = try #require(failure(text))
        #expect(error.kind == .tooManyVariables(limit: VariableCommandParser.maximumVariables))
        #expect(error.line == VariableCommandParser.maximumVariables + 1)
    }

    @Test func quotedReplyHistoryIsNotACommand() {
        let reply = """
            Thanks, done.

            On Mon, Support wrote:
            > @OPERATION@='SOLVE'
            >   @RFC_NUMBER@='12'
              > @CHOICE@='1'
            """
        #expect(parser.parse(reply) == nil)
        let newAboveOld = "@OPERATION@='RESTART'\n@RFC_NUMBER@='12'\n> @OPERATION@='SOLVE'\n> @CHOICE@='1'\n"
        #expect(
            parser.parse(newAboveOld)
                == .command(VariableCommand(operation: .restart, target: "12", fields: [], choice: nil)))
        #expect(parser.parse("> %40OPERATION%40%3D%27SOLVE%27%0A%40RFC_NUMBER%40%3D%2712%27") == nil)
    }

    @Test(arguments: [
        "Write to jane@example.test or @support on chat.",
        "The incident @RFC_NUMBER@)='100622_000027' has been updated.",
        "Event generated at @DATE@ on @HOST@.",
        "@@@@ @@ @ @=@ '@'='x' @ @='x'",
        "user@EXAMPLE@='x' is not at a word's start",
        "50% off, 100%27s of %3D signs",
        "Please use the CreateSR token.",
    ])
    func proseIsNotACommand(_ text: String) {
        #expect(parser.parse(text) == nil)
    }

    @Test func apostrophesInsideValuesAndTypographicQuotes() {
        let text = "@COMMENT@='l'imprimante est HS' @URGENCY@=‘2’, @ASSET@=’P1’\n@TITLE@='It's \"fine\"'."
        #expect(
            parser.parse(text)
                == .command(
                    VariableCommand(
                        operation: .create, target: nil,
                        fields: [
                            VariableField(name: "COMMENT", value: "l'imprimante est HS"),
                            VariableField(name: "URGENCY", value: "2"), VariableField(name: "ASSET", value: "P1"),
                            VariableField(name: "TITLE", value: "It's \"fine\""),
                        ],
                        choice: nil)))
    }

    @Test func blanksAroundEqualsAndLowercaseNames() {
        #expect(
            parser.parse("@operation@ = 'solve'\t@Rfc_Number@\t=\t' 7 '")
                == .command(VariableCommand(operation: .solve, target: "7", fields: [], choice: nil)))
    }

    @Test func nonASCIIValuesInManyScripts() {
        let values = [
            "Écran cassé à l'accueil", "打印机坏了", "Принтер не работает", "الطابعة معطلة", "🖨️💥 ok",
            "Ärger mit Öl", "プリンター",
        ]
        let text = values.enumerated().map { "@F\($0.offset)@='\($0.element)'" }.joined(separator: "\r\n")
        let expected = values.enumerated().map { VariableField(name: "F\($0.offset)", value: $0.element) }
        #expect(
            parser.parse(text)
                == .command(VariableCommand(operation: .create, target: nil, fields: expected, choice: nil)))
        #expect(parser.parse(text.replacingCRLF()) == parser.parse(text))
        // Percent-encoded UTF-8, as a mailto: link carries it.
        #expect(
            parser.parse("%40COMMENT%40%3D%27%C3%89cran%20%E6%89%93%27")
                == .command(
                    VariableCommand(
                        operation: .create, target: nil, fields: [VariableField(name: "COMMENT", value: "Écran 打")],
                        choice: nil)))
    }
}

extension String {
    /// The text with CRLF line ends turned into LF.
    func replacingCRLF() -> String {
        LineScanner.lines(self).joined(separator: "\n")
    }
}
