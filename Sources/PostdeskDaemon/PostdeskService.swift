import Foundation
import Logging
import MailParser
import MailboxPolling
import MessageSpool
import NIOCore
import NIOPosix
import NIOSSL
import OAuthTokens
import OutboundMail
import PostdeskHTTP
import SMTPProtocol
import SMTPTransport
import ServiceLifecycle
import Synchronization
import TicketPipeline
import TicketStoreSQLite
import UnixSignals
import WebhookDelivery

/// The daemon: opens the store, listens for LMTP and SMTP, and on graceful shutdown (SIGTERM) stops accepting,
/// lets the transactions in flight finish for up to `limits.shutdown_grace`, gives up the rest (`421 4.3.2`,
/// nothing stored) and closes. Under systemd (`Type=notify`) it says `READY=1` once listening, `WATCHDOG=1` while
/// well (see `HealthWatchdog`) and `STOPPING=1` at shutdown.
public struct PostdeskService: Service {
    public let configuration: PostdeskConfiguration
    public let logger: Logger
    /// The file `configuration` came from, read again on SIGHUP (nil: built-in defaults, nothing to reload).
    public let configurationPath: String?

    public init(configuration: PostdeskConfiguration, logger: Logger, configurationPath: String? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.configurationPath = configurationPath
    }

