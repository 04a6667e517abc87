import ArgumentParser
import Foundation
import TicketStoreSQLite

/// `postdesk outbound`: the mail Postdesk sends (acknowledgements, notifications, agent replies) and what came of
/// each: sent, pending (with the last temporary failure), failed, or suppressed because the address bounces.
struct OutboundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbound", abstract: "Outbound mail, newest first: sent, pending, failed or suppressed.")
    @OptionGroup var options: ConfigOptions
    @Option(help: "Only mail in this state: pending, sent, failed or suppressed.") var state: String?
    @Flag(help: "Print a JSON array.") var json = false
    @Option(help: "At most this many mails.") var limit = 50

    func validate() throws {
        if let state, !["pending", "sent", "failed", "suppressed"].contains(state) {
            throw ValidationError("--state is pending, sent, failed or suppressed")
        }
    }

    func run() async throws {
        let store = try await openStore(options)
        let mails = try await store.outboundMailRecords(state: state, limit: limit)
        if json { return try printJSON(mails) }
        printTable(
            header: ["ID", "CREATED", "KIND", "TICKET", "TO", "STATE", "TRIES", "RESULT"],
            rows: mails.map { mail in
                [
                    "\(mail.id)", isoDate(mail.createdAt), mail.kind, "#\(mail.ticketNumber)", mail.recipient,
                    mail.state, "\(mail.attempts)", mail.lastResult ?? "",
                ]
            }, empty: "(no outbound mail)")
    }
}
