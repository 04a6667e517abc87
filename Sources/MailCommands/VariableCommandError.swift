import MailParser

/// Why a mail's variable commands are not a command. Its `description` is the activity and the error reply,
/// one line naming the problem and where, e.g. `variable command: @OPERATION@ value "CLOSE" is not CREATE,
/// UPDATE, SOLVE, RESTART or STOP (line 4)`.
public struct VariableCommandError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// `@NAME@=` not followed by an apostrophe (nor, for `@FIELDS_TO_UPDATE@`, by `{`).
        case valueNotQuoted
        /// An opening apostrophe without a closing one on the same line.
        case unterminatedValue
        /// A `{` of `@FIELDS_TO_UPDATE@` without its `}` on the same line.
        case unterminatedGroup
        /// A `{…}` group that is not `{NAME=value}` with a name (the group's text).
        case malformedGroup(String)
        /// `@FIELDS_TO_UPDATE@=` with no `{…}` group.
        case emptyGroupList
        /// `@OPERATION@` names no operation (the value as written).
        case unknownOperation(String)
        /// The same variable (or field) twice.
        case duplicateVariable
        /// An operation on a ticket without `@RFC_NUMBER@`.
        case missingTarget(VariableOperation)
        /// `@RFC_NUMBER@=''`.
        case emptyTarget
        /// `@OPERATION@='CREATE'` with an `@RFC_NUMBER@`: create or update, not both.
        case targetOnCreate
        /// A percent-encoded (`mailto:`) line that decodes to bytes that are not UTF-8.
        case invalidPercentEncoding
        /// More variables than a command may carry.
        case tooManyVariables(limit: Int)
        /// A `{NAME=value}` name, an `@RFC_NUMBER@` or an `@CHOICE@` over `limit` bytes (see
        /// `VariableCommandParser`'s limits): none is that long, and the pipeline looks them up.
        case tooLong(limit: Int)
    }

    public var kind: Kind
    /// The 1-based line of the text the error is about.
    public var line: Int
    /// The variable's name as written (without the `@`s), when the error is about one.
    public var variable: String?

    public init(_ kind: Kind, line: Int, variable: String? = nil) {
        self.kind = kind
        self.line = line
        self.variable = variable
    }

    public var description: String {
        let name =
            "@" + TerminalText.escaped(CommandText.prefix(variable ?? "", scalars: CommandText.excerptLimit)) + "@"
        let problem: String
        switch kind {
        case .valueNotQuoted: problem = "the value of \(name) is not between apostrophes ('value')"
        case .unterminatedValue: problem = "the value of \(name) has no closing apostrophe on its line"
        case .unterminatedGroup: problem = "a { of \(name) has no closing } on its line"
        case .malformedGroup(let group):
            problem = "\(name) group \(CommandText.excerpt(group)) is not {NAME=value}"
        case .emptyGroupList: problem = "\(name) has no {NAME=value} group"
        case .unknownOperation(let value):
            problem = "\(name) value \(CommandText.excerpt(value)) is not CREATE, UPDATE, SOLVE, RESTART or STOP"
        case .duplicateVariable: problem = "\(name) is given twice"
        case .missingTarget(let operation):
            problem = "\(operation.rawValue.uppercased()) needs @RFC_NUMBER@ to name the ticket"
        case .emptyTarget: problem = "\(name) is empty"
        case .targetOnCreate: problem = "CREATE does not take @RFC_NUMBER@ (an update names its ticket)"
        case .invalidPercentEncoding: problem = "the percent-encoded line does not decode to UTF-8 text"
        case .tooManyVariables(let limit): problem = "more than \(limit) variables"
        case .tooLong(let limit): problem = "\(name) has a name or value over \(limit) bytes"
        }
        return "variable command: \(problem) (line \(line))"
    }
}
