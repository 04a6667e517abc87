import MailParser

/// What identifies mail this Postdesk instance sent itself.
public struct OwnMailConfiguration: Sendable, Hashable {
    /// The header our outgoing mail carries; its value names the instance.
    public static let loopHeaderName = "X-Postdesk-Loop"

    /// The value we put in `X-Postdesk-Loop` (e.g. the host name); compared case-insensitively.
    public var instanceName: String
    /// Domains of the Message-IDs we generate (`<T123.A456.sig@helpdesk.example>` → `helpdesk.example`).
    public var messageIDDomains: [String]
    /// Our own addresses (queue addresses, the notification sender). `+tag` sub-addresses of them match too.
    public var ownAddresses: [String]

    public init(instanceName: String, messageIDDomains: [String] = [], ownAddresses: [String] = []) {
        self.instanceName = instanceName
        self.messageIDDomains = messageIDDomains
        self.ownAddresses = ownAddresses
    }
}

/// Stage 1: mail we sent ourselves and mail loops.
///
/// Rules, first match wins:
/// - `own-loop-header`: an `X-Postdesk-Loop` field names our instance → `.ownMail`.
/// - `own-message-id`: the Message-ID's domain is one of ours → `.ownMail`.
/// - `x-loop`: an `X-Loop` field names one of our addresses → `.loop`.
/// - `own-sender`: From, or the envelope sender, is one of our addresses → `.loop` (a queue mailing
///   another queue, or a forward that sends our notification straight back).
struct OwnMailDetection: Sendable {
    let instanceName: String
    let messageIDDomains: Set<String>
    let ownAddresses: Set<String>

    init(_ configuration: OwnMailConfiguration) {
        instanceName = configuration.instanceName
        messageIDDomains = Set(configuration.messageIDDomains.map { ByteText.lowercasedASCII($0) })
        ownAddresses = Set(configuration.ownAddresses.map { MailAddressForm.normalized($0) })
    }

    enum Outcome: Equatable {
        case ownMail(rule: String, reason: String)
        case loop(rule: String, reason: String)
    }

    func evaluate(_ message: ParsedMessage, signals: HeaderSignals, envelope: MailEnvelope) -> Outcome? {
        if !instanceName.isEmpty {
            for value in signals.postdeskLoop
            where ByteText.equalsIgnoringCase(ByteText.trimmed(value), instanceName) {
                return .ownMail(
                    rule: "own-loop-header",
                    reason: "\(OwnMailConfiguration.loopHeaderName) names this instance (\(instanceName))")
            }
        }
        if !messageIDDomains.isEmpty, let messageID = message.messageID,
            let at = messageID.utf8.lastIndex(of: UInt8(ascii: "@"))
        {
            let domain = ByteText.lowercasedASCII(messageID[messageID.index(after: at)...])
            if messageIDDomains.contains(domain) {
                return .ownMail(rule: "own-message-id", reason: "Message-ID <\(messageID)> is in our domain \(domain)")
            }
        }
        guard !ownAddresses.isEmpty else { return nil }
        for value in signals.xLoop {
            for item in ByteText.commaSeparated(value) {
                let address = MailAddressForm.normalized(MessageIDParser.identifier(inText: item) ?? String(item))
                if ownAddresses.contains(address) {
                    return .loop(rule: "x-loop", reason: "X-Loop names our address \(address)")
                }
            }
        }
        for sender in message.from where ownAddresses.contains(MailAddressForm.normalized(sender.address)) {
            return .loop(rule: "own-sender", reason: "From is our own address \(sender.address)")
        }
        if let sender = envelope.sender, !sender.isEmpty, ownAddresses.contains(MailAddressForm.normalized(sender)) {
            return .loop(rule: "own-sender", reason: "the envelope sender is our own address \(sender)")
        }
        return nil
    }
}
