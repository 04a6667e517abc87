import Foundation
import Testing

extension EndToEndTests {
    /// Our own mail bouncing, end to end through the real Postfix relay: Postfix refuses the acknowledgement's
    /// recipient (an `error:` transport, as a remote MX answering 550 would make it), sends its DSN to our envelope
    /// sender, which it delivers back to postdesk over LMTP; the bounce stage flags the recipient, and the next
    /// acknowledgement to it is suppressed instead of sent.
    @Suite("Our own bounces mark the recipient as bouncing; further mail to it is suppressed")
    struct OwnBounceEndToEndTests {
        /// `postdesk <arguments> --json` decoded as an array of objects.
        static func rows(_ rig: OutboundRig, _ arguments: [String]) async throws -> [[String: Any]] {
            let output = try await rig.postdesk.cli(arguments + ["--json"], label: arguments.joined(separator: "-"))
            return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
        }

        static func waitForRows(
            _ rig: OutboundRig, _ arguments: [String], seconds: Double = 60, until: ([[String: Any]]) -> Bool
        ) async throws -> [[String: Any]] {
            var rows: [[String: Any]] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                rows = try await Self.rows(rig, arguments)
                if until(rows) { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            return rows
        }

        @Test("A bounced acknowledgement flags the address; the next one is suppressed; unbounce sends again")
        func bounceSuppressesThenUnbounce() async throws {
            try await OutboundRig.run(
                label: "ownbounce",
                transport: ["refused.test": "error:5.1.1 Postfach von Jörg unbekannt (mailbox unknown)"],
                // Accepted from us, refused at delivery: Postfix's own DSN comes back, as from a remote MX's 550.
                postfixSettings: ["smtpd_reject_unlisted_recipient = no"]
            ) { rig in
                let joerg = "=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@refused.test>"
                #expect(
                    try rig.deliver(
                        customerMessage(from: joerg, subject: "Rückruf erbeten"), from: "joerg@refused.test")
                        == 250)
                // The acknowledgement goes out, Postfix bounces it, the DSN comes back and flags the address.
                let bouncing = try await Self.waitForRows(rig, ["contacts", "bouncing"]) { !$0.isEmpty }
                let flagged = try #require(bouncing.first, "not flagged; log:\n\(rig.postdesk.serverLog)")
                #expect(flagged["address"] as? String == "joerg@refused.test")
                #expect(
                    flagged["reason"] as? String == "5.1.1 Postfach von Jörg unbekannt (mailbox unknown)", "\(flagged)")
                #expect(rig.postfix.maillog().contains("status=bounced"), "\(rig.postfix.maillog())")

                // A new ticket from the same person: the acknowledgement is recorded as suppressed, not sent.
                #expect(
                    try rig.deliver(
                        customerMessage(from: joerg, subject: "Noch einmal: Rückruf"), from: "joerg@refused.test")
                        == 250)
                let suppressed = try await Self.waitForRows(rig, ["outbound", "--state", "suppressed"]) {
                    !$0.isEmpty
                }
                let record = try #require(suppressed.first, "nothing suppressed; log:\n\(rig.postdesk.serverLog)")
                #expect(record["recipient"] as? String == "joerg@refused.test")
                #expect((record["last_result"] as? String)?.contains("joerg@refused.test is bouncing since") == true)
                #expect((record["last_result"] as? String)?.contains("5.1.1") == true, "\(record)")
                #expect(rig.postdesk.serverLog.contains("not sent: suppressed"))
                // Exactly one bounce: the suppressed mail never reached the relay.
                try await Task.sleep(for: .seconds(2))
                #expect(rig.postfix.maillog().components(separatedBy: "status=bounced").count == 2)
                let all = try await Self.rows(rig, ["outbound"])
                #expect(all.count == 2)
                #expect(Set(all.compactMap { $0["state"] as? String }) == ["sent", "suppressed"])

                // The operator clears the flag: the next acknowledgement is sent (and bounces again).
                let cleared = try await rig.postdesk.cli(["contacts", "unbounce", "Joerg@Refused.test"], label: "unb")
                #expect(cleared.contains("joerg@refused.test no longer bouncing"))
                #expect(try await Self.rows(rig, ["contacts", "bouncing"]).isEmpty)
                #expect(
                    try rig.deliver(
                        customerMessage(from: joerg, subject: "Dritter Versuch"), from: "joerg@refused.test")
                        == 250)
                let sent = try await Self.waitForRows(rig, ["outbound", "--state", "sent"]) { $0.count >= 2 }
                #expect(sent.count == 2, "log:\n\(rig.postdesk.serverLog)")
                #expect(try await Self.rows(rig, ["outbound", "--state", "suppressed"]).count == 1)
            }
        }
    }
}
