import MailCommands
import XMLTransactions

/// What mail may command in one queue (`queues.<name>.commands`): each syntax is off unless configured, so
/// ordinary mail pays nothing for a syntax a queue does not use. Tried in the seeds' precedence: alert rules,
/// then the XML API, then structured requests and variable commands, then the regular path.
public struct MailCommandPolicy: Sendable, Hashable {
    /// Monitoring systems' alerts (seed 001); nil: none recognised.
    public var alerts: AlertSettings?
    /// XML transactions by mail (seed 001); nil: refused like any other text.
    public var xml: XMLCommandSettings?
    /// `CreateSR` blocks (seed 000); nil: not read.
    public var structuredRequests: StructuredRequestSettings?
    /// `@VAR@='value'` commands (seed 003).
    public var variableCommands: Bool
    /// Addresses that may command every ticket of the queue (its requester may command their own).
    public var agents: [String]
    /// A verdict the local MTA's `Authentication-Results` must give before any command is obeyed; nil: none asked.
    public var authentication: AuthenticationRequirement?
    /// Commands one sender may have obeyed per hour; more are refused (and recorded).
    public var commandsPerSenderPerHour: Int

    public init(
        alerts: AlertSettings? = nil, xml: XMLCommandSettings? = nil,
        structuredRequests: StructuredRequestSettings? = nil, variableCommands: Bool = false, agents: [String] = [],
        authentication: AuthenticationRequirement? = nil, commandsPerSenderPerHour: Int = 30
    ) {
        self.alerts = alerts
        self.xml = xml
        self.structuredRequests = structuredRequests
        self.variableCommands = variableCommands
        self.agents = agents
        self.authentication = authentication
        self.commandsPerSenderPerHour = commandsPerSenderPerHour
    }

    /// Whether any syntax is on.
    public var isActive: Bool {
        alerts != nil || xml != nil || structuredRequests != nil || variableCommands
    }
}

/// Alert rules of a queue and what happens around them.
public struct AlertSettings: Sendable, Hashable {
    public var rules: AlertRuleSet
    /// Where skipped alerts and alerts for an unknown account are forwarded; nil: an unknown account's alert
    /// opens a ticket without an account (marked for triage), and a skip rule's alert is only recorded.
    public var internalAddress: String?
    /// Repeated alerts for the same account and subject thread onto that account's open ticket.
    public var threadRepeats: Bool

    public init(rules: AlertRuleSet, internalAddress: String? = nil, threadRepeats: Bool = true) {
        self.rules = rules
        self.internalAddress = internalAddress
        self.threadRepeats = threadRepeats
    }
}

/// The XML API by mail of a queue.
public struct XMLCommandSettings: Sendable, Hashable {
    /// The password every transaction must carry (compared in constant time).
    public var password: String
    /// A blind copy of every response; nil: none.
    public var responseBCC: String?
    public var limits: XMLTransactionLimits

    public init(password: String, responseBCC: String? = nil, limits: XMLTransactionLimits = XMLTransactionLimits()) {
        self.password = password
        self.responseBCC = responseBCC
        self.limits = limits
    }
}

/// Structured requests (`CreateSR` blocks) of a queue.
public struct StructuredRequestSettings: Sendable, Hashable {
    public var parser: StructuredRequestParser
    /// The contact a request's requester or user falls back to when the block names nobody we know.
    public var fallbackUser: String?
    /// The site recorded on a request whose user has none (a ticket field `site`).
    public var fallbackSite: String?

    public init(parser: StructuredRequestParser, fallbackUser: String? = nil, fallbackSite: String? = nil) {
        self.parser = parser
        self.fallbackUser = fallbackUser
        self.fallbackSite = fallbackSite
    }
}
