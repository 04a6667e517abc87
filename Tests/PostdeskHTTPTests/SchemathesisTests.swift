import Foundation
import Testing

@testable import PostdeskHTTP

/// The whole API fuzzed by schemathesis (PyPI) from `api/openapi.yaml`, with a fixed seed and a bounded number
/// of examples per operation: every response must match the spec and none may be a 5xx. The options live in
/// `scripts/schemathesis.sh`, which IntegrationTests also runs against the real `postdesk serve`.
@Suite struct SchemathesisTests {
    @Test func everyOperationConformsUnderGeneratedInput() async throws {
        // With outbound mail on: replies are written (and queued; no worker sends them here).
        let api = try await APIFixture(replies: APIFixture.replySender)
        try await api.deliver(MailSamples.germanReplyWithAttachment())
        try await api.deliver(MailSamples.rawUTF8(subject: "Schemathesis – ümlaut"))
        let process = Process()
        process.executableURL = repositoryRoot.appendingPathComponent("scripts/schemathesis.sh")
        process.arguments = ["http://127.0.0.1:\(api.port)"]
        process.environment = ProcessInfo.processInfo.environment.merging(["POSTDESK_TOKEN": api.writeToken]) {
            $1
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            Issue.record("cannot run scripts/schemathesis.sh (\(error))")
            await api.tearDown()
            return
        }
        // Read and waited for on a thread of its own: blocking one of the cooperative pool's few threads (two on
        // this machine) for the minutes schemathesis takes would stall every other test's timers meanwhile.
        let output = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
        try? output.write(
            toFile: NSTemporaryDirectory() + "postdesk-schemathesis.txt", atomically: true, encoding: .utf8)
        // On a failure the script ends with the failing operations and checks (the report can be megabytes).
        #expect(process.terminationStatus == 0, "\(output.suffix(6000))")
        await api.tearDown()
    }
}
