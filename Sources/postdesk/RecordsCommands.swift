import ArgumentParser
import Foundation
import Logging
import MailParser
import PostdeskDaemon
import TicketPipeline
import TicketStoreSQLite

/// `postdesk messages`: what happened to every message, accepted or not.
struct MessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages", abstract: "The record of every message: classification, outcome, ticket, reasons.",
        subcommands: [List.self, Show.self, Counts.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Message records, newest first.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON array.") var json = false
        @Option(help: "At most this many records.") var limit = 50
        @Option(help: "Skip this many of the newest records.") var offset = 0

        func run() async throws {
            let store = try await openStore(options)
            let records = try await store.messageRecords(limit: limit, offset: offset)
            if json { return try printJSON(records) }
            printTable(
                header: ["ID", "RECEIVED", "SOURCE", "CLASS", "OUTCOME", "TICKET", "FROM", "SUBJECT"],
                rows: records.map { record in
                    [
                        "\(record.id)", isoDate(record.receivedAt), record.source.rawValue, record.classification,
                        record.disposition.rawValue, record.ticketNumber.map { "#\($0)" } ?? "",
                        record.fromAddress ?? "<\(record.envelopeSender)>", record.subject ?? "",
                    ]
                }, empty: "(no messages)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One message record with every decision.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON object.") var json = false
        @Argument(help: "The record id.") var id: Int64

        func run() async throws {
            let store = try await openStore(options)
            guard let record = try await store.messageRecord(id: id) else {
                printError("no message record \(id)")
                throw ExitCode(1)
            }
            if json { return try printJSON(record) }
            printEscaped("Message \(record.id): \(record.classification) → \(record.disposition.rawValue)")
            if let ticket = record.ticketNumber { printEscaped("Ticket: #\(ticket)") }
            printEscaped("Received: \(isoDate(record.receivedAt)) via \(record.source.rawValue)")
            printEscaped("Envelope: <\(record.envelopeSender)> → \(record.envelopeRecipients.joined(separator: ", "))")
            printEscaped("Queues: \(record.queues.joined(separator: ", "))")
            printEscaped("Message-ID: \(record.messageID.map { "<\($0)>" } ?? "(none)")")
            printEscaped("From: \(record.fromAddress ?? "(none)")  Subject: \(record.subject ?? "(none)")")
            if record.rawSHA256.isEmpty {
                // Ordinary mail: its raw bytes are stored with the ticket, which shows their hash.
                printEscaped(
                    "Raw: \(record.rawSize) bytes, stored with the ticket (postdesk tickets show gives its SHA-256)")
            } else {
                printEscaped("Raw: \(record.rawSize) bytes, SHA-256 \(record.rawSHA256)")
            }
            printEscaped("Decisions:")
            for decision in record.decisions { printEscaped("  \(decision)") }
        }
    }

    struct Counts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How many messages had each outcome.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON object.") var json = false

        func run() async throws {
            let store = try await openStore(options)
            let counts = try await store.dispositionCounts()
            let all = Dictionary(
                uniqueKeysWithValues: MessageDisposition.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
            if json { return try printJSON(all) }
            for disposition in MessageDisposition.allCases {
                printEscaped("\(disposition.rawValue): \(counts[disposition] ?? 0)")
            }
        }
    }
}

/// `postdesk bounces`: bounce records; `--unmatched` is the bounce list.
struct BouncesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounces", abstract: "Bounces and reports: failed recipients, status, diagnostic, ticket.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Only bounces whose original message is not ours (the bounce list).") var unmatched = false
    @Flag(help: "Print a JSON array.") var json = false
    @Option(help: "At most this many records.") var limit = 50

    func run() async throws {
        let store = try await openStore(options)
        let bounces = try await store.bounceRecords(unmatchedOnly: unmatched, limit: limit)
        if json { return try printJSON(bounces) }
        printTable(
            header: ["ID", "RECEIVED", "KIND", "TICKET", "RECIPIENT", "STATUS", "DIAGNOSTIC"],
            rows: bounces.map { bounce in
                [
                    "\(bounce.id)", isoDate(bounce.receivedAt), bounce.kind,
                    bounce.ticketNumber.map { "#\($0)" } ?? "-", bounce.recipient ?? "", bounce.status ?? "",
                    bounce.diagnostic ?? "",
                ]
            }, empty: "(no bounces)")
    }
}

