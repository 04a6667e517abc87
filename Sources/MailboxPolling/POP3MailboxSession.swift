import Logging
import MailServerClient
import MessageSpool
import NIOCore
import POP3Protocol
import SASLMechanisms
import TicketPipeline

/// One POP3 session (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034) driving the pure `POP3Protocol`
/// codec: UIDL tells which messages are new, RETR fetches them, and DELE is sent only for messages whose tickets
/// are committed. DELE takes effect at QUIT, so a session cut short before QUIT leaves the messages on the
/// server: the next session finds their UIDLs committed in the store and only deletes them again, and were the
/// store's note lost too, the message's identity makes its second delivery a recognised duplicate.
final class POP3MailboxSession: MailServerSession {
    private let connection: MailServerConnection
    private let settings: MailboxSettings
    private let store: any MailboxStateStore
    private let spool: SpoolSettings
    private let logger: Logger
    private var parser = POP3ResponseParser()
    private var pending: [POP3Event] = []
    private var pendingIndex = 0
    private(set) var capabilities: [POP3Capability] = []
    private(set) var greeting = ""
    /// Messages retrieved before their deliveries are awaited, at most.
    static let batchCount = 64

    var staysOpen: Bool { false }

    private init(
        connection: MailServerConnection, settings: MailboxSettings, store: any MailboxStateStore, spool: SpoolSettings,
        logger: Logger
    ) {
        self.connection = connection
        self.settings = settings
        self.store = store
        self.spool = spool
        self.logger = logger
    }

    static func open(
        settings: MailboxSettings, credentials: MailboxCredentials, store: any MailboxStateStore,
        spool: SpoolSettings, logger: Logger
    ) async throws(MailboxError) -> POP3MailboxSession {
        let connection = try await MailServerConnection.connect(for: settings)
        let session = POP3MailboxSession(
            connection: connection, settings: settings, store: store, spool: spool, logger: logger)
        try await connection.closingOnFailure { () throws(MailboxError) in try await session.start(credentials) }
        return session
    }

    private func start(_ credentials: MailboxCredentials) async throws(MailboxError) {
        let greeting = try await status(step: .greeting)
        guard case .ok(let line) = greeting else {
            throw MailboxError(.greeting, "the server refused: \(Self.describe(greeting))")
        }
        self.greeting = line.text
        capabilities = try await capabilityListing()
        if settings.tls == .starttls {
            guard capabilities.first(named: "STLS") != nil else {
                throw MailboxError(.tls, "the server does not offer STLS (its capabilities: \(capabilities))")
            }
            try await command(.stls, step: .tls)
            guard parser.bufferedByteCount == 0, pendingIndex == pending.count else {
                throw MailboxError(.tls, "the server sent data before the TLS handshake")
            }
            try await connection.startTLSForMailbox()
            capabilities = try await capabilityListing()
        }
        try await authenticate(credentials)
    }

    /// CAPA, or nothing for a server without it (RFC 1939 servers).
    private func capabilityListing() async throws(MailboxError) -> [POP3Capability] {
        try await send(.capa)
        let event = try await nextEvent(step: .capabilities)
        switch event {
        case .ok:
            guard case .capabilities(let listing) = try await nextEvent(step: .capabilities) else {
                throw MailboxError(.protocolViolation, "CAPA: no listing after +OK")
            }
            return listing
        case .error: return []
        default: throw MailboxError(.protocolViolation, "CAPA: unexpected \(event)")
        }
    }

    // MARK: Authentication

    private func authenticate(_ credentials: MailboxCredentials) async throws(MailboxError) {
        let mechanisms = capabilities.saslMechanisms
        var exchange: SASLExchange
        do {
            switch credentials {
            case .password(let password):
                if mechanisms.contains("PLAIN") {
                    exchange = try .plain(username: settings.username, password: password)
                } else {
                    try await command(.user(settings.username), step: .authentication)
                    try await command(.pass(password), step: .authentication)
                    return
                }
            case .accessToken:
                guard let oauth = try credentials.oauthExchange(for: settings) else { return }
                exchange = oauth
            }
        } catch let error as MailboxError {
            throw error
        } catch {
            throw MailboxError(.authentication, "\(error)")
        }
        try await authenticate(with: &exchange)
    }

