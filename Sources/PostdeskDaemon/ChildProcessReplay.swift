import Foundation
import Synchronization
import TicketPipeline
import TicketStoreSQLite

/// `POST /api/v1/quarantine/{id}/replay` in the daemon: runs `postdesk quarantine replay ID` (this executable, the
/// same configuration file and environment) as a child process. The message once broke the pipeline; if it
/// crashes or hangs again, that takes down the child, never the daemon, and the child is killed at `deadline`.
/// The child marks the entry replayed in the same transaction as the ticket it makes, as the CLI always does.
struct ChildProcessReplay: Sendable {
    let configurationPath: String?
    let reader: any TicketDatabaseReading
    let deadline: Duration

    func replay(_ id: Int64) async throws -> ReplayOutcome {
        guard let before = try await reader.quarantinedMessage(id: id) else { return .notFound }
        if before.replayedAt != nil { return .alreadyReplayed(result: before.replayResult ?? "") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["quarantine", "replay", String(id)] + (configurationPath.map { ["--config", $0] } ?? [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        let exited = ExitSignal()
        process.terminationHandler = { _ in exited.fire() }
        try process.run()
        let killer = Task {
            try await Task.sleep(for: deadline)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        await exited.wait()
        killer.cancel()
        let diagnostics = String(decoding: errors.fileHandleForReading.availableData.prefix(2000), as: UTF8.self)
        if process.terminationReason == .uncaughtSignal {
            return .failed(
                reason: "the replay process was killed by signal \(process.terminationStatus)"
                    + (process.terminationStatus == SIGKILL ? " (over the \(deadline) deadline)" : "")
                    + "; the message stays in quarantine")
        }
        guard try await reader.quarantinedMessage(id: id)?.replayedAt != nil else {
            let reason = diagnostics.trimmingCharacters(in: .whitespacesAndNewlines)
            return .failed(reason: reason.isEmpty ? "exit status \(process.terminationStatus)" : reason)
        }
        // The child's outcomes per recipient are in the entry's replay result, which the API shows.
        return .replayed([])
    }
}

/// Resumes one waiter when the child exits, whichever comes first.
private final class ExitSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.fired = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state -> Bool in
                if !state.fired { state.waiter = continuation }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