/// `postdesk quarantine`: messages the pipeline failed on, kept with their raw bytes, and their replay.
struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Messages the pipeline failed on: list, show, replay.",
        subcommands: [List.self, Show.self, Replay.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Quarantined messages, newest first.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON array.") var json = false
        @Option(help: "At most this many entries.") var limit = 50

        func run() async throws {
            let store = try await openStore(options)
            let entries = try await store.quarantinedMessages(limit: limit, offset: 0)
            if json { return try printJSON(entries) }
            printTable(
                header: ["ID", "RECEIVED", "FROM", "SIZE", "REPLAYED", "ERROR"],
                rows: entries.map { entry in
                    [
                        "\(entry.id)", isoDate(entry.receivedAt), "<\(entry.envelopeSender)>", "\(entry.size)",
                        entry.replayedAt.map { isoDate($0) + " " + (entry.replayResult ?? "") } ?? "no", entry.error,
                    ]
                }, empty: "(quarantine is empty)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One quarantined message, with its raw bytes.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON object (raw bytes as an array).") var json = false
        @Flag(help: "Print only the raw message.") var raw = false
        @Argument(help: "The quarantine id.") var id: Int64

        func run() async throws {
            let store = try await openStore(options)
            guard let entry = try await store.quarantinedMessage(id: id) else {
                printError("no quarantine entry \(id)")
                throw ExitCode(1)
            }
            if json { return try printJSON(entry) }
            if raw {
                FileHandle.standardOutput.write(Data(entry.raw))
                return
            }
            printEscaped("Quarantine \(entry.id), received \(isoDate(entry.receivedAt)) via \(entry.source.rawValue)")
            printEscaped("Envelope: <\(entry.envelopeSender)> → \(entry.envelopeRecipients.joined(separator: ", "))")
            printEscaped("Error: \(entry.error)")
            printEscaped(
                "Replayed: \(entry.replayedAt.map { isoDate($0) + " — " + (entry.replayResult ?? "") } ?? "no")")
            printEscaped("")
            printEscaped(String(decoding: entry.raw.prefix(64 * 1024), as: UTF8.self), layout: .multiLine)
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run quarantined messages through the pipeline again (each is stored once).")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Replay every entry not replayed yet.") var all = false
        @Argument(help: "The quarantine id.") var id: Int64?

        func validate() throws {
            if all == (id != nil) { throw ValidationError("give either a quarantine id or --all") }
        }

        func run() async throws {
            let configuration = try await options.loadConfiguration()
            let logger = Logger(label: "postdesk.replay")
            let store = try SQLiteTicketStore(path: configuration.storePath, logger: logger)
            defer { try? store.close() }
            let intake = try configuration.makeIntake(store: store, logger: logger)
            var ids: [Int64] = []
            if let id {
                ids = [id]
            } else {
                var offset = 0
                while true {
                    let page = try await store.quarantinedMessages(limit: 500, offset: offset)
                    ids += page.filter { $0.replayedAt == nil }.map(\.id)
                    if page.count < 500 { break }
                    offset += page.count
                }
                ids.reverse()
            }
            var failures = 0
            for id in ids {
                switch try await intake.replay(quarantineID: id) {
                case .replayed(let outcomes):
                    let text = outcomes.map { "\($0.recipient): \(describe($0.result))" }.joined(separator: ", ")
                    printEscaped("\(id): replayed — \(text)")
                case .alreadyReplayed(let result):
                    printEscaped("\(id): already replayed — \(result)")
                case .failed(let reason):
                    failures += 1
                    printEscaped("\(id): failed again, still in quarantine — \(reason)")
                case .notFound:
                    failures += 1
                    printError("no quarantine entry \(id)")
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }

        private func describe(_ result: RecipientOutcome.Result) -> String {
            switch result {
            case .created(let ticket): "created #\(ticket)"
            case .appended(let ticket): "appended to #\(ticket)"
            case .duplicate(let ticket): "already stored in #\(ticket)"
            case .noted(let ticket): "noted on #\(ticket)"
            case .recorded(let disposition): "recorded (\(disposition.rawValue))"
            case .quarantined(let id): "quarantined again (\(id))"
            case .unknownRecipient: "no queue receives it"
            case .temporaryFailure(let reason): "store failure: \(reason)"
            case .abandoned(let why): "not stored: \(why)"
            }
        }
    }
}
