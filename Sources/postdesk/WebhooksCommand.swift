import ArgumentParser
import Foundation
import Logging
import PostdeskDaemon
import TicketPipeline
import TicketStoreSQLite

/// `postdesk webhooks`: deliveries that failed for good (dead letters), and sending them again.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Webhook deliveries that failed for good: list them, send them again.",
        subcommands: [Failed.self, Redeliver.self])

    struct Failed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dead letters: events an endpoint did not accept before the retries ran out, with the last error."
        )
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON array.") var json = false
        @Option(help: "At most this many deliveries.") var limit = 100

        func run() async throws {
            let store = try await openStore(options)
            let failed = try await store.webhookDeliveries(state: .failed, limit: limit)
            if json { return try printJSON(failed) }
            printTable(
                header: ["EVENT", "TYPE", "TICKET", "ENDPOINT", "ATTEMPTS", "LAST ATTEMPT", "LAST ERROR"],
                rows: failed.map { delivery in
                    [
                        delivery.eventID, delivery.type, delivery.ticketNumber.map { "#\($0)" } ?? "-",
                        delivery.endpoint, "\(delivery.attempts)", delivery.lastAttemptAt.map(isoDate) ?? "-",
                        delivery.lastError ?? "",
                    ]
                }, empty: "(no failed webhook deliveries)")
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make failed deliveries pending again: the running daemon sends them within a second.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Every failed delivery.") var allFailed = false
        @Argument(help: "The event id (evt_…), as `webhooks failed` lists it.") var id: String?

        func validate() throws {
            if allFailed == (id != nil) { throw ValidationError("give either an event id or --all-failed") }
        }

        func run() async throws {
            let configuration = try await options.loadConfiguration()
            let store = try SQLiteTicketStore(
                path: configuration.storePath, logger: Logger(label: "postdesk.webhooks"))
            defer { try? store.close() }
            let count = try await store.redeliverWebhooks(eventID: id)
            if count == 0 {
                printError(id.map { "no failed delivery of event \($0)" } ?? "no failed deliveries")
                throw ExitCode(1)
            }
            printEscaped("\(count) deliver\(count == 1 ? "y" : "ies") pending again")
        }
    }
}
