import Foundation

/// Polls `condition` every `interval` until it holds or `seconds` pass; returns whether it held. The bound is time,
/// not a count of polls: a test process starved for many seconds on a loaded machine still waits its full time.
public func waitUntil(
    seconds: Double, interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if try await condition() { return true }
        if Date() >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}
