import Foundation
import Testing

@testable import PostdeskHTTP

/// The whole API fuzzed by schemathesis (PyPI) from `api/openapi.yaml`, with a fixed seed and a bounded number
/// of examples per operation: every response must match the spec and none may be a 5xx.
@Suite struct SchemathesisTests {
    @Test func everyOperationConformsUnderGeneratedInput() async throws {
        // With outbound mail on: replies are written (and queued; no worker sends them here).
        let api = try await APIFixture(replies: APIFixture.replySender)
        try await api.deliver(MailSamples.germanReplyWithAttachment())
        try await api.deliver(MailSamples.rawUTF8(subject: "Schemathesis – ümlaut"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "schemathesis", "--config-file", repositoryRoot.appendingPathComponent("api/schemathesis.toml").path,
            "run", repositoryRoot.appendingPathComponent("api/openapi.yaml").path,
            "--url", "http://127.0.0.1:\(api.port)", "--header", "Authorization: Bearer \(api.writeToken)",
            "--max-examples", "25", "--seed", "14", "--no-color",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            Issue.record("schemathesis is not installed: run scripts/install-test-peers.sh (\(error))")
            await api.tearDown()
            return
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // The report names each failing operation and check; bodies it quotes can be megabytes.
        let failures = output.split(separator: "\n").filter {
            $0.hasPrefix("___") || $0.contains("- ST") || $0.contains("[5")
        }
        try? output.write(
            toFile: NSTemporaryDirectory() + "postdesk-schemathesis.txt", atomically: true, encoding: .utf8)
        #expect(
            process.terminationStatus == 0, "\(failures.prefix(80).joined(separator: "\n"))\n\(output.suffix(1500))")
        await api.tearDown()
    }
}