    public func run() async throws {
        let store = try SQLiteTicketStore(path: configuration.storePath, logger: logger)
        store.recordsEvents = configuration.recordsEvents
        try SpoolDirectory.prepare(configuration.spoolDirectory)
        let intake = try configuration.makeIntake(store: store, logger: logger)
        let router = intake.router
        let ledger = try InFlightLedger(
            path: InFlightLedger.path(forStore: configuration.storePath),
            capacity: max(1024, 2 * configuration.maxConnections + 64))
        for (key, suspect) in ledger.suspects {
            logger.warning(
                "poison suspect from an earlier run: its next delivery will be quarantined",
                metadata: ["message": "\(key)", "stage": "\(suspect.stage)", "cause": "\(suspect.text)"])
        }
        for (key, interruption) in ledger.interruptions {
            logger.notice(
                "a message was in progress when the last run stopped: its next delivery is processed once more",
                metadata: ["message": "\(key)", "stage": "\(interruption.stage)"])
        }
        ledger.watchFatalSignals()
        let notifier = try SystemdNotifier()
        let group = MultiThreadedEventLoopGroup.singleton
        var probes = group.makeIterator().enumerated().map { index, loop in
            HealthWatchdog.Probe(name: "event loop \(index)") { answered in loop.execute(answered) }
        }
        probes.append(HealthWatchdog.Probe(name: "the store's writer") { store.probeWriter($0) })
        let watchdog = HealthWatchdog(notifier: notifier, probes: probes, logger: logger)
        let supervisor = ProcessingSupervisor(
            ledger: ledger, deadline: configuration.processingDeadline, watchdog: watchdog, logger: logger)
        // Threads to spare: one a stuck stage holds is lost until the restart the watchdog brings.
        let workers = NIOThreadPool(numberOfThreads: max(4, System.coreCount + 2))
        workers.start()
        supervisor.start()
        let supervisedIntake = SupervisedIntake(
            intake: intake, supervisor: supervisor, workers: workers, logger: logger)
        let server = SMTPServer(
            configuration: try configuration.serverConfiguration(),
            backend: TicketIntakeBackend(
                intake: supervisedIntake, router: router, hostname: configuration.hostname),
            logger: logger, group: group)
        if !configuration.lmtpSocket.isEmpty {
            try await server.listenUnix(
                path: configuration.lmtpSocket, dialect: .lmtp, mode: mode_t(configuration.lmtpSocketMode),
                owner: configuration.lmtpSocketOwner, group: configuration.lmtpSocketGroup)
            logger.info("listening", metadata: ["lmtp": "\(configuration.lmtpSocket)"])
        }
        if let listen = configuration.smtpListen {
            let port = try await server.listenTCP(host: listen.host, port: listen.port, dialect: .smtp)
            logger.info(
                "listening",
                metadata: ["smtp": "\(listen.host):\(port)", "starttls": "\(configuration.smtpTLS != nil)"])
        }
        let tokens = try await tokenSource(for: configuration.mailboxes, existing: nil)
        // Outbound mail (issue 14): a worker task sends what the pipeline queued; stopped before the store closes.
        // AUTH XOAUTH2 to the relay takes its access tokens from the mailboxes' token manager.
        let outboundWorker = try configuration.makeOutboundWorker(store: store, logger: logger, tokens: tokens)
        let outbound = outboundWorker.map { worker in Task { await worker.run() } }
        defer { outbound?.cancel() }
        let pollers = MailboxPollingService(
            store: store, submit: { await supervisedIntake.submit($0) }, tokens: tokens,
            spoolDirectory: configuration.spoolDirectory, spoolThreshold: configuration.spoolThreshold, logger: logger)
        if !configuration.mailboxes.isEmpty {
            pollers.apply(configuration.mailboxes)
            logger.info("polling", metadata: ["mailboxes": "\(pollers.mailboxNames)"])
        }
        // Webhooks (issue 14): the worker runs even without endpoints, so that a SIGHUP reload can add some.
        let webhookWorker = try configuration.makeWebhookWorker(store: store, logger: logger)
        let reloads = Task {
            await reloadOnHangup(
                pollers, tokens: tokens,
                webhooks: WebhookReload(worker: webhookWorker, store: store, events: intake.settings.eventRecording))
        }
        // HTTP API (issue 14): started once the listeners are up, stopped first at shutdown (before the pollers and
        // listeners), so that /readyz never says ready while they are not. Reads use the store's reader pool; a
        // quarantine replay runs in a child `postdesk quarantine replay` (ChildProcessReplay), never in here.
        var httpServer: APIServer?
        if let http = configuration.http {
            let readiness = HTTPReadiness { watchdog.problem.map { [$0] } ?? [] }
            let server = try APIServer(
                settings: http, store: store, reader: store, readiness: readiness,
                replay: ChildProcessReplay(
                    configurationPath: configurationPath, reader: store, deadline: configuration.processingDeadline
                ).replay, replies: try configuration.agentReplySender(),
                priority: http.busySharePercent >= 100
                    ? nil
                    : IntakePriority(share: Double(http.busySharePercent) / 100) { supervisor.isBusy },
                logger: logger, eventLoopGroup: group)
            let port = try await server.start()
            logger.info(
                "listening", metadata: ["http": "\(http.host):\(port)", "tls": "\(http.tlsCertificatePath != nil)"])
            httpServer = server
        }
        // Webhooks (issue 14): one task delivers the outbox's events after their commits; cancelled at shutdown
        // before the store closes, a request in flight stays pending in the store and is sent after the restart.
        let webhooks = Task { await webhookWorker.run() }
        if !configuration.webhooks.isEmpty {
            logger.info("webhooks", metadata: ["endpoints": "\(configuration.webhooks.map(\.name))"])
        }
        notifier?.send("READY=1")
        logger.info(
            "postdesk ready",
            metadata: [
                "store": "\(configuration.storePath)", "queues": "\(configuration.queues.map(\.name))",
                "systemd":
                    "\(notifier == nil ? "no" : watchdog.notifier?.watchdogInterval.map { "watchdog \($0)" } ?? "notify")",
            ])
        // Suspends until SIGTERM/SIGINT; a cancellation ends the wait the same way.
        try? await gracefulShutdown()
        notifier?.send("STOPPING=1")
        reloads.cancel()
        await httpServer?.stop()
        // Pollers first: a message they are delivering finishes (or is given up at the grace period like any
        // other); nothing of a mailbox is deleted for a message not committed.
        await pollers.stopAll()
        webhooks.cancel()
        await webhooks.value
        logger.info(
            "shutting down: finishing transactions in flight",
            metadata: ["grace_s": "\(configuration.shutdownGrace.components.seconds)"])
        let abandoned = await shutDown(server, supervisor: supervisor)
        // A delivery's client gets its replies a moment before its pipeline is counted as returned.
        for _ in 0..<200 where supervisor.inFlightCount > 0 { try? await Task.sleep(for: .milliseconds(10)) }
        supervisor.stop()
        // A stage still running holds its worker thread: joining it would never return.
        let stillRunning = supervisor.inFlightCount
        if stillRunning == 0 { try? await workers.shutdownGracefully() }
        if let outbound {
            outbound.cancel()
            _ = await Self.finishes(outbound, within: .seconds(5))
        }
        let statistics = store.commitStatistics
        close(store, bounded: .seconds(5))
        logger.info(
            "stopped",
            metadata: [
                "writes": "\(statistics.writes)", "commits": "\(statistics.commits)", "fsyncs": "\(statistics.syncs)",
                "writer_cpu_us_per_write":
                    "\(statistics.writes == 0 ? 0 : Int(statistics.writerCPUSeconds * 1e6) / statistics.writes)",
            ])
        if abandoned > 0 || stillRunning > 0 {
            let error = ShutdownIncomplete(abandonedDeliveries: abandoned, stagesStillRunning: stillRunning)
            logger.error("\(error)", metadata: ["exit_status": "\(ShutdownIncomplete.exitStatus)"])
            throw error
        }
    }

