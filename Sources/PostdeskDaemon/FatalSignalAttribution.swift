import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blames a crash on the message whose stage was running on the crashing thread. A handler for the fatal signals
/// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP; Swift's runtime traps raise SIGILL or SIGTRAP, `abort()`
/// SIGABRT) marks that message's `InFlightLedger` slot *crashed*, then hands the signal on to whatever handled it
/// before (Swift's backtracer, or the default action), so the process still dies as it would have. After the
/// restart only the crashed message is quarantined; the others that were in progress are processed again.
///
/// A stack overflow is seen too on the threads that call `prepareCurrentThread()` (the intake threads, where a
/// message's parsing runs): they get an alternate stack for the handler. Not seen: an overflow elsewhere, and
/// SIGKILL. The ledger's second chance covers them: a message in progress when two runs stop is quarantined.
enum FatalSignalAttribution {
    static let signals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]

    /// Points the handler at the ledger's slots, installing it on first use. Later calls (another ledger in the
    /// same process, as in tests) only repoint it.
    static func watch(_ slots: UnsafeMutableRawPointer, slots count: Int) {
        installation.withLock { installed in
            watchedCount = count
            watchedSlots = slots
            guard !installed else { return }
            installed = true
            let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: Int(previousActionCount))
            previous.initialize(repeating: sigaction(), count: Int(previousActionCount))
            for signal in signals where signal < previousActionCount {
                var action = sigaction()
                #if canImport(Darwin)
                    action.__sigaction_u.__sa_sigaction = handleFatalSignal
                #else
                    action.__sigaction_handler.sa_sigaction = handleFatalSignal
                #endif
                action.sa_flags = SA_SIGINFO | SA_ONSTACK
                sigemptyset(&action.sa_mask)
                sigaction(signal, &action, previous + Int(signal))
            }
            previousActions = previous
        }
    }

    /// Gives the calling thread an alternate signal stack, once per thread, so that the handler can run after a
    /// stack overflow on it. Afterwards one `pthread_getspecific` a call.
    static func prepareCurrentThread() {
        guard let key = alternateStackKey, pthread_getspecific(key) == nil else { return }
        let size = 64 * 1024
        guard let memory = malloc(size) else { return }
        var stack = stack_t()
        stack.ss_sp = memory
        stack.ss_size = size
        stack.ss_flags = 0
        guard sigaltstack(&stack, nil) == 0 else {
            free(memory)
            return
        }
        // The thread keeps its stack for its whole life; the key's value only says it has one.
        pthread_setspecific(key, memory)
    }

    /// Marks the threads that have an alternate stack; nil if no key could be made.
    private static let alternateStackKey: pthread_key_t? = {
        var key = pthread_key_t()
        return pthread_key_create(&key, nil) == 0 ? key : nil
    }()

    /// The ledger whose slots start at `slots` goes away: the handler stops looking at them.
    static func forget(_ slots: UnsafeMutableRawPointer) {
        installation.withLock { _ in
            guard watchedSlots == slots else { return }
            watchedSlots = nil
            watchedCount = 0
        }
    }

    /// `SIGABRT`, `SIGSEGV`, …; `signal N` for any other.
    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGABRT: "SIGABRT"
        case SIGTRAP: "SIGTRAP"
        default: "signal \(signal)"
        }
    }

    /// The calling thread's identity, as the ledger stamps it and the handler looks it up; `pthread_self` reads
    /// the thread's control block, no system call.
    static func currentThread() -> UInt64 {
        #if canImport(Darwin)
            UInt64(UInt(bitPattern: pthread_self()))
        #else
            UInt64(pthread_self())
        #endif
    }

    private static let installation = Mutex(false)
    fileprivate static let previousActionCount: Int32 = 32
}

// The handler reads these without a lock: a signal handler may take none. They are written under
// `FatalSignalAttribution.installation` before the handler can see them (the actions array) or as single aligned
// words (the slots pointer and count), and a ledger is forgotten before its mapping is unmapped.
nonisolated(unsafe) private var watchedSlots: UnsafeMutableRawPointer?
nonisolated(unsafe) private var watchedCount = 0
nonisolated(unsafe) private var previousActions: UnsafeMutablePointer<sigaction>?

/// Marks the crashing thread's message, puts the earlier action back and lets the signal take its course: a fault
/// (`si_code > 0`) happens again when the handler returns, with its real context; a signal raised or sent (abort,
/// kill) is raised again and delivered as the handler returns.
private func handleFatalSignal(
    _ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?
) {
    if let slots = watchedSlots {
        InFlightLedger.markCrashed(
            slots: slots, count: watchedCount, thread: FatalSignalAttribution.currentThread(), signal: signal)
    }
    if let previousActions, signal < FatalSignalAttribution.previousActionCount {
        sigaction(signal, previousActions + Int(signal), nil)
    } else {
        var defaultAction = sigaction()
        sigemptyset(&defaultAction.sa_mask)
        sigaction(signal, &defaultAction, nil)
    }
    let sentOrRaised = (info?.pointee.si_code ?? 0) <= 0
    if sentOrRaised || signal == SIGABRT || signal == SIGTRAP { raise(signal) }
}
