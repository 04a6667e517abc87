/// The comparable form of a mail address, the one normalisation every layer uses: lower-cased (ASCII only),
/// angle brackets and a `+tag` sub-address removed. Each operation is O(n) in the address's bytes.
public enum MailAddressForm {
    /// `"<Support+Billing@Example.COM>"` → `support@example.com`.
    public static func normalized(_ address: some StringProtocol) -> String {
        // Cut by bytes: `dropFirst()` would drop a whole `Character`, a combining mark after `<` with it.
        var value = ByteText.trimmed(address)
        if value.utf8.first == ASCIIByte.lessThan { value = value[value.utf8.index(after: value.startIndex)...] }
        if value.utf8.last == ASCIIByte.greaterThan { value = value[..<value.utf8.index(before: value.endIndex)] }
        let lowered = ByteText.lowercasedASCII(ByteText.trimmed(value))
        guard let at = lowered.utf8.lastIndex(of: ASCIIByte.at) else { return lowered }
        let local = lowered[..<at]
        guard let plus = local.utf8.firstIndex(of: 0x2B), plus != local.startIndex else { return lowered }
        return String(local[..<plus]) + String(lowered[at...])
    }

    /// The lower-cased domain of an address, without a trailing dot; nil without `@`.
    public static func domain(_ address: some StringProtocol) -> String? {
        let lowered = normalized(address)
        guard let at = lowered.utf8.lastIndex(of: ASCIIByte.at) else { return nil }
        var domain = lowered[lowered.index(after: at)...]
        if domain.utf8.last == ASCIIByte.dot { domain = domain[..<domain.utf8.index(before: domain.endIndex)] }
        return domain.isEmpty ? nil : String(domain)
    }

    /// The lower-cased local part; the whole value without `@`.
    public static func localPart(_ address: some StringProtocol) -> String {
        let lowered = normalized(address)
        guard let at = lowered.utf8.lastIndex(of: ASCIIByte.at) else { return lowered }
        return String(lowered[..<at])
    }

    /// Whether an address's local part (before the last `@`, an opening `<` skipped) is `localPart`, ASCII
    /// case-insensitively. No allocation.
    public static func localPart(of address: some StringProtocol, is localPart: some StringProtocol) -> Bool {
        let address = Substring(address)
        guard let at = address.utf8.lastIndex(of: ASCIIByte.at) else { return false }
        var local = address[..<at]
        if local.utf8.first == ASCIIByte.lessThan { local = local[local.utf8.index(after: local.startIndex)...] }
        return ByteText.equalsIgnoringCase(local, localPart)
    }

    /// Whether `domain` is `parent` or, when `includeSubdomains`, a subdomain of it (both lower case).
    public static func domain(_ domain: String, matches parent: String, includeSubdomains: Bool) -> Bool {
        if domain == parent { return true }
        guard includeSubdomains, domain.utf8.count > parent.utf8.count + 1 else { return false }
        return domain.utf8.suffix(parent.utf8.count + 1).elementsEqual([ASCIIByte.dot] + parent.utf8)
    }
}
