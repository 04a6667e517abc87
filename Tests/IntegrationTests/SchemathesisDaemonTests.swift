import Foundation
import Testing

extension EndToEndTests {
    /// Issue 14's proof for the API: schemathesis fuzzes the real `postdesk serve` (the HTTP API on a loopback
    /// port, tickets delivered over LMTP first) from `api/openapi.yaml`, through `scripts/schemathesis.sh`, the
    /// one place its seed, example count and settings live (PostdeskHTTPTests runs it against an in-process server).
    @Suite("schemathesis against the running daemon", .timeLimit(.minutes(15)))
    struct SchemathesisDaemonTests {
        @Test("every response of the running daemon matches the spec under generated input; no 5xx")
        func theRunningDaemonConformsToItsSpec() async throws {
            let port = try LoopbackSockets.freePort()
            try await EndToEndRig.run(
                label: "schemathesis", withPostfix: false,
                postdeskEnvironment: ["POSTDESK_HTTP_LISTEN": "127.0.0.1:\(port)"]
            ) { rig in
                let messages = [
                    "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <m@example.test>\r\nTo: support@support.test\r\n"
                        + "Subject: =?UTF-8?B?RHJ1Y2tlciBicmVubnQ=?=\r\nMessage-ID: <st-1@example.test>\r\n\r\n"
                        + "Bitte helfen.\r\n\r\nAm Montag schrieb Support:\r\n> Neu starten?\r\n",
                    "From: Zoë <zoe@example.test>\r\nTo: support@support.test\r\nSubject: Schemathesis – ümlaut\r\n"
                        + "Message-ID: <st-2@example.test>\r\nMIME-Version: 1.0\r\n"
                        + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n",
                ]
                for (index, message) in messages.enumerated() {
                    let transcript = try await rig.clients.lmtpSession(
                        socket: rig.postdesk.socketPath, from: "m@example.test", rcpts: ["support@support.test"],
                        message: message, label: "st-\(index)")
                    #expect(transcript.data.map(\.code) == [250])
                }
                let token = try await rig.postdesk.cli(
                    ["tokens", "create", "fuzz", "--scope", "write"], label: "token"
                )
                .trimmingCharacters(in: .whitespacesAndNewlines)
                let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("scripts/schemathesis.sh").path
                var environment = ProcessInfo.processInfo.environment
                environment["POSTDESK_TOKEN"] = token
                let fuzz = try ChildProcess(
                    executable: script, arguments: ["http://127.0.0.1:\(port)"],
                    outputPrefix: rig.scratch.file("schemathesis"), environment: environment)
                let finished = await fuzz.waitForExit(seconds: 600)
                if !finished { await fuzz.stop(graceSeconds: 1) }
                #expect(finished, "schemathesis did not finish within 600 s")
                let output = fuzz.standardOutput + fuzz.standardError
                // On a failure the script ends with the failing operations and checks (the report can be megabytes).
                #expect(fuzz.terminationStatus == 0, "\(output.suffix(6000))")
                #expect(!rig.postdesk.serverLog.contains(token), "the token never reaches the log")
                #expect(rig.postdesk.isRunning, "the daemon survived the fuzzing")
            }
        }
    }
}
