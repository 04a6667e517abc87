/// Polls `condition` every `interval` until it holds, `seconds` pass on the monotonic clock, or the task is
/// cancelled; returns whether it held. The bound is time, not a count of polls: a test process starved for many
/// seconds on a loaded machine still waits its full time.
public func waitUntil(
    seconds: Double, interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while true {
        if try await condition() { return true }
        if Task.isCancelled || ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}
