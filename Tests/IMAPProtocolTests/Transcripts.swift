import Foundation

/// The recorded Dovecot transcripts in `Transcripts/` (see capture-transcripts.py there).
enum Transcripts {
    static let directory = Bundle.module.url(forResource: "Transcripts", withExtension: nil)!

    static func server(_ name: String) -> [UInt8] {
        [UInt8](try! Data(contentsOf: directory.appendingPathComponent("\(name).server")))
    }

    static let names = [
        "setup-append", "poll-session", "authenticate", "login-failure", "idle", "qresync", "starttls",
        "encoder-session-poll", "encoder-session-sasl",
    ]

    /// The messages the capture script appended, in order (`messages.bin`: a size line, then the bytes).
    static var messages: [[UInt8]] {
        let data = [UInt8](try! Data(contentsOf: directory.appendingPathComponent("messages.bin")))
        var messages: [[UInt8]] = []
        var index = 0
        while index < data.count {
            let newline = data[index...].firstIndex(of: 0x0A)!
            let size = Int(String(decoding: data[index..<newline], as: UTF8.self))!
            messages.append(Array(data[(newline + 1)..<(newline + 1 + size)]))
            index = newline + 1 + size
        }
        return messages
    }
}
