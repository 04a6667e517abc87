import MailCommands
import MailParser

/// How a command or an alert adjusts the regular path of a message (`DeliveryPlan.commitTicket`): which ticket
/// it goes to, who the requester is, and what the new ticket carries. The defaults are ordinary mail's.
struct TicketOptions: Sendable {
    /// Where the message goes.
    enum Target: Sendable {
        /// Threading decides (ordinary mail).
        case threaded
        /// Always a new ticket.
        case new
        /// This ticket, for the reason given (a command naming it, a repeated alert).
        case existing(Int, reason: String)
    }

    var target = Target.threaded
    /// The requester of a new ticket, instead of the one the queue's policy chooses.
    var requester: MailAddress?
    /// The account (customer) a new ticket is about.
    var account: String?
    /// Typed fields set on the ticket.
    var fields: [TicketField] = []
    /// The type of a new ticket, instead of the queue's default.
    var type: String?
    /// Activities written on the resulting ticket.
    var activities: [(kind: String, text: String)] = []
    /// Whether a new ticket is acknowledged under the queue's rule (not when a command's confirmation answers).
    var acknowledges = true
}
