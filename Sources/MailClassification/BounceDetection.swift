import MailParser

/// What recognises a non-standard bounce.
public struct BounceDetectionConfiguration: Sendable, Hashable {
    /// Subject prefixes of bounces from common servers, compared case-insensitively after leading blanks.
    /// A subject alone is not enough (a person may write "Undeliverable: ..."): the message must also come
    /// from the null reverse-path, a `postmaster`, or a "Mail Delivery ..." display name.
    public var subjectPrefixes: [String]

    public static let defaultSubjectPrefixes = [
        "Undelivered Mail Returned to Sender",  // Postfix
        "Mail delivery failed",  // Exim
        "Delivery Status Notification (Failure)",  // Gmail
        "Delivery Status Notification (Delay)",  // Gmail
        "Undeliverable:",  // Exchange, Outlook
        "Undeliverable mail",
        "Returned mail:",  // Sendmail
        "failure notice",  // qmail
        "Delivery Failure",
        "Delivery failure",
        "Mail System Error - Returned Mail",
        "Warning: message",  // Exim delay warnings
        "Nondeliverable mail",
        "Unzustellbar:",  // Exchange, German
        "Non remis :",  // Exchange, French
        "Non recapitabile:",  // Exchange, Italian
        "No se puede entregar:",  // Exchange, Spanish
    ]

    public init(subjectPrefixes: [String] = BounceDetectionConfiguration.defaultSubjectPrefixes) {
        self.subjectPrefixes = subjectPrefixes
    }
}

/// Stage 2: bounces and reports. Never a new ticket.
///
/// Standard reports are recognised by their MIME structure: `multipart/report` with `report-type`
/// `delivery-status` (rule `dsn`), `feedback-report` (`arf`) or `disposition-notification` (`mdn`), or,
/// for reports with a wrong top-level type, by a `message/delivery-status`, `message/feedback-report` or
/// `message/disposition-notification` part (`*-part` rules). Non-standard bounces by, in order:
/// `x-failed-recipients` (Exim), `exchange-ndr-header` (`X-MS-Exchange-Message-Is-Ndr`),
/// `mailer-daemon-sender` (From local part `MAILER-DAEMON`), `bounce-subject` (a subject prefix plus a
/// null reverse-path, a `postmaster` sender or a "Mail Delivery" display name) and `postmaster-sender`
/// (From `postmaster` with a null reverse-path), then `bounce-subject-body` (a bounce subject and the wording
/// of a delivery failure notice, see `TextOnlyBounceDetection`).
struct BounceDetection: Sendable {
    let subjectPrefixes: [String]

    init(_ configuration: BounceDetectionConfiguration) {
        subjectPrefixes = configuration.subjectPrefixes.filter { !$0.isEmpty }
    }

    static let deliveryStatusTypes: Set<String> = ["message/delivery-status", "message/global-delivery-status"]
    static let dispositionTypes: Set<String> = [
        "message/disposition-notification", "message/global-disposition-notification",
    ]
    static let feedbackTypes: Set<String> = ["message/feedback-report"]
    static let headerPartTypes: Set<String> = [
        "text/rfc822-headers", "message/rfc822-headers", "text/rfc822-header", "message/global-headers",
    ]

