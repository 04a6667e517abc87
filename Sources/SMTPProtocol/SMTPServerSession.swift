#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Limits and identity for one `SMTPServerSession`.
public struct SMTPSessionConfiguration: Sendable {
    public var hostname: String
    public var maxMessageSize: Int
    public var maxRecipients: Int
    /// STARTTLS is offered (SMTP only) while TLS is not yet active.
    public var tlsAvailable: Bool
    /// RFC 5321 §4.5.3.1.4: 512 octets including CRLF.
    public var maxCommandLineLength: Int
    /// RFC 5321 §4.5.3.1.6: 1000 octets including CRLF.
    public var maxTextLineLength: Int
    /// After this many refused commands the session is closed with 421 (as Postfix's smtpd_hard_error_limit).
    /// In SMTP a recipient refused by the backend (550 5.1.1) counts too, so that a stranger cannot probe
    /// addresses without end; in LMTP it does not: the peer is the local MTA, which relays every recipient
    /// its own checks let through (up to 50 per transaction), and a 421 would defer the good ones with them.
    public var maxErrors: Int
    /// During DATA, the received octets are handed out (`SMTPServerAction.spool`) whenever this many are held,
    /// so no message is ever held whole; nil holds every message in memory until its end.
    public var spoolThreshold: Int?

    public init(
        hostname: String = "localhost", maxMessageSize: Int = 52_428_800, maxRecipients: Int = 100,
        tlsAvailable: Bool = false, maxCommandLineLength: Int = 512, maxTextLineLength: Int = 1000,
        maxErrors: Int = 20, spoolThreshold: Int? = nil
    ) {
        self.hostname = hostname
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.tlsAvailable = tlsAvailable
        self.maxCommandLineLength = maxCommandLineLength
        self.maxTextLineLength = maxTextLineLength
        self.maxErrors = maxErrors
        self.spoolThreshold = spoolThreshold.map { max(1, $0) }
    }
}

/// What the driver of an `SMTPServerSession` must do next.
public enum SMTPServerAction: Sendable {
    /// Write this reply (flushing may wait until the current read is processed).
    case reply(SMTPReply)
    /// Ask the backend, then call `recipientValidated(_:)` before processing more input.
    case validateRecipient(String)
    /// Append these octets of the message in progress to its spool (they are not repeated in the delivery);
    /// processing may go on at once, or once the write is done. Only with a `spoolThreshold`.
    case spool([UInt8])
    /// The message in progress was refused or abandoned: discard what was spooled of it.
    case discardSpool
    /// Store the message, then call `deliveryCompleted(_:)` before processing more input. `body` is the message
    /// as received (dot-unstuffed, line ends untouched); if octets were handed out with `.spool`, only the rest
    /// that follows them.
    case deliver(SMTPDelivery, body: [UInt8])
    /// The 220 reply was just emitted: start TLS now, drop any input already received (it was sent in clear
    /// before the handshake and must not be trusted, CVE-2011-0411), then call `tlsStarted()`.
    case startTLS
    /// Close the connection once the replies emitted so far are written.
    case close
}

/// The server side of one SMTP or LMTP session as a pure state machine: bytes in, actions out.
///
/// Drive it with `process(_:)` until it returns no action, write the replies in order, and answer the two
/// questions it may ask (recipient check, delivery) before feeding it more input. Many commands in one read
/// (PIPELINING) are processed one action at a time, so replies keep their order.
public struct SMTPServerSession: Sendable {
    /// Where the session stands; the driver uses it to pick timeouts and to decide when it may close.
    public enum Phase: Sendable, Hashable {
        case command
        case data
        case awaitingRecipientValidation
        case awaitingDelivery
        case awaitingTLS
        case closed
    }

    public let configuration: SMTPSessionConfiguration
    public private(set) var info: SMTPSessionInfo
    public private(set) var phase = Phase.command

    private var greeted = false
    private var sender: String?
    private var recipients: [SMTPRecipient] = []
    private var pendingRecipient: String?
    private var smtputf8 = false
    private var bodyType = SMTPBodyType.sevenBit
    private var declaredSize: Int?
    /// Octets of the message in progress were handed out with `.spool`.
    private var spooled = false
    private var startedAt = ContinuousClock.now
    /// When the first octets of the command line still incomplete arrived; nil between command lines.
    public private(set) var partialCommandSince: ContinuousClock.Instant?
    private var dataReceiver: SMTPDataReceiver?
    private var partialLine: [UInt8] = []
    private var discardingLongLine = false
    private var errorCount = 0
    private var queuedActions: [SMTPServerAction] = []

