import ArgumentParser
import Foundation
import MailParser
import PostdeskBuildInfo
import PostdeskDaemon

/// `postdesk`: the daemon and its operator tools.
@main
struct PostdeskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postdesk",
        abstract: "Turns email into helpdesk tickets the instant it arrives (LMTP/SMTP intake).",
        version: versionText,
        subcommands: [
            ServeCommand.self, CheckConfigCommand.self, DeliverCommand.self, TicketsCommand.self, MessagesCommand.self,
            QuarantineCommand.self, BouncesCommand.self, ParseCommand.self, MailboxesCommand.self,
            OAuthCommand.self, TokensCommand.self, WebhooksCommand.self, OutboundCommand.self, ContactsCommand.self,
            CommandsCommand.self,
        ])
}

/// The release this source tree is.
let postdeskVersion = "0.1.0"

/// `postdesk --version`: the release and the commit the binary was built from, for bug reports.
let versionText = "postdesk \(postdeskVersion) (commit \(String(cString: postdesk_build_commit())))"

/// `--config`, shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .shortAndLong,
        help:
            "Configuration file (YAML). Default: $POSTDESK_CONFIG, else /etc/postdesk/postdesk.yaml if present, else the built-in defaults."
    )
    var config: String?

    /// The file to read, or nil for the built-in defaults.
    var resolvedPath: String? {
        if let config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["POSTDESK_CONFIG"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let system = "/etc/postdesk/postdesk.yaml"
        return FileManager.default.fileExists(atPath: system) ? system : nil
    }

    /// The configuration; on any error, prints every problem and exits 78 (EX_CONFIG).
    func loadConfiguration() async throws -> PostdeskConfiguration {
        do {
            return try await PostdeskConfiguration.load(path: resolvedPath)
        } catch {
            printError("\(error)")
            throw ExitCode(78)
        }
    }
}

/// Prints to standard error, for diagnostics that must not mix with `--json` output; control characters (which a
/// diagnostic may quote from mail) are escaped.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((TerminalText.escaped(text, layout: .multiLine) + "\n").utf8))
}