    private func authenticate(with exchange: inout SASLExchange) async throws(MailboxError) {
        let mechanism = exchange.mechanism.rawValue
        var initial = exchange.initialResponse
        if let bytes = initial, !POP3Command.initialResponseFits(mechanism: mechanism, initialResponse: bytes) {
            initial = nil
        }
        try await send(.auth(mechanism: mechanism, initialResponse: initial))
        if initial != nil { exchange.initialResponseSent() }
        while true {
            let event = try await nextEvent(step: .authentication)
            switch event {
            case .saslChallenge(let challenge):
                let answer: POP3Command
                if exchange.phase == .started, let bytes = exchange.initialResponse {
                    exchange.initialResponseSent()
                    answer = .authResponse(bytes)
                } else if let bytes = try? exchange.respond(toChallenge: challenge) {
                    answer = .authResponse(bytes)
                } else {
                    answer = .authCancel
                }
                try await send(answer)
            case .ok: return
            case .error(let line):
                let details = exchange.serverError.map { " (\($0))" } ?? ""
                throw MailboxError(.authentication, "AUTH \(mechanism) refused: -ERR \(line)\(details)")
            default:
                throw MailboxError(.protocolViolation, "AUTH: unexpected \(event)")
            }
        }
    }

    // MARK: Synchronization

    func synchronize(into sink: MailboxSink) async throws(MailboxError) -> SynchronizationReport {
        var report = SynchronizationReport()
        let key = MailboxFolderKey(mailbox: settings.name, folder: "", validity: 0)
        let known = try await MailboxError.fromStore { try await self.store.mailboxItems(key) }
        let uids = try await uniqueIDs()
        let sizes = try await scanListing()
        try await MailboxError.fromStore {
            try await self.store.forgetMailboxItems(in: key, notIn: Set(uids.map(\.uniqueID)))
        }
        var deletions: [(number: Int, uid: String)] = []
        var toFetch: [(number: Int, uid: String, size: Int)] = []
        for entry in uids {
            let size = sizes[entry.messageNumber] ?? 0
            switch known[entry.uniqueID] {
            case .committed:
                if settings.afterCommit == .delete { deletions.append((entry.messageNumber, entry.uniqueID)) }
            case .done, .tooLarge, .unrouted: continue
            case nil:
                if size > settings.maxMessageSize {
                    let header = try await headerOnly(entry.messageNumber)
                    try await MailboxError.fromStore {
                        try await sink.recordTooLarge(
                            size: size, reference: "uidl \(entry.uniqueID)", header: header,
                            action: "left on the server")
                        try await self.store.setMailboxItems([entry.uniqueID], state: .tooLarge, in: key)
                    }
                    logger.warning(
                        "message too large: not downloaded",
                        metadata: [
                            "mailbox": "\(settings.name)", "uidl": "\(entry.uniqueID)", "size": "\(size)",
                            "limit": "\(settings.maxMessageSize)",
                        ])
                    report.tooLarge += 1
                } else {
                    toFetch.append((entry.messageNumber, entry.uniqueID, size))
                }
            }
        }
        var failure: MailboxError?
        var start = 0
        while start < toFetch.count, failure == nil {
            let batch = Array(toFetch[start..<min(toFetch.count, start + Self.batchCount)])
            start += batch.count
            let outcome = try await retrieveAndDeliver(batch, sink: sink)
            failure = outcome.failure
            let committed = outcome.committed.map(\.uid)
            try await MailboxError.fromStore {
                try await self.store.setMailboxItems(
                    committed, state: self.settings.afterCommit == .delete ? .committed : .done, in: key)
                try await self.store.setMailboxItems(outcome.unrouted, state: .unrouted, in: key)
            }
            report.fetched += committed.count
            if settings.afterCommit == .delete { deletions += outcome.committed }
        }
        // DELE goes out in one write with PIPELINING (RFC 2449), else one at a time; QUIT then commits them.
        if capabilities.first(named: "PIPELINING") != nil, !deletions.isEmpty {
            try await send(deletions.map { POP3Command.dele($0.number) })
            for deletion in deletions {
                let event = try await nextEvent(step: .afterCommit)
                guard case .ok = event else {
                    throw MailboxError(.afterCommit, "DELE \(deletion.number) refused: \(Self.describe(event))")
                }
            }
        } else {
            for deletion in deletions { try await command(.dele(deletion.number), step: .afterCommit) }
        }
        try await command(.quit, step: .afterCommit)
        report.afterCommitApplied = deletions.count
        try await MailboxError.fromStore {
            try await self.store.setMailboxItems(deletions.map(\.uid), state: .done, in: key)
        }
        if let failure { throw failure }
        return report
    }

