import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A ticket as `postdesk tickets list --json` prints it.
struct TicketSummary: Decodable {
    let number: Int
    let queue: String
    let subject: String?
    let articleCount: Int

    enum CodingKeys: String, CodingKey {
        case number, queue, subject
        case articleCount = "article_count"
    }
}

/// A ticket as `postdesk tickets show N --json` prints it.
struct TicketDetail: Decodable {
    struct Article: Decodable {
        let messageID: String?
        let subject: String?

        /// The Message-ID without its angle brackets, however the store spells it.
        var bareMessageID: String? { messageID.map(bareMessageIDText) }

        enum CodingKeys: String, CodingKey {
            case subject
            case messageID = "message_id"
        }
    }
    struct Activity: Decodable {
        let kind: String
        let text: String
    }
    struct Field: Decodable, Equatable {
        let name: String
        let kind: String
        let value: String
    }
    struct Defaults: Decodable {
        let category: String?
        let priority: String?
        let type: String?
    }
    let number: Int
    let queue: String
    let subject: String?
    let articles: [Article]
    let status: String?
    let activities: [Activity]?
    let account: String?
    let fields: [Field]?
    let defaults: Defaults?
}

/// "<id@host>" and "id@host" name the same message.
func bareMessageIDText(_ text: String) -> String {
    text.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
}

/// The real `postdesk` executable: `serve` as a child process with a config the test writes,
/// and the `tickets` commands to read what it stored.
final class PostdeskServer {
    let executable: String
    let configPath: String
    let socketPath: String
    let databasePath: String
    private let scratch: ScratchDirectory
    private var server: ChildProcess?
    private var generation = 0

    /// The queues every end-to-end test configures.
    static let supportAddress = "support@support.test"
    static let salesAddress = "sales@sales.test"

