import Foundation
import MailCommands
import MailParser
import TicketPipeline
import XMLTransactions

extension ValidatingReader {
    /// `queues.<name>.commands.*`: what mail may command in the queue (issue 15); nil when nothing is turned on.
    mutating func commandPolicy(queue name: String) -> MailCommandPolicy? {
        let prefix = "queues.\(name).commands."
        var policy = MailCommandPolicy()
        policy.agents = stringArray(prefix + "agents").map { MailAddressForm.normalized($0) }
        for agent in policy.agents where !agent.contains("@") {
            fail(prefix + "agents", "'\(agent)' is not an address")
        }
        policy.commandsPerSenderPerHour = optionalInt(prefix + "per_sender_per_hour", default: 30, minimum: 0)
        policy.variableCommands = bool(prefix + "variable_commands", default: false)
        if let authservID = optionalString(prefix + "authentication.authserv_id") {
            var methods: Set<AuthenticationMethod> = []
            for method in stringArray(prefix + "authentication.require") {
                switch method.lowercased() {
                case "dkim": methods.insert(.dkim)
                case "spf": methods.insert(.spf)
                case "dmarc": methods.insert(.dmarc)
                default: fail(prefix + "authentication.require", "must list dkim, spf or dmarc, got '\(method)'")
                }
            }
            if methods.isEmpty {
                fail(prefix + "authentication.require", "name at least one of dkim, spf, dmarc")
            }
            policy.authentication = AuthenticationRequirement(authservID: authservID, methods: methods)
        } else if !stringArray(prefix + "authentication.require").isEmpty {
            fail(
                prefix + "authentication.authserv_id",
                "name the authserv-id your MTA writes in Authentication-Results: only its verdict can be trusted")
        }
        policy.structuredRequests = structuredRequests(prefix: prefix + "requests.")
        policy.xml = xmlCommands(prefix: prefix + "xml.")
        policy.alerts = alertSettings(prefix: prefix + "alerts.")
        return policy.isActive ? policy : nil
    }

    /// `…commands.requests.*`: `types` (a list of mappings with `name`, `labels`, `allowed_senders` and `fields`,
    /// each field a mapping with `name`, `kind`, `labels`, `mandatory`, `choices`), `token`, `fallback_user`,
    /// `fallback_site`.
    private mutating func structuredRequests(prefix: String) -> StructuredRequestSettings? {
        let typeNames = stringArray(prefix + "types.names")
        guard !typeNames.isEmpty else {
            if optionalString(prefix + "token") != nil {
                fail(prefix + "types", "structured requests need at least one type")
            }
            return nil
        }
        var types: [StructuredRequestType] = []
        for typeName in typeNames {
            let typePrefix = prefix + "types.\(typeName)."
            var fields: [StructuredRequestFieldDefinition] = []
            for fieldName in stringArray(typePrefix + "fields.names") {
                let fieldPrefix = typePrefix + "fields.\(fieldName)."
                let kindText = optionalString(fieldPrefix + "kind") ?? "text"
                guard let kind = TicketFieldKind(rawValue: kindText) else {
                    fail(
                        fieldPrefix + "kind",
                        "must be one of \(TicketFieldKind.allCases.map(\.rawValue).joined(separator: ", ")), "
                            + "got '\(kindText)'")
                    continue
                }
                let choices = stringArray(fieldPrefix + "choices")
                if kind == .choice, choices.isEmpty {
                    fail(fieldPrefix + "choices", "a choice field lists its choices")
                }
                fields.append(
                    StructuredRequestFieldDefinition(
                        name: fieldName, kind: kind, labels: stringArray(fieldPrefix + "labels"),
                        mandatory: bool(fieldPrefix + "mandatory", default: false), choices: choices))
            }
            types.append(
                StructuredRequestType(
                    name: typeName, labels: stringArray(typePrefix + "labels"), fields: fields,
                    allowedSenders: stringArray(typePrefix + "allowed_senders")))
        }
        noteDefault(prefix + "token", "CreateSR")
        let token = optionalString(prefix + "token") ?? "CreateSR"
        let fallbackUser = optionalString(prefix + "fallback_user")
        if let fallbackUser, !fallbackUser.contains("@") {
            fail(prefix + "fallback_user", "'\(fallbackUser)' is not an address")
        }
        let parser = StructuredRequestParser(token: token, types: types)
        for error in parser.configurationErrors { fail(prefix + "types", "\(error)") }
        return StructuredRequestSettings(
            parser: parser,
            fallbackUser: fallbackUser.map { MailAddressForm.normalized($0) },
            fallbackSite: optionalString(prefix + "fallback_site"))
    }

