/// The person a created ticket is for: `<Requester name="Zoë Ünal">zoe@example.test</Requester>`.
public struct XMLRequester: Sendable, Hashable {
    /// The address as written (trimmed); the pipeline normalises it with `MailAddressForm`.
    public var address: String
    public var name: String?

    public init(address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }
}
