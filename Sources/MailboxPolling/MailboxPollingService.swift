import Logging
import MailServerClient
import Synchronization
import TicketPipeline

/// Runs one `MailboxPoller` task per configured mailbox, and applies a new list of mailboxes (a reload) by
/// starting the new ones, restarting the changed ones and stopping the removed ones; the others, and the push
/// path, are not touched.
public final class MailboxPollingService: Sendable {
    private struct Running {
        var settings: MailboxSettings
        var task: Task<Void, Never>
    }

    private let store: any TicketStore & MailboxStateStore
    private let submit: @Sendable (InboundMessage) async -> [RecipientOutcome]
    private let tokens = Mutex<(any AccessTokenSource)?>(nil)
    private let spool: SpoolSettings
    private let logger: Logger
    private let running = Mutex<[String: Running]>([:])

    /// - Parameter submit: the intake contract (the daemon's `SupervisedIntake`).
    public init(
        store: any TicketStore & MailboxStateStore,
        submit: @escaping @Sendable (InboundMessage) async -> [RecipientOutcome], tokens: (any AccessTokenSource)?,
        spoolDirectory: String, spoolThreshold: Int, logger: Logger
    ) {
        self.store = store
        self.submit = submit
        self.tokens.withLock { $0 = tokens }
        self.spool = SpoolSettings(directory: spoolDirectory, threshold: spoolThreshold)
        self.logger = logger
    }

    /// The names of the mailboxes being polled.
    public var mailboxNames: [String] { running.withLock { $0.keys.sorted() } }

    /// Makes `mailboxes` the set being polled; `tokens`, when given, replaces the OAuth2 token source for the
    /// pollers started from now on. Returns what changed, for the log.
    @discardableResult
    public func apply(
        _ mailboxes: [MailboxSettings], tokens newTokens: (any AccessTokenSource)? = nil
    ) -> (started: [String], restarted: [String], stopped: [String]) {
        if let newTokens { tokens.withLock { $0 = newTokens } }
        var started: [String] = []
        var restarted: [String] = []
        var stopped: [String] = []
        let wanted = Dictionary(mailboxes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        running.withLock { running in
            for (name, current) in running where wanted[name] != current.settings {
                current.task.cancel()
                running[name] = nil
                if wanted[name] == nil { stopped.append(name) } else { restarted.append(name) }
            }
            for settings in mailboxes where running[settings.name] == nil {
                let poller = makePoller(settings)
                running[settings.name] = Running(settings: settings, task: Task { await poller.run() })
                if !restarted.contains(settings.name) { started.append(settings.name) }
            }
        }
        return (started.sorted(), restarted.sorted(), stopped.sorted())
    }

    /// Stops every poller and waits for their tasks (each ends at its next await: a read, a sleep, a delivery).
    public func stopAll() async {
        let tasks = running.withLock { running in
            defer { running = [:] }
            return running.values.map(\.task)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func makePoller(_ settings: MailboxSettings) -> MailboxPoller {
        let sink = MailboxSink(settings: settings, submit: submit, store: store, logger: logger)
        let store = self.store
        let spool = self.spool
        var logger = self.logger
        logger[metadataKey: "mailbox"] = "\(settings.name)"
        let sessionLogger = logger
        return MailboxPoller(
            settings: settings, sink: sink, store: store, tokens: tokens.withLock { $0 }, logger: logger
        ) {
            settings, credentials throws(MailboxError) in
            switch settings.mailProtocol {
            case .imap:
                try await IMAPMailboxSession.open(
                    settings: settings, credentials: credentials, store: store, spool: spool, logger: sessionLogger)
            case .pop3:
                try await POP3MailboxSession.open(
                    settings: settings, credentials: credentials, store: store, spool: spool, logger: sessionLogger)
            }
        }
    }
}
