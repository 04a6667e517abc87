/// What a relay (or the sendmail command) said to one submission, recipient by recipient.
public struct SubmissionResult: Sendable, Hashable {
    /// The RCPT reply for one recipient.
    public struct RecipientReply: Sendable, Hashable {
        public var address: String
        public var reply: SMTPReply
    }

    /// The RCPT replies, in order; the DATA outcome applies only to the accepted ones.
    public var recipients: [RecipientReply]
    /// The reply to the end of DATA; nil when no recipient was accepted.
    public var data: SMTPReply?

    public init(recipients: [RecipientReply], data: SMTPReply?) {
        self.recipients = recipients
        self.data = data
    }

    /// Every recipient accepted and the message accepted.
    public var delivered: Bool { data?.isPositive == true && recipients.allSatisfy(\.reply.isPositive) }
}

/// Why a submission failed before every recipient got an answer: which step, and the server's words.
public struct SubmissionError: Error, Sendable, CustomStringConvertible {
    public enum Step: String, Sendable {
        case connect, greeting, ehlo, starttls, tls, auth, token, size, smtputf8, mail, data, timeout, connection
        case protocolViolation = "protocol", sendmail
    }

    public var step: Step
    public var detail: String
    /// The server's reply, when it gave one: a 5xx makes the failure permanent.
    public var reply: SMTPReply?

    public init(_ step: Step, _ detail: String, reply: SMTPReply? = nil) {
        self.step = step
        self.detail = detail
        self.reply = reply
    }

    /// Permanent: retrying cannot help (a 5xx, a too large message, SMTPUTF8 needed but not offered).
    public var isPermanent: Bool {
        if let reply { return reply.isPermanent }
        return step == .size || step == .smtputf8
    }

    public var description: String { "\(step.rawValue): \(detail)" + (reply.map { " (\($0))" } ?? "") }
}