    func evaluate(_ message: ParsedMessage, signals: HeaderSignals, envelope: MailEnvelope) -> BounceReport? {
        let reportType = signals.multipartReport.map { report in
            report.parameterText("report-type").map { ByteText.lowercasedASCII($0) } ?? ""
        }
        func part(_ types: Set<String>) -> ParsedAttachment? {
            message.attachments.first { types.contains($0.contentType) }
        }
        var report: BounceReport
        if reportType == "delivery-status" || reportType == "global-delivery-status"
            || part(Self.deliveryStatusTypes) != nil
        {
            let rule = reportType?.hasSuffix("delivery-status") == true ? "dsn" : "delivery-status-part"
            report = deliveryStatus(part(Self.deliveryStatusTypes), rule: rule)
            if report.recipients.isEmpty {
                report.recipients = failedRecipientsFromHeaders(signals, body: message.text)
            }
        } else if reportType == "feedback-report" || part(Self.feedbackTypes) != nil {
            report = feedbackReport(
                part(Self.feedbackTypes), rule: reportType == "feedback-report" ? "arf" : "feedback-report-part")
        } else if reportType == "disposition-notification" || reportType == "global-disposition-notification"
            || part(Self.dispositionTypes) != nil
        {
            let rule =
                reportType?.hasSuffix("disposition-notification") == true ? "mdn" : "disposition-notification-part"
            report = dispositionNotification(part(Self.dispositionTypes), rule: rule)
        } else if let rule = nonStandardRule(message, signals: signals, envelope: envelope) {
            report = BounceReport(
                kind: .nonStandardBounce, rule: rule,
                recipients: failedRecipientsFromHeaders(signals, body: message.text))
            if report.recipients.isEmpty { report.recipients = QmailStyleBody.recipients(in: message.text) }
        } else {
            return nil
        }
        // A DSN's X-Original-Message-ID (Gmail) or an MDN's Original-Message-ID name the original directly.
        let reportField = report.disposition?.originalMessageID ?? report.originalMessageID
        if let found = Self.originalMessageID(of: message, reportField: reportField) {
            report.originalMessageID = found.id
            report.originalMessageIDSource = found.source
        }
        return report
    }

    private func deliveryStatus(_ part: ParsedAttachment?, rule: String) -> BounceReport {
        var report = BounceReport(kind: .deliveryStatus, rule: rule)
        guard let part else { return report }
        let blocks = ReportFieldBlock.blocks(part.data)
        guard let perMessage = blocks.first else { return report }
        report.reportingMTA = perMessage.value("reporting-mta").map(ReportFieldBlock.untyped)
        if let original = perMessage.value("x-original-message-id") ?? perMessage.value("original-message-id"),
            let id = MessageIDParser.identifier(inText: original)
        {
            report.originalMessageID = id
            report.originalMessageIDSource = .reportField
        }
        // The per-message block has no recipient fields; a DSN without one (malformed) still lists recipients.
        let recipientBlocks = blocks.filter {
            $0.value("final-recipient") != nil || $0.value("original-recipient") != nil
        }
        for block in recipientBlocks {
            let final = block.value("final-recipient") ?? block.value("original-recipient")!
            report.recipients.append(
                BounceRecipient(
                    finalRecipient: ReportFieldBlock.untyped(final),
                    originalRecipient: block.value("original-recipient").map(ReportFieldBlock.untyped),
                    action: block.value("action").flatMap { DeliveryAction(rawValue: ByteText.firstToken($0)) },
                    status: block.value("status").map(ReportFieldBlock.statusCode),
                    diagnostic: block.value("diagnostic-code").map(ReportFieldBlock.untyped),
                    remoteMTA: block.value("remote-mta").map(ReportFieldBlock.untyped)))
        }
        return report
    }

    private func feedbackReport(_ part: ParsedAttachment?, rule: String) -> BounceReport {
        var report = BounceReport(kind: .feedbackReport, rule: rule)
        guard let part else { return report }
        var fields = ReportFieldBlock()
        for block in ReportFieldBlock.blocks(part.data) { fields.fields += block.fields }
        let recipients = fields.values("original-rcpt-to").map(ReportFieldBlock.untyped)
        report.feedback = FeedbackReport(
            feedbackType: fields.value("feedback-type").map(ByteText.firstToken) ?? "unknown",
            userAgent: fields.value("user-agent"), version: fields.value("version"),
            originalMailFrom: fields.value("original-mail-from").map(ReportFieldBlock.untyped),
            originalRecipients: recipients,
            arrivalDate: fields.value("arrival-date") ?? fields.value("received-date"),
            sourceIP: fields.value("source-ip"),
            reportingMTA: fields.value("reporting-mta").map(ReportFieldBlock.untyped),
            reportedDomains: fields.values("reported-domain"))
        report.reportingMTA = report.feedback?.reportingMTA
        report.recipients = recipients.map { BounceRecipient(finalRecipient: $0) }
        return report
    }

