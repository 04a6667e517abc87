import Foundation
import Logging
import MessageSpool
import SMTPProtocol
import SMTPTransport
import TicketPipeline

/// The SMTP/LMTP server's side of the intake contract: a recipient is routed once, at RCPT, and its queue
/// travels with the delivery; the message goes through `SupervisedIntake` like every other source, and each
/// recipient's outcome becomes its reply.
struct TicketIntakeBackend: SMTPBackend {
    let intake: SupervisedIntake
    let router: QueueRouter
    /// Named in the reply when a message is given up at shutdown.
    let hostname: String

    func validateRecipient(_ address: String, session: SMTPSessionInfo) -> SMTPRecipientCheck {
        guard let queue = router.queue(for: address) else {
            return .refuse(
                SMTPReply(
                    code: 550, enhancedStatus: "5.1.1", "<\(address)>: Recipient address rejected: no queue receives it"
                ))
        }
        return .accept(route: queue.name)
    }

    func deliver(
        _ delivery: SMTPDelivery, message raw: RawMessage, completion: @escaping @Sendable ([SMTPReply]) -> Void
    ) {
        let dialect = delivery.session.dialect
        let message = InboundMessage(
            sender: delivery.sender, recipients: delivery.recipients.map(\.address), raw: raw,
            source: dialect == .lmtp ? .lmtp : .smtp, routing: .resolved(delivery.recipients.map(\.route)),
            receivedAt: Date(), sessionID: delivery.session.sessionID)
        intake.submit(message) { [hostname] outcomes in
            completion(outcomes.map { Self.reply(for: $0, dialect: dialect, hostname: hostname) })
        }
    }

    /// The reply for one recipient. LMTP (Postfix, our own MTA) hears what happened — ticket numbers, "already
    /// stored" — and logs it; an SMTP client may be anyone, so every success gets the same plain `250 Ok`, which
    /// tells a stranger neither ticket numbers nor whether a message was seen before.
    static func reply(for outcome: RecipientOutcome, dialect: SMTPDialect, hostname: String) -> SMTPReply {
        if dialect != .lmtp, outcome.isStored {
            return SMTPReply(code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok")
        }
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
        case .noted(let ticket):
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: noted on ticket #\(ticket)")
        case .recorded(let disposition):
            // Own mail, loops, ignored or automated mail, bounces: on record, deliberately no ticket.
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: recorded (\(disposition.rawValue))")
        case .quarantined(let id):
            // It is safe with us: an operator replays it; a retry by the MTA would only fail the same way.
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: held for review (quarantine \(id))")
        case .unknownRecipient:
            return SMTPReply(
                code: 550, enhancedStatus: "5.1.1",
                "<\(outcome.recipient)>: Recipient address rejected: no queue receives it")
        case .temporaryFailure:
            // Our own fault: always a 4xx, so the MTA keeps the message and retries.
            return SMTPReply(
                code: 451, enhancedStatus: "4.3.0",
                "<\(outcome.recipient)> Temporary failure storing the message, try again later")
        case .abandoned(.processingDeadline(let seconds)):
            return SMTPReply(
                code: 451, enhancedStatus: "4.3.0",
                "Processing took longer than \(seconds) s; the message will be held for review when it comes back")
        case .abandoned(.shuttingDown):
            return SMTPReply(
                code: 421, enhancedStatus: "4.3.2",
                "\(hostname) Service shutting down; the message was not stored, try again later")
        }
    }
}

extension RecipientOutcome {
    /// The message is safe with us (a ticket, a record, or quarantine): the reply is 250.
    fileprivate var isStored: Bool {
        switch result {
        case .created, .appended, .duplicate, .noted, .recorded, .quarantined: true
        case .unknownRecipient, .temporaryFailure, .abandoned: false
        }
    }
}
