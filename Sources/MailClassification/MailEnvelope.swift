import MailParser

/// The SMTP/LMTP envelope of a message, as far as the intake path knows it.
public struct MailEnvelope: Sendable, Hashable {
    /// MAIL FROM: `""` for the null reverse-path `<>`; nil when the intake path does not know it (a polled
    /// mailbox), in which case a `Return-Path:` header is consulted instead.
    public var sender: String?
    /// RCPT TO addresses.
    public var recipients: [String]

    public init(sender: String?, recipients: [String] = []) {
        self.sender = sender
        self.recipients = recipients
    }
}

/// The header fields this module decides on, collected in one pass over the top-level header.
struct HeaderSignals {
    var contentType: String?
    var autoSubmitted: String?
    var xAutoreply: String?
    var xAutorespond: String?
    var precedence: String?
    var xAutoResponseSuppress: String?
    var exchangeInboxRulesLoop: String?
    var listID: String?
    var listUnsubscribe: String?
    var returnPath: String?
    var xFailedRecipients: [String] = []
    var exchangeIsNDR: String?
    var postdeskLoop: [String] = []
    var xLoop: [String] = []

    init(_ message: ParsedMessage) {
        for field in message.headers {
            // Most fields are none of these; checking the length first skips the lower-casing for them.
            let name = field.name
            switch name.utf8.count {
            case 6, 7, 10, 11, 12, 13, 14, 15, 16, 19, 24, 28, 30: break
            default: continue
            }
            switch HeaderText.lowercasedASCII(name) {
            case "content-type": if contentType == nil { contentType = field.value }
            case "auto-submitted": if autoSubmitted == nil { autoSubmitted = field.value }
            case "x-autoreply": if xAutoreply == nil { xAutoreply = field.value }
            case "x-autorespond": if xAutorespond == nil { xAutorespond = field.value }
            case "precedence": if precedence == nil { precedence = field.value }
            case "x-auto-response-suppress": if xAutoResponseSuppress == nil { xAutoResponseSuppress = field.value }
            case "x-ms-exchange-inbox-rules-loop":
                if exchangeInboxRulesLoop == nil { exchangeInboxRulesLoop = field.value }
            case "list-id": if listID == nil { listID = field.value }
            case "list-unsubscribe": if listUnsubscribe == nil { listUnsubscribe = field.value }
            case "return-path": if returnPath == nil { returnPath = field.value }
            case "x-failed-recipients": xFailedRecipients.append(field.value)
            case "x-ms-exchange-message-is-ndr": if exchangeIsNDR == nil { exchangeIsNDR = field.value }
            case "x-postdesk-loop": postdeskLoop.append(field.value)
            case "x-loop": xLoop.append(field.value)
            default: continue
            }
        }
    }

    /// Whether the message came with the null reverse-path: the envelope says so, or (envelope unknown)
    /// the `Return-Path:` header is `<>`.
    func hasNullReturnPath(_ envelope: MailEnvelope) -> Bool {
        if let sender = envelope.sender { return HeaderText.trimmed(sender).isEmpty || sender == "<>" }
        guard let returnPath else { return false }
        let value = HeaderText.trimmed(returnPath)
        return value == "<>" || value.isEmpty
    }
}