    private struct RetrieveOutcome {
        var committed: [(number: Int, uid: String)] = []
        var unrouted: [String] = []
        var failure: MailboxError?
    }

    /// RETR each message in turn; each is handed to the intake as soon as it is in, while the next one arrives.
    private func retrieveAndDeliver(
        _ batch: [(number: Int, uid: String, size: Int)], sink: MailboxSink
    ) async throws(MailboxError) -> RetrieveOutcome {
        var failure: MailboxError?
        // With PIPELINING (RFC 2449) every RETR of the batch goes out at once: one round trip, not one per message.
        let pipelined = capabilities.first(named: "PIPELINING") != nil
        if pipelined {
            do throws(MailboxError) {
                try await send(batch.map { POP3Command.retr($0.number) })
            } catch {
                return RetrieveOutcome(failure: error)
            }
        }
        let verdicts = await withTaskGroup(of: (Int, String, MailboxSink.Verdict).self) { group in
            for entry in batch {
                do throws(MailboxError) {
                    if !pipelined { try await send([.retr(entry.number)]) }
                    let raw = try await readMessage(entry.number)
                    group.addTask { (entry.number, entry.uid, await sink.deliver(raw, reference: "uidl \(entry.uid)")) }
                } catch {
                    failure = error
                    break
                }
            }
            var verdicts: [(Int, String, MailboxSink.Verdict)] = []
            for await verdict in group { verdicts.append(verdict) }
            return verdicts
        }
        var outcome = RetrieveOutcome()
        for (number, uid, verdict) in verdicts.sorted(by: { $0.0 < $1.0 }) {
            switch verdict {
            case .committed: outcome.committed.append((number, uid))
            case .unrouted: outcome.unrouted.append(uid)
            case .retryLater(let reason):
                outcome.failure = outcome.failure ?? MailboxError(.store, "message \(uid) not stored: \(reason)")
            }
        }
        if !outcome.unrouted.isEmpty {
            logger.warning(
                "no queue takes these messages: left on the server (set mailboxes.<name>.queue or a triage queue)",
                metadata: ["mailbox": "\(settings.name)", "uidls": "\(outcome.unrouted)"])
        }
        if let failure {
            // The connection is unusable (mid-message): what was committed is recorded by the caller, the rest is
            // fetched again next time.
            outcome.failure = failure
        }
        return outcome
    }

    /// The answer to a RETR already sent: the message, streamed into memory or the spool.
    private func readMessage(_ number: Int) async throws(MailboxError) -> RawMessage {
        let first = try await nextEvent(step: .fetch)
        guard case .ok = first else { throw MailboxError(.fetch, "RETR \(number) refused: \(Self.describe(first))") }
        var collector = MessageBodyCollector(
            spoolDirectory: spool.directory, spoolThreshold: spool.threshold, limit: settings.maxMessageSize + 65536)
        while true {
            let event: POP3Event
            do throws(MailboxError) {
                event = try await nextEvent(step: .fetch)
                switch event {
                case .bodyBytes(let bytes): try collector.append(bytes)
                case .bodyEnd: return try collector.finish()
                default: throw MailboxError(.protocolViolation, "RETR \(number): unexpected \(event)")
                }
            } catch {
                collector.discard()
                throw error
            }
        }
    }

    /// STAT: messages and bytes in the maildrop, for `postdesk mailboxes test`.
    func statistics() async throws(MailboxError) -> (messages: Int, bytes: Int) {
        try await send(.stat)
        let event = try await nextEvent(step: .folder)
        guard case .ok(let line) = event else { throw MailboxError(.folder, "STAT refused: \(Self.describe(event))") }
        let fields = line.text.split(separator: " ")
        return (fields.first.flatMap { Int($0) } ?? 0, fields.dropFirst().first.flatMap { Int($0) } ?? 0)
    }

