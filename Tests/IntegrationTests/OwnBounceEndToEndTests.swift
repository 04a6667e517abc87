import Foundation
import TestSupport
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
            _ = try await waitUntil(seconds: seconds, interval: .milliseconds(500)) {
                rows = try await Self.rows(rig, arguments)
                return until(rows)
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
                // The daemon writes routine log lines in batches (every 20 ms, `BatchedLogOutput`): the record can be
                // read before the line reaches the log.
                #expect(
                    await waitUntil(seconds: 30) { rig.postdesk.serverLog.contains("not sent: suppressed") },
                    "\(rig.postdesk.serverLog)")
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

        @Test("The relay refusing the mailbox at once (550 5.1.1 to RCPT) flags it too")
        func immediateRefusalFlagsTheAddress() async throws {
            try await OutboundRig.run(
                label: "rcptrefused",
                postfixSettings: [
                    "smtpd_recipient_restrictions = check_recipient_access "
                        + "inline:{ { sofort.test = 550 5.1.1 Postfach unbekannt } }"
                ]
            ) { rig in
                let eva = "=?UTF-8?B?RXZhIFPDtnJlbnNlbg==?= <eva@sofort.test>"
                #expect(
                    try rig.deliver(customerMessage(from: eva, subject: "Größe falsch"), from: "eva@sofort.test") == 250
                )
                let bouncing = try await Self.waitForRows(rig, ["contacts", "bouncing"]) { !$0.isEmpty }
                let flagged = try #require(bouncing.first, "not flagged; log:\n\(rig.postdesk.serverLog)")
                #expect(flagged["address"] as? String == "eva@sofort.test")
                #expect((flagged["reason"] as? String)?.hasPrefix("550 5.1.1 ") == true, "\(flagged)")
                #expect(try await Self.rows(rig, ["outbound", "--state", "failed"]).count == 1)
                #expect(try rig.deliver(customerMessage(from: eva, subject: "Nochmal"), from: "eva@sofort.test") == 250)
                let suppressed = try await Self.waitForRows(rig, ["outbound", "--state", "suppressed"]) { !$0.isEmpty }
                #expect(suppressed.count == 1, "log:\n\(rig.postdesk.serverLog)")
                #expect(rig.postfix.maillog().components(separatedBy: "Postfach unbekannt").count == 2)
            }
        }

        /// A DSN as a remote MTA sends it: null sender, to our envelope sender, `original` quoted (or nothing).
        static func deliveryStatusNotification(failed recipient: String, original messageID: String?) -> String {
            let boundary = "dsn-\(UUID().uuidString)"
            let quoted =
                messageID.map {
                    "--\(boundary)\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <\($0)>\r\n"
                        + "Subject: =?UTF-8?Q?R=C3=BCckruf?=\r\n\r\n"
                } ?? ""
            return [
                "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>", "To: support@support.test",
                "Subject: Undelivered Mail Returned to Sender", "Message-ID: <\(UUID().uuidString)@mx.example.org>",
                "MIME-Version: 1.0",
                "Content-Type: multipart/report; report-type=delivery-status; boundary=\"\(boundary)\"", "",
                "--\(boundary)", "Content-Type: text/plain; charset=UTF-8", "",
                "Die Nachricht an \(recipient) konnte nicht zugestellt werden.", "",
                "--\(boundary)", "Content-Type: message/delivery-status", "",
                "Reporting-MTA: dns; mx.example.org", "", "Final-Recipient: rfc822; \(recipient)", "Action: failed",
                "Status: 5.1.1", "Diagnostic-Code: smtp; 550 5.1.1 Benutzer unbekannt", "",
            ].joined(separator: "\r\n") + quoted + "--\(boundary)--\r\n"
        }

        @Test("A bounce quoting no Message-ID, to our envelope, for an address we mailed: flagged; a foreign one: not")
        func bounceWithoutOurMessageIDButOurEnvelope() async throws {
            try await OutboundRig.run(label: "envbounce") { rig in
                for (from, subject) in [("kunde@example.org", "Erste Frage"), ("zoe@example.org", "Zoës Frage")] {
                    #expect(
                        try rig.deliver(customerMessage(from: "<\(from)>", subject: subject), from: from) == 250)
                }
                #expect(await rig.waitForMessages(2).count == 2, "log:\n\(rig.postdesk.serverLog)")
                // Back over LMTP from <>: one quoting nothing, one quoting a message that is not ours.
                let quotingNothing = Self.deliveryStatusNotification(failed: "kunde@example.org", original: nil)
                #expect(try rig.deliver(quotingNothing, from: "") == 250)
                let quotingForeign = Self.deliveryStatusNotification(
                    failed: "zoe@example.org", original: "fremd-\(UUID().uuidString)@example.net")
                #expect(try rig.deliver(quotingForeign, from: "") == 250)
                let bouncing = try await Self.rows(rig, ["contacts", "bouncing"])
                #expect(bouncing.compactMap { $0["address"] as? String } == ["kunde@example.org"], "\(bouncing)")
                #expect(bouncing.first?["reason"] as? String == "5.1.1 550 5.1.1 Benutzer unbekannt")
                #expect(try await Self.rows(rig, ["bounces"]).count == 2)
            }
        }
    }
}
