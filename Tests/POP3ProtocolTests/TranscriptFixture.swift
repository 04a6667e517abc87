import Foundation
import POP3Protocol

/// One real Dovecot session captured by `Transcripts/capture.py`: the server's bytes, the client's bytes, and the
/// response kind the client expected for each response (greeting first).
struct TranscriptFixture {
    let name: String
    let server: [UInt8]
    let client: [UInt8]
    let kinds: [POP3ResponseKind]

    static let directory = Bundle.module.url(forResource: "Transcripts", withExtension: nil)!

    static let names = [
        "user-pass-retr", "auth-plain-initial-response", "auth-plain-challenge", "auth-login", "auth-failures",
        "stls", "auth-utf8", "auth-login-utf8", "fuzz-seed", "auth-oauth",
    ]

    static func load(_ name: String) throws -> TranscriptFixture {
        func read(_ ext: String) throws -> [UInt8] {
            Array(try Data(contentsOf: directory.appendingPathComponent("\(name).\(ext)")))
        }
        let kinds = String(decoding: try read("kinds"), as: UTF8.self).split(separator: "\n").map {
            kind -> POP3ResponseKind in
            switch kind {
            case "status": return .status
            case "authenticationStep": return .authenticationStep
            case "capabilityListing": return .capabilityListing
            case "scanListing": return .scanListing
            case "uniqueIDListing": return .uniqueIDListing
            case "messageBody": return .messageBody
            default: fatalError("unknown kind \(kind) in \(name).kinds")
            }
        }
        return TranscriptFixture(name: name, server: try read("server"), client: try read("client"), kinds: kinds)
    }

    static func all() throws -> [TranscriptFixture] { try names.map(load) }

    /// A delivered message as Dovecot returns it (CRLF line ends).
    static func message(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent("messages/\(file)")))
    }

    /// A parser with every response of this session declared up front (the greeting is implicit).
    func parser(limits: POP3ParserLimits = POP3ParserLimits()) -> POP3ResponseParser {
        var parser = POP3ResponseParser(limits: limits)
        for kind in kinds.dropFirst() { parser.expect(kind) }
        return parser
    }
}

/// Feeds bytes in chunks and merges consecutive `bodyBytes` events, so that runs cut differently compare equal.
struct ChunkFeeder {
    var parser: POP3ResponseParser
    private(set) var events: [POP3Event] = []

    init(_ parser: POP3ResponseParser) { self.parser = parser }

    mutating func feed(_ chunk: ArraySlice<UInt8>) throws(POP3ProtocolError) {
        for event in try parser.parse(chunk) {
            if case .bodyBytes(let more) = event, case .bodyBytes(let earlier)? = events.last {
                events[events.count - 1] = .bodyBytes(earlier + more)
            } else {
                events.append(event)
            }
        }
    }

    /// Feeds `bytes` cut at sizes drawn from `sizes` (called once per chunk).
    mutating func feed(_ bytes: [UInt8], sizes: () -> Int) throws(POP3ProtocolError) {
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + max(1, sizes()))
            try feed(bytes[start..<end])
            start = end
        }
    }
}
