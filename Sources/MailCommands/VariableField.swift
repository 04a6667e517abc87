/// One value a variable command sets: an `@NAME@='value'` or a `{NAME=value}` of `@FIELDS_TO_UPDATE@`. The
/// lead maps names to ticket fields; unknown names are its to refuse.
public struct VariableField: Sendable, Hashable {
    /// The variable's name as written, without the `@`s (`ASSET`, `COMMENT`).
    public var name: String
    /// The value as written between the apostrophes (or after `=` in a `{…}` group), trimmed.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
