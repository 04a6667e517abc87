import IMAPProtocol
import TestSupport
import Testing

/// Real Dovecot 2.3 sessions (recorded with Transcripts/capture-transcripts.py): every one parses, the same
/// whatever the chunking, and message bodies come out byte for byte.
@Suite("Dovecot transcripts")
struct TranscriptTests {
    @Test(arguments: Transcripts.names)
    func parsesWholeAndInAnyChunking(name: String) throws {
        let bytes = Transcripts.server(name)
        let whole = try ParserDriver.run(bytes)
        #expect(!whole.events.isEmpty)
        guard case .greeting(let greeting) = whole.events.first else {
            Issue.record("first event is not the greeting")
            return
        }
        #expect(greeting.status == .ok)
        let oneByte = try ParserDriver.run(bytes, chunkSizes: [1])
        #expect(oneByte.events == whole.events)
        var random = SplitMix64(seed: 0x1AB5 &+ UInt64(bytes.count))
        for _ in 0..<5 {
            let sizes = (0..<64).map { _ in 1 + Int(random.next() % 3000) }
            let chunked = try ParserDriver.run(bytes, chunkSizes: sizes)
            #expect(chunked.events == whole.events)
            #expect(chunked.maxBuffered <= IMAPParserLimits().maxBufferedResponse + chunked.maxChunk)
        }
    }

    @Test func pollSessionBodiesEqualTheAppendedMessages() throws {
        let driver = try ParserDriver.run(Transcripts.server("poll-session"), chunkSizes: [1371, 1, 4096, 7])
        var bodies: [UInt32: [UInt8]] = [:]
        var sizes: [UInt32: UInt64] = [:]
        var uid: UInt32?
        var body: [UInt8]?
        var wholeMessageBody = false
        for event in driver.events {
            switch event {
            case .fetchBegin:
                uid = nil
                body = nil
            case .fetchAttribute(.uid(let value)): uid = value
            case .fetchAttribute(.rfc822Size(let size)): if let uid { sizes[uid] = size }
            case .bodyBegin(let section, _): wholeMessageBody = section.isWholeMessage
            case .bodyBytes(let bytes): if wholeMessageBody { body = (body ?? []) + bytes }
            case .fetchEnd: if let uid, let body, wholeMessageBody { bodies[uid] = body }
            default: break
            }
        }
        let messages = Transcripts.messages
        // UID 1 is fetched twice (INBOX, then the copy in the other folder): both equal message 1.
        for (index, message) in messages.enumerated() {
            let uid = UInt32(index + 1)
            #expect(bodies[uid] == message, "UID \(uid)")
            #expect(sizes[uid] == UInt64(message.count))
        }
        #expect(messages[1].contains(0xC3))  // 8-bit UTF-8 preserved
        #expect(messages[2].contains(0xC4))  // Latin-1 byte preserved
    }

