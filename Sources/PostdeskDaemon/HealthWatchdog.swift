import Logging
import Synchronization

/// Decides whether the daemon is well, and feeds systemd's watchdog (`WATCHDOG=1`) only while it is: every
/// probe (each event loop, the store's writer) answered a no-op within `bound`, and no message is stuck past
/// its deadline. A wedged daemon thus stops feeding it, and systemd restarts it after `WatchdogSec`. Run by the
/// `ProcessingSupervisor`'s thread, which no message can hold.
final class HealthWatchdog: Sendable {
    /// Something that must answer: `send` schedules a no-op that calls `answered` where it runs.
    struct Probe: Sendable {
        var name: String
        var send: @Sendable (_ answered: @escaping @Sendable () -> Void) -> Void
    }

    private struct ProbeState {
        var sentAt: ContinuousClock.Instant?
        var answered = true
    }

    private struct State {
        var probes: [ProbeState]
        /// Why the daemon is unwell, as last logged; nil while well.
        var problem: String?
        var pings = 0
    }

    let notifier: SystemdNotifier?
    /// How often `check` should run: a quarter of the watchdog interval (at most 1 s).
    let tick: Duration
    /// How long a probe may take to answer.
    let bound: Duration
    private let probes: [Probe]
    private let logger: Logger
    private let state: Mutex<State>

    init(notifier: SystemdNotifier?, probes: [Probe], logger: Logger) {
        self.notifier = notifier
        self.probes = probes
        self.logger = logger
        if let interval = notifier?.watchdogInterval {
            tick = max(.milliseconds(50), min(.seconds(1), interval / 4))
            bound = max(.milliseconds(100), interval / 2)
        } else {
            tick = .seconds(1)
            bound = .seconds(10)
        }
        state = Mutex(State(probes: Array(repeating: ProbeState(), count: probes.count)))
    }

    /// `WATCHDOG=1` datagrams sent so far.
    var pings: Int { state.withLock { $0.pings } }
    /// Why the daemon is unwell, or nil.
    var problem: String? { state.withLock { $0.problem } }

    /// Sends new probes where the last one answered, judges the outstanding ones, and pings systemd if well.
    func check(now: ContinuousClock.Instant, stuckMessages: Int) {
        var late: [String] = []
        var toSend: [Int] = []
        state.withLock { state in
            for index in probes.indices {
                if state.probes[index].answered {
                    state.probes[index] = ProbeState(sentAt: now, answered: false)
                    toSend.append(index)
                } else if let sentAt = state.probes[index].sentAt, now - sentAt > bound {
                    late.append("\(probes[index].name) has not answered for \(now - sentAt)")
                }
            }
        }
        for index in toSend {
            probes[index].send { [self] in state.withLock { $0.probes[index].answered = true } }
        }
        if stuckMessages > 0 {
            late.append("\(stuckMessages) message(s) stuck in a stage past the processing deadline")
        }
        let problem = late.isEmpty ? nil : late.joined(separator: "; ")
        let previous = state.withLock { state in
            defer { state.problem = problem }
            return state.problem
        }
        let fed = notifier?.watchdogInterval != nil
        if let problem, previous == nil {
            logger.critical(
                "daemon unwell\(fed ? ": the systemd watchdog is no longer fed" : "")",
                metadata: ["problem": "\(problem)"])
        } else if problem == nil, let previous {
            logger.warning(
                "daemon well again\(fed ? ": the systemd watchdog is fed" : "")", metadata: ["was": "\(previous)"])
        }
        guard problem == nil, let notifier, fed else { return }
        if notifier.send("WATCHDOG=1") { state.withLock { $0.pings += 1 } }
    }
}
