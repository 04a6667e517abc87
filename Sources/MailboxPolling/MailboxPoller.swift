import Foundation
import Logging
import MailServerClient
import Synchronization
import TicketPipeline

/// One mailbox's own task: connect, synchronize, wait for changes (IDLE or the poll interval), again; on any
/// error, back off exponentially with jitter (capped) and start over with a full re-sync. A failing, slow or
/// hostile server only ever delays its own mailbox: each mailbox runs in a task of its own and every step is
/// bounded by the mailbox's timeout.
///
/// Health goes to the store after every attempt (`postdesk mailboxes`); a mailbox failing longer than
/// `alertAfter` is logged at `error` once an hour, not at every attempt.
final class MailboxPoller: Sendable {
    typealias SessionOpener =
        @Sendable (MailboxSettings, MailboxCredentials) async throws(MailboxError) -> any MailServerSession

    let settings: MailboxSettings
    private let sink: MailboxSink
    private let store: any TicketStore & MailboxStateStore
    private let tokens: (any AccessTokenSource)?
    private let open: SessionOpener
    private let logger: Logger
    private let lastExpiryWarning = Mutex<Date?>(nil)
    /// The longest wait between two attempts of a failing mailbox.
    static let backoffCap = Duration.seconds(15 * 60)
    static let firstBackoff = Duration.seconds(5)

    init(
        settings: MailboxSettings, sink: MailboxSink, store: any TicketStore & MailboxStateStore,
        tokens: (any AccessTokenSource)?, logger: Logger, open: @escaping SessionOpener
    ) {
        self.settings = settings
        self.sink = sink
        self.store = store
        self.tokens = tokens
        self.logger = logger
        self.open = open
    }

    /// Runs until the task is cancelled.
    func run() async {
        var status =
            (try? await store.mailboxStatuses().first { $0.mailbox == settings.name })
            ?? MailboxStatus(mailbox: settings.name, state: .starting)
        status.state = .starting
        status.nextAttempt = nil
        if case .oauth2(let oauth) = settings.authentication { status.clientSecretExpires = oauth.clientSecretExpires }
        var failures = 0
        var lastAlert: Date?
        var lastWarning: String?
        while !Task.isCancelled {
            status.lastPoll = Date()
            do throws(MailboxError) {
                try await session(&status)
                failures = 0
            } catch {
                if Task.isCancelled { break }
                failures += 1
                let now = Date()
                let delay = Self.backoff(after: failures)
                status.state = error.step == .authentication || error.step == .token ? .needsAttention : .failing
                status.lastError = error.description
                status.failingSince = status.failingSince ?? now
                status.nextAttempt = now.addingTimeInterval(Self.seconds(delay))
                await save(status)
                let failingFor = now.timeIntervalSince(status.failingSince ?? now)
                let metadata: Logger.Metadata = [
                    "mailbox": "\(settings.name)", "error": "\(error)", "attempt": "\(failures)",
                    "retry_in_s": "\(Int(Self.seconds(delay)))",
                ]
                if failingFor >= Self.seconds(settings.alertAfter) {
                    if lastAlert.map({ now.timeIntervalSince($0) >= 3600 }) ?? true {
                        lastAlert = now
                        logger.error(
                            "mailbox failing for \(Int(failingFor / 60)) minutes: no mail is being fetched from it",
                            metadata: metadata)
                    }
                } else if lastWarning != error.description {
                    lastWarning = error.description
                    logger.warning("mailbox poll failed", metadata: metadata)
                }
                try? await Task.sleep(for: delay)
                continue
            }
            lastAlert = nil
            lastWarning = nil
        }
        status.state = .starting
        status.nextAttempt = nil
        await save(status)
    }

