import MailServerClient

/// Why a mailbox's poll failed: the step, and the detail with the server's own words where it gave any. Never
/// carries a password or a token.
public struct MailboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The step that failed, in the order a connection goes through them (`postdesk mailboxes test` reports it).
    public enum Step: String, Sendable {
        case configuration, connect, tls, greeting, capabilities, authentication, folder, fetch, store, afterCommit
        case connection, timeout, protocolViolation = "protocol", token
    }

    public var step: Step
    public var detail: String

    public init(_ step: Step, _ detail: String) {
        self.step = step
        self.detail = detail
    }

    public var description: String { "\(step.rawValue): \(detail)" }
}

extension MailboxError {
    /// Runs a store operation; its failure is a `.store` error of the mailbox (the poller backs off).
    static func fromStore<T>(_ body: () async throws -> T) async throws(MailboxError) -> T {
        do {
            return try await body()
        } catch {
            throw MailboxError(.store, "\(error)")
        }
    }
}

extension MailboxError {
    /// Runs a step on the mailbox's connection; its failure is the same step of the mailbox's poll.
    static func fromConnection<T>(
        _ body: () async throws(MailServerConnectionError) -> T
    ) async throws(MailboxError) -> T {
        do {
            return try await body()
        } catch {
            throw MailboxError(Step(rawValue: error.step.rawValue) ?? .connection, error.detail)
        }
    }
}
