import Glibc
import MailParser

/// Reads variable commands (seed 003, EasyVista's Technical Support Agent) from a mail's text:
///
/// ```
/// @OPERATION@='SOLVE'
/// @RFC_NUMBER@='#1042'
/// @CHOICE@='1'
/// @FIELDS_TO_UPDATE@={COMMENT=Internal Problem} {ASSET_TAG=ZS_010}
/// ```
///
/// A command is `@NAME@=` (blanks allowed around `=`) and a value between apostrophes (`'`, or the typographic
/// ‘ ’ that Word and Outlook put in), on one line; `@FIELDS_TO_UPDATE@` takes `{NAME=value}` groups instead.
/// Several may share a line. A value's closing apostrophe is one followed by the end of the line, a blank,
/// punctuation or the next `@`, so `'l'imprimante'` is one value. `@NAME@` without `=` is a mention, not a
/// command; an `@` right after a letter or digit (an address) opens nothing. A line holding `%40`, `%3D` or
/// `%27` is percent-decoded first and split at its decoded line ends: that is the body of the `mailto:` links
/// approval mails carry (`%40OPERATION%40%3D%27SOLVE%27`). Quoted lines (`> …`) are reply history, never
/// commands.
public struct VariableCommandParser: Sendable {
    /// The most variables (and `{…}` groups) one mail may carry.
    public static let maximumVariables = 256
    /// The longest variable name (`@NAME@` or `{NAME=…}`), in bytes: every name the pipeline looks up is short.
    public static let maximumNameBytes = 64
    /// The longest `@RFC_NUMBER@` value, in bytes.
    public static let maximumTargetBytes = 256
    /// The longest `@CHOICE@` value, in bytes.
    public static let maximumChoiceBytes = 64

    public init() {}

    /// The command `text` carries, or why it is not one; nil when `text` has no `@NAME@=` outside quoted lines.
    /// Ordinary mail without `@` or `%40` pays one `memchr` pass over its bytes and no allocation; other mail one
    /// line pass, O(n) in its bytes: each line is searched for `@` with `memchr`, and a line holding one (or a
    /// percent escape) is copied once and walked once, each step advancing.
    public func parse(_ text: String) -> VariableCommandResult? {
        var text = text
        return text.withUTF8 { buffer -> VariableCommandResult? in
            guard Self.mayHoldCommand(buffer) else { return nil }
            var scanner = VariableCommandScanner()
            var lines = LineScanner(buffer)
            var number = 0
            while let line = lines.next() {
                number += 1
                if let error = scanner.read(line: UnsafeBufferPointer(rebasing: buffer[line.content]), number: number) {
                    return .invalid(error)
                }
            }
            return scanner.result()
        }
    }

    /// Whether `buffer` holds an `@` or a `%40`. O(n), `memchr` passes.
    static func mayHoldCommand(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buffer.baseAddress else { return false }
        if memchr(base, Int32(UInt8(ascii: "@")), buffer.count) != nil { return true }
        var position = 0
        while position < buffer.count,
            let found = memchr(base + position, Int32(UInt8(ascii: "%")), buffer.count - position)
        {
            let percent = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if percent + 2 < buffer.count, base[percent + 1] == UInt8(ascii: "4"),
                base[percent + 2] == UInt8(ascii: "0")
            {
                return true
            }
            position = percent + 1
        }
        return false
    }
}
