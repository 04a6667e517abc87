import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import PostdeskDaemon

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct HealthWatchdogTests {
    /// A real datagram socket bound to an abstract name, read without blocking.
    final class Receiver {
        let name = "@pd-watchdog-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)

        init() throws {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(name.utf8)
            bytes[0] = 0
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
            }
            try #require(bound == 0)
        }

        deinit { close(descriptor) }

        /// Every datagram waiting now.
        func drain() -> [String] {
            var received: [String] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return received }
                received.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
        }
    }

    @Test("WATCHDOG=1 while the event loops answer; none once one is wedged, or a message is stuck")
    func starvesWhenALoopIsWedged() async throws {
        let receiver = try Receiver()
        let notifier = try #require(
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "4000000"]))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let answers = Mutex<[Int]>([0, 0])
        let probes = loops.enumerated().map { index, loop in
            HealthWatchdog.Probe(name: "event loop \(index)") { answered in
                loop.execute {
                    answers.withLock { $0[index] += 1 }
                    answered()
                }
            }
        }
        let watchdog = HealthWatchdog(notifier: notifier, probes: probes, logger: Logger(label: "test"))
        #expect(watchdog.bound == .seconds(2))
        #expect(watchdog.tick == .seconds(1))

        /// One check, then (by count, not by time: the machine may be busy) until both loops answered it.
        func checkAndWait(stuck: Int = 0) async {
            let before = answers.withLock { $0 }
            watchdog.check(now: .now, stuckMessages: stuck)
            await waitForAnswers(after: before)
        }
        func waitForAnswers(after before: [Int]) async {
            _ = await waitUntil(seconds: 60, interval: .milliseconds(10)) {
                let now = answers.withLock { $0 }
                return now[0] > before[0] && now[1] > before[1]
            }
            // The counter moves just before the probe's answer is recorded.
            try? await Task.sleep(for: .milliseconds(20))
        }
        for _ in 0..<3 { await checkAndWait() }
        #expect(receiver.drain().filter { $0 == "WATCHDOG=1" }.count == 3)
        #expect(watchdog.problem == nil)

        // A message stuck past its deadline: unwell at once; well again once its stage returned.
        await checkAndWait(stuck: 1)
        #expect(receiver.drain().isEmpty)
        #expect(watchdog.problem?.contains("stuck") == true)
        await checkAndWait()
        #expect(receiver.drain() == ["WATCHDOG=1"])

        // Wedge loop 1 (as a message processed on it would): its probe stays unanswered past the bound.
        let release = Atomic(false)
        loops[1].execute {
            while !release.load(ordering: .acquiring) { usleep(1000) }
        }
        watchdog.check(now: .now, stuckMessages: 0)
        _ = receiver.drain()
        try await Task.sleep(for: .milliseconds(2200))
        watchdog.check(now: .now, stuckMessages: 0)
        #expect(receiver.drain().isEmpty, "no WATCHDOG=1 while loop 1 does not answer")
        #expect(watchdog.problem?.contains("event loop 1") == true, "\(watchdog.problem ?? "nil")")
        let wedged = answers.withLock { $0 }
        release.store(true, ordering: .releasing)
        _ = await waitUntil(seconds: 60, interval: .milliseconds(10)) { answers.withLock { $0[1] } != wedged[1] }
        try await Task.sleep(for: .milliseconds(20))
        await checkAndWait()
        #expect(receiver.drain().contains("WATCHDOG=1"))
        try await group.shutdownGracefully()
    }
}
