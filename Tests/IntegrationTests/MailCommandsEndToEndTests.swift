import Foundation
import MailParser
import Testing

/// Mail that commands (issue 15), end to end: the real `postdesk serve` over LMTP, the real SQLite store, and
/// confirmations through a real private Postfix to a capture.
extension EndToEndTests {
    @Suite("Mail commands over LMTP with confirmations through Postfix")
    struct MailCommandsEndToEndTests {
        static let commandsConfig = """
            queues.support.commands:
              agents: [agent@example.org]
              variable_commands: true
              per_sender_per_hour: 20
              requests:
                fallback_user: fallback@example.org
                fallback_site: Siège Lyon
                types:
                  - name: Accès VPN
                    labels: [VPN access]
                    fields:
                      - name: poste
                        labels: [Poste, Workstation]
                        mandatory: true
                      - name: motif
                        kind: long_text
                        labels: [Motif, Reason]
                      - name: nombre
                        kind: number
                        labels: [Nombre, Count]
              alerts:
                internal_address: noc@example.org
                detect:
                  - name: RMM
                    senders: ["@rmm.example.org"]
                    subject: [Disk space low, Service stopped]
                    match: all
                skip:
                  - name: healed
                    subject: Alert Self Healed
                accounts:
                  - name: Société Générale Ümlaut
                    id: "4711"
                  - name: Acme
                account_detection: ["after:Customer:"]

            """

        /// The requester opens ticket #1 with ordinary mail and waits for its acknowledgement.
        static func openTicket(_ rig: OutboundRig) async throws -> ParsedMessage {
            #expect(
                try rig.deliver(customerMessage(id: "open@example.org"), from: "kunde@example.org") == 250)
            let received = await rig.waitForMessages(1)
            return try #require(received.first, "no acknowledgement; log:\n\(rig.postdesk.serverLog)")
        }

