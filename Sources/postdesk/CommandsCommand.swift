import ArgumentParser
import Foundation
import MailParser
import TicketStoreSQLite

/// `postdesk commands`: the audit trail of mail that commands (applied, refused, invalid, and why).
struct CommandsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands",
        abstract: "Commands mail carried (alerts, XML, CreateSR, @VAR@): applied, refused or invalid, and why.")

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print a JSON array.") var json = false
    @Option(help: "At most this many commands.") var limit = 50
    @Option(help: "Skip this many of the newest commands.") var offset = 0
    @Option(help: "Only the commands from this address.") var sender: String?

    func run() async throws {
        let store = try await openStore(options)
        let records = try await store.mailCommandRecords(
            limit: limit, offset: offset, sender: sender.map { MailAddressForm.normalized($0) })
        if json { return try printJSON(records) }
        printTable(
            header: ["ID", "RECEIVED", "SENDER", "KIND", "OPERATION", "TICKET", "OUTCOME", "DETAIL"],
            rows: records.map { record in
                [
                    "\(record.id)", isoDate(record.receivedAt), record.sender.isEmpty ? "<>" : record.sender,
                    record.kind, record.operation, record.ticketNumber.map { "#\($0)" } ?? "",
                    record.outcome.rawValue, record.detail,
                ]
            }, empty: "(no commands)")
    }
}
