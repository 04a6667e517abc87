/// A bounce, feedback report or read receipt, with what it says about the original message.
public struct BounceReport: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// RFC 3464 delivery status notification (multipart/report; report-type=delivery-status).
        case deliveryStatus = "delivery-status"
        /// RFC 5965 abuse/feedback report (ARF).
        case feedbackReport = "feedback-report"
        /// RFC 8098 message disposition notification (read receipt).
        case dispositionNotification = "disposition-notification"
        /// A bounce in no standard format (Exim text bounces, qmail, old Exchange): recognised by its
        /// sender, subject or `X-Failed-Recipients`.
        case nonStandardBounce = "non-standard-bounce"
    }

    /// Where the original message's Message-ID was found, strongest first.
    public enum OriginalMessageSource: String, Sendable, Hashable, Codable {
        /// A field of the report itself (`Original-Message-ID`, Gmail's `X-Original-Message-ID`).
        case reportField = "report-field"
        /// The attached `message/rfc822` original.
        case attachedMessage = "attached-message"
        /// The attached `text/rfc822-headers` part.
        case attachedHeaders = "attached-headers"
        case inReplyTo = "in-reply-to"
        case references
        /// A `Message-ID:` line in the text body (last resort).
        case body
    }

    public var kind: Kind
    /// The rule that recognised the message (`dsn`, `x-failed-recipients`, `mailer-daemon-sender`, ...).
    public var rule: String
    /// Per-recipient results; for feedback reports and read receipts, the recipient(s) the report is about.
    public var recipients: [BounceRecipient]
    /// The original message's Message-ID, without angle brackets.
    public var originalMessageID: String?
    public var originalMessageIDSource: OriginalMessageSource?
    /// `Reporting-MTA` of a DSN (type prefix removed).
    public var reportingMTA: String?
    public var feedback: FeedbackReport?
    public var disposition: DispositionNotification?

    public init(
        kind: Kind, rule: String, recipients: [BounceRecipient] = [], originalMessageID: String? = nil,
        originalMessageIDSource: OriginalMessageSource? = nil, reportingMTA: String? = nil,
        feedback: FeedbackReport? = nil, disposition: DispositionNotification? = nil
    ) {
        self.kind = kind
        self.rule = rule
        self.recipients = recipients
        self.originalMessageID = originalMessageID
        self.originalMessageIDSource = originalMessageIDSource
        self.reportingMTA = reportingMTA
        self.feedback = feedback
        self.disposition = disposition
    }

    /// Recipients whose delivery failed permanently (Action `failed`, or a 5.x.x status).
    public var failedRecipients: [BounceRecipient] {
        recipients.filter { $0.action == .failed || ($0.action == nil && $0.status?.hasPrefix("5") == true) }
    }

    /// A delay warning (every recipient `delayed`): the mail may still be delivered.
    public var isDelayWarning: Bool {
        kind == .deliveryStatus && !recipients.isEmpty && recipients.allSatisfy { $0.action == .delayed }
    }

    /// A one-line summary for the activity log.
    public var summary: String {
        var parts: [String] = [kind.rawValue]
        let listed = recipients.prefix(5).map { recipient in
            var text = recipient.finalRecipient
            if let action = recipient.action { text += " \(action.rawValue)" }
            if let status = recipient.status { text += " \(status)" }
            return text
        }
        if !listed.isEmpty { parts.append(listed.joined(separator: ", ")) }
        if let feedback { parts.append("feedback type \(feedback.feedbackType)") }
        if let disposition { parts.append("disposition \(disposition.disposition)") }
        parts.append(originalMessageID.map { "original <\($0)>" } ?? "original message not found")
        return parts.joined(separator: "; ")
    }
}

/// RFC 3464 `Action` values.
public enum DeliveryAction: String, Sendable, Hashable, Codable {
    case failed, delayed, delivered, relayed, expanded
}

/// One recipient block of a DSN (or a recipient named by a non-standard bounce).
public struct BounceRecipient: Sendable, Hashable, Codable {
    /// `Final-Recipient` without its address-type prefix (`rfc822;`).
    public var finalRecipient: String
    /// `Original-Recipient` without its address-type prefix.
    public var originalRecipient: String?
    /// nil when the report gave no (or an unknown) action.
    public var action: DeliveryAction?
    /// The enhanced status code (`5.1.1`), without comments.
    public var status: String?
    /// `Diagnostic-Code` without its type prefix (`smtp;`), or the server's text for a non-standard bounce.
    public var diagnostic: String?
    /// `Remote-MTA` without its type prefix.
    public var remoteMTA: String?

    public init(
        finalRecipient: String, originalRecipient: String? = nil, action: DeliveryAction? = nil, status: String? = nil,
        diagnostic: String? = nil, remoteMTA: String? = nil
    ) {
        self.finalRecipient = finalRecipient
        self.originalRecipient = originalRecipient
        self.action = action
        self.status = status
        self.diagnostic = diagnostic
        self.remoteMTA = remoteMTA
    }
}

/// The machine-readable part of an RFC 5965 feedback report.
public struct FeedbackReport: Sendable, Hashable, Codable {
    /// `abuse`, `fraud`, `virus`, `other`, `not-spam`, ... (lower-cased).
    public var feedbackType: String
    public var userAgent: String?
    public var version: String?
    public var originalMailFrom: String?
    public var originalRecipients: [String]
    public var arrivalDate: String?
    public var sourceIP: String?
    public var reportingMTA: String?
    public var reportedDomains: [String]

    public init(
        feedbackType: String, userAgent: String? = nil, version: String? = nil, originalMailFrom: String? = nil,
        originalRecipients: [String] = [], arrivalDate: String? = nil, sourceIP: String? = nil,
        reportingMTA: String? = nil, reportedDomains: [String] = []
    ) {
        self.feedbackType = feedbackType
        self.userAgent = userAgent
        self.version = version
        self.originalMailFrom = originalMailFrom
        self.originalRecipients = originalRecipients
        self.arrivalDate = arrivalDate
        self.sourceIP = sourceIP
        self.reportingMTA = reportingMTA
        self.reportedDomains = reportedDomains
    }
}

/// The machine-readable part of an RFC 8098 disposition notification.
public struct DispositionNotification: Sendable, Hashable, Codable {
    /// The whole `Disposition` value, e.g. `manual-action/MDN-sent-manually; displayed`.
    public var disposition: String
    /// The disposition type after the `;`, lower-cased: `displayed`, `deleted`, `dispatched`, `processed`.
    public var dispositionType: String?
    public var finalRecipient: String?
    public var originalRecipient: String?
    public var originalMessageID: String?
    public var reportingUA: String?

    public init(
        disposition: String, dispositionType: String? = nil, finalRecipient: String? = nil,
        originalRecipient: String? = nil, originalMessageID: String? = nil, reportingUA: String? = nil
    ) {
        self.disposition = disposition
        self.dispositionType = dispositionType
        self.finalRecipient = finalRecipient
        self.originalRecipient = originalRecipient
        self.originalMessageID = originalMessageID
        self.reportingUA = reportingUA
    }
}
