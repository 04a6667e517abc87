import ArgumentParser
import Foundation
import MailParser
import MessageSpool
import TicketPipeline

struct ParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse one message file and print what Postdesk reads from it.",
        discussion: """
            With --json, prints one object: message_id, subject, date (RFC 3339 or null), from, to, cc, reply_to \
            (lists of {name, address}), in_reply_to, references (lists), text, html (or null), attachments (list \
            of {filename, content_type, size, sha256, content_id, disposition}).
            """)

    @Argument(help: "An RFC 5322 message (.eml); - reads standard input.") var file: String
    @Flag(help: "Print the stable JSON document.") var json = false

    func run() async throws {
        let raw: RawMessage
        do {
            // A file is mapped, not read: a 100 MB message costs its pages while they are parsed, not 100 MB.
            raw =
                file == "-"
                ? RawMessage([UInt8](FileHandle.standardInput.readDataToEndOfFile()))
                : try RawMessage(mappingFileAt: file)
        } catch {
            printError("cannot read \(file): \(error)")
            throw ExitCode(66)  // EX_NOINPUT
        }
        let message = raw.parsed()
        if json {
            FileHandle.standardOutput.write(try message.jsonData(prettyPrinted: true))
            FileHandle.standardOutput.write(Data("\n".utf8))
            return
        }
        printEscaped("Message-ID: \(message.messageID ?? "(none)")")
        printEscaped("Subject:    \(message.subject ?? "(none)")")
        printEscaped("From:       \(message.from.map(Self.format).joined(separator: ", "))")
        printEscaped("To:         \(message.to.map(Self.format).joined(separator: ", "))")
        if !message.cc.isEmpty { printEscaped("Cc:         \(message.cc.map(Self.format).joined(separator: ", "))") }
        for attachment in message.attachments {
            printEscaped(
                "Attachment: \(attachment.filename ?? "(unnamed)") \(attachment.contentType) \(attachment.size) bytes")
        }
        for defect in message.defects { printEscaped("Defect:     \(defect)") }
        printEscaped("")
        printEscaped(message.text, layout: .multiLine)
    }

    static func format(_ address: MailAddress) -> String {
        address.name.map { "\($0) <\(address.address)>" } ?? address.address
    }
}
