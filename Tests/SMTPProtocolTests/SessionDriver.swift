import SMTPProtocol

/// One delivery as the transport sees it: the envelope, and the message's bytes beside it.
@dynamicMemberLookup
struct DeliveredMessage {
    var envelope: SMTPDelivery
    var data: [UInt8]

    var recipients: [String] { envelope.recipients.map(\.address) }
    subscript<Value>(dynamicMember path: KeyPath<SMTPDelivery, Value>) -> Value { envelope[keyPath: path] }
}

/// Feeds bytes to an `SMTPServerSession` the way the transport does and records what comes out.
struct SessionDriver {
    var session: SMTPServerSession
    var validate: (String) -> SMTPReply? = { _ in nil }
    /// The route an accepted recipient is given.
    var route: (String) -> String? = { _ in nil }
    var deliveryReplies: (SMTPDelivery) -> [SMTPReply] = { delivery in
        delivery.recipients.map { SMTPReply(code: 250, enhancedStatus: "2.0.0", "<\($0)> delivered") }
    }
    private(set) var deliveries: [DeliveredMessage] = []
    private(set) var closed = false
    private(set) var tlsStarts = 0
    /// Octets dropped because they followed STARTTLS in the same read.
    private(set) var discardedAfterSTARTTLS = 0
    /// Octets of the message in progress handed out with `.spool`, as the transport's spool file holds them.
    private(set) var spool: [UInt8] = []
    /// Sizes of the `.spool` chunks handed out, over all messages.
    private(set) var spoolChunkSizes: [Int] = []
    private(set) var discardedSpools = 0

    init(
        dialect: SMTPDialect = .smtp, hostname: String = "mx.test", maxMessageSize: Int = 10_000,
        maxRecipients: Int = 5, tlsAvailable: Bool = false, maxErrors: Int = 20, spoolThreshold: Int? = nil
    ) {
        session = SMTPServerSession(
            configuration: SMTPSessionConfiguration(
                hostname: hostname, maxMessageSize: maxMessageSize, maxRecipients: maxRecipients,
                tlsAvailable: tlsAvailable, maxErrors: maxErrors, spoolThreshold: spoolThreshold),
            info: SMTPSessionInfo(sessionID: "test", dialect: dialect))
    }

    /// One read; returns the replies in order.
    @discardableResult
    mutating func feed(_ text: String) -> [SMTPReply] {
        feed(bytes: Array(text.utf8))
    }

    /// The bytes, split into reads of `chunkSize` (all at once when nil).
    @discardableResult
    mutating func feed(bytes: [UInt8], chunkSize: Int? = nil) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        let size = max(1, chunkSize ?? bytes.count)
        var start = 0
        while start < bytes.count {
            var chunk = Array(bytes[start..<min(bytes.count, start + size)])
            start += size
            while true {
                let (consumed, action) = chunk.withUnsafeBytes { session.process($0) }
                chunk.removeFirst(consumed)
                guard let action else {
                    precondition(chunk.isEmpty, "input left unconsumed without a pending question")
                    break
                }
                switch action {
                case .reply(let reply):
                    replies.append(reply)
                case .validateRecipient(let address):
                    let check = validate(address).map(SMTPRecipientCheck.refuse) ?? .accept(route: route(address))
                    replies.append(session.recipientValidated(check))
                case .spool(let octets):
                    spool += octets
                    spoolChunkSizes.append(octets.count)
                case .discardSpool:
                    discardedSpools += 1
                    spool = []
                case .deliver(let delivery, let body):
                    // As the transport does: the spooled octets and the rest are one message.
                    deliveries.append(DeliveredMessage(envelope: delivery, data: spool + body))
                    spool = []
                    replies.append(contentsOf: session.deliveryCompleted(deliveryReplies(delivery)))
                case .startTLS:
                    tlsStarts += 1
                    discardedAfterSTARTTLS += chunk.count
                    chunk = []
                    session.tlsStarted()
                case .close:
                    closed = true
                }
            }
        }
        // Actions queued behind the last reply (close after QUIT, the rest of per-recipient refusals).
        while true {
            let (_, action) = [UInt8]().withUnsafeBytes { session.process($0) }
            guard let action else { break }
            switch action {
            case .reply(let reply): replies.append(reply)
            case .close: closed = true
            case .discardSpool:
                discardedSpools += 1
                spool = []
            case .startTLS:
                tlsStarts += 1
                session.tlsStarted()
            case .validateRecipient, .deliver, .spool: preconditionFailure("question without input")
            }
        }
        return replies
    }
}

extension Array where Element == SMTPReply {
    var codes: [Int] { map(\.code) }
    var statuses: [String] { map { "\($0.code) \($0.enhancedStatus ?? "-")" } }
}
