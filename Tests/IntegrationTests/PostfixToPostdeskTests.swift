import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EndToEndTests {
    /// Real Postfix hands mail to the real `postdesk serve` over its LMTP unix socket.
    @Suite("Postfix to postdesk")
    struct PostfixToPostdeskTests {
        @Test("Mail injected into Postfix becomes tickets and Postfix's queue ends empty")
        func injectedMailBecomesTickets() async throws {
            try await EndToEndRig.run(label: "intake") { rig in
                let postfix = try rig.requirePostfix()
                let mails = [
                    OutgoingMail(
                        to: ["support@support.test"], subject: "Printer on fire", messageID: "<a1@customer.test>"),
                    OutgoingMail(to: ["help@support.test"], subject: "VPN down", messageID: "<a2@customer.test>"),
                    OutgoingMail(to: ["sales@sales.test"], subject: "Quote please", messageID: "<a3@customer.test>"),
                ]
                _ = try await rig.clients.inject(mails, port: postfix.smtpPort, label: "inject")
                try await postfix.waitForEmptyQueue(seconds: 60)

                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 3)
                let queueBySubject = Dictionary(
                    tickets.map { ($0.subject ?? "", $0.queue) }, uniquingKeysWith: { first, _ in first })
                #expect(queueBySubject["Printer on fire"] == "support")
                #expect(queueBySubject["VPN down"] == "support")
                #expect(queueBySubject["Quote please"] == "sales")
                #expect(tickets.allSatisfy { $0.articleCount == 1 })
                #expect(postfix.countDeliveries(status: "sent") == 3)
                #expect(postfix.countDeliveries(status: "bounced") == 0)
                #expect(postfix.queuedMessageCount() == 0)
            }
        }

        @Test("A 3-recipient message is delivered to each recipient and yields one ticket per queue")
        func multiRecipientMessage() async throws {
            try await EndToEndRig.run(label: "rcpt3") { rig in
                let postfix = try rig.requirePostfix()
                let recipients = ["support@support.test", "help@support.test", "sales@sales.test"]
                let queueIDs = try await rig.clients.inject(
                    [OutgoingMail(to: recipients, subject: "Three ways", messageID: "<three@customer.test>")],
                    port: postfix.smtpPort, label: "inject")
                try await postfix.waitForEmptyQueue(seconds: 60)

                let deliveries = postfix.deliveryStatuses(queueID: queueIDs[0])
                #expect(deliveries.filter { $0.status == "sent" }.count == 3, "maillog: \(deliveries)")
                #expect(Set(deliveries.map(\.recipient)) == Set(recipients))

                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 2)
                #expect(tickets.map(\.queue).sorted() == ["sales", "support"])
                #expect(tickets.allSatisfy { $0.subject == "Three ways" })
            }
        }

        @Test("A reply with In-Reply-To threads into the first ticket")
        func replyThreadsIntoTicket() async throws {
            try await EndToEndRig.run(label: "thread") { rig in
                let postfix = try rig.requirePostfix()
                let first = OutgoingMail(
                    to: ["support@support.test"], subject: "Laptop will not boot", messageID: "<first@customer.test>")
                _ = try await rig.clients.inject([first], port: postfix.smtpPort, label: "first")
                try await postfix.waitForEmptyQueue(seconds: 60)
                let before = try await rig.postdesk.listTickets()
                try #require(before.count == 1)

                let reply = OutgoingMail(
                    to: ["support@support.test"], subject: "Re: Laptop will not boot",
                    messageID: "<reply@customer.test>", inReplyTo: "<first@customer.test>",
                    body: "It still does not boot.\n")
                _ = try await rig.clients.inject([reply], port: postfix.smtpPort, label: "reply")
                try await postfix.waitForEmptyQueue(seconds: 60)

                let after = try await rig.postdesk.listTickets()
                #expect(after.count == 1, "the reply must not open a second ticket")
                let ticket = try #require(after.first)
                #expect(ticket.number == before[0].number)
                #expect(ticket.articleCount == 2)
                let detail = try await rig.postdesk.showTicket(ticket.number)
                #expect(detail.articles.map(\.bareMessageID) == ["first@customer.test", "reply@customer.test"])
            }
        }

        /// The core promise: 250 only after the commit, so a crash loses nothing (Postfix retries)
        /// and a retry of an already committed message creates nothing.
        @Test("SIGKILL in the middle of a 500-message stream: after restart exactly 500 tickets, none twice")
        func durableAcrossKill() async throws {
            try await EndToEndRig.run(label: "durable") { rig in
                let postfix = try rig.requirePostfix()
                let clock = ContinuousClock()
                let started = clock.now
                let total = 500
                let runTag = String(UInt32.random(in: 0...UInt32.max), radix: 16)
                func subject(_ index: Int) -> String { "durability \(index)" }
                func messageID(_ index: Int) -> String { "<durable-\(index).\(runTag)@customer.test>" }
                let mails = (0..<total).map {
                    OutgoingMail(to: ["support@support.test"], subject: subject($0), messageID: messageID($0))
                }
                // Paced so that the stream is still flowing when the daemon dies.
                let injector = try rig.clients.startInjecting(
                    mails, port: postfix.smtpPort, delay: 0.004, label: "stream")

                let deliveriesStarted = await waitUntil(seconds: 60) { postfix.countDeliveries(status: "sent") >= 40 }
                try #require(deliveriesStarted, "no delivery reached postdesk: \(postfix.maillog().suffix(2000))")
                let injectorStillRunning = injector.isRunning
                await rig.postdesk.killAbruptly()
                let deliveredBeforeKill = postfix.countDeliveries(status: "sent")
                #expect(injectorStillRunning, "the kill should land mid-stream")
                #expect(deliveredBeforeKill < total)

                // Postfix defers while the socket is dead; then postdesk comes back on the same store.
                try await Task.sleep(for: .milliseconds(500))
                try await rig.postdesk.start()
                guard await injector.waitForExit(seconds: 120) else {
                    await injector.stop()
                    Issue.record("the SMTP injector did not finish")
                    return
                }
                #expect(
                    injector.terminationStatus == 0, "injector failed: \(injector.standardError.suffix(1000))")
                await postfix.flushQueue()
                try await postfix.waitForEmptyQueue(seconds: 240)
                let drained = clock.now - started

                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == total)
                let subjects = tickets.compactMap(\.subject)
                #expect(Set(subjects).count == subjects.count, "a message became two tickets")
                #expect(Set(subjects) == Set((0..<total).map(subject)))
                #expect(tickets.allSatisfy { $0.articleCount == 1 }, "a redelivery added an article")
                #expect(postfix.countDeliveries(status: "sent") == total)
                #expect(postfix.countDeliveries(status: "bounced") == 0)

                // Every Message-ID is stored once, on the ticket of its own message.
                var storedIDs: [String] = []
                for detail in try await rig.postdesk.showTickets(tickets.map(\.number)) {
                    #expect(detail.articles.count == 1)
                    if let index = detail.subject.flatMap({ Int($0.dropFirst("durability ".count)) }) {
                        #expect(detail.articles.first?.bareMessageID == bareMessageIDText(messageID(index)))
                    }
                    storedIDs += detail.articles.compactMap(\.bareMessageID)
                }
                #expect(storedIDs.count == total)
                #expect(Set(storedIDs) == Set((0..<total).map { bareMessageIDText(messageID($0)) }))
                print(
                    "durability: killed postdesk after \(deliveredBeforeKill) of \(total) deliveries"
                        + " (\(postfix.countDeliveries(status: "deferred")) deferrals retried);"
                        + " queue drained after \(drained), checked after \(clock.now - started)")
            }
        }

        @Test("SIGTERM while Postfix streams 200 messages: exits 0, and after restart every message is there once")
        func gracefulShutdownUnderLoad() async throws {
            try await EndToEndRig.run(label: "term-load") { rig in
                let postfix = try rig.requirePostfix()
                let total = 200
                let subjects = (0..<total).map { "graceful \($0)" }
                let mails = subjects.enumerated().map { index, subject in
                    OutgoingMail(
                        to: ["support@support.test"], subject: subject, messageID: "<graceful-\(index)@c.test>")
                }
                let injector = try rig.clients.startInjecting(
                    mails, port: postfix.smtpPort, delay: 0.004, label: "load")
                let deliveriesStarted = await waitUntil(seconds: 60) { postfix.countDeliveries(status: "sent") >= 30 }
                try #require(deliveriesStarted, "no delivery reached postdesk: \(postfix.maillog().suffix(2000))")

                // Postfix keeps LMTP connections open (its connection cache): shutdown must not wait on them.
                let exit = await rig.postdesk.terminate(seconds: 30)
                let status = try #require(exit, "postdesk did not exit within 30 s of SIGTERM under load")
                #expect(!status.bySignal && status.status == 0, "exit \(status); log:\n\(rig.postdesk.serverLog)")

                try await rig.postdesk.start()
                guard await injector.waitForExit(seconds: 120) else {
                    await injector.stop()
                    Issue.record("the SMTP injector did not finish")
                    return
                }
                await postfix.flushQueue()
                try await postfix.waitForEmptyQueue(seconds: 120)

                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == total)
                #expect(tickets.compactMap(\.subject).sorted() == subjects.sorted())
                #expect(tickets.allSatisfy { $0.articleCount == 1 })
                #expect(postfix.countDeliveries(status: "sent") == total)
                #expect(postfix.countDeliveries(status: "bounced") == 0)
            }
        }
    }
}
