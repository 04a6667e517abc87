/// A sender authentication method whose `Authentication-Results` verdict a command may require.
public enum AuthenticationMethod: String, Sendable, Hashable, CaseIterable, Codable {
    /// DKIM (RFC 6376): some signature verified. Any signing domain counts; DMARC is what ties it to From.
    case dkim
    /// SPF (RFC 7208) for the envelope sender.
    case spf
    /// DMARC (RFC 7489): DKIM or SPF passed aligned with the From domain.
    case dmarc
}
