import Foundation
import Logging
import SMTPProtocol
import SMTPTransport
import TicketPipeline

/// Connects the SMTP/LMTP server to the ticket pipeline: recipients are checked against the queues at RCPT, and
/// each message is committed before its per-recipient replies are sent.
struct TicketIntakeBackend: SMTPBackend {
    let intake: TicketIntake
    let router: QueueRouter
    let logger: Logger

    func validateRecipient(_ address: String, session: SMTPSessionInfo) -> SMTPReply? {
        guard router.queue(for: address) == nil else { return nil }
        return SMTPReply(
            code: 550, enhancedStatus: "5.1.1", "<\(address)>: Recipient address rejected: no queue receives it")
    }

    func deliver(_ delivery: SMTPDelivery) async -> [SMTPReply] {
        let started = ContinuousClock.now
        let message = InboundMessage(
            sender: delivery.sender, recipients: delivery.recipients, raw: delivery.data,
            source: delivery.session.dialect == .lmtp ? .lmtp : .smtp, receivedAt: Date(),
            sessionID: delivery.session.sessionID)
        let outcomes = await intake.process(message)
        let replies = outcomes.map(Self.reply(for:))
        logTransaction(delivery, outcomes: outcomes, duration: ContinuousClock.now - started)
        return replies
    }

    static func reply(for outcome: RecipientOutcome) -> SMTPReply {
        switch outcome.result {
        case .created(let ticket):
            return SMTPReply(code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: ticket #\(ticket) created")
        case .appended(let ticket):
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: added to ticket #\(ticket)")
        case .duplicate(let ticket):
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0",
                "<\(outcome.recipient)> Ok: already stored in ticket #\(ticket), not stored again")
        case .unknownRecipient:
            return SMTPReply(
                code: 550, enhancedStatus: "5.1.1",
                "<\(outcome.recipient)>: Recipient address rejected: no queue receives it")
        case .temporaryFailure:
            // Our own fault: always a 4xx, so the MTA keeps the message and retries.
            return SMTPReply(
                code: 451, enhancedStatus: "4.3.0",
                "<\(outcome.recipient)> Temporary failure storing the message, try again later")
        }
    }

    /// One line per transaction: never bodies, never secrets.
    private func logTransaction(_ delivery: SMTPDelivery, outcomes: [RecipientOutcome], duration: Duration) {
        let recipients = outcomes.map { outcome -> String in
            let verdict: String
            switch outcome.result {
            case .created(let ticket): verdict = "created #\(ticket)"
            case .appended(let ticket): verdict = "appended #\(ticket)"
            case .duplicate(let ticket): verdict = "duplicate #\(ticket)"
            case .unknownRecipient: verdict = "unknown recipient"
            case .temporaryFailure(let reason): verdict = "deferred (\(reason))"
            }
            return "<\(outcome.recipient)> \(outcome.queue.map { "queue=\($0) " } ?? "")\(verdict)"
        }
        let failed = outcomes.contains {
            if case .temporaryFailure = $0.result { return true }
            return false
        }
        let milliseconds = Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1e3
        var metadata: Logger.Metadata = [
            "session": "\(delivery.session.sessionID)",
            "from": "<\(delivery.sender)>",
            "rcpt": "\(recipients.joined(separator: ", "))",
            "size": "\(delivery.data.count)",
            "ms": "\(String(format: "%.2f", milliseconds))",
        ]
        if let queueID = Self.postfixQueueID(in: delivery.data) { metadata["queue_id"] = "\(queueID)" }
        logger.log(level: failed ? .warning : .info, "transaction", metadata: metadata)
    }

    /// The Postfix queue id from the topmost `Received: ... (Postfix) with ESMTP id XXXX` header, so an operator
    /// can match our log line with Postfix's. Only the first header block's first kilobytes are looked at.
    static func postfixQueueID(in data: [UInt8]) -> Substring? {
        var head = String(decoding: data.prefix(2048), as: UTF8.self)
        if let endOfHeader = head.range(of: "\r\n\r\n") { head = String(head[..<endOfHeader.lowerBound]) }
        guard let postfix = head.range(of: "(Postfix) with "),
            let id = head.range(of: " id ", range: postfix.upperBound..<head.endIndex)
        else { return nil }
        let queueID = head[id.upperBound...].prefix { $0.isLetter || $0.isNumber }
        return queueID.isEmpty ? nil : queueID
    }
}
