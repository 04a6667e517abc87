import MailParser

/// The classification stage that made a decision.
public enum ClassificationStage: String, Sendable, Hashable, Codable, CaseIterable {
    case ownMail = "own-mail"
    case bounce
    case automated
    case filter
    case attachments
}

/// One decision on the record: which stage, which rule, and a sentence a human can read. The pipeline
/// stores these as system activities.
public struct ClassificationDecision: Sendable, Hashable, Codable {
    public var stage: ClassificationStage
    /// A stable rule name, e.g. `auto-submitted`, `dsn`, `ignore-domain`; `none` when the stage passed.
    public var rule: String
    public var reason: String

    public init(stage: ClassificationStage, rule: String, reason: String) {
        self.stage = stage
        self.rule = rule
        self.reason = reason
    }
}

/// What the pipeline should do with a message, in the order the stages are evaluated: bounces and reports
/// first (they are never tickets, even when they also look like loops), then own mail and loops, then
/// automated mail, then the queue's filters.
public enum ClassificationVerdict: Sendable, Hashable, Codable {
    /// A bounce, feedback report or read receipt: never a new ticket; a note on the original's ticket.
    case bounce(BounceReport)
    /// Mail we sent ourselves (our Message-ID domain, our loop header): dropped with a log line.
    case ownMail(reason: String)
    /// A mail loop (`X-Loop` naming us, sent from one of our own addresses): dropped with a log line.
    case loop(reason: String)
    /// Ignored by the queue's filters: recorded (who, why), no ticket.
    case ignored(FilterDecision)
    /// Automated mail: never creates or reopens a ticket; added as a note when it threads.
    case automated(AutomatedMail)
    /// Ordinary mail: continues to routing and threading.
    case accepted
}

/// Every verdict and reason for one message.
public struct Classification: Sendable, Hashable, Codable {
    public var verdict: ClassificationVerdict
    /// Set for every bounce or report (also when the verdict is `.bounce`).
    public var bounce: BounceReport?
    /// Set whenever automation signals were found, even when a filter then ignored the message.
    public var automated: AutomatedMail?
    /// The queue filter's decision; nil when an earlier stage ended classification.
    public var filter: FilterDecision?
    /// One decision per attachment, in `ParsedMessage.attachments` order. Always computed: bounce notes
    /// and ignored mail keep their attachments too.
    public var attachments: [AttachmentDecision]
    /// The decisions in evaluation order, one or more per stage that ran.
    public var decisions: [ClassificationDecision]

    public init(
        verdict: ClassificationVerdict, bounce: BounceReport? = nil, automated: AutomatedMail? = nil,
        filter: FilterDecision? = nil, attachments: [AttachmentDecision] = [], decisions: [ClassificationDecision] = []
    ) {
        self.verdict = verdict
        self.bounce = bounce
        self.automated = automated
        self.filter = filter
        self.attachments = attachments
        self.decisions = decisions
    }

    /// Whether this message may create a new ticket (or reopen one): only ordinary, accepted mail may.
    public var mayCreateTicket: Bool {
        if case .accepted = verdict { return true }
        return false
    }
}
