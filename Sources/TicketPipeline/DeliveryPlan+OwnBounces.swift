import Foundation
import MailClassification
import MailParser

extension DeliveryPlan {
    /// Our own mail bounced: the original's Message-ID is one we signed, or (a bounce quoting no Message-ID) its
    /// envelope is ours, a null-sender DSN to us for a recipient we sent to in the last 7 days. Its failed
    /// recipients (at most 50) are flagged as bouncing, with the report's status and diagnostic, and the outbound
    /// worker suppresses further mail to them. A bounce quoting someone else's Message-ID is not about our mail.
    /// O(r) in the failed recipients, one indexed query each at most.
    func flagOwnBounceRecipients(_ report: BounceReport, in transaction: any TicketStoreTransaction) throws {
        let signedOriginal = report.originalMessageID.map { signer?.ticket(fromMessageID: $0) != nil }
        for recipient in report.failedRecipients.prefix(50) {
            let address = MailAddressForm.normalized(recipient.finalRecipient)
            guard
                try signedOriginal
                    ?? (message.sender.isEmpty
                        && transaction.outboundMailSent(to: address, since: message.receivedAt - 7 * 86_400))
            else { continue }
            let words = [recipient.status, recipient.diagnostic].compactMap { $0 }.joined(separator: " ")
            try transaction.markBouncing(
                address: address, reason: words.isEmpty ? report.summary : words, at: message.receivedAt)
        }
    }
}
