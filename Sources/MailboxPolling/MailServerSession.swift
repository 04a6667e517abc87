/// One logged-in connection to a mailbox's server, IMAP or POP3: the poller opens one, synchronizes, waits for
/// changes, and closes it; any error drops the connection and the next attempt starts from scratch (a full
/// re-sync, which the store's item states make cheap and exact).
protocol MailServerSession: AnyObject {
    /// Fetches every message not yet committed into `sink`, and applies the after-commit action to each one
    /// committed (now or in an earlier run whose action was cut short).
    func synchronize(into sink: MailboxSink) async throws(MailboxError) -> SynchronizationReport
    /// Returns when the server announces a change, or after `limit`. With IDLE the wait is on the server;
    /// without, it is a plain sleep (POP3 always: its session must end for DELE to take effect).
    func waitForChanges(upTo limit: Duration) async throws(MailboxError)
    /// Whether the connection stays open between two synchronizations (IMAP); POP3 closes after each.
    var staysOpen: Bool { get }
    /// Ends the session politely (LOGOUT / QUIT); errors are ignored.
    func close() async
}

/// What one synchronization did.
struct SynchronizationReport: Sendable, Equatable {
    var fetched = 0
    var tooLarge = 0
    var afterCommitApplied = 0
}
