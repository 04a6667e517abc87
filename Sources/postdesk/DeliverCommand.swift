import ArgumentParser
import Foundation
import Logging
import MessageSpool
import PostdeskDaemon
import TicketPipeline
import TicketStoreSQLite

/// `postdesk deliver`: one message from standard input into the ticket pipeline, for MTAs that hand mail to a
/// command (Postfix `pipe(8)`, procmail, fetchmail's `--mda`) instead of LMTP.
///
/// Exit statuses follow sysexits(3), which `pipe(8)` maps to delivery outcomes: 0 stored (or already stored),
/// 67 EX_NOUSER an unknown recipient (bounced), 65 EX_DATAERR a message over `limits.max_message_size`
/// (bounced), 75 EX_TEMPFAIL the store failed (deferred and retried), 78 EX_CONFIG a bad configuration.
struct DeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Store one message read from standard input (for Postfix pipe(8) and other MDAs).")

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Envelope sender (empty for the null sender <>).")
    var sender: String = ""

    @Option(name: .long, parsing: .upToNextOption, help: "Envelope recipients; each must belong to a queue.")
    var recipient: [String]

    func validate() throws {
        if recipient.isEmpty { throw ValidationError("name at least one --recipient") }
    }

    func run() async throws {
        let configuration = try await options.loadConfiguration()
        var logger = Logger(label: "postdesk.deliver")
        logger.logLevel = configuration.logLevel

        let raw: RawMessage
        switch readStandardInput(
            limit: configuration.maxMessageSize, spoolThreshold: configuration.spoolThreshold,
            spoolDirectory: configuration.spoolDirectory)
        {
        case .message(let message):
            raw = message
        case .tooLarge:
            printError("message larger than limits.max_message_size (\(configuration.maxMessageSize) bytes)")
            throw ExitCode(65)
        case .unreadable(let reason):
            printError("cannot read the message from standard input: \(reason)")
            throw ExitCode(75)
        }

        let store: SQLiteTicketStore
        do {
            store = try SQLiteTicketStore(path: configuration.storePath, logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(75)
        }
        defer { try? store.close() }
        let intake: TicketIntake
        do {
            intake = try configuration.makeIntake(store: store, logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(78)
        }
        let outcomes = await intake.process(
            InboundMessage(sender: sender, recipients: recipient, raw: raw, source: .deliver))

        var status: Int32 = 0
        for outcome in outcomes {
            switch outcome.result {
            case .created(let ticket): print("\(outcome.recipient): created ticket #\(ticket)")
            case .appended(let ticket): print("\(outcome.recipient): added to ticket #\(ticket)")
            case .duplicate(let ticket): print("\(outcome.recipient): already stored in ticket #\(ticket)")
            case .noted(let ticket): print("\(outcome.recipient): added to ticket #\(ticket) as a note")
            case .recorded(let disposition):
                print("\(outcome.recipient): no ticket (\(disposition.rawValue)); see postdesk messages list")
            case .quarantined(let id): print("\(outcome.recipient): quarantined as #\(id); see postdesk quarantine")
            case .unknownRecipient:
                printError("\(outcome.recipient): no queue receives this address")
                if status == 0 { status = 67 }
            case .temporaryFailure(let reason):
                printError("\(outcome.recipient): not stored, try again later: \(reason)")
                status = 75
            case .abandoned(let why):
                printError("\(outcome.recipient): not stored, try again later: \(why)")
                status = 75
            }
        }
        if status != 0 { throw ExitCode(status) }
    }
}

private enum StandardInput {
    case message(RawMessage)
    case tooLarge
    case unreadable(String)
}

/// Reads standard input to its end, refusing (without holding it all) a message over `limit` bytes. Past
/// `spoolThreshold` bytes the message goes to a spool file, as over LMTP, so memory stays bounded.
private func readStandardInput(limit: Int, spoolThreshold: Int, spoolDirectory: String) -> StandardInput {
    var bytes: [UInt8] = []
    var spool: SpoolFileWriter?
    var total = 0
    var chunk = [UInt8](repeating: 0, count: 65_536)
    do {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count == 0 {
                guard let spool else { return .message(RawMessage(bytes)) }
                try spool.append(bytes)
                return .message(try spool.finish())
            }
            if count < 0 {
                if errno == EINTR { continue }
                return .unreadable(String(cString: strerror(errno)))
            }
            total += count
            if total > limit { return .tooLarge }
            bytes.append(contentsOf: chunk[..<count])
            if bytes.count >= spoolThreshold {
                if spool == nil {
                    try SpoolDirectory.prepare(spoolDirectory)
                    spool = try SpoolFileWriter(directory: spoolDirectory)
                }
                try spool!.append(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
    } catch {
        return .unreadable("\(error)")
    }
}
