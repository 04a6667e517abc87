import IMAPProtocol
import Logging
import MailServerClient
import MessageSpool
import NIOConcurrencyHelpers
import NIOCore
import SASLMechanisms
import TicketPipeline

/// One logged-in IMAP connection (RFC 9051 / RFC 3501 servers) driving the pure `IMAPProtocol` codec.
///
/// Nothing is marked read or removed before its ticket is committed: messages are fetched with
/// `BODY.PEEK[]`, their state goes to the store, and only then does the after-commit action run (MOVE, or COPY +
/// `\Deleted` + `UID EXPUNGE` of those UIDs only, or `\Seen`). A bare EXPUNGE is never sent: it would remove
/// messages someone else flagged that we have not stored.
final class IMAPMailboxSession: MailServerSession {
    private let connection: MailServerConnection
    private let settings: MailboxSettings
    private let store: any MailboxStateStore
    private let spool: SpoolSettings
    private let logger: Logger
    private var parser: IMAPResponseParser
    private var encoder = IMAPCommandEncoder()
    private(set) var capabilities = IMAPCapabilities([])
    /// What the server said in its greeting, for `postdesk mailboxes test`.
    private(set) var greeting = ""
    /// Set when an untagged response announced new mail while a command ran.
    private var changed = false
    /// Messages fetched in one UID FETCH at most, and their bytes at most (as the server announced them).
    static let batchCount = 64
    static let batchBytes = 16 << 20
    /// Most messages one folder listing may hold.
    static let maxListing = 2_000_000

    var staysOpen: Bool { true }

    private init(
        connection: MailServerConnection, settings: MailboxSettings, store: any MailboxStateStore, spool: SpoolSettings,
        logger: Logger
    ) {
        self.connection = connection
        self.settings = settings
        self.store = store
        self.spool = spool
        self.logger = logger
        var limits = IMAPParserLimits()
        limits.maxBodySize = UInt64(settings.maxMessageSize) + 64 * 1024
        parser = IMAPResponseParser(limits: limits)
    }

    /// Connects, reads the greeting, starts TLS when asked, and logs in. Each step's failure names the step.
    static func open(
        settings: MailboxSettings, credentials: MailboxCredentials, store: any MailboxStateStore,
        spool: SpoolSettings, logger: Logger
    ) async throws(MailboxError) -> IMAPMailboxSession {
        let connection = try await MailServerConnection.connect(for: settings)
        let session = IMAPMailboxSession(
            connection: connection, settings: settings, store: store, spool: spool, logger: logger)
        try await connection.closingOnFailure { () throws(MailboxError) in try await session.start(credentials) }
        return session
    }

    private func start(_ credentials: MailboxCredentials) async throws(MailboxError) {
        let greeting = try await nextEvent(step: .greeting)
        guard case .greeting(let condition) = greeting else {
            throw MailboxError(.greeting, "the server did not greet: \(greeting)")
        }
        self.greeting = condition.text
        if condition.status == .bye { throw MailboxError(.greeting, "the server refused: \(condition.text)") }
        if case .capability(let offered) = condition.code { adopt(offered) } else { try await refreshCapabilities() }
        if settings.tls == .starttls {
            guard capabilities.startTLS else {
                throw MailboxError(.tls, "the server does not offer STARTTLS (its capabilities: \(capabilities.names))")
            }
            _ = try await run(.startTLS, step: .tls)
            guard parser.isAtResponseBoundary else {
                // Bytes after the go-ahead were sent in clear before the handshake: an injection attempt.
                throw MailboxError(.tls, "the server sent data after its STARTTLS go-ahead, before the handshake")
            }
            try await connection.startTLSForMailbox()
            // Nothing said before TLS is trusted: a new parser, capabilities asked again.
            parser = IMAPResponseParser(limits: parser.limits, expectGreeting: false)
            try await refreshCapabilities()
        }
        if condition.status == .preauth { return }
        try await authenticate(credentials)
    }

    private func adopt(_ offered: IMAPCapabilities) {
        capabilities = offered
        encoder.adopt(offered)
    }