    private func dispositionNotification(_ part: ParsedAttachment?, rule: String) -> BounceReport {
        var report = BounceReport(kind: .dispositionNotification, rule: rule)
        guard let part else { return report }
        var fields = ReportFieldBlock()
        for block in ReportFieldBlock.blocks(part.data) { fields.fields += block.fields }
        guard let disposition = fields.value("disposition") else { return report }
        var dispositionType: String?
        if let semicolon = disposition.lastIndex(of: ";") {
            // `displayed` or `deleted/error` (a modifier after the slash).
            let type = ByteText.trimmed(disposition[disposition.index(after: semicolon)...])
            dispositionType = ByteText.lowercasedASCII(type.split(separator: "/").first ?? type)
        }
        let final = fields.value("final-recipient").map(ReportFieldBlock.untyped)
        report.disposition = DispositionNotification(
            disposition: disposition, dispositionType: dispositionType, finalRecipient: final,
            originalRecipient: fields.value("original-recipient").map(ReportFieldBlock.untyped),
            originalMessageID: fields.value("original-message-id").flatMap(MessageIDParser.identifier(inText:)),
            reportingUA: fields.value("reporting-ua"))
        if let final { report.recipients = [BounceRecipient(finalRecipient: final, diagnostic: disposition)] }
        return report
    }

    private func nonStandardRule(_ message: ParsedMessage, signals: HeaderSignals, envelope: MailEnvelope) -> String? {
        if !signals.xFailedRecipients.isEmpty { return "x-failed-recipients" }
        // Exchange sends this field with an empty value: its presence is the flag.
        if signals.exchangeIsNDR != nil { return "exchange-ndr-header" }
        if message.from.contains(where: { MailAddressForm.localPart(of: $0.address, is: "mailer-daemon") }) {
            return "mailer-daemon-sender"
        }
        // Cheap sender checks first: the subject prefixes are only compared when one of them holds.
        let nullReturnPath = signals.hasNullReturnPath(envelope)
        let fromPostmaster = message.from.contains { MailAddressForm.localPart(of: $0.address, is: "postmaster") }
        let deliverySystemName = message.from.contains { sender in
            sender.name.map { ByteText.containsIgnoringCase($0, "mail delivery") } ?? false
        }
        if nullReturnPath || fromPostmaster || deliverySystemName, let subject = message.subject,
            hasBounceSubject(subject)
        {
            return "bounce-subject"
        }
        if fromPostmaster, nullReturnPath { return "postmaster-sender" }
        return TextOnlyBounceDetection.rule(message)
    }

    func hasBounceSubject(_ subject: String) -> Bool {
        let trimmedSubject = ByteText.trimmed(subject)
        return subjectPrefixes.contains { ByteText.hasPrefixIgnoringCase(trimmedSubject, $0) }
    }

    /// At most this many `X-Failed-Recipients` addresses are reported (the first ones, duplicates dropped):
    /// any sender can write the field, with as many addresses as its header section holds.
    static let maxFailedRecipients = 1000

    /// Recipients named in `X-Failed-Recipients`, with the diagnostic the body gives for each (Exim prints the
    /// address on its own line followed by the indented server reply).
    ///
    /// Cost: O(field values + body): the body is split into lines once and each line is looked up in the set
    /// of addresses (it was scanned once per address).
    private func failedRecipientsFromHeaders(_ signals: HeaderSignals, body: String) -> [BounceRecipient] {
        var seen: Set<String> = []
        var addresses: [(address: String, key: String)] = []
        collect: for value in signals.xFailedRecipients {
            for item in ByteText.commaSeparated(value) {
                let address = ReportFieldBlock.untyped(String(item))
                let key = ByteText.lowercasedASCII(address)
                guard seen.insert(key).inserted else { continue }
                addresses.append((address, key))
                if addresses.count == Self.maxFailedRecipients { break collect }
            }
        }
        guard !addresses.isEmpty else { return [] }
        let diagnostics = EximStyleBody.diagnostics(for: seen, in: body)
        return addresses.map { entry in
            let diagnostic = diagnostics[entry.key]
            return BounceRecipient(
                finalRecipient: entry.address, action: .failed,
                status: diagnostic.flatMap { EnhancedStatusCode.first(in: $0) }, diagnostic: diagnostic)
        }
    }

