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

    private enum Field {
        case contentType, autoSubmitted, xAutoreply, xAutorespond, precedence, xAutoResponseSuppress
        case exchangeInboxRulesLoop, listID, listUnsubscribe, returnPath, xFailedRecipients, exchangeIsNDR
        case postdeskLoop, xLoop
    }

    /// The fields by name length: most header names have a length none of these has, and the rest are compared
    /// byte by byte without lower-casing (this runs for every header of every message).
    private static let fieldsByLength: [Int: [(name: String, field: Field)]] = Dictionary(
        grouping: [
            ("content-type", Field.contentType), ("auto-submitted", .autoSubmitted), ("x-autoreply", .xAutoreply),
            ("x-autorespond", .xAutorespond), ("precedence", .precedence),
            ("x-auto-response-suppress", .xAutoResponseSuppress),
            ("x-ms-exchange-inbox-rules-loop", .exchangeInboxRulesLoop), ("list-id", .listID),
            ("list-unsubscribe", .listUnsubscribe), ("return-path", .returnPath),
            ("x-failed-recipients", .xFailedRecipients), ("x-ms-exchange-message-is-ndr", .exchangeIsNDR),
            ("x-postdesk-loop", .postdeskLoop), ("x-loop", .xLoop),
        ] as [(name: String, field: Field)], by: { $0.name.utf8.count })

    init(_ message: ParsedMessage) {
        for header in message.headers {
            guard let candidates = Self.fieldsByLength[header.name.utf8.count],
                let field = candidates.first(where: { ByteText.equalsIgnoringCase(header.name, $0.name) })?.field
            else { continue }
            let value = header.value
            switch field {
            case .contentType: if contentType == nil { contentType = value }
            case .autoSubmitted: if autoSubmitted == nil { autoSubmitted = value }
            case .xAutoreply: if xAutoreply == nil { xAutoreply = value }
            case .xAutorespond: if xAutorespond == nil { xAutorespond = value }
            case .precedence: if precedence == nil { precedence = value }
            case .xAutoResponseSuppress: if xAutoResponseSuppress == nil { xAutoResponseSuppress = value }
            case .exchangeInboxRulesLoop: if exchangeInboxRulesLoop == nil { exchangeInboxRulesLoop = value }
            case .listID: if listID == nil { listID = value }
            case .listUnsubscribe: if listUnsubscribe == nil { listUnsubscribe = value }
            case .returnPath: if returnPath == nil { returnPath = value }
            case .xFailedRecipients: xFailedRecipients.append(value)
            case .exchangeIsNDR: if exchangeIsNDR == nil { exchangeIsNDR = value }
            case .postdeskLoop: postdeskLoop.append(value)
            case .xLoop: xLoop.append(value)
            }
        }
    }

    /// The parsed Content-Type when it is `multipart/report`; nil otherwise (without parsing other types).
    var multipartReport: MIMEHeaderValue? {
        guard let contentType,
            ByteText.hasPrefixIgnoringCase(ByteText.trimmed(contentType), "multipart/report")
        else { return nil }
        let value = MIMEHeaderValue(contentType)
        return value.token == "multipart/report" ? value : nil
    }

    /// Whether the message came with the null reverse-path: the envelope says so, or (envelope unknown)
    /// the `Return-Path:` header is `<>`.
    func hasNullReturnPath(_ envelope: MailEnvelope) -> Bool {
        if let sender = envelope.sender { return ByteText.trimmed(sender).isEmpty || sender == "<>" }
        guard let returnPath else { return false }
        let value = ByteText.trimmed(returnPath)
        return value == "<>" || value.isEmpty
    }
}
