import Synchronization

/// Mail first: while intake is busy, API requests run one at a time and the API holds at most `share` of the
/// time. After a request that took `d`, the next one waits `d × (1 / share − 1)`; when intake is idle, requests
/// run as they come. A reader polling in a loop (a dashboard, a sync job, a load generator) then cannot take the
/// CPU that LMTP deliveries need on a small machine: Postfix's mail waits for nobody.
///
/// `/healthz` and `/readyz` are never held (`IntakePriorityMiddleware` only applies this to `/api/`).
public final class IntakePriority: Sendable {
    /// Whether intake is busy now (messages in the pipeline, or one handed over within the last second).
    public typealias BusyProbe = @Sendable () -> Bool

    private struct State {
        /// A request holds the slot (running, or pausing after it ran).
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    /// The share of wall time the API may use while intake is busy, in (0, 1].
    public let share: Double
    private let busy: BusyProbe
    private let sleep: @Sendable (Duration) async -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - share: the API's share of wall time while intake is busy (`http.busy_share_percent` / 100).
    ///   - sleep: waits the pause; replaceable so tests can observe pauses without waiting.
    public init(
        share: Double = 0.05, busy: @escaping BusyProbe,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) {
        self.share = min(1, max(0.01, share))
        self.busy = busy
        self.sleep = sleep
    }

    /// The pause after a request that took `elapsed` while intake was busy. O(1).
    public func pause(after elapsed: Duration) -> Duration {
        elapsed * (1 / share - 1)
    }

    /// Runs `request` now when intake is idle, else when the slot is free; the slot stays held for the pause
    /// after it, which the caller does not wait for (its response leaves at once).
    public func run<T: Sendable>(_ request: () async throws -> T) async throws -> T {
        guard busy() else { return try await request() }
        await acquire()
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let result = try await request()
            releaseAfterPause(clock.now - started)
            return result
        } catch {
            releaseAfterPause(clock.now - started)
            throw error
        }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let runNow = state.withLock { state -> Bool in
                if state.held {
                    state.waiting.append(continuation)
                    return false
                }
                state.held = true
                return true
            }
            if runNow { continuation.resume() }
        }
    }

    private func releaseAfterPause(_ elapsed: Duration) {
        let pause = pause(after: elapsed)
        let sleep = self.sleep
        Task { [self] in
            await sleep(pause)
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard !state.waiting.isEmpty else {
                    state.held = false
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
    }
}