    /// One connection: open, then synchronize and wait, for as long as it stays healthy.
    private func session(_ status: inout MailboxStatus) async throws(MailboxError) {
        await refreshTokenHealth(&status)
        let credentials = try await MailboxCredentials.resolve(settings, tokens: tokens)
        let session: any MailServerSession
        do throws(MailboxError) {
            session = try await open(settings, credentials)
        } catch {
            if error.step == .authentication, case .accessToken = credentials {
                // Perhaps revoked or expired early: the next attempt gets a fresh token.
                await tokens?.tokenRejected(for: settings.name)
            }
            throw error
        }
        do throws(MailboxError) {
            while !Task.isCancelled {
                let report = try await session.synchronize(into: sink)
                status.state = .healthy
                status.lastPoll = Date()
                status.lastSuccess = status.lastPoll
                status.lastError = nil
                status.failingSince = nil
                status.messagesFetched += report.fetched
                status.nextAttempt =
                    session.staysOpen ? nil : Date().addingTimeInterval(Self.seconds(settings.pollInterval))
                let warnings = await refreshTokenHealth(&status)
                await save(status)
                warnOfExpiry(warnings)
                if report.fetched > 0 || report.tooLarge > 0 {
                    logger.info(
                        "mailbox synchronized",
                        metadata: [
                            "mailbox": "\(settings.name)", "fetched": "\(report.fetched)",
                            "too_large": "\(report.tooLarge)",
                        ])
                }
                guard session.staysOpen else { break }
                try await session.waitForChanges(upTo: settings.idle ? settings.idleRenewal : settings.pollInterval)
            }
            await session.close()
        } catch {
            await session.close()
            throw error
        }
        if !session.staysOpen, !Task.isCancelled {
            try? await Task.sleep(for: settings.pollInterval)
        }
    }

    /// Logs the token manager's warnings (a client secret or an unused refresh token expiring within 14 days, a
    /// consent needed), at most once a day: after those dates every refresh fails and the mailbox stops.
    private func warnOfExpiry(_ warnings: [String]) {
        guard !warnings.isEmpty else { return }
        let now = Date()
        guard
            lastExpiryWarning.withLock({ last in
                if let previous = last, now.timeIntervalSince(previous) < 86400 { return false }
                last = now
                return true
            })
        else { return }
        for warning in warnings {
            logger.warning("\(warning)", metadata: ["mailbox": "\(settings.name)"])
        }
    }

    /// Copies the token manager's view into `status`; returns its warnings.
    @discardableResult
    private func refreshTokenHealth(_ status: inout MailboxStatus) async -> [String] {
        guard case .oauth2 = settings.authentication, let health = tokens as? any AccessTokenHealthSource else {
            return []
        }
        let report = await health.tokenHealth(for: settings.name)
        status.accessTokenExpires = report.accessTokenExpires
        status.refreshTokenIssued = report.refreshTokenIssued
        return report.warnings
    }

    private func save(_ status: MailboxStatus) async {
        do {
            try await store.saveMailboxStatus(status)
        } catch {
            logger.warning(
                "cannot save mailbox status", metadata: ["mailbox": "\(settings.name)", "error": "\(error)"])
        }
    }

    /// 5 s, 10 s, 20 s, … capped at 15 minutes, each ±20 % so that mailboxes failing together (one server down)
    /// do not retry in step.
    static func backoff(after failures: Int) -> Duration {
        let base = seconds(firstBackoff) * pow(2, Double(min(failures - 1, 20)))
        let capped = min(base, seconds(backoffCap))
        return .milliseconds(Int64(capped * 1000 * Double.random(in: 0.8...1.2)))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The token manager's view of a mailbox's tokens, for the health report.
public protocol AccessTokenHealthSource: Sendable {
    func tokenHealth(for mailbox: String) async -> AccessTokenHealthReport
}

/// What the health report shows of a mailbox's tokens, and what should be done before they stop working.
public struct AccessTokenHealthReport: Sendable {
    public var accessTokenExpires: Date?
    public var refreshTokenIssued: Date?
    /// Known expiries within the next days (client secret, an unused refresh token), and a consent needed.
    public var warnings: [String]

    public init(accessTokenExpires: Date?, refreshTokenIssued: Date?, warnings: [String]) {
        self.accessTokenExpires = accessTokenExpires
        self.refreshTokenIssued = refreshTokenIssued
        self.warnings = warnings
    }
}
