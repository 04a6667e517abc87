import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEndTests {
    /// Issue 14: webhooks from the real `postdesk serve` to a receiver that checks Standard Webhooks signatures.
    @Suite("Webhooks end to end", .serialized)
    struct WebhookEndToEndTests {
        static let secret = "whsec_" + Data("postdesk webhook test secret, 32 b".utf8).base64EncodedString()

        static func message(id: String) -> [UInt8] {
            Array(
                """
                From: =?utf-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@customer.test>
                To: support@support.test
                Subject: =?UTF-8?B?RHJ1Y2tlciBicmVubnQg4oCTIOaJk+WNsOacug==?=
                Message-ID: <\(id)>
                Content-Type: text/plain; charset=utf-8

                Der Drucker brennt. Grüße aus Köln, 谢谢

                """.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        }

        static func deliver(_ message: [UInt8], socket: String) throws -> [Int] {
            let client = try RawLMTPClient(socketPath: socket)
            return try client.deliver(from: "juergen@customer.test", to: ["support@support.test"], message: message)
                .data.map(\.code)
        }

        static func config(endpoints: [(name: String, url: String, extra: String)], secretFile: String) -> String {
            "webhooks:\n"
                + endpoints.map {
                    "  - name: \($0.name)\n    url: \($0.url)\n    secret_file: \(secretFile)\n    timeout: 5\n\($0.extra)"
                }.joined()
        }

        @Test("SIGKILL after the commit, with the request in flight: the event arrives after the restart")
        func deliveredAfterSigkill() async throws {
            let scratch = try ScratchDirectory(label: "webhooks-kill")
            let postdesk = try PostdeskServer(in: scratch)
            let secretFile = scratch.file("webhook.secret")
            try Self.secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
            let port = Int(try LoopbackSockets.freePort())
            let receiver = try await WebhookReceiverProcess.start(
                in: scratch, directory: scratch.file("receiver"), secretFile: secretFile, port: port, mode: "hang")
            do {
                try postdesk.setExtraConfig(
                    Self.config(endpoints: [("helpdesk", receiver.url, "")], secretFile: secretFile))
                try await postdesk.start()
                #expect(
                    try Self.deliver(Self.message(id: "kill-1@customer.test"), socket: postdesk.socketPath) == [250])
                // The request is at the receiver, unanswered: committed, not delivered. Then no chance to finish.
                let inFlight = await waitUntil(seconds: 30) { receiver.requests().contains { $0.status == 0 } }
                #expect(inFlight, "no request reached the receiver; log:\n\(postdesk.serverLog)")
                await postdesk.killAbruptly()
                let firstID = try #require(receiver.requests().first).id

                try receiver.setMode("ok")
                try await postdesk.start()
                let delivered = await waitUntil(seconds: 30) { receiver.requests().contains { $0.status == 204 } }
                #expect(delivered, "not delivered after the restart; log:\n\(postdesk.serverLog)")
                let accepted = try #require(receiver.requests().first { $0.status == 204 })
                #expect(accepted.verified)
                // The same event (receivers deduplicate by webhook-id), with its text intact.
                #expect(accepted.id == firstID)
                #expect(accepted.body["type"] as? String == "ticket.created")
                let data = try #require(accepted.body["data"] as? [String: Any])
                let ticket = try #require(data["ticket"] as? [String: Any])
                #expect(ticket["subject"] as? String == "Drucker brennt – 打印机")
                #expect((ticket["requester"] as? [String: Any])?["name"] as? String == "Jürgen Müller")
                let article = try #require(data["article"] as? [String: Any])
                #expect((article["text"] as? String)?.contains("Grüße aus Köln, 谢谢") == true)
                _ = await postdesk.terminate()
            } catch {
                await postdesk.stop()
                await receiver.stop()
                throw error
            }
            await postdesk.stop()
            await receiver.stop()
            scratch.remove()
        }

        @Test("A receiver that never recovers: listed by `webhooks failed`, re-sent by `webhooks redeliver`")
        func deadLettersThroughTheCLI() async throws {
            let scratch = try ScratchDirectory(label: "webhooks-dead")
            let postdesk = try PostdeskServer(in: scratch)
            let secretFile = scratch.file("webhook.secret")
            try Self.secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
            let receiver = try await WebhookReceiverProcess.start(
                in: scratch, directory: scratch.file("receiver"), secretFile: secretFile,
                port: Int(try LoopbackSockets.freePort()), mode: "500")
            do {
                try postdesk.setExtraConfig(
                    Self.config(
                        endpoints: [("broken", receiver.url, "    max_attempts: 2\n")], secretFile: secretFile))
                try await postdesk.start()
                #expect(
                    try Self.deliver(Self.message(id: "dead-1@customer.test"), socket: postdesk.socketPath) == [250])
                var failed: [[String: Any]] = []
                _ = await waitUntil(seconds: 60) {
                    let output = (try? await postdesk.cli(["webhooks", "failed", "--json"], label: "failed")) ?? "[]"
                    failed = (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
                    return !failed.isEmpty
                }
                let entry = try #require(failed.first, "no dead letter; log:\n\(postdesk.serverLog)")
                #expect(entry["endpoint"] as? String == "broken")
                #expect(entry["type"] as? String == "ticket.created")
                #expect(entry["attempts"] as? Int == 2)
                #expect(entry["last_error"] as? String == "HTTP 500: receiver failing")
                let table = try await postdesk.cli(["webhooks", "failed"], label: "failed-table")
                #expect(table.contains("HTTP 500: receiver failing"))
                #expect(receiver.requests().count == 2)

                try receiver.setMode("ok")
                let eventID = try #require(entry["event_id"] as? String)
                let answer = try await postdesk.cli(["webhooks", "redeliver", eventID], label: "redeliver")
                #expect(answer.contains("1 delivery pending again"))
                let delivered = await waitUntil(seconds: 30) { receiver.requests().contains { $0.status == 204 } }
                #expect(delivered)
                #expect(receiver.requests().last?.id == eventID)
                #expect(receiver.requests().allSatisfy { $0.verified })
                let after = try await postdesk.cli(["webhooks", "failed", "--json"], label: "failed-after")
                #expect((try JSONSerialization.jsonObject(with: Data(after.utf8)) as? [Any])?.isEmpty == true)
                _ = await postdesk.terminate()
            } catch {
                await postdesk.stop()
                await receiver.stop()
                throw error
            }
            await postdesk.stop()
            await receiver.stop()
            scratch.remove()
        }
    }
}
