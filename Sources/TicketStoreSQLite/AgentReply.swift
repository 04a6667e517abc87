import Foundation
import MailParser
import TicketPipeline

/// An agent's answer to a ticket's requester (`POST /api/v1/tickets/{number}/replies`), as the store writes it:
/// the outbound article, one queued mail per recipient, the optional status change and the events, in one
/// transaction (`SQLiteTicketStore.addAgentReply`).
public struct AgentReply: Sendable {
    public var ticketNumber: Int
    public var text: String
    /// Kept on the article; the queued mail carries `text` (the outbound queue stores one text body).
    public var html: String?
    /// Addresses the agent adds to the ticket's Cc participants: copied on this reply and, being on its article, on
    /// the later ones.
    public var cc: [MailAddress]
    /// The ticket's status after the reply; nil leaves it.
    public var status: String?
    /// Who wrote it (`token <name>`), on the activity and the event.
    public var author: String
    public var date: Date

    public init(
        ticketNumber: Int, text: String, html: String? = nil, cc: [MailAddress] = [], status: String? = nil,
        author: String, date: Date
    ) {
        self.ticketNumber = ticketNumber
        self.text = text
        self.html = html
        self.cc = cc
        self.status = status
        self.author = author
        self.date = date
    }

    /// What our side of the conversation is: the From of a queue's mail, which addresses are ours (never Cc'd
    /// back), and the signer of our Message-IDs.
    public struct Sender: Sendable {
        public var from: @Sendable (_ queue: String) -> MailAddress
        public var isOwnAddress: @Sendable (_ lowerCasedAddress: String) -> Bool
        public var messageIDs: MessageIDSigner

        public init(
            from: @escaping @Sendable (String) -> MailAddress, isOwnAddress: @escaping @Sendable (String) -> Bool,
            messageIDs: MessageIDSigner
        ) {
            self.from = from
            self.isOwnAddress = isOwnAddress
            self.messageIDs = messageIDs
        }
    }

    /// What the reply wrote.
    public struct Written: Sendable, Hashable {
        public var articleID: Int64
        /// The Message-ID of the requester's mail (the article's); each recipient's mail has its own.
        public var messageID: String
        /// The requester, then the Cc participants: one queued mail each.
        public var recipients: [MailAddress]
        public var outboundMailIDs: [Int64]
    }

    /// Why a reply cannot be written.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var ticketNumber: Int
        public var reason: String

        public var description: String { "ticket #\(ticketNumber): \(reason)" }
    }
}
