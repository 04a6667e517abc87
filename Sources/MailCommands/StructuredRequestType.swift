import MailParser

/// A configured structured-request type (seed 000's "SR type"): the names a mail may give it, its form's
/// fields, and who may ask for it.
public struct StructuredRequestType: Sendable, Hashable {
    /// The type's configured name: what `StructuredRequest.type` says.
    public var name: String
    /// Other names a mail may write after `Type:`, in any language. The name itself is always accepted; all are
    /// matched ignoring case.
    public var labels: [String]
    public var fields: [StructuredRequestFieldDefinition]
    /// Addresses (`jane@example.test`) or domains (`@example.test`) allowed to send this type, compared in
    /// `MailAddressForm`; empty: anyone.
    public var allowedSenders: [String]

    public init(
        name: String, labels: [String] = [], fields: [StructuredRequestFieldDefinition] = [],
        allowedSenders: [String] = []
    ) {
        self.name = name
        self.labels = labels
        self.fields = fields
        self.allowedSenders = allowedSenders
    }

    /// Whether `typeText` (what the mail wrote after `Type:`) names this type, compared caselessly as bytes
    /// (`CommandText.caselessKey`). O(labels × length).
    func isNamed(_ typeText: String) -> Bool {
        let keys = ([name] + labels).map { CommandText.caselessKey($0) }
        guard let key = CommandText.caselessKey(typeText, matchingAtMost: keys.map(\.count).max() ?? 0) else {
            return false
        }
        return keys.contains(key)
    }

    /// Whether `sender` may send this type. O(allowed senders × address length).
    public func allows(sender: String) -> Bool {
        guard !allowedSenders.isEmpty else { return true }
        let address = MailAddressForm.normalized(sender)
        let domain = MailAddressForm.domain(address)
        return allowedSenders.contains { entry in
            let trimmed = ByteText.trimmed(entry)
            if trimmed.utf8.first == UInt8(ascii: "@") {
                let entryDomain = ByteText.lowercasedASCII(Substring(trimmed.utf8.dropFirst()))
                return domain.map { entryDomain.utf8.elementsEqual($0.utf8) } ?? false
            }
            return MailAddressForm.normalized(trimmed) == address
        }
    }
}
