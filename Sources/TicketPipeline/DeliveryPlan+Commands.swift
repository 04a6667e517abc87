import Foundation
import MailCommands
import MailParser

/// Carrying out the commands and alerts `MailCommandPlanner` found (issue 15), inside the store's transaction:
/// the checks that need the store (who the sender is to the ticket, the rate per sender) happen here, every
/// command is recorded (`mail_commands`) with what became of it, and a command that is not obeyed is never a
/// silent no-op: the message takes the regular path with an activity naming why, and (with outbound mail) the
/// sender is told.
extension DeliveryPlan {
    func commitCommand(
        _ command: PlannedCommand, delivery: QueueDelivery, key: DeliveryKey, state: inout CommitState,
        in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        guard let policy = delivery.queue.policy.commands else {
            return try commitTicket(delivery: delivery, key: key, state: &state, in: transaction)
        }
        switch command {
        case .skippedAlert(let rule, let forwardTo, let reason):
            return try forwardAlert(
                rule: rule, to: forwardTo, reason: reason, delivery: delivery, state: &state, in: transaction)
        case .alert(let rule, let account, let reason):
            return try commitAlert(
                rule: rule, account: account, reason: reason, policy: policy, delivery: delivery, key: key,
                state: &state, in: transaction)
        case .xml(let parsed):
            return try commitXMLTransaction(
                parsed, policy: policy, delivery: delivery, key: key, state: &state, in: transaction)
        case .structuredRequest(let result):
            return try commitStructuredRequest(
                result, policy: policy, delivery: delivery, key: key, state: &state, in: transaction)
        case .variableCommand(let result):
            return try commitVariableCommand(
                result, policy: policy, delivery: delivery, key: key, state: &state, in: transaction)
        }
    }

    // MARK: alerts

    private func forwardAlert(
        rule: String, to address: String, reason: String, delivery: QueueDelivery, state: inout CommitState,
        in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        let queue = delivery.queue.name
        try storeRaw(&state, in: transaction)
        var detail = "\(reason): forwarded to \(address)"
        if delivery.queue.policy.repliesToCommands {
            _ = try transaction.enqueueOutboundMail(
                NewOutboundMail(
                    kind: .forward, ticketNumber: nil, queue: queue,
                    recipient: MailAddress(name: nil, address: address), subject: "Fwd: " + (parsed.subject ?? ""),
                    inReplyTo: nil, references: [],
                    text:
                        "Alert forwarded by Postdesk (\(reason)).\n\nFrom: \(senderDisplay)\nSubject: \(parsed.subject ?? "")\n\n"
                        + Self.limited(parsed.text),
                    createdAt: message.receivedAt))
        } else {
            detail += " (not sent: outbound mail is not configured)"
        }
        try record(.applied, kind: "alert", operation: rule, ticket: nil, detail: detail, in: transaction)
        state.lines.append("\(queue) alert/forwarded: \(detail)")
        return (.recorded(.forwarded), .forwarded, nil)
    }

    private func commitAlert(
        rule: String, account: String?, reason: String, policy: MailCommandPolicy, delivery: QueueDelivery,
        key: DeliveryKey, state: inout CommitState, in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        guard let alerts = policy.alerts else {
            return try commitTicket(delivery: delivery, key: key, state: &state, in: transaction)
        }
        if account == nil, let internalAddress = alerts.internalAddress {
            return try forwardAlert(
                rule: rule, to: internalAddress, reason: reason + "; no known account", delivery: delivery,
                state: &state,
                in: transaction)
        }
        var options = TicketOptions()
        options.acknowledges = false
        options.account = account
        options.target = .new
        options.activities.append(("alert", account == nil ? reason + "; no known account: for triage" : reason))
        if let account, alerts.threadRepeats,
            let repeated = try transaction.openTicket(
                account: account, subject: parsed.subject ?? "", queue: delivery.queue.name)
        {
            options.target = .existing(
                repeated, reason: "repeated alert for account \(account): threaded onto #\(repeated)")
        }
        let outcome = try commitTicket(delivery: delivery, key: key, options: options, state: &state, in: transaction)
        try record(
            .applied, kind: "alert", operation: rule, ticket: outcome.2, detail: options.activities[0].text,
            in: transaction)
        return outcome
    }

    // MARK: structured requests