    /// The original message's Message-ID, strongest evidence first.
    static func originalMessageID(
        of message: ParsedMessage, reportField: String?
    ) -> (id: String, source: BounceReport.OriginalMessageSource)? {
        if let reportField { return (reportField, .reportField) }
        if let id = message.attachedMessages.lazy.compactMap(\.messageID).first { return (id, .attachedMessage) }
        for attachment in message.attachments where headerPartTypes.contains(attachment.contentType) {
            // A headers-only part parses as a message with an empty body.
            if let id = MessageParser.parse(attachment.data).messageID { return (id, .attachedHeaders) }
        }
        if let id = message.inReplyTo.first { return (id, .inReplyTo) }
        if let id = message.references.last { return (id, .references) }
        if let id = MessageIDParser.firstMessageIDField(inText: message.text) { return (id, .body) }
        return nil
    }
}

/// Exim-style text bounces: the failed address on a line of its own, the server's reply indented below.
enum EximStyleBody {
    /// At most this many lines of server reply are kept per address.
    static let maxDiagnosticLines = 8

    /// The diagnostic for each of `addresses` (lower-cased, as keys of the result): the indented text under
    /// the first line that names the address (bare or as `<address>:`) and has any.
    ///
    /// Cost: O(body) — one pass over its lines, a set lookup per line, and at most `maxDiagnosticLines`
    /// following lines read for each address (each address is looked for until found once).
    static func diagnostics(for addresses: Set<String>, in body: String) -> [String: String] {
        var found: [String: String] = [:]
        let longest = addresses.lazy.map(\.utf8.count).max() ?? 0
        let lines = LineScanner.lines(body)
        for (index, line) in lines.enumerated() {
            let content = ByteText.trimmed(line)
            let bare = content.hasPrefix("<") && content.hasSuffix(">:") ? content.dropFirst().dropLast(2) : content
            guard !bare.isEmpty, bare.utf8.count <= longest else { continue }
            let key = ByteText.lowercasedASCII(bare)
            guard found[key] == nil, addresses.contains(key) else { continue }
            let indent = line.utf8.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.count
            var text: [Substring] = []
            for following in lines[(index + 1)...] {
                let followingIndent = following.utf8.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                    .count
                let trimmedFollowing = ByteText.trimmed(following)
                if trimmedFollowing.isEmpty || (followingIndent <= indent && indent > 0) { break }
                text.append(trimmedFollowing)
                if text.count >= maxDiagnosticLines { break }
            }
            if !text.isEmpty {
                found[key] = text.joined(separator: " ")
                if found.count == addresses.count { break }
            }
        }
        return found
    }
}

/// qmail-style text bounces ("failure notice"): `<address>:` on its own line, then the reason.
enum QmailStyleBody {
    static func recipients(in body: String) -> [BounceRecipient] {
        var recipients: [BounceRecipient] = []
        var current: (address: String, text: [Substring])?
        func finish() {
            guard let found = current else { return }
            let diagnostic = found.text.isEmpty ? nil : found.text.joined(separator: " ")
            recipients.append(
                BounceRecipient(
                    finalRecipient: found.address, action: .failed,
                    status: diagnostic.flatMap { EnhancedStatusCode.first(in: $0) }, diagnostic: diagnostic))
            current = nil
        }
        for rawLine in LineScanner.lines(body) {
            let line = ByteText.trimmed(rawLine)
            if line.hasPrefix("<"), line.hasSuffix(">:"), line.utf8.contains(0x40), !line.utf8.contains(0x20) {
                finish()
                current = (String(line.dropFirst().dropLast(2)), [])
            } else if line.isEmpty || line.hasPrefix("---") {
                finish()
                if line.hasPrefix("---") { break }
            } else if current != nil, current!.text.count < 8 {
                current!.text.append(line)
            }
        }
        finish()
        return recipients
    }
}