    @Test func pollSessionEvents() throws {
        let events = try ParserDriver.run(Transcripts.server("poll-session")).events
        let untagged = events.compactMap { event -> IMAPUntaggedResponse? in
            if case .untagged(let response) = event { return response }
            return nil
        }
        let lists = untagged.compactMap { response -> IMAPListEntry? in
            if case .list(let entry) = response { return entry }
            return nil
        }
        #expect(lists.map(\.mailbox.name) == ["Processed", "処理済み", "Erledigt", "Erledigt/Überprüft", "INBOX"])
        #expect(lists.allSatisfy { $0.delimiter == "/" })
        #expect(lists[2].isSelectable == false)
        #expect(untagged.contains(.search([1, 2, 3, 4], modSequence: nil)))
        #expect(untagged.contains(.search([2, 3, 4], modSequence: nil)))
        #expect(untagged.contains(.exists(4)))
        #expect(untagged.contains(.expunge(2)))
        #expect(
            untagged.contains(
                .condition(IMAPResponseCondition(status: .ok, code: .uidNext(5), text: "Predicted next UID"))))
        var search = IMAPExtendedSearch(tag: "a16", uid: true)
        search.min = 1
        search.max = 4
        search.count = 4
        search.all = IMAPUIDSet(ranges: [.init(1, 4)])
        #expect(untagged.contains(.extendedSearch(search)))
        let statuses = untagged.compactMap { response -> (String, IMAPMailboxStatus)? in
            if case .status(let mailbox, let status) = response { return (mailbox.name, status) }
            return nil
        }
        #expect(statuses.map(\.0) == ["処理済み", "INBOX"])
        #expect(statuses[1].1.messages == 4 && statuses[1].1.uidNext == 5 && statuses[1].1.unseen == 4)
        let codes = events.compactMap { event -> IMAPResponseCode? in
            switch event {
            case .tagged(_, let condition): return condition.code
            case .untagged(.condition(let condition)): return condition.code
            default: return nil
            }
        }
        #expect(codes.contains(.readWrite) && codes.contains(.readOnly) && codes.contains(.tryCreate))
        #expect(
            codes.contains {
                if case .copyUID(_, let source, let destination) = $0 {
                    return source.wireText == "2" && destination.wireText == "1"
                } else {
                    return false
                }
            })
        #expect(codes.contains(.permanentFlags([.answered, .flagged, .deleted, .seen, .draft, IMAPFlag("\\*")])))
        #expect(events.contains(.fetchAttribute(.internalDate("05-Dec-2026 08:50:59 +0000"))))
        #expect(events.contains(.fetchAttribute(.flags([.seen, .recent]))))
        #expect(events.contains(.fetchAttribute(.modSequence(7))))
        // Partial fetch, BINARY and the header-fields section are bodies with their sections.
        #expect(events.contains(.bodyBegin(IMAPBodySection(kind: .body, origin: 0), size: 20)))
        #expect(events.contains(.bodyBegin(IMAPBodySection(kind: .binary, section: "1"), size: 38)))
        #expect(
            events.contains(.bodyBegin(IMAPBodySection(kind: .body, section: "HEADER.FIELDS (SUBJECT FROM)"), size: 95))
        )
        #expect(untagged.contains(.other(name: "ID", text: "(\"name\" \"Dovecot\")")))
        let tagged = events.compactMap { event -> String? in
            if case .tagged(let tag, _) = event { return tag }
            return nil
        }
        #expect(tagged == (1...33).map { "a\($0)" })
    }

    @Test func authenticationAndIdleTranscripts() throws {
        let auth = try ParserDriver.run(Transcripts.server("authenticate")).events
        #expect(
            auth.contains(
                .tagged(
                    tag: "a1",
                    IMAPResponseCondition(status: .no, code: .authenticationFailed, text: "Authentication failed."))))
        #expect(auth.contains(.continuationRequest(IMAPContinuationRequest(bytes: []))))
        #expect(
            auth.contains(
                .tagged(tag: "a2", IMAPResponseCondition(status: .bad, text: "Authentication aborted by client."))))
        let idle = try ParserDriver.run(Transcripts.server("idle")).events
        #expect(idle.contains(.continuationRequest(IMAPContinuationRequest(bytes: Array("idling".utf8)))))
        #expect(idle.contains(.untagged(.exists(3))))
        let qresync = try ParserDriver.run(Transcripts.server("qresync")).events
        #expect(qresync.contains(.untagged(.vanished(IMAPUIDSet(ranges: [.init(3, 3)]), earlier: false))))
        #expect(qresync.contains(.untagged(.enabled(["QRESYNC"]))))
        guard case .greeting(let greeting) = auth.first, case .capability(let capabilities)? = greeting.code else {
            Issue.record("greeting without capabilities")
            return
        }
        #expect(capabilities.literalPlus && capabilities.saslInitialResponse && capabilities.startTLS)
        #expect(capabilities.authenticationMechanisms == ["PLAIN", "LOGIN"])
    }
}