    init(in scratch: ScratchDirectory) throws {
        self.scratch = scratch
        executable = try Self.locateExecutable()
        configPath = scratch.file("postdesk.yaml")
        socketPath = scratch.file("lmtp.sock")
        databasePath = scratch.file("postdesk.db")
        let config = """
            log:
              level: info
            store:
              path: \(databasePath)
            lmtp:
              socket: \(socketPath)
              mode: "0666"
            smtp:
              listen: ""
            http:
              listen: ""
            queues:
              names: [support, sales]
              support:
                tag: Support
                addresses: ["\(Self.supportAddress)", "*@support.test"]
              sales:
                tag: Sales
                addresses: ["\(Self.salesAddress)"]

            """
        baseConfig = config
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    private let baseConfig: String

    /// Adds top-level YAML sections (e.g. `pipeline:`) to the config; takes effect at the next `start()` or
    /// CLI command.
    func setExtraConfig(_ yaml: String) throws {
        try (baseConfig + yaml).write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Runs `postdesk <arguments> --config <this config>` and returns its standard output.
    func cli(_ arguments: [String], label: String) async throws -> String {
        try await runCommand(arguments, label: label)
    }

    /// The `postdesk` built next to the running test binary (`swift build --build-tests` builds both),
    /// or $POSTDESK_EXECUTABLE.
    static func locateExecutable() throws -> String {
        if let override = ProcessInfo.processInfo.environment["POSTDESK_EXECUTABLE"], !override.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: override) else {
                throw RigError.executableNotFound(name: "postdesk", searched: [override])
            }
            return override
        }
        var starts: [URL] = []
        if let selfPath = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: selfPath))
        }
        if let first = CommandLine.arguments.first, first.hasPrefix("/") {
            starts.append(URL(fileURLWithPath: first))
        }
        if let bundle = Bundle.main.executableURL { starts.append(bundle) }
        var searched: [String] = []
        for start in starts {
            // The test binary may sit inside a bundle (…/x.xctest/Contents/MacOS/x): walk up a few levels.
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("postdesk").path
                if !searched.contains(candidate) { searched.append(candidate) }
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: candidate)
                {
                    return candidate
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw RigError.executableNotFound(
            name: "postdesk (build it with `swift build --build-tests`)", searched: searched)
    }

    /// The environment of the next `serve` started (e.g. a fault injector's `LD_PRELOAD`); nil: the test's own.
    var environment: [String: String]?

    var isRunning: Bool { server?.isRunning ?? false }
    var pid: Int32? { server?.pid }

    /// Starts `postdesk serve` and waits until its LMTP socket accepts connections.
    /// - Parameter environment: added to `self.environment` or the test's own (e.g. `NOTIFY_SOCKET`).
    func start(environment: [String: String] = [:]) async throws {
        generation += 1
        let child = try ChildProcess(
            executable: executable, arguments: ["serve", "--config", configPath],
            outputPrefix: scratch.file("postdesk-serve-\(generation)"),
            environment: (self.environment ?? ProcessInfo.processInfo.environment).merging(environment) { $1 })
        server = child
        let ready = await waitUntil(seconds: 30) {
            !child.isRunning || LoopbackSockets.acceptsConnections(unixPath: socketPath)
        }
        guard ready, child.isRunning else {
            let log = child.standardError
            await child.stop()
            throw RigError.timedOut(
                what: "postdesk's LMTP socket \(socketPath)", seconds: 30,
                detail: "postdesk serve \(child.isRunning ? "is running" : "exited (\(child.terminationStatus))")"
                    + "; its log:\n" + log)
        }
    }

    /// Sends SIGTERM and returns the exit status, or nil if it did not exit within `seconds`.
    func terminate(seconds: Double = 30) async -> (status: Int32, bySignal: Bool)? {
        send(signal: SIGTERM)
        return await waitForExit(seconds: seconds)
    }

    func send(signal: Int32) {
        server?.send(signal: signal)
    }

    /// Waits for the server to end on its own; nil if it is still running after `seconds`.
    func waitForExit(seconds: Double) async -> (status: Int32, bySignal: Bool)? {
        guard let server, await server.waitForExit(seconds: seconds) else { return nil }
        return (server.terminationStatus, server.exitedBySignal)
    }

    /// SIGKILL: no chance to finish anything.
    func killAbruptly() async {
        guard let server else { return }
        server.send(signal: SIGKILL)
        _ = await server.waitForExit(seconds: 10)
    }

    /// Stops a still-running server by its pid (SIGTERM, then SIGKILL); for cleanup.
    func stop() async {
        await server?.stop(graceSeconds: 10)
    }

    /// The standard error of the current (or last) `serve` run.
    var serverLog: String { server?.standardError ?? "" }

    private func runCommand(_ arguments: [String], label: String) async throws -> String {
        generation += 1
        return try await ChildProcess.run(
            executable, arguments + ["--config", configPath], outputPrefix: scratch.file("cli-\(label)-\(generation)"),
            timeout: 60)
    }

    func listTickets() async throws -> [TicketSummary] {
        // The CLI shows the newest 50 by default; the tests want them all.
        let output = try await runCommand(["tickets", "list", "--json", "--limit", "1000000"], label: "list")
        do {
            return try JSONDecoder().decode([TicketSummary].self, from: Data(output.utf8))
        } catch {
            throw RigError.unexpectedOutput(
                command: "postdesk tickets list --json", reason: "not the expected JSON (\(error))",
                output: String(output.prefix(2000)))
        }
    }

    func showTicket(_ number: Int) async throws -> TicketDetail {
        generation += 1
        return try await Self.show(
            number, executable: executable, configPath: configPath,
            outputPrefix: scratch.file("cli-show-\(generation)"))
    }

    /// `showTicket` for many tickets, a few CLI processes at a time (each one opens the store).
    func showTickets(_ numbers: [Int], concurrency: Int = 3) async throws -> [TicketDetail] {
        let executable = executable, configPath = configPath, prefix = scratch.file("cli-show-many")
        return try await withThrowingTaskGroup(of: TicketDetail.self) { group in
            var pending = numbers[...]
            var details: [TicketDetail] = []
            func launchNext() {
                guard let number = pending.popFirst() else { return }
                group.addTask {
                    try await Self.show(
                        number, executable: executable, configPath: configPath, outputPrefix: "\(prefix)-\(number)")
                }
            }
            for _ in 0..<max(1, concurrency) { launchNext() }
            while let detail = try await group.next() {
                details.append(detail)
                launchNext()
            }
            return details
        }
    }

    private static func show(_ number: Int, executable: String, configPath: String, outputPrefix: String)
        async throws -> TicketDetail
    {
        let output = try await ChildProcess.run(
            executable, ["tickets", "show", String(number), "--json", "--config", configPath],
            outputPrefix: outputPrefix, timeout: 60)
        do {
            return try JSONDecoder().decode(TicketDetail.self, from: Data(output.utf8))
        } catch {
            throw RigError.unexpectedOutput(
                command: "postdesk tickets show \(number) --json", reason: "not the expected JSON (\(error))",
                output: String(output.prefix(2000)))
        }
    }
}
