import MailParser
import Testing

@testable import MailCommands

/// Hostile and huge texts: each finishes (the bounds only catch a hang or a quadratic walk, they measure
/// nothing) with the exact answer.
@Suite("Variable commands: huge and hostile input")
struct VariableCommandHardeningTests {
    let parser = VariableCommandParser()
    static let hangBound = Duration.seconds(60)

    func parsed(_ text: String) -> (VariableCommandResult?, Duration) {
        var result: VariableCommandResult?
        let elapsed = ContinuousClock().measure { result = parser.parse(text) }
        return (result, elapsed)
    }

    @Test func oneMegabyteOfAtSigns() {
        let (result, elapsed) = parsed(String(repeating: "@", count: 1 << 20))
        #expect(result == nil)
        #expect(elapsed < Self.hangBound)
    }

    @Test func oneMegabyteOfNameStartsAndMentions() {
        let (starts, startsElapsed) = parsed(String(repeating: "@A", count: 1 << 19))
        #expect(starts == nil)
        #expect(startsElapsed < Self.hangBound)
        let (mentions, mentionsElapsed) = parsed(String(repeating: "@DATE@ ", count: 150_000))
        #expect(mentions == nil)
        #expect(mentionsElapsed < Self.hangBound)
        let (long, longElapsed) = parsed("@" + String(repeating: "N", count: 1 << 20) + "@='x'")
        #expect(long == nil)
        #expect(longElapsed < Self.hangBound)
    }

    @Test func oneMegabyteValueWithManyFalseClosingApostrophes() {
        let body = String(repeating: "'x", count: 1 << 19)
        let (open, openElapsed) = parsed("@COMMENT@='" + body)
        guard case .invalid(let error) = open else { return #expect(Bool(false), "\(String(describing: open))") }
        #expect(error.kind == .unterminatedValue)
        #expect(openElapsed < Self.hangBound)
        let (closed, closedElapsed) = parsed("@COMMENT@='" + body + "'")
        guard case .command(let command) = closed else {
            return #expect(Bool(false), "\(String(describing: closed))")
        }
        #expect(command.fields.first?.value.utf8.count == body.utf8.count)
        #expect(closedElapsed < Self.hangBound)
    }

    @Test func hundredThousandLinesWithACommandAtTheEnd() {
        let prose = String(repeating: "Line with an address jane@example.test and 100% text\n", count: 100_000)
        let (result, elapsed) = parsed(prose + "@OPERATION@='STOP'\r\n@RFC_NUMBER@='99'\r\n")
        #expect(result == .command(VariableCommand(operation: .stop, target: "99", fields: [], choice: nil)))
        #expect(elapsed < Self.hangBound)
    }

    @Test func hundredThousandQuotedCommandLines() {
        let (result, elapsed) = parsed(String(repeating: "> @OPERATION@='SOLVE'\n", count: 100_000))
        #expect(result == nil)
        #expect(elapsed < Self.hangBound)
    }

    @Test func manyPercentEscapesAndGroups() {
        let (escapes, escapesElapsed) = parsed(String(repeating: "%40%3D%27", count: 120_000))
        #expect(escapes == nil)
        #expect(escapesElapsed < Self.hangBound)
        let groups = (0..<200).map { "{K\($0)=\(String(repeating: "v", count: 1_000))}" }.joined(separator: " ")
        let (result, groupsElapsed) = parsed("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@=" + groups)
        guard case .command(let command) = result else { return #expect(Bool(false), "\(String(describing: result))") }
        #expect(command.fields.count == 200)
        #expect(groupsElapsed < Self.hangBound)
        let (open, openElapsed) = parsed("@FIELDS_TO_UPDATE@=" + String(repeating: "{", count: 1 << 20))
        guard case .invalid(let error) = open else { return #expect(Bool(false), "\(String(describing: open))") }
        #expect(error.kind == .unterminatedGroup)
        #expect(openElapsed < Self.hangBound)
    }

    @Test func bareCarriageReturnsEndValues() {
        #expect(
            parser.parse("@OPERATION@='SOLVE'\r@RFC_NUMBER@='5'\r")
                == .command(VariableCommand(operation: .solve, target: "5", fields: [], choice: nil)))
    }

    @Test func hugeValueIsCutInTheDescription() {
        guard
            case .invalid(let error) = parser.parse(
                "@OPERATION@='" + String(repeating: "\u{1B}é", count: 100_000) + "'")
        else { return #expect(Bool(false)) }
        #expect(error.description.count < 200)
        #expect(!error.description.unicodeScalars.contains("\u{1B}"))
    }

    /// Out-of-order combining marks, which Swift's `==` and hashing sort quadratically (see
    /// `StructuredRequestHardeningTests.markRun`), as an operation, a group's name and a value.
    @Test func longCombiningMarkRuns() {
        let marks = StructuredRequestHardeningTests.markRun
        let (operation, operationElapsed) = parsed("@RFC_NUMBER@='1'\n@OPERATION@='\(marks)'")
        guard case .invalid(let error) = operation else {
            return #expect(Bool(false), "\(String(describing: operation).prefix(200))")
        }
        guard case .unknownOperation = error.kind else { return #expect(Bool(false), "\(error)") }
        #expect(error.description.unicodeScalars.count < 400)
        #expect(operationElapsed < Self.hangBound)
        let (groups, groupsElapsed) = parsed("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@={\(marks)=1} {\(marks)=2}")
        guard case .invalid(let tooLong) = groups else {
            return #expect(Bool(false), "\(String(describing: groups).prefix(200))")
        }
        #expect(tooLong.kind == .tooLong(limit: VariableCommandParser.maximumNameBytes))
        #expect(tooLong.description.unicodeScalars.count < 400)
        #expect(groupsElapsed < Self.hangBound)
    }

    /// What the pipeline looks up (names, the target, the choice) is short, or the command is refused.
    @Test func lookedUpValuesAreBounded() {
        let name = String(repeating: "n", count: VariableCommandParser.maximumNameBytes)
        let target = String(repeating: "1", count: VariableCommandParser.maximumTargetBytes)
        let choice = String(repeating: "é", count: VariableCommandParser.maximumChoiceBytes / 2)
        let text = "@RFC_NUMBER@='\(target)' @CHOICE@='\(choice)' @FIELDS_TO_UPDATE@={\(name)=x}"
        guard case .command(let command) = parser.parse(text) else { return #expect(Bool(false)) }
        #expect(command.fields == [VariableField(name: name, value: "x")])
        for (long, variable) in [
            ("@RFC_NUMBER@='\(target)1'", "RFC_NUMBER"), ("@CHOICE@='\(choice)x'", "CHOICE"),
            ("@RFC_NUMBER@='1' @FIELDS_TO_UPDATE@={\(name)é=x}", "FIELDS_TO_UPDATE"),
        ] {
            guard case .invalid(let error) = parser.parse(long) else { return #expect(Bool(false), "\(long)") }
            guard case .tooLong = error.kind else { return #expect(Bool(false), "\(error)") }
            #expect(error.variable == variable)
        }
        // A name over the limit after `@` is no variable at all: the text is not a command.
        #expect(parser.parse("@\(name)N@='x'") == nil)
    }
}