    /// `…commands.xml.*`: `password_file` (required to turn it on), `response_bcc`, `max_bytes`.
    private mutating func xmlCommands(prefix: String) -> XMLCommandSettings? {
        guard let file = optionalString(prefix + "password_file") else {
            if optionalString(prefix + "response_bcc") != nil {
                fail(prefix + "password_file", "the XML API by mail needs a password file")
            }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: file),
            let text = String(data: data, encoding: .utf8)
        else {
            fail(prefix + "password_file", "cannot read \(file)")
            return nil
        }
        let password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard password.count >= 12 else {
            fail(prefix + "password_file", "the password in \(file) is shorter than 12 characters")
            return nil
        }
        var limits = XMLTransactionLimits()
        limits.maxBytes = optionalInt(prefix + "max_bytes", default: limits.maxBytes, minimum: 1024)
        let bcc = optionalString(prefix + "response_bcc")
        if let bcc, !bcc.contains("@") { fail(prefix + "response_bcc", "'\(bcc)' is not an address") }
        return XMLCommandSettings(password: password, responseBCC: bcc, limits: limits)
    }

    /// `…commands.alerts.*`: `detect` and `skip` (lists of mappings with `name`), `accounts` (a list of mappings
    /// with `name`, `id`, `senders`), `account_detection` (a list of `after:<phrase>`, `before:<phrase>`,
    /// `between:<start>|<end>`, `sender`), `internal_address`, `thread_repeats`.
    private mutating func alertSettings(prefix: String) -> AlertSettings? {
        var detection: [AlertDetectionRule] = []
        for rule in stringArray(prefix + "detect.names") {
            let rulePrefix = prefix + "detect.\(rule)."
            let senders = stringArray(rulePrefix + "senders")
            let phrases = stringArray(rulePrefix + "subject")
            if senders.isEmpty, phrases.isEmpty {
                fail(rulePrefix + "senders", "an alert rule needs senders, subject phrases or both")
            }
            noteDefault(rulePrefix + "match", "all")
            let combination: AlertRuleCombination
            switch optionalString(rulePrefix + "match")?.lowercased() ?? "all" {
            case "all": combination = .all
            case "any": combination = .any
            case let other:
                fail(rulePrefix + "match", "must be all or any, got '\(other)'")
                combination = .all
            }
            detection.append(
                AlertDetectionRule(name: rule, senders: senders, subjectPhrases: phrases, combination: combination))
        }
        var skip: [AlertSkipRule] = []
        for rule in stringArray(prefix + "skip.names") {
            let rulePrefix = prefix + "skip.\(rule)."
            guard let phrase = optionalString(rulePrefix + "subject") else {
                fail(rulePrefix + "subject", "a skip rule needs a subject phrase")
                continue
            }
            guard
                let forwardTo = optionalString(rulePrefix + "forward_to") ?? optionalString(prefix + "internal_address")
            else {
                fail(rulePrefix + "forward_to", "a skip rule forwards to an address (or set alerts.internal_address)")
                continue
            }
            skip.append(AlertSkipRule(name: rule, subjectPhrase: phrase, forwardTo: forwardTo))
        }
        guard !detection.isEmpty || !skip.isEmpty else { return nil }
        if detection.isEmpty {
            fail(prefix + "skip", "skip rules apply to alerts a detect rule found: add at least one detect rule")
        }
        var accounts: [AlertAccount] = []
        for account in stringArray(prefix + "accounts.names") {
            let accountPrefix = prefix + "accounts.\(account)."
            accounts.append(
                AlertAccount(
                    name: account, id: optionalString(accountPrefix + "id"),
                    senders: stringArray(accountPrefix + "senders")))
        }
        var accountDetection: [AlertAccountDetection] = []
        for entry in stringArray(prefix + "account_detection") {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            switch (parts[0].lowercased(), parts.count == 2 ? parts[1] : nil) {
            case ("sender", nil): accountDetection.append(.bySender)
            case ("after", let phrase?) where !phrase.isEmpty: accountDetection.append(.after(phrase))
            case ("before", let phrase?) where !phrase.isEmpty: accountDetection.append(.before(phrase))
            case ("between", let phrases?):
                let ends = phrases.split(separator: "|", maxSplits: 1).map(String.init)
                guard ends.count == 2, !ends[0].isEmpty, !ends[1].isEmpty else {
                    fail(prefix + "account_detection", "between needs 'between:<start>|<end>', got '\(entry)'")
                    continue
                }
                accountDetection.append(.between(ends[0], ends[1]))
            default:
                fail(
                    prefix + "account_detection",
                    "entries are after:<phrase>, before:<phrase>, between:<start>|<end> or sender, got '\(entry)'")
            }
        }
        return AlertSettings(
            rules: AlertRuleSet(
                detection: detection, skip: skip, accounts: accounts, accountDetection: accountDetection),
            internalAddress: optionalString(prefix + "internal_address"),
            threadRepeats: bool(prefix + "thread_repeats", default: true))
    }
}
