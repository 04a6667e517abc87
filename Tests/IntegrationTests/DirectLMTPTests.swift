import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EndToEndTests {
    /// CPython's smtplib.LMTP talks to `postdesk serve`'s socket directly, without Postfix.
    @Suite("Direct LMTP")
    struct DirectLMTPTests {
        @Test("An unknown recipient is refused with 550 5.1.1 and nothing is stored")
        func unknownRecipientRefused() async throws {
            try await EndToEndRig.run(label: "unknown", withPostfix: false) { rig in
                let transcript = try await rig.clients.lmtpSession(
                    socket: rig.postdesk.socketPath, from: "customer@example.test",
                    rcpts: ["nobody@elsewhere.test"],
                    message: MailClients.rawMessage(
                        to: "nobody@elsewhere.test", subject: "Lost", messageID: "<lost@customer.test>"),
                    label: "unknown")
                #expect(transcript.error == nil)
                #expect(transcript.lhlo == 250)
                let reply = try #require(transcript.rcpt.first)
                #expect(reply.code == 550)
                #expect(reply.text.hasPrefix("5.1.1"), "reply was \(reply.code) \(reply.text)")
                #expect(transcript.dataStart == nil)
                #expect(try await rig.postdesk.listTickets().isEmpty)
            }
        }

        @Test("Three recipients get three replies after DATA; a redelivery gets 250 and creates nothing")
        func oneReplyPerRecipient() async throws {
            try await EndToEndRig.run(label: "lmtp3", withPostfix: false) { rig in
                let recipients = ["support@support.test", "help@support.test", "sales@sales.test"]
                let message = MailClients.rawMessage(
                    to: recipients.joined(separator: ", "), subject: "Per recipient",
                    messageID: "<per-rcpt@customer.test>")
                let first = try await rig.clients.lmtpSession(
                    socket: rig.postdesk.socketPath, from: "customer@example.test", rcpts: recipients,
                    message: message, label: "first")
                #expect(first.error == nil)
                #expect(first.rcpt.map(\.code) == [250, 250, 250])
                #expect(first.dataStart == 354)
                #expect(first.data.map(\.code) == [250, 250, 250], "replies: \(first.data)")
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 2)
                #expect(tickets.map(\.queue).sorted() == ["sales", "support"])

                let again = try await rig.clients.lmtpSession(
                    socket: rig.postdesk.socketPath, from: "customer@example.test", rcpts: recipients,
                    message: message, label: "again")
                #expect(again.data.map(\.code) == [250, 250, 250], "replies: \(again.data)")
                let afterRedelivery = try await rig.postdesk.listTickets()
                #expect(afterRedelivery.count == 2)
                #expect(afterRedelivery.allSatisfy { $0.articleCount == 1 })
            }
        }

        @Test("A mix of known and unknown recipients: one DATA reply per accepted recipient")
        func mixedRecipients() async throws {
            try await EndToEndRig.run(label: "mixed", withPostfix: false) { rig in
                let transcript = try await rig.clients.lmtpSession(
                    socket: rig.postdesk.socketPath, from: "customer@example.test",
                    rcpts: ["support@support.test", "nobody@elsewhere.test"],
                    message: MailClients.rawMessage(
                        to: "support@support.test", subject: "Mixed", messageID: "<mixed@customer.test>"),
                    label: "mixed")
                #expect(transcript.rcpt.map(\.code) == [250, 550])
                #expect(transcript.data.map(\.code) == [250])
                #expect(try await rig.postdesk.listTickets().count == 1)
            }
        }

        @Test("SIGTERM finishes the transaction in flight, exits 0, and loses nothing")
        func gracefulShutdown() async throws {
            try await EndToEndRig.run(label: "sigterm", withPostfix: false) { rig in
                let socket = rig.postdesk.socketPath
                for index in 0..<5 {
                    let done = try await rig.clients.lmtpSession(
                        socket: socket, from: "customer@example.test", rcpts: ["support@support.test"],
                        message: MailClients.rawMessage(
                            to: "support@support.test", subject: "before \(index)",
                            messageID: "<before-\(index)@customer.test>"),
                        label: "before-\(index)")
                    #expect(done.data.map(\.code) == [250])
                }

                // A session stopped halfway through DATA when the signal arrives.
                let paused = rig.scratch.file("paused"), resume = rig.scratch.file("resume")
                let inFlight = try rig.clients.startPausedLMTPSession(
                    socket: socket, from: "customer@example.test", rcpts: ["support@support.test"],
                    message: MailClients.rawMessage(
                        to: "support@support.test", subject: "in flight", messageID: "<in-flight@customer.test>",
                        body: String(repeating: "A line of the body that keeps going.\r\n", count: 200)),
                    pausedMarker: paused, resumeMarker: resume, label: "in-flight")
                let reachedData = await waitUntil(seconds: 30) { FileManager.default.fileExists(atPath: paused) }
                try #require(reachedData, "the LMTP client never reached DATA: \(inFlight.standardOutput)")

                try #require(rig.postdesk.isRunning)
                rig.postdesk.send(signal: SIGTERM)
                try await Task.sleep(for: .milliseconds(300))
                _ = FileManager.default.createFile(atPath: resume, contents: nil)

                let clientDone = await inFlight.waitForExit(seconds: 60)
                try #require(clientDone)
                let transcript = try rig.clients.transcript(of: inFlight)
                #expect(transcript.error == nil, "in-flight client: \(transcript.error ?? "")")
                #expect(transcript.data.map(\.code) == [250], "in-flight replies: \(transcript.data)")

                let exit = await rig.postdesk.waitForExit(seconds: 30)
                let status = try #require(exit, "postdesk did not exit within 30 s of SIGTERM")
                #expect(!status.bySignal && status.status == 0, "exit \(status); log:\n\(rig.postdesk.serverLog)")
                // Either the socket file is gone, or nothing answers on it any more.
                #expect(!LoopbackSockets.acceptsConnections(unixPath: socket))

                let tickets = try await rig.postdesk.listTickets()
                #expect(Set(tickets.compactMap(\.subject)) == Set((0..<5).map { "before \($0)" } + ["in flight"]))
                #expect(tickets.count == 6)

                // A restart on the same socket path and store works (a stale socket file is harmless).
                try await rig.postdesk.start()
                let after = try await rig.clients.lmtpSession(
                    socket: socket, from: "customer@example.test", rcpts: ["support@support.test"],
                    message: MailClients.rawMessage(
                        to: "support@support.test", subject: "after restart", messageID: "<after@customer.test>"),
                    label: "after")
                #expect(after.data.map(\.code) == [250])
                #expect(try await rig.postdesk.listTickets().count == 7)
            }
        }
    }
}
