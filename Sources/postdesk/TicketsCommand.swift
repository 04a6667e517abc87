import ArgumentParser
import Foundation
import Logging
import MailParser
import PostdeskDaemon
import TicketPipeline
import TicketStoreSQLite

struct TicketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickets", abstract: "Look at the tickets in the store.",
        subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tickets, newest first.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON array.") var json = false
        @Option(help: "At most this many tickets.") var limit = 50
        @Option(help: "Skip this many of the newest tickets.") var offset = 0

        func run() async throws {
            let store = try await openStore(options)
            let tickets = try await store.listTickets(limit: limit, offset: offset)
            if json { return try printJSON(tickets) }
            let rows = tickets.map { ticket in
                [
                    "\(ticket.number)", ticket.queue, ticket.status, "\(ticket.articleCount)",
                    ticket.requester ?? "", isoDate(ticket.updatedAt), ticket.subject,
                ]
            }
            printTable(header: ["#", "QUEUE", "STATUS", "ARTICLES", "REQUESTER", "UPDATED", "SUBJECT"], rows: rows)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One ticket with its articles.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON object.") var json = false
        @Argument(help: "The ticket number.") var number: Int

        func run() async throws {
            let store = try await openStore(options)
            guard let ticket = try await store.ticket(number: number) else {
                printError("no ticket #\(number)")
                throw ExitCode(1)
            }
            if json { return try printJSON(ticket) }
            printEscaped("Ticket #\(ticket.number) [\(ticket.queue)] \(ticket.status): \(ticket.subject)")
            printEscaped("Requester: \(ticket.requester.map(format) ?? "(unknown)")  Source: \(ticket.source.rawValue)")
            printEscaped("Created \(isoDate(ticket.createdAt)), updated \(isoDate(ticket.updatedAt))")
            if let account = ticket.account { printEscaped("Account: \(account)") }
            for field in ticket.fields { printEscaped("Field \(field.name) (\(field.kind.rawValue)): \(field.value)") }
            for (index, article) in ticket.articles.enumerated() {
                printEscaped("")
                printEscaped("--- Article \(index + 1) (\(article.direction.rawValue), \(isoDate(article.receivedAt)))")
                printEscaped("From: \(article.from.map(format) ?? "<\(article.envelopeSender)>")")
                if !article.to.isEmpty { printEscaped("To: \(article.to.map(format).joined(separator: ", "))") }
                if !article.cc.isEmpty { printEscaped("Cc: \(article.cc.map(format).joined(separator: ", "))") }
                printEscaped("Subject: \(article.subject)")
                printEscaped("Message-ID: \(article.messageID.map { "<\($0)>" } ?? "(none)")")
                for attachment in article.attachments {
                    printEscaped(
                        "Attachment: \(attachment.filename ?? "(unnamed)") \(attachment.contentType) \(attachment.size) bytes"
                    )
                }
                printEscaped("")
                if article.strippedText != article.text {
                    // What is new in this reply first; the whole text, history and signature included, after it.
                    printEscaped(article.strippedText, layout: .multiLine)
                    printEscaped("")
                    printEscaped("(whole text, with quoted history and signature:)")
                }
                printEscaped(article.text, layout: .multiLine)
            }
            if !ticket.activities.isEmpty {
                printEscaped("")
                printEscaped("--- Activities")
                for activity in ticket.activities {
                    printEscaped("\(isoDate(activity.createdAt)) [\(activity.kind)] \(activity.text)")
                }
            }
        }
    }
}

/// The store, read-only, for a command that only reads: it never creates, migrates or writes a file. A missing
/// store exits 66 (EX_NOINPUT), a schema this build does not match 65 (EX_DATAERR), an unreadable one 74 (EX_IOERR).
func openStore(_ options: ConfigOptions) async throws -> SQLiteTicketReader {
    let configuration = try await options.loadConfiguration()
    do {
        return try SQLiteTicketReader(path: configuration.storePath)
    } catch {
        printError("\(error)")
        switch error.kind {
        case .missing: throw ExitCode(66)
        case .olderSchema, .newerSchema: throw ExitCode(65)
        case .unreadable: throw ExitCode(74)
        }
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

func isoDate(_ date: Date) -> String {
    date.formatted(.iso8601)
}

private func format(_ address: MailAddress) -> String {
    address.name.map { "\($0) <\(address.address)>" } ?? address.address
}

/// Prints text from the store or from mail for a person: control characters escaped (see `TerminalText`).
func printEscaped(_ text: String, layout: TerminalText.Layout = .singleLine) {
    print(TerminalText.escaped(text, layout: layout))
}

/// A table whose cells (subjects, names, diagnostics from mail) are escaped before they are measured.
func printTable(header: [String], rows: [[String]], empty: String = "(no tickets)") {
    let all = [header] + rows.map { $0.map { TerminalText.escaped($0) } }
    let widths = header.indices.map { column in
        min(all.map { $0[column].count }.max() ?? 0, column == header.count - 1 ? 200 : 40)
    }
    for row in all {
        let cells = row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }
        print(cells.joined(separator: "  "))
    }
    if rows.isEmpty { print(empty) }
}