    private func commitStructuredRequest(
        _ result: StructuredRequestResult, policy: MailCommandPolicy, delivery: QueueDelivery, key: DeliveryKey,
        state: inout CommitState, in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        let kind = "structured-request"
        var options = TicketOptions()
        options.target = .new
        switch result {
        case .invalid(let error):
            return try refuse(
                kind: kind, operation: "create", outcome: .invalid, reason: "\(error)", options: options,
                delivery: delivery, key: key, state: &state, in: transaction)
        case .request(let request):
            if let refusal = try gate(policy, delivery: delivery, in: transaction) {
                return try refuse(
                    kind: kind, operation: "create", outcome: .refused, reason: refusal, options: options,
                    delivery: delivery, key: key, state: &state, in: transaction)
            }
            let settings = policy.structuredRequests
            var notes: [String] = []
            let requester = try knownContact(request.requester, in: transaction)
            if let requester {
                options.requester = MailAddress(name: nil, address: requester)
            } else if let fallback = settings?.fallbackUser {
                options.requester = MailAddress(name: nil, address: fallback)
                notes.append("requester \(Self.list(request.requester)) unknown: fallback user \(fallback)")
            }
            options.fields = request.fields
            if let user = try knownContact(request.user, in: transaction) ?? settings?.fallbackUser {
                options.fields.append(TicketField(name: "user", kind: .text, value: user))
            }
            if let site = settings?.fallbackSite, !options.fields.contains(where: { $0.name == "site" }) {
                options.fields.append(TicketField(name: "site", kind: .text, value: site))
            }
            options.type = request.type
            let detail =
                "structured request of type \"\(request.type)\" with \(request.fields.count) fields"
                + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
            options.activities.append((kind, detail))
            options.acknowledges = !delivery.queue.policy.repliesToCommands
            let outcome = try commitTicket(
                delivery: delivery, key: key, options: options, state: &state, in: transaction)
            try record(.applied, kind: kind, operation: "create", ticket: outcome.2, detail: detail, in: transaction)
            if let ticket = outcome.2 {
                try reply(
                    ticket: ticket, delivery: delivery,
                    text: "Your request was received as ticket #\(ticket).\n\n\(detail).",
                    in: transaction)
            }
            return outcome
        }
    }

    // MARK: variable commands

    private func commitVariableCommand(
        _ result: VariableCommandResult, policy: MailCommandPolicy, delivery: QueueDelivery, key: DeliveryKey,
        state: inout CommitState, in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        let kind = "variable-command"
        guard case .command(let command) = result else {
            if case .invalid(let error) = result {
                return try refuse(
                    kind: kind, operation: "unknown", outcome: .invalid, reason: "\(error)", options: TicketOptions(),
                    delivery: delivery, key: key, state: &state, in: transaction)
            }
            return try commitTicket(delivery: delivery, key: key, state: &state, in: transaction)
        }
        let operation = command.operation.rawValue
        var (change, fields, invalid) = Self.split(command.fields)
        // An approval's answer (seed 003: 1 accept, 0 refuse, 2 ask for information) stays on the ticket.
        if let choice = command.choice { fields.append(TicketField(name: "choice", kind: .text, value: choice)) }
        if let invalid {
            return try refuse(
                kind: kind, operation: operation, outcome: .invalid, reason: invalid, options: TicketOptions(),
                delivery: delivery, key: key, state: &state, in: transaction)
        }
        if let refusal = try gate(policy, knownSender: true, delivery: delivery, in: transaction) {
            return try refuse(
                kind: kind, operation: operation, outcome: .refused, reason: refusal, options: TicketOptions(),
                delivery: delivery, key: key, state: &state, in: transaction)
        }
        var options = TicketOptions()
        options.fields = fields
        options.acknowledges = !delivery.queue.policy.repliesToCommands
        var statusChange = change
        if command.operation == .create {
            options.target = .new
        } else {
            guard let target = command.target, let number = ticketNumber(named: target, delivery: delivery) else {
                let reason =
                    command.target.map { "@RFC_NUMBER@ '\($0)' names no ticket number" }
                    ?? "\(operation.uppercased()) needs @RFC_NUMBER@ to name the ticket"
                return try refuse(
                    kind: kind, operation: operation, outcome: .invalid, reason: reason, options: TicketOptions(),
                    delivery: delivery, key: key, state: &state, in: transaction)
            }
            guard let ticket = try transaction.ticketState(number: number), ticket.queue == delivery.queue.name else {
                return try refuse(
                    kind: kind, operation: operation, outcome: .refused,
                    reason: "ticket #\(number) does not exist in queue \(delivery.queue.name)",
                    options: TicketOptions(), delivery: delivery, key: key, state: &state, in: transaction)
            }
            let requester = try transaction.requesterAddress(ticket: number)
            guard isAgent(policy, delivery: delivery) || (requester != nil && requester == participantAddress) else {
                return try refuse(
                    kind: kind, operation: operation, outcome: .refused,
                    reason: "\(participantAddress.isEmpty ? "<>" : participantAddress) is neither the requester "
                        + "of #\(number) nor an agent of queue \(delivery.queue.name)",
                    options: TicketOptions(), delivery: delivery, key: key, state: &state, in: transaction)
            }
            switch command.operation {
            case .solve: statusChange.status = "solved"
            case .restart: statusChange.status = "open"
            case .stop: statusChange.status = "pending"
            case .update, .create: break
            }
            options.target = .existing(number, reason: "\(operation.uppercased()) command from \(participantAddress)")
        }
        let outcome = try commitTicket(delivery: delivery, key: key, options: options, state: &state, in: transaction)
        guard let ticket = outcome.2 else { return outcome }
        var applied: [String] = []
        if !statusChange.isEmpty,
            let activities = try transaction.changeTicket(
                number: ticket, statusChange, actor: participantAddress, at: message.receivedAt)
        {
            applied += activities.map(\.text)
        }
        applied += fields.map { "\($0.name) = \($0.value)" }
        let detail =
            "\(operation.uppercased()) #\(ticket) by \(participantAddress)"
            + (applied.isEmpty ? "" : ": " + applied.joined(separator: "; "))
        try transaction.addActivity(
            NewActivity(ticketNumber: ticket, kind: "command", text: detail, createdAt: message.receivedAt))
        state.lines.append("\(delivery.queue.name) command: \(detail)")
        try record(.applied, kind: kind, operation: operation, ticket: ticket, detail: detail, in: transaction)
        try reply(ticket: ticket, delivery: delivery, text: "Command applied: \(detail).", in: transaction)
        return outcome
    }

