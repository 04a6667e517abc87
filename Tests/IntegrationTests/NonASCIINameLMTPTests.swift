import Foundation
import Testing

extension EndToEndTests {
    /// Issue 11: one accented display name spun the daemon's event loop forever. Over the real LMTP socket,
    /// each message of the issue gets its 250 promptly and becomes a ticket.
    @Suite("Non-ASCII names over LMTP")
    struct NonASCIINameLMTPTests {
        @Test("\"Jürgen Müller\", raw and RFC 2047 encoded, is answered 250 at once and becomes a ticket")
        func accentedNamesAreAnswered() async throws {
            try await EndToEndRig.run(label: "umlaut", withPostfix: false) { rig in
                let senders = [
                    "\"Jürgen Müller\" <m@example.test>", "=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <m@example.test>",
                    "=?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <m@example.test>",
                ]
                let clock = ContinuousClock()
                for (index, from) in senders.enumerated() {
                    let message =
                        "From: \(from)\r\nTo: support@support.test\r\nSubject: hello\r\n"
                        + "Message-ID: <\(index + 1)@example.test>\r\n\r\nbody\r\n"
                    let start = clock.now
                    let transcript = try await rig.clients.lmtpSession(
                        socket: rig.postdesk.socketPath, from: "m@example.test", rcpts: ["support@support.test"],
                        message: message, label: "umlaut-\(index)")
                    let elapsed = clock.now - start
                    #expect(transcript.error == nil)
                    #expect(transcript.data.map(\.code) == [250], "replies: \(transcript.data)")
                    // A Python client start-up included; the defect never answered at all.
                    #expect(elapsed < .seconds(10), "answered after \(elapsed)")
                }
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == senders.count)
                #expect(tickets.allSatisfy { $0.subject == "hello" })
            }
        }
    }
}
