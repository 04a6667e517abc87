/// A valid variable command (seed 003, EasyVista's `@VAR@='value'` lines): what to do, to which ticket, with
/// which values.
public struct VariableCommand: Sendable, Hashable {
    public var operation: VariableOperation
    /// The `@RFC_NUMBER@` value as written, trimmed (`123`, `#123`, `[Support #123]`: the lead resolves it);
    /// nil for `.create`, never nil otherwise.
    public var target: String?
    /// Every other `@NAME@='value'` and every `{NAME=value}` of `@FIELDS_TO_UPDATE@`, in the text's order;
    /// no name twice (ignoring ASCII case).
    public var fields: [VariableField]
    /// The `@CHOICE@` value (an approval's answer: `1` accept, `0` refuse, `2` ask for information), trimmed.
    public var choice: String?

    public init(operation: VariableOperation, target: String?, fields: [VariableField], choice: String?) {
        self.operation = operation
        self.target = target
        self.fields = fields
        self.choice = choice
    }
}
