import Foundation
import Logging
import Testing

@testable import PostdeskDaemon

/// Issue 12 point 7: text from mail (subjects, addresses, Message-IDs) in a log line can neither send escape
/// sequences to whoever reads the log on a terminal nor forge a second log line.
@Suite struct LogEscapingTests {
    @Test func controlsInMessagesAndMetadataAreEscaped() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pd-log-\(UUID()).log").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(descriptor >= 0)
        defer {
            close(descriptor)
            unlink(path)
        }
        let output = BatchedLogOutput(descriptor: descriptor)
        let logger = Logger(label: "postdesk.test") { BatchedLogHandler(label: $0, output: output) }
        logger.info(
            "stored \("Drucker \u{1B}]52;c;cm0gLXJm\u{07}")",
            metadata: ["subject": "\u{1B}[8mhidden\u{9B}0m", "message_id": "<a@b>\n2026-12-05 error postdesk: forged"])
        output.flush()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.utf8.contains(0x1B) && !text.utf8.contains(0x07) && !text.unicodeScalars.contains("\u{9B}"))
        #expect(text.filter { $0 == "\n" }.count == 1, "one event, one line: \(text)")
        #expect(text.contains("Drucker \\u{1B}]52;c;cm0gLXJm\\u{07}"))
        #expect(text.contains("\\u{1B}[8mhidden\\u{9B}0m"))
        #expect(text.contains("<a@b>\\u{0A}2026-12-05 error postdesk: forged"))
    }
}
