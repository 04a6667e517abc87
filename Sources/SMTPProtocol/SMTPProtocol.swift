// SMTPProtocol: see ARCHITECTURE.md (layers). Pure SMTP/LMTP server session: bytes in, actions out; no I/O.

/// Which protocol a listener speaks: SMTP (RFC 5321) or LMTP (RFC 2033, one reply per recipient after DATA).
public enum SMTPDialect: String, Sendable, Hashable {
    case smtp
    case lmtp
}

/// One server reply: a three-digit code, an optional RFC 3463 enhanced status, and text that may span lines.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    /// "x.y.z"; written after the code on every line (RFC 2034). nil for the greeting and EHLO/LHLO replies.
    public var enhancedStatus: String?
    /// Lines separated by "\n"; each becomes one reply line on the wire.
    public var text: String

    public init(code: Int, enhancedStatus: String?, _ text: String) {
        self.code = code
        self.enhancedStatus = enhancedStatus
        self.text = text
    }

    public var isPositive: Bool { (200..<400).contains(code) }
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    public var isPermanentFailure: Bool { code >= 500 }

    /// The reply as sent: "250-first\r\n250 last\r\n". CR/LF inside a line are removed so that backend text can
    /// never inject an extra reply.
    public var wireText: String {
        // Works on UTF-8 code units: as Characters, "\r\n" is a single grapheme and would not split on "\n".
        let prefix = String(code)
        let status = enhancedStatus.map { $0 + " " } ?? ""
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            out.append(contentsOf: prefix.utf8)
            out.append(index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            out.append(contentsOf: status.utf8)
            out.append(contentsOf: line.lazy.filter { $0 != UInt8(ascii: "\r") })
            out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String {
        enhancedStatus.map { "\(code) \($0) \(text)" } ?? "\(code) \(text)"
    }
}

extension SMTPReply {
    /// Sent by the transport when a session stays idle longer than the configured timeout (RFC 5321 §4.5.3.2).
    public static func timeout(hostname: String) -> SMTPReply {
        SMTPReply(code: 421, enhancedStatus: "4.4.2", "\(hostname) Error: timeout exceeded, closing connection")
    }

    /// Sent to idle sessions when the server stops.
    public static func shuttingDown(hostname: String) -> SMTPReply {
        SMTPReply(code: 421, enhancedStatus: "4.3.2", "\(hostname) Service shutting down, closing connection")
    }

    /// Sent to the connection that exceeds the connection limit, just before it is closed.
    public static func tooManyConnections(hostname: String) -> SMTPReply {
        SMTPReply(code: 421, enhancedStatus: "4.3.2", "\(hostname) Too many connections, try again later")
    }

    /// A store failure or anything else that should make the client retry later.
    public static func temporaryFailure(_ text: String = "Temporary failure, try again later") -> SMTPReply {
        SMTPReply(code: 451, enhancedStatus: "4.3.0", text)
    }

    public static func unknownRecipient(_ address: String) -> SMTPReply {
        SMTPReply(code: 550, enhancedStatus: "5.1.1", "<\(address)>: Recipient address rejected: User unknown")
    }
}

/// What the server knows about a session; handed to the backend with every call.
public struct SMTPSessionInfo: Sendable, Hashable {
    /// Unique per connection (for logs).
    public var sessionID: String
    public var dialect: SMTPDialect
    /// "ip:port" for TCP, the socket path or nil for unix sockets.
    public var remoteAddress: String?
    /// The name given in HELO/EHLO/LHLO, nil before it.
    public var clientName: String?
    /// True once STARTTLS completed.
    public var tls: Bool

    public init(
        sessionID: String, dialect: SMTPDialect, remoteAddress: String? = nil, clientName: String? = nil,
        tls: Bool = false
    ) {
        self.sessionID = sessionID
        self.dialect = dialect
        self.remoteAddress = remoteAddress
        self.clientName = clientName
        self.tls = tls
    }
}

/// The BODY= parameter of MAIL (RFC 6152).
public enum SMTPBodyType: String, Sendable, Hashable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
}

/// One accepted recipient and where the backend said it goes.
public struct SMTPRecipient: Sendable, Hashable, CustomStringConvertible {
    /// The forward path without angle brackets.
    public var address: String
    /// The backend's routing decision at RCPT (for Postdesk, the queue's name), handed back with the delivery so
    /// that nothing decided at RCPT is decided again.
    public var route: String?

    public init(address: String, route: String?) {
        self.address = address
        self.route = route
    }

    public var description: String { address }
}

/// The backend's answer to a RCPT.
public enum SMTPRecipientCheck: Sendable, Hashable {
    /// Accepted; `route` comes back in `SMTPDelivery.recipients`.
    case accept(route: String?)
    /// Refused with this reply (e.g. `550 5.1.1`).
    case refuse(SMTPReply)
}

/// One received message's envelope, ready to store; the message's bytes travel beside it, once.
public struct SMTPDelivery: Sendable {
    public var session: SMTPSessionInfo
    /// The reverse path without angle brackets; "" for the null sender `<>`.
    public var sender: String
    /// Accepted recipients in RCPT order (duplicates kept: LMTP owes each RCPT its own reply).
    public var recipients: [SMTPRecipient]
    /// MAIL carried the SMTPUTF8 parameter.
    public var smtputf8: Bool
    public var bodyType: SMTPBodyType
    /// When MAIL was accepted.
    public var startedAt: ContinuousClock.Instant

    public init(
        session: SMTPSessionInfo, sender: String, recipients: [SMTPRecipient], smtputf8: Bool,
        bodyType: SMTPBodyType, startedAt: ContinuousClock.Instant
    ) {
        self.session = session
        self.sender = sender
        self.recipients = recipients
        self.smtputf8 = smtputf8
        self.bodyType = bodyType
        self.startedAt = startedAt
    }
}