    /// The ticket columns a variable command may change (status, priority, category, type, assignee) and the
    /// rest as typed text fields; or why a value is refused. O(fields).
    static func split(_ fields: [VariableField]) -> (TicketChange, [TicketField], invalid: String?) {
        var change = TicketChange()
        var typed: [TicketField] = []
        for field in fields {
            let value = field.value
            switch field.name.lowercased() {
            case "status":
                // The length first: a long value from mail never reaches String hashing (which normalises).
                guard value.utf8.count <= 16, TicketChange.statuses.contains(value.lowercased()) else {
                    return (
                        change, typed,
                        "status '\(value)' is not one of \(TicketChange.statuses.sorted().joined(separator: ", "))"
                    )
                }
                change.status = value.lowercased()
            case "priority": change.priority = .some(value.isEmpty ? nil : value)
            case "category": change.category = .some(value.isEmpty ? nil : value)
            case "type": change.type = .some(value.isEmpty ? nil : value)
            case "assignee": change.assignee = .some(value.isEmpty ? nil : value)
            default: typed.append(TicketField(name: field.name, kind: .text, value: value))
            }
        }
        return (change, typed, nil)
    }

    /// The ticket number `reference` names: `123`, `#123`, or our tag form `[Tag #123]`. O(n) in its bytes.
    func ticketNumber(named reference: String, delivery: QueueDelivery) -> Int? {
        var text = Substring(reference.trimmingCharacters(in: .whitespaces))
        if text.first == "#" { text = text.dropFirst() }
        if let number = Int(text), number > 0 { return number }
        return ThreadMatcher.subjectTicketNumbers(in: reference, tag: delivery.queue.tag, limit: 1).first
    }

    // MARK: shared checks, records and replies

    /// Why a command from this sender may not be obeyed now, or nil: the required `Authentication-Results`
    /// verdict, a known contact or agent (`knownSender`: variable commands; a structured request's type says
    /// who may use it, and an XML transaction carries its password), the rate per sender. O(header fields) plus
    /// two indexed lookups.
    func gate(
        _ policy: MailCommandPolicy, knownSender: Bool = false, delivery: QueueDelivery,
        in transaction: any TicketStoreTransaction
    ) throws -> String? {
        let address = participantAddress
        if let requirement = policy.authentication {
            let values = parsed.headers.filter { $0.name.lowercased() == "authentication-results" }.map(\.value)
            if case .failed(let reason) = requirement.check(headerValues: values) {
                return "authentication required: \(reason)"
            }
        }
        guard !address.isEmpty else { return "the message names no sender" }
        if knownSender, !isAgent(policy, delivery: delivery), try transaction.contactID(address: address) == nil {
            return "\(address) is neither a known contact nor an agent of queue \(delivery.queue.name)"
        }
        let since = message.receivedAt.addingTimeInterval(-3600)
        let count = try transaction.commandCount(sender: address, since: since)
        if count >= policy.commandsPerSenderPerHour {
            return "\(address) sent \(count) commands in the past hour "
                + "(commands.per_sender_per_hour = \(policy.commandsPerSenderPerHour))"
        }
        return nil
    }

