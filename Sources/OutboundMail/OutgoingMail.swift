import Foundation
import MailParser

/// One mail we send, before MIME composition: who, what, and the thread it continues.
public struct OutgoingMail: Sendable, Hashable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var cc: [MailAddress]
    /// The whole subject, tag included (`[Support #12] Re: …`); any Unicode.
    public var subject: String
    /// The plain-text body; any Unicode, any newline convention.
    public var text: String
    /// An optional HTML alternative: the mail becomes multipart/alternative.
    public var html: String?
    /// Our signed Message-ID, without angle brackets.
    public var messageID: String
    /// The Message-ID this mail answers, without angle brackets.
    public var inReplyTo: String?
    /// The thread's Message-IDs, oldest first, without angle brackets.
    public var references: [String]
    public var date: Date
    /// Sent by a machine, not an agent (acknowledgements, notifications): `Auto-Submitted: auto-replied` and
    /// `X-Auto-Response-Suppress: All`, so that well-behaved responders stay silent.
    public var autoSubmitted: Bool
    /// `X-Postdesk-Loop` with this instance name, so our own pipeline recognises the mail if it comes back.
    public var loopInstance: String?

    public init(
        from: MailAddress, to: [MailAddress], cc: [MailAddress] = [], subject: String, text: String,
        html: String? = nil, messageID: String, inReplyTo: String? = nil, references: [String] = [], date: Date,
        autoSubmitted: Bool, loopInstance: String? = nil
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.autoSubmitted = autoSubmitted
        self.loopInstance = loopInstance
    }
}
