/// A ticket queue and the addresses that feed it.
public struct QueueDefinition: Sendable, Hashable {
    /// Stable identifier stored on tickets, e.g. `support`.
    public var name: String
    /// The tag used in outgoing subjects, e.g. `Support` in `[Support #123]`.
    public var tag: String
    /// Exact addresses (`support@localhost`) and domain wildcards (`*@support.test`).
    public var addresses: [String]
    /// The pipeline's options for this queue.
    public var policy: QueuePolicy
    /// Plus-addressing sub-queues: `support+billing@…` goes to the queue named `subQueues["billing"]`
    /// (details compared lower-cased).
    public var subQueues: [String: String]

    public init(
        name: String, tag: String, addresses: [String], policy: QueuePolicy = QueuePolicy(),
        subQueues: [String: String] = [:]
    ) {
        self.name = name
        self.tag = tag
        self.addresses = addresses
        self.policy = policy
        self.subQueues = subQueues
    }
}

/// Maps an envelope recipient to its queue. Matching is case-insensitive, and a `+detail` sub-address
/// (`support+billing@localhost`) matches its base address — or the base queue's sub-queue for that detail.
/// Exact addresses win over domain wildcards; among equals, the first configured queue wins.
public struct QueueRouter: Sendable {
    public let queues: [QueueDefinition]
    private let exact: [String: QueueDefinition]
    private let domains: [String: QueueDefinition]
    private let byName: [String: QueueDefinition]

    public init(queues: [QueueDefinition]) {
        self.queues = queues
        byName = Dictionary(queues.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var exact: [String: QueueDefinition] = [:]
        var domains: [String: QueueDefinition] = [:]
        for queue in queues {
            for pattern in queue.addresses {
                let lowered = pattern.lowercased()
                if lowered.hasPrefix("*@") {
                    let domain = String(lowered.dropFirst(2))
                    if domains[domain] == nil { domains[domain] = queue }
                } else if exact[lowered] == nil {
                    exact[lowered] = queue
                }
            }
        }
        self.exact = exact
        self.domains = domains
    }

    /// The queue receiving `recipient` (an addr-spec, with or without angle brackets), or nil.
    public func queue(for recipient: String) -> QueueDefinition? {
        var address = recipient.lowercased()
        if address.hasPrefix("<") && address.hasSuffix(">") && address.count >= 2 {
            address = String(address.dropFirst().dropLast())
        }
        guard let at = address.lastIndex(of: "@") else { return nil }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        if let queue = exact[address] { return queue }
        if let plus = local.firstIndex(of: "+") {
            let base = local[..<plus]
            if !base.isEmpty, let queue = exact[base + "@" + domain] {
                let detail = String(local[local.index(after: plus)...])
                if let name = queue.subQueues[detail], let subQueue = byName[name] { return subQueue }
                return queue
            }
        }
        return domains[String(domain)]
    }
}

extension QueueRouter {
    /// The queue named `name`, if configured.
    public func queue(named name: String) -> QueueDefinition? {
        byName[name]
    }
}