    /// What a reload changes for webhooks: the worker's endpoints, and whether intake and the store's own changes
    /// write events (on while any webhook is configured).
    struct WebhookReload: Sendable {
        let worker: WebhookDeliveryWorker
        let store: SQLiteTicketStore
        let events: EventRecording

        func apply(_ configuration: PostdeskConfiguration) async throws -> (
            added: [String], changed: [String], removed: [String]
        ) {
            let endpoints = try configuration.webhookEndpoints()
            // Events first: an endpoint added now receives the events written from here on.
            if configuration.recordsEvents {
                events.isOn = true
                store.recordsEvents = true
            }
            let changes = try await worker.update(endpoints)
            if !configuration.recordsEvents {
                events.isOn = false
                store.recordsEvents = false
            }
            return changes
        }
    }

    /// SIGHUP: reads the configuration file again and applies its mailboxes and webhooks (added, changed, removed)
    /// without touching the listeners; a change elsewhere is logged as needing a restart. A file with errors (an
    /// unreadable webhook secret included) changes nothing.
    private func reloadOnHangup(
        _ pollers: MailboxPollingService, tokens: OAuthTokenSource?, webhooks: WebhookReload
    ) async {
        var tokens = tokens
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            guard let configurationPath else {
                logger.notice("SIGHUP: no configuration file to reload (built-in defaults)")
                continue
            }
            do {
                let fresh = try await PostdeskConfiguration.load(path: configurationPath)
                _ = try fresh.webhookEndpoints()  // every secret readable before anything changes
                tokens = try await tokenSource(for: fresh.mailboxes, existing: tokens)
                let changes = pollers.apply(fresh.mailboxes, tokens: tokens)
                let webhookChanges = try await webhooks.apply(fresh)
                var unchanged = fresh
                unchanged.mailboxes = configuration.mailboxes
                unchanged.webhooks = configuration.webhooks
                unchanged.origins = configuration.origins
                logger.notice(
                    "configuration reloaded: mailboxes and webhooks applied",
                    metadata: [
                        "started": "\(changes.started)", "restarted": "\(changes.restarted)",
                        "stopped": "\(changes.stopped)", "webhooks_added": "\(webhookChanges.added)",
                        "webhooks_changed": "\(webhookChanges.changed)",
                        "webhooks_removed": "\(webhookChanges.removed)",
                    ])
                if unchanged != configuration {
                    logger.warning("configuration changes outside mailboxes take effect at the next restart")
                }
            } catch {
                logger.error("SIGHUP: configuration not reloaded, nothing changed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The OAuth2 token manager, when a mailbox uses OAuth2 (its store, `oauth/` next to the database, is created
    /// then and only then); an existing one takes the new settings (a reload).
    private func tokenSource(
        for mailboxes: [MailboxSettings], existing: OAuthTokenSource?
    ) async throws -> OAuthTokenSource? {
        let settings = try MailboxOAuth.clientSettings(mailboxes)
        if let existing {
            await existing.manager.update(mailboxes: settings)
            return existing
        }
        guard !settings.isEmpty else { return nil }
        let store = try OAuthTokenStore(directory: MailboxOAuth.storeDirectory(forDatabase: configuration.storePath))
        var oauthLogger = logger
        oauthLogger[metadataKey: "component"] = "oauth"
        return OAuthTokenSource(manager: OAuthTokenManager(store: store, mailboxes: settings, logger: oauthLogger))
    }

    /// Waits for the sessions to finish for the grace period; then gives up the deliveries still in the pipeline
    /// (their clients get `421 4.3.2`, the sessions close) and waits a little more. Returns how many were given up.
    private func shutDown(_ server: SMTPServer, supervisor: ProcessingSupervisor) async -> Int {
        let grace = configuration.shutdownGrace
        let drained = Task { await server.shutdownGracefully(grace: grace) }
        if await Self.finishes(drained, within: grace) { return 0 }
        let abandoned = supervisor.abandonAll(
            reason: "the shutdown grace period of \(grace.components.seconds) s is over")
        if !(await Self.finishes(drained, within: .seconds(5))) {
            logger.error("sessions still open 5 s after the shutdown grace period: exiting without them")
        }
        return abandoned
    }

    /// Whether `task` completes within `limit`. Neither is cancelled: waiting on a task's value cannot be
    /// interrupted, so a task group would wait for it; two tasks race to resume once instead.
    private static func finishes(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let race = Race(continuation)
            Task {
                await task.value
                race.decide(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                race.decide(false)
            }
        }
    }

    /// Resumes a continuation with the first answer only.
    private final class Race: Sendable {
        private let continuation: CheckedContinuation<Bool, Never>
        private let decided = Atomic<Bool>(false)

        init(_ continuation: CheckedContinuation<Bool, Never>) { self.continuation = continuation }

        func decide(_ answer: Bool) {
            if !decided.exchange(true, ordering: .acquiringAndReleasing) { continuation.resume(returning: answer) }
        }
    }

    /// Closes the store on a thread of its own, waiting at most `limit`: a writer held by a stuck stage never
    /// finishes, and its open transaction is rolled back by SQLite when the process exits (nothing half-committed).
    private func close(_ store: SQLiteTicketStore, bounded limit: Duration) {
        let done = DispatchSemaphore(value: 0)
        let logger = self.logger
        let thread = Thread {
            do {
                try store.close()
            } catch {
                logger.error("closing the ticket store failed", metadata: ["error": "\(error)"])
            }
            done.signal()
        }
        thread.start()
        if done.wait(timeout: .now() + .milliseconds(Int(limit.components.seconds * 1000))) == .timedOut {
            logger.error("the ticket store's writer did not finish: exiting without closing it (SQLite rolls back)")
        }
    }
}

extension PostdeskConfiguration {
    /// The queues as the pipeline routes to them.
    public var queueDefinitions: [QueueDefinition] {
        queues.map {
            QueueDefinition(
                name: $0.name, tag: $0.tag, addresses: $0.addresses, policy: $0.policy, subQueues: $0.subQueues)
        }
    }

    /// The pipeline exactly as the daemon runs it, over `store`: also used by `postdesk quarantine replay`.
    public func makeIntake(store: any TicketStore, logger: Logger) throws -> TicketIntake {
        TicketIntake(
            router: QueueRouter(queues: queueDefinitions), store: store, logger: logger,
            settings: try pipelineSettings())
    }

    func serverConfiguration() throws -> SMTPServerConfiguration {
        var server = SMTPServerConfiguration()
        server.hostname = hostname
        server.maxMessageSize = maxMessageSize
        server.maxRecipients = maxRecipients
        server.maxConnections = maxConnections
        server.maxLMTPConnections = lmtpMaxConnections
        server.commandTimeout = .seconds(commandTimeout.components.seconds)
        server.dataTimeout = .seconds(dataTimeout.components.seconds)
        server.commandDeadline = commandDeadline
        server.transactionDeadline = transactionDeadline
        server.spoolDirectory = spoolDirectory
        server.spoolThreshold = spoolThreshold
        // `SupervisedIntake.submit` only queues the message for the intake threads: a detour through NIO's thread
        // pool for large messages would be one more hand-off and nothing else.
        server.inlineDeliveryLimit = .max
        if let smtpTLS {
            let chain = try NIOSSLCertificate.fromPEMFile(smtpTLS.certificatePath).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: smtpTLS.privateKeyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            // TLS 1.0 and 1.1 are deprecated (RFC 8996); every MTA of the last decade speaks 1.2.
            tls.minimumTLSVersion = .tlsv12
            server.tls = try NIOSSLContext(configuration: tls)
        }
        return server
    }
}
