import MailParser

/// A parsed `<PostdeskTransaction version="1">`: its password, where the response goes, the caller's reference,
/// and the operations in document order (at least one).
public struct XMLTransaction: Sendable, Hashable {
    /// As written, surrounding white space removed. Check it with `passwordMatches(_:expected:)`, never `==`.
    public var password: String
    /// Where the response goes (not the mail's sender); nil: no response.
    public var responseAddress: String?
    /// A copy of the response goes there too.
    public var responseBcc: String?
    /// The caller's own reference, echoed in the response.
    public var externalReference: String?
    public var operations: [XMLOperation]

    public init(
        password: String, responseAddress: String? = nil, responseBcc: String? = nil,
        externalReference: String? = nil, operations: [XMLOperation]
    ) {
        self.password = password
        self.responseAddress = responseAddress
        self.responseBcc = responseBcc
        self.externalReference = externalReference
        self.operations = operations
    }

    /// Whether the transaction's password is the configured one, in constant time (MailParser's
    /// `ConstantTimeComparison`: the time depends only on `expected`'s length). An empty `expected` (no
    /// password configured) matches nothing. O(n) in `expected`'s bytes.
    public static func passwordMatches(_ given: String, expected: String) -> Bool {
        guard !expected.isEmpty else { return false }
        return ConstantTimeComparison.equals(given, expected)
    }

    /// `passwordMatches(password, expected:)` for this transaction.
    public func passwordMatches(expected: String) -> Bool {
        Self.passwordMatches(password, expected: expected)
    }
}
