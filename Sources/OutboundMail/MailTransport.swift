/// Something that takes a composed message for delivery: the SMTP relay or the sendmail command.
public protocol MailTransport: Sendable {
    /// Submits `message` from `sender` (envelope) to `recipients`; throws `SubmissionError` when no recipient
    /// got an answer.
    func submit(_ message: [UInt8], from sender: String, to recipients: [String]) async throws(SubmissionError)
        -> SubmissionResult
}

extension SMTPSubmissionClient: MailTransport {}
