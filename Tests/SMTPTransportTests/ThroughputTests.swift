import Foundation
import SMTPTransport
import Testing

/// Throughput with Postfix's smtp-source as the client (no PIPELINING, 10 sessions, 2 KB messages).
/// Opt-in (`SMTP_BENCHMARK=1`) because it takes the whole machine for a few seconds; it prints msg/s.
@Suite("SMTP server throughput", .serialized)
struct ThroughputTests {
    static let enabled =
        ProcessInfo.processInfo.environment["SMTP_BENCHMARK"] != nil
        && FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-source")

    @Test(.enabled(if: enabled), .timeLimit(.minutes(2)), arguments: [false, true])
    func smtpSourceOverLMTPUnixSocket(reuseConnections: Bool) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let backend = RecordingBackend(recordData: false)
        let server = makeServer(backend: backend)
        let path = directory.path + "/lmtp.sock"
        try await server.listenUnix(path: path)
        let messages = 20_000
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-source")
        process.arguments =
            ["-L", "-s", "10", "-m", String(messages), "-l", "2048", "-f", "s@x.test", "-t", "a@x.test"]
            + (reuseConnections ? ["-d"] : []) + ["unix:" + path]
        let started = ContinuousClock.now
        try process.run()
        let deadline = started + .seconds(90)
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        #expect(process.terminationStatus == 0)
        #expect(backend.deliveryCount == messages)
        print(
            "smtp-source LMTP reuse=\(reuseConnections): \(messages) messages in \(seconds) s = \(Int(Double(messages) / seconds)) msg/s"
        )
        await server.shutdownGracefully()
    }
}
