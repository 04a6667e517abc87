/// `<AddArticle ticket="N" internal="false">`: adds an article (a reply, or an internal note) to ticket N.
public struct XMLAddArticle: Sendable, Hashable {
    public var ticket: Int
    /// The article's text, exactly as written.
    public var text: String
    /// An internal note, not shown to the requester (`internal="true"`; default false).
    public var isInternal: Bool

    public init(ticket: Int, text: String, isInternal: Bool = false) {
        self.ticket = ticket
        self.text = text
        self.isInternal = isInternal
    }
}