    /// `TOP n 0`: the header alone, at most `MailboxSink.headerLimit` bytes kept; empty if the server refuses.
    private func headerOnly(_ number: Int) async throws(MailboxError) -> [UInt8] {
        try await send(.top(number, lines: 0))
        guard case .ok = try await nextEvent(step: .fetch) else { return [] }
        var bytes: [UInt8] = []
        while true {
            switch try await nextEvent(step: .fetch) {
            case .bodyBytes(let chunk):
                if bytes.count < MailboxSink.headerLimit {
                    bytes += chunk.prefix(MailboxSink.headerLimit - bytes.count)
                }
            case .bodyEnd: return bytes
            case let event: throw MailboxError(.protocolViolation, "TOP \(number): unexpected \(event)")
            }
        }
    }

    private func uniqueIDs() async throws(MailboxError) -> [POP3UniqueIDEntry] {
        try await send(.uidl(nil))
        let first = try await nextEvent(step: .fetch)
        guard case .ok = first else {
            throw MailboxError(.fetch, "UIDL refused (the server must support it): \(Self.describe(first))")
        }
        guard case .uniqueIDListing(let entries) = try await nextEvent(step: .fetch) else {
            throw MailboxError(.protocolViolation, "UIDL: no listing after +OK")
        }
        return entries
    }

    private func scanListing() async throws(MailboxError) -> [Int: Int] {
        try await send(.list(nil))
        let first = try await nextEvent(step: .fetch)
        guard case .ok = first else { throw MailboxError(.fetch, "LIST refused: \(Self.describe(first))") }
        guard case .scanListing(let entries) = try await nextEvent(step: .fetch) else {
            throw MailboxError(.protocolViolation, "LIST: no listing after +OK")
        }
        var sizes: [Int: Int] = [:]
        for entry in entries { sizes[entry.messageNumber] = entry.size }
        return sizes
    }

    // MARK: Waiting

    func waitForChanges(upTo limit: Duration) async throws(MailboxError) {
        try? await Task.sleep(for: limit)
    }

    func close() async {
        if (try? await send(.quit)) != nil { _ = try? await nextEvent(step: .connection, within: .seconds(2)) }
        await connection.close()
    }

    // MARK: The command loop

    private func send(_ command: POP3Command) async throws(MailboxError) {
        try await send([command])
    }

    /// Sends the commands in one write; their responses are expected in order.
    private func send(_ commands: [POP3Command]) async throws(MailboxError) {
        var bytes: [UInt8] = []
        do {
            for command in commands { bytes += try command.encoded() }
        } catch {
            throw MailboxError(.protocolViolation, "\(error)")
        }
        for command in commands { parser.expect(command.responseKind) }
        try await connection.send(bytes)
    }

    /// A command whose answer is one status line; `-ERR` is an error of `step` with the server's words.
    private func command(_ command: POP3Command, step: MailboxError.Step) async throws(MailboxError) {
        try await send(command)
        let event = try await nextEvent(step: step)
        guard case .ok = event else {
            throw MailboxError(step, "\(Self.name(of: command)) refused: \(Self.describe(event))")
        }
    }

    /// The greeting's status line.
    private func status(step: MailboxError.Step) async throws(MailboxError) -> POP3Event {
        try await nextEvent(step: step)
    }

    private func nextEvent(step: MailboxError.Step, within limit: Duration? = nil) async throws(MailboxError)
        -> POP3Event
    {
        while pendingIndex == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            guard let chunk = try await connection.receive(within: limit) else {
                throw MailboxError(
                    step == .greeting ? .greeting : .connection,
                    "the server closed the connection during \(step.rawValue)")
            }
            do {
                pending = try chunk.withUnsafeReadableBytes { try parser.parse($0) }
            } catch {
                throw MailboxError(.protocolViolation, "\(error)")
            }
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }

    static func describe(_ event: POP3Event) -> String {
        switch event {
        case .ok(let line): "+OK \(line)"
        case .error(let line): "-ERR \(line)"
        default: "\(event)"
        }
    }

    /// The command's name, never its arguments (PASS carries the password).
    private static func name(of command: POP3Command) -> String {
        switch command {
        case .user: "USER"
        case .pass: "PASS"
        case .stls: "STLS"
        case .dele(let number): "DELE \(number)"
        case .quit: "QUIT"
        default: "command"
        }
    }
}
