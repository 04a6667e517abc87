/// An RFC 2449 extended response code: the bracketed `[LEVEL/LEVEL…]` at the start of a status line's text.
public struct POP3ResponseCode: Sendable, Hashable, CustomStringConvertible {
    /// The code's levels as sent, for example `["SYS", "TEMP"]`.
    public let levels: [String]

    /// What the code tells the driver to do.
    public enum Meaning: Sendable, Hashable {
        /// `[IN-USE]`: another session holds the maildrop lock; try later.
        case inUse
        /// `[LOGIN-DELAY]`: logged in too soon after the last login; wait the announced delay.
        case loginDelay
        /// `[SYS/TEMP]`: temporary server failure; retry.
        case temporarySystemFailure
        /// `[SYS/PERM]`: permanent server failure; a human must act.
        case permanentSystemFailure
        /// `[AUTH]`: the credentials were refused (not a server problem).
        case authenticationFailure
        /// `[UTF8]` or any other code.
        case other
    }

    /// Makes a code from its levels.
    public init(levels: [String]) { self.levels = levels }

    /// The meaning of the first level(s), compared case-insensitively.
    public var meaning: Meaning {
        let upper = levels.map { $0.uppercased() }
        switch upper.first {
        case "IN-USE": return .inUse
        case "LOGIN-DELAY": return .loginDelay
        case "AUTH": return .authenticationFailure
        case "SYS" where upper.count > 1 && upper[1] == "TEMP": return .temporarySystemFailure
        case "SYS" where upper.count > 1 && upper[1] == "PERM": return .permanentSystemFailure
        default: return .other
        }
    }

    public var description: String { "[" + levels.joined(separator: "/") + "]" }
}