    public init(configuration: SMTPSessionConfiguration, info: SMTPSessionInfo) {
        self.configuration = configuration
        self.info = info
    }

    /// True between an accepted MAIL and the end of its DATA (or RSET).
    public var hasTransaction: Bool { sender != nil }

    /// When the transaction in progress began (its MAIL was accepted); nil outside a transaction. The driver
    /// bounds the time from here to the end of DATA, however steadily the client trickles its input.
    public var transactionSince: ContinuousClock.Instant? { hasTransaction ? startedAt : nil }

    /// The 220 banner to send on connect.
    public var greeting: SMTPReply {
        let protocolName = info.dialect == .lmtp ? "LMTP" : "ESMTP"
        return SMTPReply(code: 220, enhancedStatus: nil, "\(configuration.hostname) \(protocolName) Postdesk")
    }

    // MARK: - Input

    /// Processes input until the first action. Returns how many octets were consumed and the action, or nil
    /// when all input was consumed (or the session waits for `recipientValidated`/`deliveryCompleted`, in
    /// which case the unconsumed octets must be offered again afterwards).
    public mutating func process(_ input: UnsafeRawBufferPointer) -> (consumed: Int, action: SMTPServerAction?) {
        if !queuedActions.isEmpty {
            return (0, queuedActions.removeFirst())
        }
        guard let base = input.baseAddress, !input.isEmpty else { return (0, nil) }
        let bytes = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: input.count)
        var consumed = 0
        while consumed < bytes.count {
            switch phase {
            case .command:
                let remaining = UnsafeBufferPointer(rebasing: bytes[consumed...])
                guard let offset = SMTPDataReceiver.firstLineFeed(in: remaining) else {
                    if partialCommandSince == nil { partialCommandSince = .now }
                    if !discardingLongLine {
                        if partialLine.count + remaining.count >= configuration.maxCommandLineLength {
                            discardingLongLine = true
                            partialLine = []
                        } else {
                            partialLine.append(contentsOf: remaining)
                        }
                    }
                    return (bytes.count, nil)
                }
                consumed += offset + 1
                partialCommandSince = nil
                if discardingLongLine {
                    discardingLongLine = false
                    return (consumed, refuse(500, "5.5.2", "Error: line too long"))
                }
                let lineLength = partialLine.count + offset + 1
                if lineLength > configuration.maxCommandLineLength {
                    partialLine = []
                    return (consumed, refuse(500, "5.5.2", "Error: line too long"))
                }
                if partialLine.isEmpty {
                    return (consumed, command(UnsafeBufferPointer(rebasing: remaining[0..<offset])))
                }
                var line = partialLine
                partialLine = []
                line.append(contentsOf: UnsafeBufferPointer(rebasing: remaining[0..<offset]))
                return (consumed, line.withUnsafeBufferPointer { command($0) })
            case .data:
                let result = dataReceiver!.receive(UnsafeBufferPointer(rebasing: bytes[consumed...]))
                consumed += result.consumed
                if result.finished {
                    return (consumed, finishData())
                }
                if let threshold = configuration.spoolThreshold, dataReceiver!.body.count >= threshold {
                    spooled = true
                    return (consumed, .spool(dataReceiver!.takeBody()))
                }
            case .awaitingTLS:
                // Plaintext pipelined after STARTTLS is discarded, never interpreted after the handshake.
                return (bytes.count, nil)
            case .closed:
                return (bytes.count, nil)
            case .awaitingRecipientValidation, .awaitingDelivery:
                return (consumed, nil)
            }
        }
        return (consumed, nil)
    }

    /// The answer to `.validateRecipient`. Returns the reply to send.
    public mutating func recipientValidated(_ check: SMTPRecipientCheck) -> SMTPReply {
        precondition(phase == .awaitingRecipientValidation, "no recipient check pending")
        phase = .command
        let address = pendingRecipient ?? ""
        pendingRecipient = nil
        switch check {
        case .refuse(let refusal):
            if info.dialect == .smtp { countError() }
            return refusal
        case .accept(let route):
            recipients.append(SMTPRecipient(address: address, route: route))
        }
        return SMTPReply(code: 250, enhancedStatus: "2.1.5", "Ok")
    }

    /// The answer to `.deliver`: one reply per recipient. Returns the replies to send: one per recipient in
    /// LMTP, one in total in SMTP (all 2xx → the first; else the first 4xx, so a retry is safe with idempotent
    /// receivers; else the first 5xx).
    public mutating func deliveryCompleted(_ replies: [SMTPReply]) -> [SMTPReply] {
        precondition(phase == .awaitingDelivery, "no delivery pending")
        phase = .command
        let count = recipients.count
        resetTransaction()
        var perRecipient = Array(replies.prefix(count))
        while perRecipient.count < count {
            perRecipient.append(.temporaryFailure("Internal error: no delivery status for this recipient"))
        }
        return combined(perRecipient)
    }

    /// TLS is active: the session starts over (RFC 3207 §4.2), the client must greet again.
    public mutating func tlsStarted() {
        precondition(phase == .awaitingTLS, "STARTTLS not pending")
        phase = .command
        info.tls = true
        info.clientName = nil
        greeted = false
        resetTransaction()
        partialLine = []
        partialCommandSince = nil
        discardingLongLine = false
    }

    // MARK: - Commands

    private mutating func command(_ rawLine: UnsafeBufferPointer<UInt8>) -> SMTPServerAction {
        var line = rawLine
        if let last = line.last, last == UInt8(ascii: "\r") {
            line = UnsafeBufferPointer(rebasing: line.dropLast())
        }
        let verbEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        guard verbEnd > 0, verbEnd <= 10 else {
            return refuse(500, "5.5.2", "Error: bad syntax")
        }
        var verbBytes: (UInt64, UInt16) = (0, 0)
        let verb = withUnsafeMutableBytes(of: &verbBytes) { storage -> String in
            for index in 0..<verbEnd {
                var byte = line[index]
                if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { byte -= 0x20 }
                storage[index] = byte
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: storage[0..<verbEnd]), as: UTF8.self)
        }
        var argumentStart = verbEnd
        while argumentStart < line.count && line[argumentStart] == UInt8(ascii: " ") { argumentStart += 1 }
        let argumentBytes = UnsafeBufferPointer(rebasing: line[argumentStart...])
        guard let argument = String(validating: argumentBytes, as: UTF8.self) else {
            return refuse(501, "5.5.4", "Error: invalid UTF-8 in command")
        }
        if argument.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            return refuse(501, "5.5.4", "Error: control characters in command")
        }
        switch verb {
        case "EHLO", "HELO":
            if info.dialect == .lmtp { return refuse(500, "5.5.1", "Error: command not recognized, use LHLO") }
            return hello(argument, extended: verb == "EHLO")
        case "LHLO":
            if info.dialect == .smtp { return refuse(500, "5.5.1", "Error: command not recognized, use EHLO") }
            return hello(argument, extended: true)
        case "MAIL": return mail(argument)
        case "RCPT": return rcpt(argument)
        case "DATA": return data(argument)
        case "RSET":
            guard argument.isEmpty else { return refuse(501, "5.5.4", "Syntax: RSET") }
            resetTransaction()
            return ok("2.0.0", "Ok")
        case "NOOP": return ok("2.0.0", "Ok")
        case "QUIT":
            phase = .closed
            queuedActions.append(.close)
            return .reply(SMTPReply(code: 221, enhancedStatus: "2.0.0", "Bye"))
        case "VRFY":
            guard !argument.isEmpty else { return refuse(501, "5.5.4", "Syntax: VRFY address") }
            return .reply(
                SMTPReply(
                    code: 252, enhancedStatus: "2.5.0",
                    "Cannot VRFY user, but will accept message and attempt delivery"))
        case "HELP":
            return .reply(
                SMTPReply(
                    code: 214, enhancedStatus: "2.0.0",
                    "Commands: \(helloVerbs) MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"
                        + (starttlsOffered ? " STARTTLS" : "")))
        case "STARTTLS":
            if info.dialect == .lmtp { return refuse(500, "5.5.1", "Error: command not recognized") }
            if info.tls { return refuse(503, "5.5.1", "Error: TLS already active") }
            guard configuration.tlsAvailable else { return refuse(502, "5.5.1", "Error: command not implemented") }
            guard argument.isEmpty else { return refuse(501, "5.5.4", "Syntax: STARTTLS") }
            guard !hasTransaction else { return refuse(503, "5.5.1", "Error: MAIL transaction in progress") }
            phase = .awaitingTLS
            queuedActions.append(.startTLS)
            return .reply(SMTPReply(code: 220, enhancedStatus: "2.0.0", "Ready to start TLS"))
        default:
            return refuse(500, "5.5.1", "Error: command not recognized")
        }
    }

    private var helloVerbs: String { info.dialect == .lmtp ? "LHLO" : "EHLO HELO" }
    private var starttlsOffered: Bool { info.dialect == .smtp && configuration.tlsAvailable && !info.tls }

    private mutating func hello(_ argument: String, extended: Bool) -> SMTPServerAction {
        let name = argument.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        guard !name.isEmpty else {
            let verb = info.dialect == .lmtp ? "LHLO" : (extended ? "EHLO" : "HELO")
            return refuse(501, "5.5.4", "Syntax: \(verb) hostname")
        }
        resetTransaction()
        greeted = true
        info.clientName = name
        guard extended else {
            return .reply(SMTPReply(code: 250, enhancedStatus: nil, configuration.hostname))
        }
        var lines = [
            configuration.hostname, "PIPELINING", "SIZE \(configuration.maxMessageSize)", "8BITMIME", "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
        ]
        if starttlsOffered { lines.append("STARTTLS") }
        return .reply(SMTPReply(code: 250, enhancedStatus: nil, lines.joined(separator: "\n")))
    }

    private mutating func mail(_ argument: String) -> SMTPServerAction {
        guard greeted else {
            return refuse(503, "5.5.1", "Error: send \(info.dialect == .lmtp ? "LHLO" : "HELO/EHLO") first")
        }
        guard !hasTransaction else { return refuse(503, "5.5.1", "Error: nested MAIL command") }
        guard let rest = Self.dropKeyword("FROM:", from: argument) else {
            return refuse(501, "5.5.4", "Syntax: MAIL FROM:<address>")
        }
        guard let path = SMTPAddressSyntax.parsePath(rest, allowNull: true, allowPostmaster: false) else {
            return refuse(501, "5.1.7", "Bad sender address syntax")
        }
        var size: Int?
        var utf8 = false
        var body = SMTPBodyType.sevenBit
        for parameter in path.parameters {
            let pieces = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pieces[0].uppercased()
            let value = pieces.count > 1 ? pieces[1] : nil
            switch key {
            case "SIZE":
                guard let value, value.utf8.count <= 18, let declared = Int(value), declared >= 0 else {
                    return refuse(501, "5.5.4", "Bad SIZE parameter")
                }
                guard declared <= configuration.maxMessageSize else {
                    return refuse(552, "5.3.4", "Message size exceeds fixed limit")
                }
                size = declared
            case "BODY":
                switch value?.uppercased() {
                case "7BIT": body = .sevenBit
                case "8BITMIME": body = .eightBitMIME
                default: return refuse(501, "5.5.4", "Unsupported BODY parameter")
                }
            case "SMTPUTF8":
                guard value == nil else { return refuse(501, "5.5.4", "Bad SMTPUTF8 parameter") }
                utf8 = true
            default:
                return refuse(555, "5.5.4", "Unsupported option: \(key)")
            }
        }
        sender = path.address
        declaredSize = size
        smtputf8 = utf8
        bodyType = body
        startedAt = .now
        return ok("2.1.0", "Ok")
    }

    private mutating func rcpt(_ argument: String) -> SMTPServerAction {
        guard hasTransaction else { return refuse(503, "5.5.1", "Error: need MAIL command") }
        guard let rest = Self.dropKeyword("TO:", from: argument) else {
            return refuse(501, "5.5.4", "Syntax: RCPT TO:<address>")
        }
        guard let path = SMTPAddressSyntax.parsePath(rest, allowNull: false, allowPostmaster: true) else {
            return refuse(501, "5.1.3", "Bad recipient address syntax")
        }
        if let unsupported = path.parameters.first {
            let key = unsupported.split(separator: "=", maxSplits: 1).first.map { $0.uppercased() } ?? ""
            return refuse(555, "5.5.4", "Unsupported option: \(key)")
        }
        guard recipients.count < configuration.maxRecipients else {
            return refuse(452, "4.5.3", "Error: too many recipients")
        }
        pendingRecipient = path.address
        phase = .awaitingRecipientValidation
        return .validateRecipient(path.address)
    }

    private mutating func data(_ argument: String) -> SMTPServerAction {
        guard argument.isEmpty else { return refuse(501, "5.5.4", "Syntax: DATA") }
        guard hasTransaction else { return refuse(503, "5.5.1", "Error: need RCPT command") }
        guard !recipients.isEmpty else { return refuse(554, "5.5.1", "Error: no valid recipients") }
        dataReceiver = SMTPDataReceiver(
            maxMessageSize: configuration.maxMessageSize, maxLineLength: configuration.maxTextLineLength,
            expectedSize: declaredSize, spoolThreshold: configuration.spoolThreshold)
        phase = .data
        return .reply(SMTPReply(code: 354, enhancedStatus: nil, "End data with <CR><LF>.<CR><LF>"))
    }

    private mutating func finishData() -> SMTPServerAction {
        var receiver = dataReceiver!
        dataReceiver = nil
        let refusal: SMTPReply?
        if receiver.exceededMessageSize {
            refusal = SMTPReply(code: 552, enhancedStatus: "5.3.4", "Message size exceeds fixed limit")
        } else if receiver.exceededLineLength {
            refusal = SMTPReply(
                code: 554, enhancedStatus: "5.6.0",
                "Message contains a line longer than \(configuration.maxTextLineLength) octets")
        } else {
            refusal = nil
        }
        if let refusal {
            phase = .command
            let replies = combined(Array(repeating: refusal, count: recipients.count))
            let wasSpooled = spooled
            resetTransaction()
            queuedActions.append(contentsOf: replies.dropFirst().map { .reply($0) })
            if wasSpooled {
                queuedActions.insert(.reply(replies[0]), at: 0)
                return .discardSpool
            }
            return .reply(replies[0])
        }
        phase = .awaitingDelivery
        return .deliver(
            SMTPDelivery(
                session: info, sender: sender ?? "", recipients: recipients, smtputf8: smtputf8, bodyType: bodyType,
                startedAt: startedAt),
            body: receiver.takeBody())
    }

    // MARK: - Helpers

    private func combined(_ perRecipient: [SMTPReply]) -> [SMTPReply] {
        if info.dialect == .lmtp { return perRecipient }
        if let transient = perRecipient.first(where: \.isTransientFailure) { return [transient] }
        if let permanent = perRecipient.first(where: \.isPermanentFailure) { return [permanent] }
        return [perRecipient.first ?? SMTPReply(code: 250, enhancedStatus: "2.0.0", "Ok")]
    }

    private mutating func resetTransaction() {
        sender = nil
        recipients = []
        pendingRecipient = nil
        smtputf8 = false
        bodyType = .sevenBit
        declaredSize = nil
        dataReceiver = nil
        spooled = false
    }

    private func ok(_ enhancedStatus: String, _ text: String) -> SMTPServerAction {
        .reply(SMTPReply(code: 250, enhancedStatus: enhancedStatus, text))
    }

    /// A refused command; too many of them end the session like Postfix's hard error limit.
    private mutating func refuse(_ code: Int, _ enhancedStatus: String, _ text: String) -> SMTPServerAction {
        countError()
        return .reply(SMTPReply(code: code, enhancedStatus: enhancedStatus, text))
    }

    /// One more error; at the limit, 421 and close are queued behind the reply being sent.
    private mutating func countError() {
        errorCount += 1
        if errorCount >= configuration.maxErrors && phase != .closed {
            phase = .closed
            queuedActions.append(
                .reply(
                    SMTPReply(code: 421, enhancedStatus: "4.7.0", "\(configuration.hostname) Error: too many errors")))
            queuedActions.append(.close)
        }
    }

    /// "FROM:" / "TO:" case-insensitively; returns what follows.
    private static func dropKeyword(_ keyword: String, from argument: String) -> Substring? {
        let count = keyword.utf8.count
        guard argument.utf8.count >= count else { return nil }
        let head = argument.utf8.prefix(count)
        guard String(decoding: head, as: UTF8.self).uppercased() == keyword else { return nil }
        return argument[argument.utf8.index(argument.utf8.startIndex, offsetBy: count)...]
    }
}
