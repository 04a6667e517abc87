/// The SASL mechanisms Postdesk's mail clients speak, by their registered names (as sent after `AUTH` /
/// `AUTHENTICATE` and as listed in a server's capabilities).
public enum SASLMechanism: String, Sendable, Hashable, CaseIterable {
    /// RFC 4616: authorization identity, user name and password in one message.
    case plain = "PLAIN"
    /// The obsolete but common LOGIN mechanism: user name and password each answering a server prompt.
    case login = "LOGIN"
    /// Google's and Microsoft's OAuth 2.0 bearer-token mechanism.
    case xoauth2 = "XOAUTH2"
    /// RFC 7628: OAuth 2.0 bearer token with a GS2 header.
    case oauthBearer = "OAUTHBEARER"
}
