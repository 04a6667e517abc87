import Foundation
import MailClassification

/// What happens to a reply that threads into a closed (or solved) ticket.
public enum ClosedTicketReplyPolicy: Sendable, Hashable {
    /// Add the reply to the closed ticket; its status stays.
    case add
    /// Reopen the ticket if it was last updated at most `days` days ago; otherwise open a new ticket linked to it.
    case reopenWithin(days: Int)
    /// Always open a new ticket, linked to the closed one.
    case alwaysNew
}

/// What the pipeline does with a sender it has no contact for.
public enum UnknownSenderPolicy: Sendable, Hashable {
    /// Create a contact for the sender (the default).
    case createContact
    /// Use this contact as the requester (a catch-all customer account); the sender is kept on the article.
    case fallbackContact(address: String)
    /// Do not open a ticket; record the message as to be redirected to this address (for outbound mail).
    case redirect(address: String)
    /// Do not open a ticket; record the message as rejected.
    case reject
}

/// The per-queue options of the pipeline. Every option has a default that keeps ordinary mail flowing.
public struct QueuePolicy: Sendable, Hashable {
    /// Allow- and ignore-lists (stage 4).
    public var filter: MailFilter
    /// Ignored file names and the maximum attachment size (stage 9).
    public var attachments: AttachmentPolicy
    /// Automated messages a sender may have processed per day (stage 3).
    public var automatedBudget: AutomatedSenderBudget
    /// Replies to closed tickets (stage 7).
    public var closedTicketReplies: ClosedTicketReplyPolicy
    /// Unknown senders (stage 6).
    public var unknownSenders: UnknownSenderPolicy
    /// Use the first Reply-To address as the requester instead of From.
    public var replyToAsRequester: Bool
    /// Addresses of agents: mail from one of them that forwards a message (an attached message, or a
    /// forwarded-message block) makes the original sender the requester.
    public var agentAddresses: [String]
    /// Category, priority and type of new tickets in this queue.
    public var ticketDefaults: TicketDefaults
    /// Also attach the raw message to each article as `message.eml` (seed 000: agents forward it as is). The
    /// raw message is always kept; this makes it an ordinary attachment too, at the cost of storing it twice.
    public var attachRawMessage = false
    /// Acknowledge new tickets from ordinary mail to their requester; nil: never (the default).
    public var acknowledgement: AcknowledgementRule?
    /// Addresses told of each new ticket and each new message on a ticket (`queues.<name>.agents`); empty: none.
    public var notifiedAgents: [String] = []
    /// What mail may command in this queue (`queues.<name>.commands`); nil: nothing, every message is ordinary.
    public var commands: MailCommandPolicy?
    /// Whether outbound mail is configured: commands are then confirmed (or refused) by mail to their sender.
    public var repliesToCommands = false

    public init(
        filter: MailFilter = MailFilter(), attachments: AttachmentPolicy = AttachmentPolicy(),
        automatedBudget: AutomatedSenderBudget = AutomatedSenderBudget(),
        closedTicketReplies: ClosedTicketReplyPolicy = .reopenWithin(days: 14),
        unknownSenders: UnknownSenderPolicy = .createContact, replyToAsRequester: Bool = false,
        agentAddresses: [String] = [], ticketDefaults: TicketDefaults = TicketDefaults()
    ) {
        self.filter = filter
        self.attachments = attachments
        self.automatedBudget = automatedBudget
        self.closedTicketReplies = closedTicketReplies
        self.unknownSenders = unknownSenders
        self.replyToAsRequester = replyToAsRequester
        self.agentAddresses = agentAddresses
        self.ticketDefaults = ticketDefaults
    }
}

/// What a new ticket of a queue starts with.
public struct TicketDefaults: Sendable, Hashable, Codable {
    public var category: String?
    public var priority: String?
    public var type: String?

    public init(category: String? = nil, priority: String? = nil, type: String? = nil) {
        self.category = category
        self.priority = priority
        self.type = type
    }
}

/// Options of the pipeline that are the same for every queue.
public struct PipelineSettings: Sendable {
    /// How our own outgoing mail is recognised (stage 1).
    public var ownMail: OwnMailConfiguration
    /// Non-standard bounce recognition (stage 2).
    public var bounces: BounceDetectionConfiguration
    /// A message with more attachments than this is not stored but quarantined: storing it would hold the
    /// serialized writer for too long. Raise it and replay the message to accept it.
    public var maximumAttachments: Int
    /// Signs and verifies our own Message-IDs; nil: only stored Message-IDs thread.
    public var messageIDs: MessageIDSigner?
    /// The queue that takes mail no queue receives, on paths that cannot refuse a recipient (`deliver`, the
    /// poller, replays): it becomes a ticket there, marked for triage. nil: such recipients are unknown.
    /// LMTP and SMTP refuse unknown recipients at RCPT and never use it.
    public var triageQueue: String?
    /// Whether commits write events to the transactional outbox (`ticket.created`, `article.added`,
    /// `bounce.recorded`, `message.quarantined`): on when webhooks are configured, so that intake without
    /// webhooks pays nothing for them. Read per message from `eventRecording`.
    public var recordsEvents: Bool {
        get { eventRecording.isOn }
        set { eventRecording = EventRecording(newValue) }
    }
    /// The switch behind `recordsEvents`, shared by every copy of these settings: the daemon flips it when a
    /// reload adds the first webhook or removes the last one.
    public var eventRecording: EventRecording

    public init(
        ownMail: OwnMailConfiguration = OwnMailConfiguration(instanceName: ""),
        bounces: BounceDetectionConfiguration = BounceDetectionConfiguration(), maximumAttachments: Int = 1000,
        messageIDs: MessageIDSigner? = nil, triageQueue: String? = nil, recordsEvents: Bool = false
    ) {
        self.eventRecording = EventRecording(recordsEvents)
        self.ownMail = ownMail
        self.bounces = bounces
        self.maximumAttachments = maximumAttachments
        self.messageIDs = messageIDs
        self.triageQueue = triageQueue
    }
}

/// An error inside the pipeline's own logic (not the store's): the message goes to quarantine.
public enum PipelineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message has more attachments than `PipelineSettings.maximumAttachments`.
    case tooManyAttachments(count: Int, limit: Int)
    /// A stage failed; `stage` names it.
    case stageFailed(stage: String, reason: String)
    /// A poison message: an earlier delivery of these very bytes stopped in `stage` and never finished;
    /// `what` says how (the daemon crashed, or the processing deadline passed).
    case stalled(stage: String, what: String)

    public var description: String {
        switch self {
        case .tooManyAttachments(let count, let limit):
            "the message has \(count) attachments, more than the limit of \(limit) (pipeline.max_attachments)"
        case .stageFailed(let stage, let reason): "stage \(stage) failed: \(reason)"
        case .stalled(let stage, let what):
            "poison message: an earlier delivery of it stopped in stage \(stage) (\(what)); held instead of retried"
        }
    }
}
