import ArgumentParser
import Foundation
import Logging
import PostdeskHTTP
import TicketStoreSQLite

/// `postdesk tokens`: bearer tokens of the HTTP API. The token is printed once, at creation; the store keeps
/// only its SHA-256, so a lost token is revoked and replaced, never shown again.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "API tokens: create (printed once), list, revoke.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it once (only its hash is stored).")
        @OptionGroup var options: ConfigOptions
        @Option(help: "read: GET only; write: also change tickets, add notes, replay quarantine.")
        var scope: APIScope = .read
        @Argument(help: "A name for the token (letters, digits, '.', '-', '_'), e.g. the client using it.")
        var name: String

        func validate() throws {
            guard !name.isEmpty, name.count <= 64,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else { throw ValidationError("a token name is 1 to 64 letters, digits, '.', '-' or '_'") }
        }

        func run() async throws {
            let store = try await openWritableStore(options)
            defer { try? store.close() }
            let token = APIToken.generate()
            do {
                try await store.createAPIToken(
                    name: name, hash: APIToken.hash(token), scope: scope.rawValue, at: Date())
            } catch let error as APITokenError {
                printError("\(error)")
                throw ExitCode(1)
            }
            print(token)
            printError("token '\(name)' (scope \(scope.rawValue)) created: it is shown only this once")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tokens with scope and dates (never the token).")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON array.") var json = false

        struct Row: Encodable {
            var name: String
            var scope: String
            var createdAt: Date
            var lastUsedAt: Date?
            var revokedAt: Date?
        }

        func run() async throws {
            let store = try await openStore(options)
            let rows = try await store.apiTokens().map {
                Row(
                    name: $0.name, scope: $0.scope, createdAt: $0.createdAt, lastUsedAt: $0.lastUsedAt,
                    revokedAt: $0.revokedAt)
            }
            if json { return try printJSON(rows) }
            printTable(
                header: ["NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED"],
                rows: rows.map {
                    [
                        $0.name, $0.scope, isoDate($0.createdAt), $0.lastUsedAt.map(isoDate) ?? "never",
                        $0.revokedAt.map(isoDate) ?? "",
                    ]
                }, empty: "(no tokens)")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: refused from the next request on.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The token's name.") var name: String

        func run() async throws {
            let store = try await openWritableStore(options)
            defer { try? store.close() }
            do {
                try await store.revokeAPIToken(name: name, at: Date())
            } catch let error as APITokenError {
                printError("\(error)")
                throw ExitCode(1)
            }
            print("token '\(name)' revoked")
        }
    }
}

extension APIScope: ExpressibleByArgument {}

/// The store opened for writing (and migrated, like the daemon does), for the few commands that change it.
func openWritableStore(_ options: ConfigOptions) async throws -> SQLiteTicketStore {
    let configuration = try await options.loadConfiguration()
    return try SQLiteTicketStore(path: configuration.storePath, logger: Logger(label: "postdesk.tokens"))
}
