import ArgumentParser
import Foundation
import MailParser
import TicketStoreSQLite

/// `postdesk contacts`: addresses our own mail bounced from, and clearing that flag.
struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts", abstract: "Contacts our mail bounces from: list them, clear one.",
        subcommands: [Bouncing.self, Unbounce.self])

    struct Bouncing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Addresses our mail bounced from; mail to them is suppressed (postdesk outbound).")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON array.") var json = false
        @Option(help: "At most this many addresses.") var limit = 50

        func run() async throws {
            let store = try await openStore(options)
            let addresses = try await store.bouncingAddresses(limit: limit).items
            if json { return try printJSON(addresses) }
            printTable(
                header: ["ADDRESS", "SINCE", "REASON"],
                rows: addresses.map { [$0.address, isoDate($0.since), $0.reason] }, empty: "(no bouncing addresses)")
        }
    }

    struct Unbounce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear an address's bouncing flag: mail to it is sent again.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The address, e.g. kunde@example.org.") var address: String

        func run() async throws {
            let normalized = MailAddressForm.normalized(address)
            let store = try await openWritableStore(options)
            defer { try? store.close() }
            let cleared = try await store.write { try $0.clearBouncing(address: normalized) }
            guard cleared else {
                printError("\(normalized) is not bouncing")
                throw ExitCode(1)
            }
            print("\(normalized) no longer bouncing: mail to it is sent again")
        }
    }
}
