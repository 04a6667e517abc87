import Foundation
import MailParser

/// Measures MessageParser throughput on one workload: the messages are parsed repeatedly for at least
/// `seconds`, and MB/s and messages/s printed as one JSON line.
///
/// Usage: ParseBench NAME SECONDS FILE...
@main
struct ParseBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 4, let seconds = Double(arguments[2]) else {
            FileHandle.standardError.write(Data("usage: ParseBench NAME SECONDS FILE...\n".utf8))
            exit(2)
        }
        let name = arguments[1]
        let messages = try arguments[3...].map { Array(try Data(contentsOf: URL(fileURLWithPath: $0))) }
        let totalBytes = messages.reduce(0) { $0 + $1.count }
        var checksum = 0
        // Warm-up (iconv modules, caches).
        for message in messages { checksum &+= MessageParser.parse(message).text.utf8.count }
        let clock = ContinuousClock()
        let start = clock.now
        var rounds = 0
        while clock.now - start < .seconds(seconds) || rounds == 0 {
            for message in messages {
                let parsed = MessageParser.parse(message)
                checksum &+= parsed.text.utf8.count &+ parsed.attachments.count
            }
            rounds += 1
        }
        let elapsed = clock.now - start
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let parsedMessages = Double(rounds * messages.count)
        let megabytes = Double(rounds * totalBytes) / 1_000_000
        let line: [String: Any] = [
            "parser": "postdesk", "workload": name, "messages": messages.count, "bytes": totalBytes,
            "rounds": rounds, "seconds": elapsedSeconds, "mb_per_s": megabytes / elapsedSeconds,
            "msg_per_s": parsedMessages / elapsedSeconds,
            "us_per_msg": elapsedSeconds / parsedMessages * 1e6, "checksum": checksum,
        ]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
