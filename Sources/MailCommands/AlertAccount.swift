/// A known account (customer) that alerts can be about.
public struct AlertAccount: Sendable, Hashable {
    /// The account's name; the verdict carries it, and a subject may name the account by it.
    public var name: String
    /// The account's identifier in the monitoring system, which a subject may carry instead of the name.
    public var id: String?
    /// Addresses or `@domain`s whose mail is about this account (`AlertAccountDetection.bySender`).
    public var senders: [String]

    public init(name: String, id: String? = nil, senders: [String] = []) {
        self.name = name
        self.id = id
        self.senders = senders
    }
}