    /// Whether the sender is one of the queue's agents (`commands.agents` or the queue's `agent_addresses`).
    func isAgent(_ policy: MailCommandPolicy, delivery: QueueDelivery) -> Bool {
        let address = participantAddress
        guard !address.isEmpty else { return false }
        return (policy.agents + delivery.queue.policy.agentAddresses).contains {
            MailAddressForm.normalized($0) == address
        }
    }

    /// A command not obeyed: recorded with `reason`, then the message takes the regular path (`options`) with an
    /// activity naming the reason, and the sender is told by mail when outbound mail is configured.
    func refuse(
        kind: String, operation: String, outcome: NewMailCommandRecord.Outcome, reason: String,
        options: TicketOptions, delivery: QueueDelivery, key: DeliveryKey, state: inout CommitState,
        in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        var options = options
        let text = "\(kind) \(operation) not applied: \(reason)"
        options.activities.append(("command-refused", text))
        let result = try commitTicket(delivery: delivery, key: key, options: options, state: &state, in: transaction)
        try record(outcome, kind: kind, operation: operation, ticket: result.2, detail: text, in: transaction)
        if let ticket = result.2 {
            try reply(
                ticket: ticket, delivery: delivery,
                text: "Your message was received as an ordinary message on ticket #\(ticket), but its command "
                    + "was not applied: \(reason).",
                in: transaction)
        }
        return result
    }

    /// Writes the command's row in `mail_commands` and its line in the message record.
    func record(
        _ outcome: NewMailCommandRecord.Outcome, kind: String, operation: String, ticket: Int?, detail: String,
        in transaction: any TicketStoreTransaction
    ) throws {
        try transaction.recordCommand(
            NewMailCommandRecord(
                receivedAt: message.receivedAt, sender: participantAddress, kind: kind, operation: operation,
                ticketNumber: ticket, outcome: outcome, detail: detail, rawSHA256: rawSHA256))
    }

    /// Queues the answer to a command to its sender, when outbound mail is configured; never to `<>` (RFC 3834)
    /// and at most the policy's commands per hour to one address, so a forged From cannot turn us into a
    /// mail cannon.
    func reply(
        ticket: Int?, delivery: QueueDelivery, text: String, to recipient: MailAddress? = nil,
        in transaction: any TicketStoreTransaction
    ) throws {
        guard delivery.queue.policy.repliesToCommands, let recipient = recipient ?? sender else { return }
        let polled = message.source == .imap || message.source == .pop3
        if !polled, message.sender.isEmpty { return }
        let address = MailAddressForm.normalized(recipient.address)
        let limit = delivery.queue.policy.commands?.commandsPerSenderPerHour ?? 30
        let since = message.receivedAt.addingTimeInterval(-3600)
        guard try transaction.outboundMailCount(recipient: address, kind: .commandResponse, since: since) < limit
        else { return }
        _ = try transaction.enqueueOutboundMail(
            NewOutboundMail(
                kind: .commandResponse, ticketNumber: ticket, queue: delivery.queue.name,
                recipient: MailAddress(name: recipient.name, address: recipient.address),
                subject: parsed.subject ?? "", inReplyTo: parsed.messageID, references: replyReferences, text: text,
                createdAt: message.receivedAt))
    }

    /// The first of `names` that is a known contact's address (lower-cased), or nil. Logins without `@` name no
    /// contact: contacts are addresses.
    func knownContact(_ names: [String], in transaction: any TicketStoreTransaction) throws -> String? {
        for name in names where name.contains("@") {
            let address = MailAddressForm.normalized(name)
            if try transaction.contactID(address: address) != nil { return address }
        }
        return nil
    }

    static func list(_ names: [String]) -> String {
        names.isEmpty ? "(none)" : names.joined(separator: ", ")
    }
}
