import Foundation
import MailClassification
import MessageSpool
import TicketPipeline

/// The pipeline's options shared by every queue: `pipeline.*` and `identity.*`.
public struct PipelineOptions: Sendable, Equatable {
    /// `pipeline.max_attachments`: more attachments than this and the message is quarantined.
    public var maxAttachments = 1000
    /// `pipeline.own_mail.message_id_domains`: Message-IDs with these domains are our own mail.
    public var ownMessageIDDomains: [String] = []
    /// `pipeline.own_mail.addresses`: our addresses besides the queues' exact addresses (e.g. the notification
    /// sender); mail from them is a loop.
    public var ownAddresses: [String] = []
    /// `pipeline.triage_queue`: where `deliver`/poller/replay mail for no configured queue goes; empty: nowhere.
    public var triageQueue: String?
    /// `identity.domain`: the domain of the Message-IDs we sign; defaults to `server.hostname`.
    public var identityDomain = "localhost"
    /// `identity.secret`: the HMAC secret, at least 16 characters; empty: read (or create) `secret_file`.
    public var identitySecret: String?
    /// `identity.secret_file`: where the generated secret is kept (created with mode 0600); nil: the file
    /// `message-id.key` next to the database.
    public var identitySecretFile: String?

    var summary: String {
        "pipeline: max \(maxAttachments) attachments; triage queue \(triageQueue ?? "(none)"); "
            + "own Message-ID domains \(ownMessageIDDomains); "
            + "own addresses \(ownAddresses); signed Message-IDs @\(identityDomain) with the secret "
            + (identitySecret == nil
                ? "in \(identitySecretFile ?? "message-id.key next to the database")" : "from identity.secret")
    }
}

extension QueuePolicy {
    var summary: String {
        let closed: String =
            switch closedTicketReplies {
            case .add: "add"
            case .reopenWithin(let days): "reopen within \(days) days"
            case .alwaysNew: "new"
            }
        let unknown: String =
            switch unknownSenders {
            case .createContact: "create"
            case .fallbackContact(let address): "fallback \(address)"
            case .redirect(let address): "redirect \(address)"
            case .reject: "reject"
            }
        return "filters: allow \(filter.allow.count) / ignore \(filter.ignore.count) rules; attachments: ignore "
            + "\(attachments.ignoredFileNames), max size \(attachments.maximumSize.map(String.init) ?? "none"); "
            + "automated mail \(automatedBudget.messagesPerDay)/sender/day; closed replies: \(closed); "
            + "unknown senders: \(unknown); reply-to as requester: \(replyToAsRequester); agents \(agentAddresses); "
            + "defaults category \(ticketDefaults.category ?? "-"), priority \(ticketDefaults.priority ?? "-"), "
            + "type \(ticketDefaults.type ?? "-")"
    }
}

extension ValidatingReader {
    /// `queues.<name>.*`: filters, attachments, automated budget, closed replies, requester options.
    mutating func queuePolicy(queue name: String) -> QueuePolicy {
        let prefix = "queues.\(name)."
        var policy = QueuePolicy()
        policy.filter = MailFilter(
            allow: filterRules(prefix + "filter.allow"), ignore: filterRules(prefix + "filter.ignore"))
        policy.attachments = AttachmentPolicy(
            ignoredFileNames: stringArray(prefix + "attachments.ignore"),
            maximumSize: {
                let size = optionalInt(prefix + "attachments.max_size", default: 0, minimum: 0)
                return size == 0 ? nil : size
            }())
        policy.attachRawMessage = bool(prefix + "attachments.raw_message", default: false)
        policy.automatedBudget = AutomatedSenderBudget(
            messagesPerDay: optionalInt(
                prefix + "automated.per_sender_per_day", default: AutomatedSenderBudget.defaultMessagesPerDay,
                minimum: 0))
        let reopenDays = optionalInt(prefix + "closed_replies.reopen_days", default: 14, minimum: 0)
        noteDefault(prefix + "closed_replies.policy", "reopen")
        switch optionalString(prefix + "closed_replies.policy")?.lowercased() ?? "reopen" {
        case "add": policy.closedTicketReplies = .add
        case "reopen": policy.closedTicketReplies = .reopenWithin(days: reopenDays)
        case "new": policy.closedTicketReplies = .alwaysNew
        case let other:
            fail(prefix + "closed_replies.policy", "must be add, reopen or new, got '\(other)'")
        }
        noteDefault(prefix + "requester.unknown_senders", "create")
        let unknown = optionalString(prefix + "requester.unknown_senders") ?? "create"
        let target = optionalString(prefix + "requester.address")
        switch unknown.lowercased() {
        case "create": policy.unknownSenders = .createContact
        case "reject": policy.unknownSenders = .reject
        case "fallback", "redirect":
            guard let target, target.contains("@") else {
                fail(prefix + "requester.address", "'\(unknown)' needs an address in requester.address")
                break
            }
            policy.unknownSenders =
                unknown.lowercased() == "fallback" ? .fallbackContact(address: target) : .redirect(address: target)
        default:
            fail(
                prefix + "requester.unknown_senders", "must be create, fallback, redirect or reject, got '\(unknown)'")
        }
        policy.replyToAsRequester = bool(prefix + "requester.reply_to", default: false)
        policy.agentAddresses = stringArray(prefix + "requester.agents").map { $0.lowercased() }
        for agent in policy.agentAddresses where !agent.contains("@") {
            fail(prefix + "requester.agents", "'\(agent)' is not an address")
        }
        policy.ticketDefaults = TicketDefaults(
            category: optionalString(prefix + "defaults.category"),
            priority: optionalString(prefix + "defaults.priority"),
            type: optionalString(prefix + "defaults.type"))
        return policy
    }

