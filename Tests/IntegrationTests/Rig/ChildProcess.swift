import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything that can go wrong while driving the real peers; each case names what it was doing.
enum RigError: Error, CustomStringConvertible {
    case missingPeer(String)
    case executableNotFound(name: String, searched: [String])
    case launchFailed(command: String, reason: String)
    case commandFailed(command: String, status: Int32, output: String)
    case timedOut(what: String, seconds: Double, detail: String)
    case unexpectedOutput(command: String, reason: String, output: String)

    var description: String {
        switch self {
        case .missingPeer(let message):
            return message
        case .executableNotFound(let name, let searched):
            return "\(name) executable not found; looked in: \(searched.joined(separator: ", "))"
        case .launchFailed(let command, let reason):
            return "could not start `\(command)`: \(reason)"
        case .commandFailed(let command, let status, let output):
            return "`\(command)` exited with status \(status):\n\(output)"
        case .timedOut(let what, let seconds, let detail):
            return "timed out after \(seconds) s waiting for \(what)\n\(detail)"
        case .unexpectedOutput(let command, let reason, let output):
            return "`\(command)`: \(reason)\n\(output)"
        }
    }
}

/// A process started by a test. Its output goes to files rather than pipes, so a chatty child can
/// never block on a full pipe while the test waits for something else.
///
/// It is spawned with `posix_spawn` and an empty signal mask on purpose: Foundation's `Process`
/// hands its children the spawning thread's mask, in which SIGTERM is blocked, and a daemon
/// started that way would never see the SIGTERM the graceful-shutdown tests send.
final class ChildProcess {
    let commandLine: String
    let stdoutPath: String
    let stderrPath: String
    let pid: pid_t
    private var waitStatus: Int32?

    /// Starts `executable` with `arguments`; output goes to `<outputPrefix>.out` / `.err`.
    init(
        executable: String, arguments: [String], outputPrefix: String,
        environment: [String: String]? = nil, standardInputPath: String = "/dev/null"
    ) throws {
        commandLine = ([executable] + arguments).joined(separator: " ")
        stdoutPath = outputPrefix + ".out"
        stderrPath = outputPrefix + ".err"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, standardInputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        // Also undo inherited SIG_IGN dispositions (the Swift runtime ignores SIGPIPE).
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let environmentEntries = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environmentEntries.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw RigError.launchFailed(command: commandLine, reason: String(cString: strerror(result)))
        }
        pid = child
    }

    /// Whether the child is still running; reaps it (once) when it has ended.
    var isRunning: Bool {
        if waitStatus != nil { return false }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid {
            waitStatus = status
            return false
        }
        return reaped == 0
    }

    /// True when the child ended because of a signal (then `terminationStatus` is that signal).
    var exitedBySignal: Bool {
        guard let status = waitStatus else { return false }
        return status & 0x7f != 0
    }

    /// The exit code, or the signal number when `exitedBySignal`; -1 while running.
    var terminationStatus: Int32 {
        guard let status = waitStatus else { return -1 }
        return status & 0x7f != 0 ? status & 0x7f : (status >> 8) & 0xff
    }

    func send(signal: Int32) {
        if isRunning { _ = kill(pid, signal) }
    }

    /// Waits until the process ends; returns false if it is still running after `seconds`.
    func waitForExit(seconds: Double) async -> Bool {
        await waitUntil(seconds: seconds, interval: .milliseconds(20)) { !isRunning }
    }

    /// Ends the process by its pid: SIGTERM, then SIGKILL if it lingers. Safe to call twice.
    func stop(graceSeconds: Double = 5) async {
        guard isRunning else { return }
        send(signal: SIGTERM)
        if await waitForExit(seconds: graceSeconds) { return }
        send(signal: SIGKILL)
        _ = await waitForExit(seconds: 10)
    }

    var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Runs a command to completion within `timeout` seconds and returns its standard output;
    /// throws with both outputs when it fails or hangs (a hung command is killed).
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], outputPrefix: String, timeout: Double = 60,
        acceptedStatuses: Set<Int32> = [0], environment: [String: String]? = nil,
        standardInputPath: String = "/dev/null"
    ) async throws -> String {
        let child = try ChildProcess(
            executable: executable, arguments: arguments, outputPrefix: outputPrefix, environment: environment,
            standardInputPath: standardInputPath)
        guard await child.waitForExit(seconds: timeout) else {
            await child.stop(graceSeconds: 1)
            throw RigError.timedOut(
                what: "`\(child.commandLine)`", seconds: timeout,
                detail: child.standardOutput + child.standardError)
        }
        guard !child.exitedBySignal, acceptedStatuses.contains(child.terminationStatus) else {
            throw RigError.commandFailed(
                command: child.commandLine, status: child.terminationStatus,
                output: child.standardOutput + child.standardError)
        }
        return child.standardOutput
    }
}

/// Finds an executable on PATH (or the usual sbin directories, which a non-login PATH may lack).
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    for directory in directories {
        let candidate = directory + "/" + name
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Whether `pid` names a live process (a zombie counts as dead: nobody may reap our daemons' orphans).
func processIsAlive(_ pid: Int32) -> Bool {
    guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let closing = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: closing)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
}
