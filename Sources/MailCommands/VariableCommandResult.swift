/// What a mail's variable commands asked for: a valid command, or why not (the pipeline records an activity
/// and, with outbound mail, replies with the error).
public enum VariableCommandResult: Sendable, Hashable {
    case command(VariableCommand)
    case invalid(VariableCommandError)
}
