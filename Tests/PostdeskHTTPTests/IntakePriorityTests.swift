import Synchronization
import TestSupport
import Testing

@testable import PostdeskHTTP

/// Mail first: while intake is busy, API requests run one at a time with a pause after each; idle, they run as
/// they come. The pauses are observed through the injected sleep, never timed.
@Suite struct IntakePriorityTests {
    /// A sleep that waits until the test releases it, recording what was asked.
    final class HeldSleep: Sendable {
        private let state = Mutex<(asked: [Duration], waiting: [CheckedContinuation<Void, Never>])>(([], []))

        func sleep(_ duration: Duration) async {
            await withCheckedContinuation { continuation in
                state.withLock {
                    $0.asked.append(duration)
                    $0.waiting.append(continuation)
                }
            }
        }

        var asked: [Duration] { state.withLock { $0.asked } }

        func releaseAll() {
            let waiting = state.withLock { state in
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    @Test func idleIntakeNeverHoldsARequest() async throws {
        let sleep = HeldSleep()
        let priority = IntakePriority(share: 0.1, busy: { false }, sleep: sleep.sleep)
        for _ in 0..<5 { _ = try await priority.run { 1 } }
        #expect(sleep.asked.isEmpty)
    }

    @Test func thePauseKeepsTheAPIsShare() {
        let priority = IntakePriority(share: 0.1, busy: { true })
        #expect(priority.pause(after: .milliseconds(10)) == .milliseconds(90))
        #expect(IntakePriority(share: 0.5, busy: { true }).pause(after: .milliseconds(10)) == .milliseconds(10))
    }

    @Test func busyIntakeRunsRequestsOneAtATimeWithTheirPauses() async throws {
        let sleep = HeldSleep()
        let priority = IntakePriority(share: 0.25, busy: { true }, sleep: sleep.sleep)
        let started = Mutex(0)
        _ = try await priority.run { started.withLock { $0 += 1 } }
        // The first request answered at once; its pause holds the slot, so the second does not start.
        let second = Task { try await priority.run { started.withLock { $0 += 1 } } }
        _ = await waitUntil(seconds: 60, interval: .milliseconds(5)) { !sleep.asked.isEmpty }
        try await Task.sleep(for: .milliseconds(50))
        #expect(started.withLock { $0 } == 1)
        #expect(sleep.asked.count == 1)
        sleep.releaseAll()
        _ = try await second.value
        #expect(started.withLock { $0 } == 2)
        _ = await waitUntil(seconds: 60, interval: .milliseconds(5)) { sleep.asked.count >= 2 }
        #expect(sleep.asked.count == 2)
        sleep.releaseAll()
    }

    @Test func aFailingRequestReleasesTheSlotToo() async throws {
        struct Failure: Error {}
        let sleep = HeldSleep()
        let priority = IntakePriority(share: 0.5, busy: { true }, sleep: sleep.sleep)
        await #expect(throws: Failure.self) { try await priority.run { throw Failure() } }
        _ = await waitUntil(seconds: 60, interval: .milliseconds(5)) { !sleep.asked.isEmpty }
        sleep.releaseAll()
        #expect(try await priority.run { 7 } == 7)
        sleep.releaseAll()
    }
}
