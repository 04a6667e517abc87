import Foundation

/// What the poller has done with one message of a polled mailbox, kept in the store so that a restart, a
/// reconnect or a crash never fetches a stored message into a second ticket, nor forgets one.
public enum MailboxItemState: String, Sendable, Hashable, Codable {
    /// Its ticket (or record) is committed; the after-commit action (delete, move, `\Seen`) is still owed.
    case committed
    /// Committed and the after-commit action done: with `\Seen` or POP3 keep, the message stays on the server
    /// and this is what keeps it from being fetched again.
    case done
    /// Over the size limit: not downloaded, on record as too large.
    case tooLarge = "too-large"
    /// No queue takes it (the mailbox has no queue, no header names one, no triage queue): left on the server,
    /// not fetched again.
    case unrouted
}

/// A mailbox's health as the poller last saw it (`postdesk mailboxes`).
public struct MailboxStatus: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Not polled yet since the daemon started.
        case starting
        /// Connected and waiting in IDLE, or between two polls after a successful one.
        case healthy
        /// The last attempt failed; `nextAttempt` says when the next one is.
        case failing
        /// Needs a person: credentials refused, refresh token revoked (re-consent), configuration wrong.
        case needsAttention = "needs-attention"
    }

    public var mailbox: String
    public var state: State
    public var lastPoll: Date?
    public var lastSuccess: Date?
    /// The last error, with the server's words; nil once a poll succeeded.
    public var lastError: String?
    public var failingSince: Date?
    /// Messages fetched and committed since the mailbox was first polled.
    public var messagesFetched: Int
    public var nextAttempt: Date?
    public var accessTokenExpires: Date?
    public var refreshTokenIssued: Date?
    public var clientSecretExpires: Date?

    public init(
        mailbox: String, state: State, lastPoll: Date? = nil, lastSuccess: Date? = nil, lastError: String? = nil,
        failingSince: Date? = nil, messagesFetched: Int = 0, nextAttempt: Date? = nil,
        accessTokenExpires: Date? = nil, refreshTokenIssued: Date? = nil, clientSecretExpires: Date? = nil
    ) {
        self.mailbox = mailbox
        self.state = state
        self.lastPoll = lastPoll
        self.lastSuccess = lastSuccess
        self.lastError = lastError
        self.failingSince = failingSince
        self.messagesFetched = messagesFetched
        self.nextAttempt = nextAttempt
        self.accessTokenExpires = accessTokenExpires
        self.refreshTokenIssued = refreshTokenIssued
        self.clientSecretExpires = clientSecretExpires
    }
}

/// Where one folder's items are kept: a POP3 mailbox has one folder, `""`, and validity 0 (UIDLs are stable for
/// ever); an IMAP folder's items are its UIDs under one UIDVALIDITY.
public struct MailboxFolderKey: Sendable, Hashable {
    public var mailbox: String
    public var folder: String
    public var validity: UInt32

    public init(mailbox: String, folder: String, validity: UInt32) {
        self.mailbox = mailbox
        self.folder = folder
        self.validity = validity
    }
}

/// The poller's state in the ticket store (the same database, so one backup holds both).
public protocol MailboxStateStore: Sendable {
    /// The items recorded for the folder under its current validity. Items recorded under another UIDVALIDITY
    /// are removed first: after a change, every UID names a different message.
    func mailboxItems(_ folder: MailboxFolderKey) async throws -> [String: MailboxItemState]
    /// Records (or, with nil, forgets) items, in one write.
    func setMailboxItems(_ items: [String], state: MailboxItemState?, in folder: MailboxFolderKey) async throws
    /// Forgets the items no longer on the server (deleted or moved by anyone), so the table stays as large as the
    /// mailbox. `present` is the full listing of the folder.
    func forgetMailboxItems(in folder: MailboxFolderKey, notIn present: Set<String>) async throws
    func saveMailboxStatus(_ status: MailboxStatus) async throws
    func mailboxStatuses() async throws -> [MailboxStatus]
}
