import MailCommands
import MailParser
import MessageSpool
import XMLTransactions

/// The command a message carries for one queue, found before the store's writer runs (`MailCommandPlanner`);
/// carried out, authorised and recorded inside the commit (`DeliveryPlan.commitCommand`).
enum PlannedCommand: Sendable {
    /// A monitoring system's alert: a ticket carrying the account, or threaded onto the account's open one.
    case alert(rule: String, account: String?, reason: String)
    /// An alert a skip rule matched: forwarded to `forwardTo`, no ticket.
    case skippedAlert(rule: String, forwardTo: String, reason: String)
    /// An XML transaction, or why it could not be read.
    case xml(Result<XMLTransaction, XMLTransactionError>)
    /// A `CreateSR` block.
    case structuredRequest(StructuredRequestResult)
    /// `@VAR@='value'` commands.
    case variableCommand(VariableCommandResult)

    /// The kind recorded in `mail_commands` and in the message record's decisions.
    var kind: String {
        switch self {
        case .alert, .skippedAlert: "alert"
        case .xml: "xml"
        case .structuredRequest: "structured-request"
        case .variableCommand: "variable-command"
        }
    }
}

/// Finds the command a message carries under a queue's `MailCommandPolicy`, in the seeds' precedence (alert
/// rules, XML API, structured requests, variable commands). Pure: runs in the plan, outside the store's writer.
/// A message without any command costs one scan of its text per syntax the queue turned on, each O(n) in the
/// text's bytes, plus, with alert rules, one scan of the subject per rule phrase.
enum MailCommandPlanner {
    /// The command of `parsed` for a queue with `policy`, or nil for ordinary mail. `automated`: the classifier
    /// found the message automated; such mail may be an alert but never a command.
    static func plan(
        _ parsed: ParsedMessage, raw: RawMessage, sender: String, policy: MailCommandPolicy, automated: Bool
    ) -> PlannedCommand? {
        if let alerts = policy.alerts {
            switch alerts.rules.evaluate(sender: sender, subject: parsed.subject ?? "") {
            case .skip(let rule, let forwardTo, let reason)?:
                return .skippedAlert(rule: rule, forwardTo: forwardTo, reason: reason)
            case .alert(let rule, let account, let reason)?:
                return .alert(rule: rule, account: account, reason: reason)
            case nil:
                break
            }
        }
        if automated { return nil }
        if let xml = policy.xml, let document = xmlDocument(in: parsed, raw: raw, limit: xml.limits.maxBytes) {
            do throws(XMLTransactionError) {
                return .xml(.success(try XMLTransactionParser(limits: xml.limits).parse(document)))
            } catch {
                return .xml(.failure(error))
            }
        }
        // Commands are read from the new part of a reply only: quoted history (with `>` or Outlook's header block)
        // may hold an earlier command, which must not run again.
        if let requests = policy.structuredRequests,
            let result = requests.parser.parse(parsed.strippedText, sender: sender)
        {
            return .structuredRequest(result)
        }
        if policy.variableCommands, let result = VariableCommandParser().parse(parsed.strippedText) {
            return .variableCommand(result)
        }
        return nil
    }

    /// The XML transaction a message carries: an attachment of type `application/xml` or `text/xml` (or named
    /// `*.xml`), as its transfer-decoded bytes (their XML declaration names their encoding), else a text body
    /// that is a transaction. A deferred (large) attachment is decoded up to `limit` + 1 bytes, enough for the
    /// parser to refuse it by size. O(attachments + min(attachment, limit)); ordinary text costs
    /// `mayBeTransaction`'s look at its first 4 KiB.
    static func xmlDocument(in parsed: ParsedMessage, raw: RawMessage, limit: Int) -> [UInt8]? {
        for attachment in parsed.attachments {
            let type = attachment.contentType.lowercased()
            let named = attachment.filename?.lowercased().hasSuffix(".xml") ?? false
            guard type == "application/xml" || type == "text/xml" || named else { continue }
            guard let deferred = attachment.deferred else { return attachment.data }
            var bytes: [UInt8] = []
            struct Enough: Error {}
            try? raw.withUnsafeBytes { message in
                try deferred.decode(from: message, chunkSize: 64 << 10) { chunk in
                    bytes.append(contentsOf: chunk.prefix(limit + 1 - bytes.count))
                    if bytes.count > limit { throw Enough() }
                }
            }
            return bytes
        }
        // The text body was decoded from its MIME charset already: its XML declaration's encoding no longer
        // applies, so the declaration is dropped and the document read as the UTF-8 it now is.
        var text = parsed.text.drop(while: { $0.isWhitespace })
        if text.hasPrefix("<?xml"), let end = text.prefix(512).range(of: "?>") { text = text[end.upperBound...] }
        return XMLTransactionParser.mayBeTransaction(text.utf8) ? Array(text.utf8) : nil
    }
}
