import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEndTests {
    /// Issue 14: webhooks follow SIGHUP. The real `postdesk serve` starts without webhooks; reloads add one, change
    /// its URL and add a second, then remove them all, while LMTP deliveries go on; receivers check every
    /// signature.
    @Suite("Webhooks follow a SIGHUP reload", .serialized)
    struct WebhookReloadEndToEndTests {
        static func message(_ index: Int) -> [UInt8] {
            Array(
                """
                From: =?utf-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <zoe@customer.test>
                To: support@support.test
                Subject: Reload \(index) – Grüße, 谢谢
                Message-ID: <reload-\(index)@customer.test>
                Content-Type: text/plain; charset=utf-8

                Nachricht \(index): Übermorgen?

                """.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        }

        /// The subjects of the `ticket.created` events a receiver accepted, in arrival order.
        static func subjects(_ receiver: WebhookReceiverProcess) -> [String] {
            receiver.requests().filter { $0.status == 204 && $0.verified }.compactMap { request in
                guard request.body["type"] as? String == "ticket.created" else { return nil }
                return ((request.body["data"] as? [String: Any])?["ticket"] as? [String: Any])?["subject"] as? String
            }
        }

        @Test("added, changed and removed endpoints apply without a restart")
        func endpointsFollowReloads() async throws {
            let scratch = try ScratchDirectory(label: "webhooks-reload")
            let postdesk = try PostdeskServer(in: scratch)
            let secretFile = scratch.file("webhook.secret")
            try WebhookEndToEndTests.secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
            let first = try await WebhookReceiverProcess.start(
                in: scratch, directory: scratch.file("first"), secretFile: secretFile,
                port: Int(try LoopbackSockets.freePort()))
            let second = try await WebhookReceiverProcess.start(
                in: scratch, directory: scratch.file("second"), secretFile: secretFile,
                port: Int(try LoopbackSockets.freePort()))
            var reloads = 0
            func reload(_ endpoints: [(name: String, url: String, extra: String)]) async throws {
                try postdesk.setExtraConfig(
                    endpoints.isEmpty ? "" : WebhookEndToEndTests.config(endpoints: endpoints, secretFile: secretFile))
                reloads += 1
                postdesk.send(signal: SIGHUP)
                let count = reloads
                let applied = await waitUntil(seconds: 30) {
                    postdesk.serverLog.components(separatedBy: "configuration reloaded").count > count
                }
                #expect(applied, "reload \(count) not applied; log:\n\(postdesk.serverLog)")
            }
            func deliver(_ index: Int) throws {
                #expect(try WebhookEndToEndTests.deliver(Self.message(index), socket: postdesk.socketPath) == [250])
            }
            do {
                try await postdesk.start()
                try deliver(1)  // no webhook: no event is written for it

                try await reload([("helpdesk", first.url, "")])
                try deliver(2)
                #expect(
                    await waitUntil(seconds: 30) { Self.subjects(first).count == 1 },
                    "log:\n\(postdesk.serverLog)")
                #expect(Self.subjects(first) == ["Reload 2 – Grüße, 谢谢"])

                // helpdesk moves to the second receiver; a new endpoint takes only ticket.created at the first.
                try await reload([
                    ("helpdesk", second.url, ""), ("crm", first.url, "    events: [ticket.created]\n"),
                ])
                try deliver(3)
                #expect(
                    await waitUntil(seconds: 30) {
                        Self.subjects(first).count == 2 && Self.subjects(second).count == 1
                    }, "log:\n\(postdesk.serverLog)")
                #expect(Self.subjects(first) == ["Reload 2 – Grüße, 谢谢", "Reload 3 – Grüße, 谢谢"])
                #expect(Self.subjects(second) == ["Reload 3 – Grüße, 谢谢"])

                // All removed: nothing more is sent.
                try await reload([])
                try deliver(4)
                try await Task.sleep(for: .seconds(3))
                #expect(first.requests().count == 2)
                #expect(second.requests().count == 1)
                #expect(first.requests().allSatisfy(\.verified) && second.requests().allSatisfy(\.verified))
                #expect(try await postdesk.listTickets().count == 4)
                #expect(postdesk.isRunning)
                #expect(!postdesk.serverLog.contains("take effect at the next restart"), "\(postdesk.serverLog)")
                _ = await postdesk.terminate()
            } catch {
                Issue.record(error)
                await postdesk.stop()
            }
            await first.stop()
            await second.stop()
            scratch.remove()
        }
    }
}
