import ArgumentParser
import Foundation
import MailServerClient
import MailboxPolling
import OAuthTokens
import PostdeskDaemon
import TicketPipeline
import TicketStoreSQLite

/// `postdesk mailboxes`: the polled mailboxes' health, as the running daemon last recorded it.
struct MailboxesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailboxes", abstract: "Polled mailboxes: state, last poll and success, last error, tokens.",
        subcommands: [List.self, Test.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every configured mailbox's health.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            let configuration = try await options.loadConfiguration()
            let store = try await openStore(options)
            let recorded = Dictionary(
                try await store.mailboxStatuses().map { ($0.mailbox, $0) }, uniquingKeysWith: { first, _ in first })
            // Configured mailboxes first, in their order; then any the store still knows (removed from the file).
            var statuses = configuration.mailboxes.map {
                recorded[$0.name] ?? MailboxStatus(mailbox: $0.name, state: .starting)
            }
            let configured = Set(configuration.mailboxes.map(\.name))
            statuses += recorded.values.filter { !configured.contains($0.mailbox) }.sorted { $0.mailbox < $1.mailbox }
            if json { return try printJSON(statuses) }
            printTable(
                header: [
                    "MAILBOX", "STATE", "LAST POLL", "LAST SUCCESS", "FETCHED", "NEXT ATTEMPT", "TOKEN EXPIRES",
                    "REFRESH TOKEN AGE", "SECRET EXPIRES", "LAST ERROR",
                ],
                rows: statuses.map { status in
                    [
                        status.mailbox, status.state.rawValue, status.lastPoll.map(isoDate) ?? "-",
                        status.lastSuccess.map(isoDate) ?? "-", "\(status.messagesFetched)",
                        status.nextAttempt.map(isoDate) ?? "-", status.accessTokenExpires.map(isoDate) ?? "-",
                        status.refreshTokenIssued.map { "\(Int(Date().timeIntervalSince($0) / 86400)) d" } ?? "-",
                        status.clientSecretExpires.map(isoDate) ?? "-", status.lastError ?? "",
                    ]
                }, empty: "(no mailboxes configured)")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check one mailbox step by step: DNS, connect, TLS, greeting, capabilities, login, folders.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The mailbox's name (mailboxes.names).") var name: String

        func run() async throws {
            let configuration = try await options.loadConfiguration()
            guard let mailbox = configuration.mailboxes.first(where: { $0.name == name }) else {
                printError("no mailbox '\(name)' in the configuration (\(configuration.mailboxes.map(\.name)))")
                throw ExitCode(64)
            }
            var tokens: (any AccessTokenSource)?
            if case .oauth2 = mailbox.authentication {
                tokens = StoredAccessToken(
                    store: try OAuthTokenStore(
                        directory: MailboxOAuth.storeDirectory(forDatabase: configuration.storePath)))
            }
            var failed = false
            for await step in MailboxCheck.run(mailbox, tokens: tokens) {
                printEscaped("\(step.passed ? "ok  " : "FAIL") \(step.step.rawValue): \(step.detail)")
                if !step.passed { failed = true }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

/// The access token `postdesk oauth login` or the daemon stored, used as it is: the check never refreshes it, since
/// a refresh rotates the refresh token under the running daemon's feet.
private struct StoredAccessToken: AccessTokenSource {
    let store: OAuthTokenStore

    func accessToken(for mailbox: String) async throws -> String {
        guard let record = try store.load(mailbox) else {
            throw CheckTokenError(detail: "no tokens stored: run `postdesk oauth login \(mailbox)` first")
        }
        guard record.accessTokenExpiresAt > Date() else {
            throw CheckTokenError(
                detail: "the stored access token expired at \(isoDate(record.accessTokenExpiresAt)); the running "
                    + "daemon refreshes it at its next connection (the check does not, so as not to rotate the "
                    + "refresh token under it)")
        }
        return record.accessToken
    }

    func tokenRejected(for mailbox: String) async {}
}

private struct CheckTokenError: Error, CustomStringConvertible {
    var detail: String
    var description: String { detail }
}