        @Test("SOLVE by the requester in the percent-encoded mailto form; RESTART and UPDATE in plain form")
        func variableCommandsByRequester() async throws {
            try await OutboundRig.run(label: "cmd-var", extraConfig: { _ in Self.commandsConfig }) { rig in
                _ = try await Self.openTicket(rig)
                let solve = customerMessage(
                    subject: "Erledigt – danke", id: "solve@example.org",
                    body:
                        "%40OPERATION%40%3D%27SOLVE%27%0A%40RFC_NUMBER%40%3D%27%5BSupport%20%231%5D%27\nDanke, Jürgen\n"
                )
                #expect(try rig.deliver(solve, from: "kunde@example.org") == 250)
                var ticket = try await rig.postdesk.showTicket(1)
                #expect(ticket.status == "solved", "activities: \((ticket.activities ?? []).map(\.text))")
                #expect(ticket.articles.count == 2)
                let confirmation = await rig.waitForMessages(matching: { $0.text.contains("Command applied") }).first
                let reply = try #require(confirmation, "no confirmation; log:\n\(rig.postdesk.serverLog)")
                #expect(reply.subject?.hasPrefix("[Support #1]") == true)
                #expect(reply.to.first?.address == "kunde@example.org")
                #expect(reply.inReplyTo == ["solve@example.org"])

                let update = customerMessage(
                    subject: "Noch eine Änderung", id: "update@example.org",
                    body: """
                        @OPERATION@='RESTART'
                        @RFC_NUMBER@='#1'
                        @FIELDS_TO_UPDATE@={priority=hoch} {Standort=Köln – Gebäude 2}
                        @CHOICE@='1'

                        """)
                #expect(try rig.deliver(update, from: "kunde@example.org") == 250)
                ticket = try await rig.postdesk.showTicket(1)
                #expect(ticket.status == "open")
                #expect(ticket.defaults?.priority == "hoch")
                #expect(
                    (ticket.fields ?? []).contains(
                        TicketDetail.Field(name: "Standort", kind: "text", value: "Köln – Gebäude 2")))
                #expect((ticket.fields ?? []).contains(TicketDetail.Field(name: "choice", kind: "text", value: "1")))
                #expect((ticket.activities ?? []).contains { $0.kind == "command" && $0.text.contains("RESTART #1") })
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 1)
            }
        }

        @Test(
            "A command from someone who is not the requester is refused: an ordinary ticket, an activity, an error reply"
        )
        func variableCommandRefused() async throws {
            try await OutboundRig.run(label: "cmd-refuse", extraConfig: { _ in Self.commandsConfig }) { rig in
                _ = try await Self.openTicket(rig)
                // Known (a contact from an earlier mail) but not the requester of #1.
                _ = try rig.deliver(
                    customerMessage(from: "Ωμέγα <other@example.org>", subject: "Ερώτηση", id: "o1@example.org"),
                    from: "other@example.org")
                let forged = customerMessage(
                    from: "Ωμέγα <other@example.org>", subject: "close it", id: "o2@example.org",
                    body: "@OPERATION@='SOLVE'\n@RFC_NUMBER@='1'\n")
                #expect(try rig.deliver(forged, from: "other@example.org") == 250)
                let first = try await rig.postdesk.showTicket(1)
                #expect(first.status != "solved")
                #expect(first.articles.count == 1)
                let tickets = try await rig.postdesk.listTickets()
                let newest = try await rig.postdesk.showTicket(tickets.map(\.number).max() ?? 0)
                #expect(newest.number != 1)
                #expect(
                    (newest.activities ?? []).contains {
                        $0.kind == "command-refused" && $0.text.contains("neither the requester of #1")
                    })
                let refusals = await rig.waitForMessages(matching: {
                    $0.to.first?.address == "other@example.org" && $0.text.contains("not applied")
                })
                #expect(refusals.count == 1, "sent:\n\(rig.capturedSummary)\nlog:\n\(rig.postdesk.serverLog)")
                // The audit trail: `postdesk commands` lists the refusal with its reason, for that sender only.
                let json = try await rig.postdesk.cli(
                    ["commands", "--json", "--sender", "OTHER@example.org"], label: "commands")
                let rows = try #require(
                    try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]], "\(json)")
                #expect(rows.count == 1)
                #expect(rows.first?["outcome"] as? String == "refused")
                #expect(rows.first?["operation"] as? String == "solve")
                #expect((rows.first?["detail"] as? String)?.contains("neither the requester of #1") == true)
                let table = try await rig.postdesk.cli(["commands"], label: "commands-table")
                #expect(table.contains("variable-command") && table.contains("refused"))
            }
        }

        @Test("A CreateSR block in French opens a typed request; a missing mandatory field opens an ordinary ticket")
        func structuredRequests() async throws {
            try await OutboundRig.run(label: "cmd-sr", extraConfig: { _ in Self.commandsConfig }) { rig in
                let request = customerMessage(
                    subject: "Demande d’accès", id: "sr1@example.org",
                    body: """
                        Bonjour,

                        CreateSR
                        Type: Accès VPN
                        Demandeur: kunde@example.org
                        Utilisateur: jdupont; kunde@example.org
                        Poste: PC-Zoë-42
                        Nombre: 3
                        Motif:
                        Télétravail à Zürich – 日本語も
                        deuxième ligne
                        ---\u{20}
                        CreateSR

                        """)
                #expect(try rig.deliver(request, from: "kunde@example.org") == 250)
                let ticket = try await rig.postdesk.showTicket(1)
                #expect(ticket.defaults?.type == "Accès VPN", "activities: \((ticket.activities ?? []).map(\.text))")
                #expect(
                    (ticket.fields ?? []).contains(TicketDetail.Field(name: "poste", kind: "text", value: "PC-Zoë-42")))
                #expect((ticket.fields ?? []).contains(TicketDetail.Field(name: "nombre", kind: "number", value: "3")))
                #expect((ticket.fields ?? []).contains { $0.name == "motif" && $0.value.contains("Zürich – 日本語も") })
                #expect(
                    (ticket.fields ?? []).contains(TicketDetail.Field(name: "site", kind: "text", value: "Siège Lyon")))
                let confirmation = await rig.waitForMessages(matching: { $0.text.contains("received as ticket #1") })
                    .first
                #expect(confirmation != nil, "sent:\n\(rig.capturedSummary)")

                let broken = customerMessage(
                    subject: "Demande incomplète", id: "sr2@example.org",
                    body:
                        "CreateSR\nType: Accès VPN\nDemandeur: kunde@example.org\nUtilisateur: kunde@example.org\nNombre: 2\nCreateSR\n"
                )
                #expect(try rig.deliver(broken, from: "kunde@example.org") == 250)
                let ordinary = try await rig.postdesk.showTicket(2)
                #expect(ordinary.defaults?.type == nil)
                #expect(
                    (ordinary.activities ?? []).contains { $0.kind == "command-refused" && $0.text.contains("poste") })
                #expect(ordinary.articles.count == 1)
            }
        }

        @Test("Alerts carry the account, repeats thread, skip rules and unknown accounts are forwarded to the NOC")
        func alertRules() async throws {
            try await OutboundRig.run(label: "cmd-alert", extraConfig: { _ in Self.commandsConfig }) { rig in
                let alert = customerMessage(
                    from: "RMM <monitor@rmm.example.org>",
                    subject:
                        "=?UTF-8?Q?Disk_space_low_on_SRV1_Customer:_Soci=C3=A9t=C3=A9_G=C3=A9n=C3=A9rale_=C3=9Cmlaut?=",
                    id: "a1@rmm.example.org", headers: ["Auto-Submitted: auto-generated"], body: "C: 3 % frei\n")
                #expect(try rig.deliver(alert, from: "monitor@rmm.example.org") == 250)
                let again = alert.replacingOccurrences(of: "a1@rmm", with: "a2@rmm")
                #expect(try rig.deliver(again, from: "monitor@rmm.example.org") == 250)
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 1)
                let ticket = try await rig.postdesk.showTicket(1)
                #expect(
                    ticket.account == "Société Générale Ümlaut", "activities: \((ticket.activities ?? []).map(\.text))")
                #expect(ticket.articles.count == 2)

                let healed = customerMessage(
                    from: "monitor@rmm.example.org", subject: "Alert Self Healed: Disk space low on SRV1",
                    id: "a3@rmm.example.org")
                #expect(try rig.deliver(healed, from: "monitor@rmm.example.org") == 250)
                let unknown = customerMessage(
                    from: "monitor@rmm.example.org", subject: "Service stopped Customer: Nobody Inc",
                    id: "a4@rmm.example.org")
                #expect(try rig.deliver(unknown, from: "monitor@rmm.example.org") == 250)
                #expect(try await rig.postdesk.listTickets().count == 1)
                let forwarded = await rig.waitForMessages(
                    matching: { $0.to.first?.address == "noc@example.org" }, count: 2)
                #expect(forwarded.count == 2, "log:\n\(rig.postdesk.serverLog)")
                #expect(forwarded.contains { $0.subject?.contains("Alert Self Healed") == true })
                let records = try await rig.postdesk.cli(["messages", "list"], label: "records")
                #expect(records.contains("forwarded"))
            }
        }

        @Test("A forged Authentication-Results below ours does not let a command through")
        func forgedAuthenticationResults() async throws {
            let config =
                Self.commandsConfig
                    + """
                    queues.support.commands.authentication:
                      authserv_id: mx.support.test
                      require: [dkim]

                    """
            try await OutboundRig.run(label: "cmd-ar", extraConfig: { _ in config }) { rig in
                _ = try await Self.openTicket(rig)
                let forged = customerMessage(
                    subject: "close", id: "ar1@example.org",
                    headers: [
                        "Authentication-Results: mx.support.test; dkim=fail header.d=example.org",
                        "Authentication-Results: mx.support.test; dkim=pass header.d=example.org",
                    ], body: "@OPERATION@='SOLVE'\n@RFC_NUMBER@='1'\n")
                #expect(try rig.deliver(forged, from: "kunde@example.org") == 250)
                #expect(try await rig.postdesk.showTicket(1).status != "solved")
                let genuine = customerMessage(
                    subject: "close", id: "ar2@example.org",
                    headers: ["Authentication-Results: mx.support.test; dkim=pass header.d=example.org"],
                    body: "@OPERATION@='SOLVE'\n@RFC_NUMBER@='1'\n")
                #expect(try rig.deliver(genuine, from: "kunde@example.org") == 250)
                #expect(try await rig.postdesk.showTicket(1).status == "solved")
            }
        }

        @Test("XML transactions: the response goes to the address the XML names; a wrong password is only recorded")
        func xmlTransactions() async throws {
            try await OutboundRig.run(
                label: "cmd-xml",
                extraConfig: { rig in
                    let file = rig.scratch.file("xml-password")
                    try? "correct horse battery staple\n".write(toFile: file, atomically: true, encoding: .utf8)
                    return Self.commandsConfig
                        + "queues.support.commands.xml.password_file: \(file)\n"
                        + "queues.support.commands.xml.response_bcc: archive@example.org\n"
                }
            ) { rig in
                let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                    .appendingPathComponent("../../docs/xml-api/examples").standardized
                var document = try String(
                    contentsOf: examples.appendingPathComponent("create-ticket.xml"), encoding: .utf8)
                document = document.replacingOccurrences(of: "erp-inbox@example.test", with: "erp@example.org")
                    .replacingOccurrences(of: "support-archive@example.test", with: "erp-copy@example.org")
                let create = customerMessage(
                    from: "ERP <erp-robot@example.org>", subject: "transaction", id: "x1@example.org",
                    body: document)
                #expect(try rig.deliver(create, from: "erp-robot@example.org") == 250)
                let ticket = try await rig.postdesk.showTicket(1)
                #expect(ticket.subject == "Imprimante du 3ᵉ étage hors ligne")
                #expect((ticket.fields ?? []).contains(TicketDetail.Field(name: "Site", kind: "choice", value: "Lyon")))
                #expect(ticket.defaults?.priority == "high")
                let responses = await rig.waitForMessages(matching: { $0.text.contains("<PostdeskResponse") }, count: 3)
                #expect(
                    Set(responses.compactMap { $0.to.first?.address })
                        == ["erp@example.org", "erp-copy@example.org", "archive@example.org"],
                    "log:\n\(rig.postdesk.serverLog)")
                #expect(responses.allSatisfy { $0.text.contains("ERP-2026-4711") && $0.text.contains("1") })
                #expect(!responses.contains { $0.to.first?.address == "erp-robot@example.org" })

                // The ISO-8859-1 example as an application/xml attachment, with a wrong password: never processed.
                let latin1 = try Data(contentsOf: examples.appendingPathComponent("create-ticket-latin1.xml"))
                let wrong = String(decoding: latin1, as: UTF8.self).contains("correct horse")
                #expect(wrong)
                let forged = Data(
                    String(decoding: latin1, as: Unicode.ASCII.self).replacingOccurrences(
                        of: "correct horse battery staple", with: "wrong horse battery staple"
                    ).utf8)
                for (id, bytes) in [("x2@example.org", forged), ("x3@example.org", latin1)] {
                    let mail = [
                        "From: ERP <erp-robot@example.org>", "To: support@support.test", "Subject: transaction",
                        "Message-ID: <\(id)>", "MIME-Version: 1.0",
                        "Content-Type: multipart/mixed; boundary=\"b\"", "", "--b",
                        "Content-Type: text/plain; charset=UTF-8", "", "see attachment", "--b",
                        "Content-Type: application/xml; name=\"t.xml\"", "Content-Transfer-Encoding: base64", "",
                        bytes.base64EncodedString(options: .lineLength76Characters), "--b--", "",
                    ].joined(separator: "\r\n")
                    #expect(try rig.deliver(mail, from: "erp-robot@example.org") == 250)
                }
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 2, "the wrong password must create nothing")
                let latinTicket = try await rig.postdesk.showTicket(2)
                #expect(latinTicket.subject == "Café crème: machine à réparer")
                let records = try await rig.postdesk.cli(["messages", "list"], label: "records")
                #expect(records.contains("command-refused"))
            }
        }
    }
}
