import Foundation
import IMAPProtocol
import Testing

/// The encoder's own bytes against a real Dovecot: `Transcripts/encoder-session.json` holds the commands encoded
/// here (segments included), `capture-transcripts.py` replayed them against Dovecot (waiting for `+` between
/// segments), and `encoder-session-*.server` is what the server answered. Set IMAP_WRITE_FIXTURES=1 to rewrite
/// the JSON after changing the commands (then capture again).
@Suite("Encoder against Dovecot")
struct EncoderSessionTests {
    struct Command: Codable, Equatable {
        var tag: String
        var segments: [String]
        var idle: Bool
    }

    struct Session: Codable, Equatable {
        var name: String
        var commands: [Command]
    }

    static let inboxName = IMAPMailboxName.inbox
    static let done = IMAPMailboxName("Erledigt/Überprüft")
    static let processed = IMAPMailboxName("処理済み")
    static let tooLarge = IMAPMailboxName("Zu groß")

    /// A poller's session with a password that needs a literal, without LITERAL+ (synchronizing literals).
    static func sessions() throws -> [Session] {
        var encoder = IMAPCommandEncoder(tags: IMAPTagGenerator(prefix: "P"))
        func command(_ command: IMAPCommand) throws -> Command {
            let encoded = try encoder.encode(command)
            return Command(
                tag: encoded.tag, segments: encoded.segments.map { String(decoding: $0, as: UTF8.self) },
                idle: command == .idle)
        }
        var main: [Command] = []
        main.append(try command(.capability))
        main.append(try command(.login(username: "umlaut", password: "pässwort 1\"\\")))
        main.append(try command(.enable(["CONDSTORE"])))
        for folder in [done, processed, tooLarge] { main.append(try command(.create(folder))) }
        main.append(try command(.list(reference: "", pattern: "*")))
        main.append(try command(.status(inboxName, [.messages, .uidNext, .uidValidity, .unseen])))
        main.append(try command(.select(inboxName)))
        main.append(try command(.uidSearch(.all)))
        main.append(try command(.uidSearch(.uid(.from(2)))))
        main.append(try command(.uidFetch(.all, [.uid, .rfc822Size])))
        main.append(try command(.uidFetch(IMAPUIDSet([1, 2, 3, 4]), [.uid, .rfc822Size, .bodyPeek()])))
        main.append(try command(.uidStore(IMAPUIDSet([1]), .add, [.seen], silent: true)))
        main.append(try command(.uidCopy(IMAPUIDSet([1]), done)))
        main.append(try command(.uidMove(IMAPUIDSet([2]), processed)))
        main.append(try command(.uidMove(IMAPUIDSet([3]), IMAPMailboxName("Fehlt"))))
        main.append(try command(.uidStore(IMAPUIDSet([1]), .add, [.deleted], silent: true)))
        main.append(try command(.uidExpunge(IMAPUIDSet([1]))))
        main.append(try command(.examine(processed)))
        main.append(try command(.noop))
        main.append(try command(.select(done)))
        main.append(try command(.idle))
        main.append(try command(.logout))
        var sasl = IMAPCommandEncoder(tags: IMAPTagGenerator(prefix: "S"))
        sasl.adopt(IMAPCapabilities(["IMAP4rev1", "SASL-IR", "LITERAL+"]))
        let plain = Array("\u{0}umlaut\u{0}pässwort 1\"\\".utf8)
        var authentication: [Command] = []
        for command in [IMAPCommand.authenticate(mechanism: "PLAIN", initialResponse: plain), .logout] {
            let encoded = try sasl.encode(command)
            authentication.append(
                Command(
                    tag: encoded.tag, segments: encoded.segments.map { String(decoding: $0, as: UTF8.self) },
                    idle: false))
        }
        return [
            Session(name: "encoder-session-poll", commands: main),
            Session(name: "encoder-session-sasl", commands: authentication),
        ]
    }

    @Test func fixtureHoldsTheseCommands() throws {
        let sessions = try Self.sessions()
        if ProcessInfo.processInfo.environment["IMAP_WRITE_FIXTURES"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Transcripts/encoder-session.json")
            try encoder.encode(sessions).write(to: source)
        }
        let data = try Data(contentsOf: Transcripts.directory.appendingPathComponent("encoder-session.json"))
        #expect(try JSONDecoder().decode([Session].self, from: data) == sessions)
        // Without LITERAL+ the password went as a synchronizing literal: three segments.
        #expect(sessions[0].commands[1].segments == ["P2 LOGIN umlaut {13}\r\n", "pässwort 1\"\\\r\n"])
    }

    @Test func dovecotAcceptedEveryCommand() throws {
        let events = try ParserDriver.run(Transcripts.server("encoder-session-poll")).events
        var completions: [String: IMAPResponseCondition] = [:]
        var continuations = 0
        for event in events {
            if case .tagged(let tag, let condition) = event { completions[tag] = condition }
            if case .continuationRequest = event { continuations += 1 }
        }
        let commands = try Self.sessions()[0].commands
        #expect(completions.count == commands.count)
        for command in commands where command.tag != "P17" {
            #expect(
                completions[command.tag]?.status == .ok,
                "\(command.segments[0]) → \(String(describing: completions[command.tag]))")
        }
        // UID MOVE to a folder that does not exist: NO [TRYCREATE], the cue for CREATE.
        #expect(completions["P17"]?.status == .no && completions["P17"]?.code == .tryCreate)
        #expect(continuations == 2)  // the literal's go-ahead and IDLE's
        let names = events.compactMap { event -> String? in
            if case .untagged(.list(let entry)) = event { return entry.mailbox.name }
            return nil
        }
        #expect(Set(names) == ["INBOX", "Erledigt", "Erledigt/Überprüft", "処理済み", "Zu groß"])
        let copy = completions["P15"]?.code
        guard case .copyUID(_, let source, let destination)? = copy else {
            Issue.record("no COPYUID: \(String(describing: copy))")
            return
        }
        #expect(source.uids() == [1] && destination.uids() == [1])
        var bodies: [[UInt8]] = []
        var current: [UInt8]?
        for event in events {
            switch event {
            case .bodyBegin: current = []
            case .bodyBytes(let bytes): current? += bytes
            case .bodyEnd:
                bodies.append(current ?? [])
                current = nil
            default: break
            }
        }
        #expect(bodies == Transcripts.messages)
        let sasl = try ParserDriver.run(Transcripts.server("encoder-session-sasl")).events
        #expect(
            sasl.contains {
                if case .tagged("S1", let condition) = $0 { return condition.status == .ok } else { return false }
            })
    }
}
