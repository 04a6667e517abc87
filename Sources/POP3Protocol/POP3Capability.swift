/// One line of a CAPA listing (RFC 2449 §6): a capability name and its arguments, e.g. `SASL PLAIN LOGIN`,
/// `LOGIN-DELAY 900`, `STLS`, `UIDL`.
public struct POP3Capability: Sendable, Hashable, CustomStringConvertible {
    /// The capability name, upper-cased (names are case-insensitive).
    public let name: String
    /// The arguments as sent, split at blanks.
    public let arguments: [String]

    /// Makes a capability from parts.
    public init(name: String, arguments: [String] = []) {
        self.name = name.uppercased()
        self.arguments = arguments
    }

    public var description: String { ([name] + arguments).joined(separator: " ") }
}

extension Array where Element == POP3Capability {
    /// The capability named `name` (case-insensitive), if listed. O(n) in the listing.
    public func first(named name: String) -> POP3Capability? {
        let upper = name.uppercased()
        return first { $0.name == upper }
    }

    /// The SASL mechanisms the server offers (the `SASL` capability's arguments, upper-cased). O(n).
    public var saslMechanisms: [String] {
        first(named: "SASL")?.arguments.map { $0.uppercased() } ?? []
    }
}
