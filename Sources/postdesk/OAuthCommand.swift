import ArgumentParser
import Foundation
import MailboxPolling
import OAuthTokens
import PostdeskDaemon

/// `postdesk oauth login NAME`: a mailbox's first OAuth2 consent, without any other tool.
struct OAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth", abstract: "OAuth2 tokens of polled mailboxes.", subcommands: [Login.self])

    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Obtain a mailbox's tokens: prints the consent URL and waits on a loopback redirect (or a pasted URL),"
                + " or shows a device code; stores the tokens encrypted next to the database.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The mailbox's name (mailboxes.names).") var name: String
        @Option(help: "Seconds to wait for the consent.") var timeout = 900
        @Flag(help: "Do not read a pasted redirect URL from standard input (the loopback redirect only).")
        var noPaste = false

        func run() async throws {
            let configuration = try await options.loadConfiguration()
            guard let mailbox = configuration.mailboxes.first(where: { $0.name == name }) else {
                printError("no mailbox '\(name)' in the configuration (\(configuration.mailboxes.map(\.name)))")
                throw ExitCode(64)
            }
            guard case .oauth2(let oauth) = mailbox.authentication else {
                printError("mailbox '\(name)' does not use OAuth2 (auth.oauth2)")
                throw ExitCode(64)
            }
            let settings = try MailboxOAuth.clientSettings(oauth, mailbox: name)
            let store = try OAuthTokenStore(
                directory: MailboxOAuth.storeDirectory(forDatabase: configuration.storePath))
            // Printed at once (not buffered): whoever waits for the URL or the code may read a pipe.
            let presenter = OAuthConsentPresenter.terminal(
                print: { line in
                    print(line)
                    fflush(nil)
                }, offerPaste: !noPaste)
            do {
                let health = try await OAuthConsent.run(
                    settings: settings, mailbox: name, store: store, presenter: presenter,
                    loginHint: mailbox.username, timeout: .seconds(timeout))
                print(
                    "Tokens stored for \(name) in \(store.directory): access token valid until "
                        + "\(health.accessTokenExpiresAt.map(isoDate) ?? "-"). A running daemon uses them at its next"
                        + " connection; no restart is needed.")
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
    }
}