    /// `queues.<name>.plus_queues`: entries `detail=queue`, e.g. `billing=billing`.
    mutating func subQueues(queue name: String, known: Set<String>) -> [String: String] {
        let key = "queues.\(name).plus_queues"
        var result: [String: String] = [:]
        for entry in stringArray(key) {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains("@") else {
                fail(key, "'\(entry)' must be detail=queue, e.g. billing=billing")
                continue
            }
            guard known.contains(parts[1]) else {
                fail(key, "'\(entry)' names the queue '\(parts[1])', which is not in queues.names")
                continue
            }
            result[parts[0].lowercased()] = parts[1]
        }
        return result
    }

    /// Rules written `address:a@b`, `domain:example.com`, `domain:*.example.com` (with subdomains),
    /// `keyword:text` (subject and body), `subject:text`, `body:text`; keywords match whole words.
    mutating func filterRules(_ key: String) -> [FilterRule] {
        stringArray(key).compactMap { text in
            guard let colon = text.firstIndex(of: ":") else {
                fail(key, "'\(text)' must be kind:value (address, domain, keyword, subject, body)")
                return nil
            }
            let kind = text[..<colon].lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else {
                fail(key, "'\(text)' has an empty value")
                return nil
            }
            switch kind {
            case "address" where value.contains("@"): return .address(value)
            case "domain":
                return value.hasPrefix("*.")
                    ? .domain(String(value.dropFirst(2)), includeSubdomains: true)
                    : .domain(value, includeSubdomains: false)
            case "keyword": return .keyword(value, match: .wholeWord, fields: .subjectAndBody)
            case "subject": return .keyword(value, match: .wholeWord, fields: .subject)
            case "body": return .keyword(value, match: .wholeWord, fields: .body)
            default:
                fail(key, "'\(text)' must be address:, domain:, keyword:, subject: or body: followed by a value")
                return nil
            }
        }
    }

    mutating func pipelineOptions(hostname: String, queueNames: Set<String>) -> PipelineOptions {
        var options = PipelineOptions()
        options.maxAttachments = optionalInt("pipeline.max_attachments", default: 1000, minimum: 1)
        options.triageQueue = optionalString("pipeline.triage_queue")
        if let triage = options.triageQueue, !queueNames.contains(triage) {
            fail("pipeline.triage_queue", "'\(triage)' is not in queues.names")
        }
        options.ownMessageIDDomains = stringArray("pipeline.own_mail.message_id_domains").map { $0.lowercased() }
        options.ownAddresses = stringArray("pipeline.own_mail.addresses").map { $0.lowercased() }
        for address in options.ownAddresses where !address.contains("@") {
            fail("pipeline.own_mail.addresses", "'\(address)' is not an address")
        }
        noteDefault("identity.domain", hostname)
        options.identityDomain = optionalString("identity.domain") ?? hostname
        options.identitySecret = secretString("identity.secret")
        if let secret = options.identitySecret, secret.utf8.count < 16 {
            // Never echo the secret itself.
            fail("identity.secret", "must be at least 16 characters (it has \(secret.utf8.count))")
        }
        options.identitySecretFile = optionalString("identity.secret_file")
        return options
    }
}

/// Why the Message-ID secret could not be read or created.
public struct IdentitySecretError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "identity.secret_file \(path): \(reason)" }
}

extension PostdeskConfiguration {
    /// The pipeline settings this configuration describes. Reads `identity.secret_file`, creating it with a
    /// random secret (mode 0600) when it does not exist yet.
    public func pipelineSettings() throws -> PipelineSettings {
        let secret: [UInt8]
        if let configured = pipeline.identitySecret {
            secret = Array(configured.utf8)
        } else {
            let path =
                pipeline.identitySecretFile
                ?? URL(fileURLWithPath: storePath).deletingLastPathComponent().appendingPathComponent("message-id.key")
                .path
            secret = try Self.loadOrCreateSecret(at: path)
        }
        let exactAddresses = queues.flatMap(\.addresses).filter { !$0.hasPrefix("*@") }.map { $0.lowercased() }
        return PipelineSettings(
            ownMail: OwnMailConfiguration(
                instanceName: hostname, messageIDDomains: pipeline.ownMessageIDDomains,
                ownAddresses: exactAddresses + pipeline.ownAddresses + (outbound.from.map { [$0.lowercased()] } ?? [])),
            maximumAttachments: pipeline.maxAttachments,
            messageIDs: MessageIDSigner(secret: secret, domain: pipeline.identityDomain),
            triageQueue: pipeline.triageQueue, recordsEvents: recordsEvents)
    }

    /// Reads the secret at `path`, or creates it (mode 0600) with 64 random hex digits. Creation is atomic and
    /// exclusive: the secret is written to a private temporary file that is then hard-linked to `path`, which
    /// fails if another process (the daemon and a CLI command starting together) created it first; that
    /// process's secret is then read and used, so both sign with the same one. The file and its directory are
    /// fsynced before the secret is used.
    static func loadOrCreateSecret(at path: String) throws -> [UInt8] {
        let content: [UInt8]
        do {
            content = try SecretFile.readOrCreate(at: path) {
                var generator = SystemRandomNumberGenerator()
                let hexDigits = Array("0123456789abcdef".utf8)
                return (0..<64).map { _ in hexDigits[Int(generator.next() % 16)] } + [UInt8(ascii: "\n")]
            }
        } catch {
            throw IdentitySecretError(path: path, reason: "cannot \(error.operation): \(error.reason)")
        }
        let text = String(decoding: content, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.utf8.count >= 16 else {
            throw IdentitySecretError(path: path, reason: "holds fewer than 16 characters")
        }
        return Array(text.utf8)
    }
}
