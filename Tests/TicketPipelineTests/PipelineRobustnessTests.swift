import Foundation
import MailParser
import Testing
import TicketPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// Every corpus message, seeded mutations of them, headers in many scripts and encodings, and hostile
/// structures through the whole `TicketIntake` (parse, classify, route, thread, plan, commit to a real SQLite
/// store). Each message must finish within `secondsPerMessage` without raising the process's peak memory by
/// more than `peakGrowthBytes`, and end as a ticket, a record or a quarantine entry with a reason — never a
/// temporary failure, a crash or a hang. Seed and counts are fixed here; `scripts/robustness-soak.sh` runs
/// the same with other seeds and larger counts (`ROBUSTNESS_SEED`, `ROBUSTNESS_COUNT`).
@Suite("Whole-pipeline robustness", .serialized)
struct PipelineRobustnessTests {
    static let seed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["ROBUSTNESS_SEED"], let value = UInt64(text) { return value }
        return 0x1105_5EED
    }()
    static let mutationCount: Int = {
        if let text = ProcessInfo.processInfo.environment["ROBUSTNESS_COUNT"], let value = Int(text) { return value }
        return 300
    }()
    /// Generous for debug builds on a shared, loaded 2-core machine with the other suites running at the same
    /// time (one corpus message was measured at 17 s there, 5 ms alone); the defects this guards against take
    /// minutes or never end.
    static let secondsPerMessage: Double = 120
    /// The process's peak resident size may grow by this much during one message (the defects this guards
    /// against take gigabytes). Other suites running at the same time can add to it, hence the margin.
    static let peakGrowthBytes = 768 << 20

    /// The process's peak resident size so far, in bytes.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// Delivers `raw` to support@localhost and checks the bounds and that the outcome is accounted for.
    @discardableResult
    static func deliverWithinBounds(
        _ raw: [UInt8], label: String, into fixture: PipelineFixture, sender: String = "robust@example.test"
    ) async throws -> RecipientOutcome.Result? {
        let peakBefore = peakResidentBytes()
        let clock = ContinuousClock()
        let start = clock.now
        let outcomes = await fixture.intake.process(
            InboundMessage(
                sender: sender, recipients: ["support@localhost"], raw: raw, source: .lmtp, receivedAt: Date(),
                sessionID: "robustness"))
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let growth = peakResidentBytes() - peakBefore
        #expect(seconds < secondsPerMessage, "\(label): \(seconds) s for \(raw.count) bytes")
        #expect(growth < peakGrowthBytes, "\(label): peak memory grew by \(growth >> 20) MB for \(raw.count) bytes")
        #expect(outcomes.count == 1, "\(label): \(outcomes)")
        guard let result = outcomes.first?.result else { return nil }
        switch result {
        case .created(let ticket), .appended(let ticket), .duplicate(let ticket), .noted(let ticket):
            #expect(try await fixture.store.ticket(number: ticket) != nil, "\(label): ticket \(ticket) missing")
        case .recorded:
            break
        case .quarantined(let id):
            let entry = try await fixture.store.quarantinedMessage(id: id)
            #expect(entry?.raw == raw, "\(label): quarantine \(id) lost the raw bytes")
            #expect(entry?.error.isEmpty == false, "\(label): quarantined without a reason")
        case .unknownRecipient, .temporaryFailure, .abandoned:
            Issue.record("\(label): \(result)")
        }
        return result
    }

    /// After a run, ordinary mail still becomes a ticket: nothing was left locked or half-written.
    static func expectStoreStillWorks(_ fixture: PipelineFixture) async throws {
        let raw = rawMail(
            from: "\"Jürgen Müller\" <after-the-run@example.test>", subject: "after the run", body: "still here")
        guard case .created(let number) = await fixture.deliver(raw).first else {
            Issue.record("ordinary mail after the run was not a new ticket")
            return
        }
        let ticket = try await fixture.store.ticket(number: number)
        #expect(ticket?.subject == "after the run")
        #expect(ticket?.requester?.name == "Jürgen Müller")
    }

    @Test func everyCorpusMessageBecomesATicket() async throws {
        let corpus = try RobustnessMessages.corpus()
        #expect(corpus.count >= 15, "corpus not found at \(RobustnessMessages.corpusDirectory.path)")
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        for sample in corpus {
            let result = try await Self.deliverWithinBounds(sample.raw, label: sample.label, into: fixture)
            if case .quarantined = result { Issue.record("\(sample.label): a corpus message was quarantined") }
        }
        try await Self.expectStoreStillWorks(fixture)
    }

    @Test func seededMutationsOfTheCorpus() async throws {
        let mutations = RobustnessMessages.mutations(
            of: try RobustnessMessages.corpus(), seed: Self.seed, count: Self.mutationCount)
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let clock = ContinuousClock()
        let start = clock.now
        var tickets = 0
        var outcomes: [String: Int] = [:]
        for sample in mutations {
            let result = try await Self.deliverWithinBounds(sample.raw, label: sample.label, into: fixture)
            if case .created = result { tickets += 1 }
            let kind = result.map { "\($0)".prefix { $0 != "(" } } ?? "none"
            outcomes[String(kind), default: 0] += 1
        }
        // Most mutations keep a readable message: if none became a ticket, the mutator or the intake broke.
        #expect(tickets > mutations.count / 4, "only \(tickets) of \(mutations.count) became tickets")
        try await Self.expectStoreStillWorks(fixture)
        print(
            "robustness: \(mutations.count) mutations (seed \(Self.seed)) in \(clock.now - start): "
                + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    @Test func namesSubjectsAndFileNamesInManyScriptsAndEncodings() async throws {
        let generated = RobustnessMessages.scripts.enumerated().compactMap { index, script in
            RobustnessMessages.international(script, index: index)
        }
        #expect(generated.count == RobustnessMessages.scripts.count, "iconv could not write every charset")
        #expect(Set(RobustnessMessages.scripts.map(\.charset)).count >= 20)
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        for message in generated {
            let result = try await Self.deliverWithinBounds(message.raw, label: message.label, into: fixture)
            guard case .created(let number) = result else {
                Issue.record("\(message.label): \(String(describing: result))")
                continue
            }
            let ticket = try #require(try await fixture.store.ticket(number: number))
            let article = try #require(ticket.articles.first)
            #expect(ticket.subject == message.subject, "\(message.label)")
            #expect(ticket.requester?.name == message.name, "\(message.label)")
            #expect(article.from?.name == message.name, "\(message.label)")
            if let text = message.text {
                #expect(article.text.contains(text), "\(message.label): \(article.text.debugDescription)")
            }
            #expect(article.attachments.map(\.filename) == [message.filename], "\(message.label)")
        }
        try await Self.expectStoreStillWorks(fixture)
    }

    @Test func brokenEncodingsStillBecomeTickets() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        for message in RobustnessMessages.broken() {
            let result = try await Self.deliverWithinBounds(message.raw, label: message.label, into: fixture)
            guard case .created(let number) = result else {
                Issue.record("\(message.label): \(String(describing: result))")
                continue
            }
            let ticket = try #require(try await fixture.store.ticket(number: number))
            #expect(
                ticket.subject.contains(message.asciiMarker), "\(message.label): \(ticket.subject.debugDescription)")
            #expect(ticket.articles.first?.text.contains(message.asciiMarker) == true, "\(message.label)")
            #expect(
                ticket.requester?.address
                    == "\(message.asciiMarker.replacingOccurrences(of: "-", with: ""))@intl.example")
        }
        try await Self.expectStoreStillWorks(fixture)
    }

    @Test(arguments: RobustnessMessages.hostile())
    func hostileStructure(_ sample: RobustnessMessages.Sample) async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        try await Self.deliverWithinBounds(sample.raw, label: sample.label, into: fixture)
        try await Self.expectStoreStillWorks(fixture)
    }

    @Test func nestedHTMLListsStayWithinTheTextBound() async throws {
        let (sample, html) = RobustnessMessages.nestedHTMLLists()
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let result = try await Self.deliverWithinBounds(sample.raw, label: sample.label, into: fixture)
        guard case .created(let number) = result else {
            Issue.record("\(sample.label): \(String(describing: result))")
            return
        }
        let ticket = try #require(try await fixture.store.ticket(number: number))
        #expect(ticket.subject == "Verschachtelte Listen ネスト")
        #expect(ticket.requester?.name == "Jürgen Müller")
        let text = try #require(ticket.articles.first?.text)
        #expect(text.contains("x"))
        #expect(
            text.utf8.count <= 4 * html.utf8.count + 4096,
            "\(text.utf8.count) bytes of text from \(html.utf8.count) bytes of HTML")
        try await Self.expectStoreStillWorks(fixture)
    }

    /// A ticket (created, appended, noted) or a record: the message was accounted for, and not as poison.
    static func expectTicketOrRecord(_ result: RecipientOutcome.Result?, _ label: String) {
        switch result {
        case .created, .appended, .noted, .recorded: break
        default: Issue.record("\(label): \(String(describing: result)), not a ticket or a record")
        }
    }

    @Test func bounceWithFiveThousandFailedRecipients() async throws {
        let sample = RobustnessMessages.failedRecipientsBounce()
        #expect(sample.raw.count > 1_400_000)
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let result = try await Self.deliverWithinBounds(sample.raw, label: sample.label, into: fixture, sender: "")
        Self.expectTicketOrRecord(result, sample.label)
        // It is read as the bounce it looks like (of no message of ours), not as a customer's ticket.
        #expect(result == .recorded(.bounceUnmatched))
        try await Self.expectStoreStillWorks(fixture)
    }

    @Test func chainOfEmbeddedMessages() async throws {
        let sample = RobustnessMessages.embeddedMessageChain()
        #expect(sample.raw.count > 18 << 20)
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let result = try await Self.deliverWithinBounds(sample.raw, label: sample.label, into: fixture)
        Self.expectTicketOrRecord(result, sample.label)
        #expect(result == .created(ticket: 1))
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.subject == "Weitergeleitet, Ebene 0 – 転送 0")
        #expect(ticket.requester?.name == "Françoise Lévy 0")
        let article = try #require(ticket.articles.first)
        #expect(article.text.contains("Ebene 0, Grüße."))
        #expect(article.attachments.contains { $0.filename == "Anhänge-0.bin" })
        try await Self.expectStoreStillWorks(fixture)
    }

    @Test func subjectNamingFiveThousandTicketTags() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let from = "=?UTF-8?B?TcOkbGxvcnkgw5ZzdGVybGluZA==?= <mallory@example.test>"
        for index in 0..<3 {
            let raw = rawMail(from: from, subject: "Anfrage \(index) – Grüße", body: "Text \(index)\n")
            #expect(await fixture.deliver(raw, sender: "mallory@example.test") == [.created(ticket: index + 1)])
        }
        let sample = RobustnessMessages.subjectWithTicketTags(from: from)
        let result = try await Self.deliverWithinBounds(
            sample.raw, label: sample.label, into: fixture, sender: "mallory@example.test")
        Self.expectTicketOrRecord(result, sample.label)
        // The first tag names the sender's own ticket: the reply joins it, the other 4,999 tags cost nothing.
        #expect(result == .appended(ticket: 1))
        #expect(try await fixture.store.ticket(number: 1)?.articles.count == 2)
        try await Self.expectStoreStillWorks(fixture)
    }
}