    private func refreshCapabilities() async throws(MailboxError) {
        var offered: IMAPCapabilities?
        let done = try await run(.capability, step: .capabilities) { event in
            if case .untagged(.capability(let names)) = event { offered = names }
        }
        if let offered { adopt(offered) } else if case .capability(let names) = done.code { adopt(names) }
    }

    // MARK: Authentication

    private func authenticate(_ credentials: MailboxCredentials) async throws(MailboxError) {
        var exchange: SASLExchange
        do {
            switch credentials {
            case .password(let password):
                if capabilities.authenticationMechanisms.contains("PLAIN") {
                    exchange = try .plain(username: settings.username, password: password)
                } else if !capabilities.loginDisabled {
                    let done = try await run(
                        .login(username: settings.username, password: password), step: .authentication)
                    try await afterLogin(done)
                    return
                } else if capabilities.authenticationMechanisms.contains("LOGIN") {
                    exchange = try .login(username: settings.username, password: password)
                } else {
                    throw MailboxError(
                        .authentication,
                        "the server offers no password login (LOGINDISABLED, mechanisms: "
                            + "\(capabilities.authenticationMechanisms))")
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
        guard capabilities.authenticationMechanisms.contains(mechanism) else {
            throw MailboxError(
                .authentication,
                "the server does not offer AUTH=\(mechanism) (it offers \(capabilities.authenticationMechanisms))")
        }
        let command = try encode(.authenticate(mechanism: mechanism, initialResponse: exchange.initialResponse))
        if exchange.initialResponse != nil, encoder.saslInitialResponse { exchange.initialResponseSent() }
        try await connection.send(command.segments[0])
        var remaining = command.segments.dropFirst()
        while true {
            let event = try await nextEvent(step: .authentication)
            switch event {
            case .continuationRequest(let request):
                if let segment = remaining.popFirst() {
                    exchange.initialResponseSent()
                    try await connection.send(segment)
                    continue
                }
                do {
                    let answer = try exchange.respond(toChallenge: request.base64Decoded ?? [])
                    try await connection.send(IMAPCommandEncoder.saslResponse(answer))
                } catch {
                    try await connection.send(IMAPCommandEncoder.saslCancel)
                }
            case .tagged(let tag, let condition) where tag == command.tag:
                guard condition.status == .ok else {
                    let details = exchange.serverError.map { " (\($0))" } ?? ""
                    throw MailboxError(
                        .authentication, "\(mechanism) refused: \(Self.describe(condition))\(details)")
                }
                try await afterLogin(condition)
                return
            case .untagged(.capability(let offered)): adopt(offered)
            default: continue
            }
        }
    }

    /// Capabilities change with login; a server may send them in the tagged OK.
    private func afterLogin(_ condition: IMAPResponseCondition) async throws(MailboxError) {
        if case .capability(let offered) = condition.code { adopt(offered) } else { try await refreshCapabilities() }
    }

    // MARK: Synchronization

    func synchronize(into sink: MailboxSink) async throws(MailboxError) -> SynchronizationReport {
        var report = SynchronizationReport()
        for folder in settings.folders {
            try await synchronize(folder, into: sink, report: &report)
        }
        return report
    }

    private func synchronize(
        _ folder: String, into sink: MailboxSink, report: inout SynchronizationReport
    ) async throws(MailboxError) {
        let validity = try await select(folder)
        let key = MailboxFolderKey(mailbox: settings.name, folder: folder, validity: validity)
        let known = try await MailboxError.fromStore { try await self.store.mailboxItems(key) }
        let listing = try await listSizes()
        // EXISTS from our own SELECT is not news; what arrives from here on is (mail delivered while we sync, or
        // our own expunges, which cost one more cheap synchronization before IDLE).
        changed = false
        try await MailboxError.fromStore {
            try await self.store.forgetMailboxItems(in: key, notIn: Set(listing.map { String($0.uid) }))
        }
        var owed: [UInt32] = []
        var toFetch: [(uid: UInt32, size: UInt64)] = []
        var tooLarge: [(uid: UInt32, size: UInt64)] = []
        for entry in listing {
            switch known[String(entry.uid)] {
            case .committed: owed.append(entry.uid)
            case .done, .tooLarge, .unrouted: continue
            case nil:
                if entry.size > UInt64(settings.maxMessageSize) {
                    tooLarge.append(entry)
                } else {
                    toFetch.append(entry)
                }
            }
        }
        if !owed.isEmpty {
            try await applyAfterCommit(owed, key: key)
            report.afterCommitApplied += owed.count
        }
        for entry in tooLarge {
            try await setAsideTooLarge(entry, key: key, sink: sink)
            report.tooLarge += 1
        }
        var start = 0
        while start < toFetch.count {
            var end = start
            var bytes: UInt64 = 0
            while end < toFetch.count, end - start < Self.batchCount, end == start || bytes < UInt64(Self.batchBytes) {
                bytes += toFetch[end].size
                end += 1
            }
            let batch = toFetch[start..<end].map(\.uid)
            start = end
            let outcome = try await fetchAndDeliver(batch, key: key, sink: sink)
            report.fetched += outcome.committed.count
            if !outcome.committed.isEmpty {
                try await applyAfterCommit(outcome.committed, key: key)
                report.afterCommitApplied += outcome.committed.count
            }
            if let failure = outcome.failure { throw failure }
        }
    }

    /// SELECT: the folder's UIDVALIDITY (RFC 9051 requires the server to send it).
    private func select(_ folder: String) async throws(MailboxError) -> UInt32 {
        var validity: UInt32?
        let done = try await run(.select(IMAPMailboxName(folder)), step: .folder, allowFailure: true) { event in
            if case .untagged(.condition(let condition)) = event, case .uidValidity(let value) = condition.code {
                validity = value
            }
        }
        guard done.status == .ok else {
            throw MailboxError(.folder, "cannot select \(folder): \(Self.describe(done))")
        }
        guard let validity else { throw MailboxError(.folder, "the server sent no UIDVALIDITY for \(folder)") }
        return validity
    }

    /// EXAMINE (read-only): the folder's message count and UIDVALIDITY, for `postdesk mailboxes test`.
    func examine(_ folder: String) async throws(MailboxError) -> (messages: UInt32, validity: UInt32) {
        var validity: UInt32 = 0
        var messages: UInt32 = 0
        let done = try await run(.examine(IMAPMailboxName(folder)), step: .folder, allowFailure: true) { event in
            switch event {
            case .untagged(.condition(let condition)):
                if case .uidValidity(let value) = condition.code { validity = value }
            case .untagged(.exists(let count)): messages = count
            default: break
            }
        }
        guard done.status == .ok else {
            throw MailboxError(.folder, "cannot open \(folder): \(Self.describe(done))")
        }
        return (messages, validity)
    }

    /// Every message's UID and size, in UID order: `UID FETCH 1:* (UID RFC822.SIZE)`.
    private func listSizes() async throws(MailboxError) -> [(uid: UInt32, size: UInt64)] {
        var entries: [(uid: UInt32, size: UInt64)] = []
        var uid: UInt32?
        var size: UInt64?
        _ = try await run(.uidFetch(.all, [.uid, .rfc822Size]), step: .fetch) {
            event in
            switch event {
            case .fetchBegin:
                uid = nil
                size = nil
            case .fetchAttribute(.uid(let value)): uid = value
            case .fetchAttribute(.rfc822Size(let value)): size = value
            case .fetchEnd:
                if let uid, entries.count <= Self.maxListing { entries.append((uid, size ?? 0)) }
            default: break
            }
        }
        // A folder claiming more messages than any real one holds is a hostile or broken server: memory stays
        // bounded (16 bytes an entry), and the mailbox reports why it stopped.
        guard entries.count <= Self.maxListing else {
            throw MailboxError(.protocolViolation, "the folder lists more than \(Self.maxListing) messages")
        }
        entries.sort { $0.uid < $1.uid }
        return entries
    }

    private struct FetchOutcome {
        var committed: [UInt32] = []
        /// Why the batch stopped short (a store failure): the poller backs off.
        var failure: MailboxError?
    }

    /// Fetches `uids` with `BODY.PEEK[]` and hands each message to the intake as soon as its bytes are in, while
    /// the next ones still arrive; records the committed ones in the store before returning them.
    private func fetchAndDeliver(
        _ uids: [UInt32], key: MailboxFolderKey, sink: MailboxSink
    ) async throws(MailboxError) -> FetchOutcome {
        let command = try encode(.uidFetch(IMAPUIDSet(uids), [.uid, .rfc822Size, .bodyPeek()]))
        try await send(command)
        var collector = MessageBodyCollector(
            spoolDirectory: spool.directory, spoolThreshold: spool.threshold, limit: settings.maxMessageSize + 65536)
        var failure: MailboxError?
        let verdicts = await withTaskGroup(of: (UInt32, MailboxSink.Verdict).self) { group in
            var uid: UInt32?
            var raw: RawMessage?
            reading: while true {
                let event: IMAPResponseEvent
                do throws(MailboxError) {
                    event = try await nextEvent(step: .fetch)
                } catch {
                    failure = error
                    collector.discard()
                    break reading
                }
                switch event {
                case .fetchBegin:
                    uid = nil
                    raw = nil
                case .fetchAttribute(.uid(let value)): uid = value
                case .bodyBegin(let section, _) where section.isWholeMessage: collector.discard()
                case .bodyBytes(let bytes):
                    do throws(MailboxError) {
                        try collector.append(bytes)
                    } catch {
                        failure = error
                        collector.discard()
                        break reading
                    }
                case .bodyEnd:
                    do throws(MailboxError) {
                        raw = try collector.finish()
                    } catch {
                        failure = error
                        break reading
                    }
                case .bodyNil:
                    // Expunged by someone else while we fetched it: gone, nothing to store.
                    raw = nil
                case .fetchEnd:
                    if let uid, let raw, uids.contains(uid) {
                        group.addTask { (uid, await sink.deliver(raw, reference: "uid \(uid)")) }
                    }
                case .tagged(let tag, let condition) where tag == command.tag:
                    if condition.status != .ok {
                        failure = MailboxError(.fetch, "UID FETCH refused: \(Self.describe(condition))")
                    }
                    break reading
                case .untagged(let response): note(response)
                default: break
                }
            }
            var verdicts: [(UInt32, MailboxSink.Verdict)] = []
            for await verdict in group { verdicts.append(verdict) }
            return verdicts
        }
        var outcome = FetchOutcome()
        var unrouted: [UInt32] = []
        for (uid, verdict) in verdicts.sorted(by: { $0.0 < $1.0 }) {
            switch verdict {
            case .committed: outcome.committed.append(uid)
            case .unrouted: unrouted.append(uid)
            case .retryLater(let reason):
                outcome.failure = outcome.failure ?? MailboxError(.store, "message uid \(uid) not stored: \(reason)")
            }
        }
        let committed = outcome.committed.map(String.init)
        try await MailboxError.fromStore { try await self.store.setMailboxItems(committed, state: .committed, in: key) }
        if !unrouted.isEmpty {
            logger.warning(
                "no queue takes these messages: left in the mailbox (set mailboxes.<name>.queue or a triage queue)",
                metadata: ["mailbox": "\(settings.name)", "folder": "\(key.folder)", "uids": "\(unrouted)"])
            let items = unrouted.map(String.init)
            try await MailboxError.fromStore { try await self.store.setMailboxItems(items, state: .unrouted, in: key) }
        }
        if let failure { throw failure }
        return outcome
    }

    /// The after-commit action for messages whose tickets are committed; then their state is `done`.
    private func applyAfterCommit(_ uids: [UInt32], key: MailboxFolderKey) async throws(MailboxError) {
        let set = IMAPUIDSet(uids)
        switch settings.afterCommit {
        case .delete, .keep:
            try await flag(set, .deleted)
            if capabilities.uidPlus {
                _ = try await run(.uidExpunge(set), step: .afterCommit)
            }
        case .move(let folder):
            try await move(set, to: folder)
        case .markSeen:
            try await flag(set, .seen)
        }
        let items = uids.map(String.init)
        try await MailboxError.fromStore { try await self.store.setMailboxItems(items, state: .done, in: key) }
    }

    private func flag(_ set: IMAPUIDSet, _ flag: IMAPFlag) async throws(MailboxError) {
        _ = try await run(.uidStore(set, .add, [flag], silent: true), step: .afterCommit)
    }

    /// MOVE when offered; else COPY, `\Deleted`, and `UID EXPUNGE` of exactly these UIDs (UIDPLUS), or the
    /// `\Deleted` flag alone when the server has no UIDPLUS (never a bare EXPUNGE).
    private func move(_ set: IMAPUIDSet, to folder: String) async throws(MailboxError) {
        let target = IMAPMailboxName(folder)
        let command: IMAPCommand = capabilities.move ? .uidMove(set, target) : .uidCopy(set, target)
        var done = try await run(command, step: .afterCommit, allowFailure: true)
        if done.status == .no, done.code == .tryCreate {
            // The folder does not exist yet: create it once, as the server suggests, and try again.
            _ = try await run(.create(target), step: .afterCommit)
            done = try await run(command, step: .afterCommit, allowFailure: true)
        }
        guard done.status == .ok else {
            throw MailboxError(.afterCommit, "cannot move to \(folder): \(Self.describe(done))")
        }
        if capabilities.move { return }
        try await flag(set, .deleted)
        if capabilities.uidPlus { _ = try await run(.uidExpunge(set), step: .afterCommit) }
    }

    /// A message over the size limit: on record, left in place or moved to `oversize_folder`, never fetched.
    private func setAsideTooLarge(
        _ entry: (uid: UInt32, size: UInt64), key: MailboxFolderKey, sink: MailboxSink
    ) async throws(MailboxError) {
        let header = try await headerFields(of: entry.uid)
        var action = "left in \(key.folder)"
        if let folder = settings.oversizeFolder {
            try await move(IMAPUIDSet([entry.uid]), to: folder)
            action = "moved to \(folder)"
        }
        try await MailboxError.fromStore {
            try await sink.recordTooLarge(
                size: Int(clamping: entry.size), reference: "\(key.folder) uid \(entry.uid)", header: header,
                action: action)
            try await self.store.setMailboxItems([String(entry.uid)], state: .tooLarge, in: key)
        }
        logger.warning(
            "message too large: not downloaded",
            metadata: [
                "mailbox": "\(settings.name)", "uid": "\(entry.uid)", "size": "\(entry.size)",
                "limit": "\(settings.maxMessageSize)", "action": "\(action)",
            ])
    }

    /// The few header fields a record of a too-large message shows, without its body: at most
    /// `MailboxSink.headerLimit` bytes are kept.
    private func headerFields(of uid: UInt32) async throws(MailboxError) -> [UInt8] {
        var bytes: [UInt8] = []
        let section = IMAPFetchItem.bodyPeek(section: "HEADER.FIELDS (FROM SUBJECT MESSAGE-ID DATE)")
        _ = try await run(.uidFetch(IMAPUIDSet([uid]), [.uid, section]), step: .fetch) { event in
            if case .bodyBytes(let chunk) = event, bytes.count < MailboxSink.headerLimit {
                bytes += chunk.prefix(MailboxSink.headerLimit - bytes.count)
            }
        }
        return bytes
    }

    // MARK: Waiting for mail

    func waitForChanges(upTo limit: Duration) async throws(MailboxError) {
        if changed {
            changed = false
            return
        }
        guard settings.idle, capabilities.idle, settings.folders.count == 1 else {
            try? await Task.sleep(for: settings.pollInterval)
            _ = try await run(.noop, step: .connection) { event in
                if case .untagged(let response) = event { self.note(response) }
            }
            changed = false
            return
        }
        let command = try encode(.idle)
        try await send(command)
        let event = try await nextEvent(step: .connection)
        guard case .continuationRequest = event else {
            throw MailboxError(.protocolViolation, "IDLE was not accepted: \(event)")
        }
        // DONE goes out at `limit` even while this task waits in a read, or as soon as mail is announced.
        let doneSent = NIOLockedValueBox(false)
        let renewal = connection.scheduleWrite(IMAPCommandEncoder.idleDone, after: limit, once: doneSent)
        defer { renewal.cancel() }
        while true {
            let event = try await nextEvent(step: .connection, within: limit + settings.timeout)
            switch event {
            case .untagged(let response):
                note(response)
                if changed,
                    doneSent.withLockedValue({ claimed in
                        defer { claimed = true }; return !claimed
                    })
                {
                    try await connection.send(IMAPCommandEncoder.idleDone)
                }
            case .tagged(let tag, let condition) where tag == command.tag:
                guard condition.status == .ok else {
                    throw MailboxError(.connection, "IDLE ended with \(Self.describe(condition))")
                }
                changed = false
                return
            default: continue
            }
        }
    }

    /// New mail, or mail gone: the next synchronization has work.
    private func note(_ response: IMAPUntaggedResponse) {
        switch response {
        case .exists, .expunge, .recent, .vanished: changed = true
        case .condition(let condition) where condition.status == .bye:
            changed = true
        default: break
        }
    }

    func close() async {
        if let command = try? encode(.logout) {
            try? await send(command)
            _ = try? await nextEvent(step: .connection, within: .seconds(2))
        }
        await connection.close()
    }

    // MARK: The command loop

    private func encode(_ command: IMAPCommand) throws(MailboxError) -> IMAPEncodedCommand {
        do {
            return try encoder.encode(command)
        } catch {
            throw MailboxError(.protocolViolation, "\(error)")
        }
    }

    /// Sends a command's first segment; a synchronizing literal's next segments wait for the server's `+` in
    /// `run`.
    private func send(_ command: IMAPEncodedCommand) async throws(MailboxError) {
        try await connection.send(command.segments[0])
    }

    /// Sends `command` and reads until its tagged completion; every other event goes to `handle`. A completion
    /// other than OK is an error of `step` unless `allowFailure`.
    @discardableResult
    private func run(
        _ command: IMAPCommand, step: MailboxError.Step, allowFailure: Bool = false,
        handle: (IMAPResponseEvent) -> Void = { _ in }
    ) async throws(MailboxError) -> IMAPResponseCondition {
        let encoded = try encode(command)
        try await send(encoded)
        var remaining = encoded.segments.dropFirst()
        while true {
            let event = try await nextEvent(step: step)
            switch event {
            case .continuationRequest:
                guard let segment = remaining.popFirst() else {
                    throw MailboxError(.protocolViolation, "unexpected continuation request during \(step.rawValue)")
                }
                try await connection.send(segment)
            case .tagged(let tag, let condition) where tag == encoded.tag:
                if condition.status != .ok, !allowFailure {
                    throw MailboxError(step, "\(Self.commandName(command)) refused: \(Self.describe(condition))")
                }
                return condition
            case .untagged(.condition(let condition)) where condition.status == .bye:
                throw MailboxError(.connection, "the server closed the session: \(condition.text)")
            default:
                if case .untagged(let response) = event { note(response) }
                handle(event)
            }
        }
    }

    /// The next event, reading from the connection as needed. The connection closing or the codec refusing the
    /// stream is an error: the poller drops the connection and starts over.
    private func nextEvent(step: MailboxError.Step, within limit: Duration? = nil) async throws(MailboxError)
        -> IMAPResponseEvent
    {
        while true {
            do {
                if let event = try parser.next() { return event }
            } catch {
                throw MailboxError(.protocolViolation, "\(error)")
            }
            guard let chunk = try await connection.receive(within: limit) else {
                throw MailboxError(
                    step == .greeting ? .greeting : .connection,
                    "the server closed the connection during \(step.rawValue)")
            }
            chunk.withUnsafeReadableBytes { parser.feed($0) }
        }
    }

    /// `NO [AUTHENTICATIONFAILED] Authentication failed.`: the server's own words, for logs and the CLI.
    static func describe(_ condition: IMAPResponseCondition) -> String {
        var text = condition.status.rawValue.uppercased()
        if let code = condition.code { text += " [\(code)]" }
        return text + " " + condition.text
    }

    private static func commandName(_ command: IMAPCommand) -> String {
        switch command {
        case .login: "LOGIN"
        case .authenticate(let mechanism, _): "AUTHENTICATE \(mechanism)"
        default: "\(command)".split(separator: "(").first.map(String.init)?.uppercased() ?? "command"
        }
    }
}

/// Where fetched messages larger than `threshold` bytes are spooled (the daemon's spool directory).
struct SpoolSettings: Sendable {
    var directory: String
    var threshold: Int
}
