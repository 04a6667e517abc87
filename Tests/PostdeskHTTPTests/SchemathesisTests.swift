import Foundation
import Testing

@testable import PostdeskHTTP

/// The whole API fuzzed by schemathesis (PyPI) from `api/openapi.yaml`, with a fixed seed and a bounded number
/// of examples per operation: every response must match the spec and none may be a 5xx. The options live in
/// `scripts/schemathesis.sh`, which IntegrationTests also runs against the real `postdesk serve`.
@Suite struct SchemathesisTests {
    @Test func everyOperationConformsUnderGeneratedInput() async throws {
        let api = try await APIFixture()
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
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try? output.write(
            toFile: NSTemporaryDirectory() + "postdesk-schemathesis.txt", atomically: true, encoding: .utf8)
        // On a failure the script ends with the failing operations and checks (the report can be megabytes).
        #expect(process.terminationStatus == 0, "\(output.suffix(6000))")
        await api.tearDown()
    }
}
