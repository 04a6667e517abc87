/// A valid structured request (seed 000): the block between two `CreateSR` lines, checked against its
/// configured type. The lead's pipeline resolves `requester` and `user` against contacts (falling back to the
/// queue's fallback user and site) and stores `fields` on the ticket.
public struct StructuredRequest: Sendable, Hashable {
    /// The language the block's labels were written in: one per block, French tried first.
    public enum Language: String, Sendable, Hashable, Codable, CaseIterable {
        case french
        case english
    }

    /// The configured type's name (`StructuredRequestType.name`), whatever name the mail used.
    public var type: String
    /// The logins or addresses the `Requérant:`/`Requester:` line names, in order (split at `;` and `,`;
    /// addresses in `MailAddressForm`, logins as written).
    public var requester: [String]
    /// The logins or addresses the `Utilisateur:`/`User:` line names, in order; empty without that line.
    public var user: [String]
    /// The type's fields the block filled, in the block's order, values canonical.
    public var fields: [TicketField]
    public var language: Language

    public init(type: String, requester: [String], user: [String], fields: [TicketField], language: Language) {
        self.type = type
        self.requester = requester
        self.user = user
        self.fields = fields
        self.language = language
    }
}
