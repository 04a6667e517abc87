import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EndToEndTests {
    /// A message that crashes or hangs a stage (made to, by the DEBUG-only `POSTDESK_TEST_STAGE_FAULT` hook) gets a
    /// 4xx, stops the watchdog, and is quarantined naming the stage when it comes back; other mail goes on.
    @Suite("Poison messages, watchdog and bounded shutdown")
    struct PoisonMessageTests {
        static let recipient = PostdeskServer.supportAddress

        /// Non-ASCII as real mail is: a raw UTF-8 display name and an RFC 2047 subject carrying the marker.
        static func message(marker: String, id: String) -> String {
            "From: \"Jürgen Müller\" <juergen@example.test>\r\nTo: \(recipient)\r\n"
                + "Subject: =?UTF-8?B?\(Data("Größe \(marker)".utf8).base64EncodedString())?=\r\n"
                + "Message-ID: <\(id)@example.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                + "Grüße, \(marker) — bitte helfen.\r\n"
        }

        static func withServer(
            label: String, extraConfig: String, _ body: (PostdeskServer, ScratchDirectory) async throws -> Void
        ) async throws {
            let scratch = try ScratchDirectory(label: label)
            let postdesk = try PostdeskServer(in: scratch)
            try postdesk.setExtraConfig(extraConfig)
            do {
                try await body(postdesk, scratch)
            } catch {
                await postdesk.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await postdesk.stop()
            scratch.remove()
        }

        static func deliver(_ postdesk: PostdeskServer, _ message: String, timeout: Double = 20) async -> LMTPExchange {
            await LMTPLineClient.deliver(
                socket: postdesk.socketPath, from: "juergen@example.test", to: [recipient], message: message,
                timeout: timeout)
        }

        /// The quarantine id in `250 2.0.0 <…> Ok: held for review (quarantine N)`.
        static func quarantineID(_ exchange: LMTPExchange) -> String? {
            guard let text = exchange.dataReplies.first?.text, let range = text.range(of: "(quarantine ") else {
                return nil
            }
            return String(text[range.upperBound...].prefix { $0.isNumber })
        }

        @Test("A crash in classify kills the daemon; after the restart the redelivery is quarantined naming the stage")
        func crashThenQuarantine() async throws {
            try await Self.withServer(label: "poison-crash", extraConfig: "") { postdesk, _ in
                let fault = ["POSTDESK_TEST_STAGE_FAULT": "classify:crash:POISON-CRASH"]
                try await postdesk.start(environment: fault)
                let poison = Self.message(marker: "POISON-CRASH", id: "crash")
                let first = await Self.deliver(postdesk, poison)
                #expect(first.dataReplies.isEmpty, "replies: \(first.dataReplies)")
                #expect(first.error?.contains("closed") == true, "error: \(first.error ?? "none")")
                let exit = try #require(await postdesk.waitForExit(seconds: 10), "the daemon did not die")
                #expect(exit.bySignal, "exit: \(exit)")

                // Postfix redelivers the same queue file: the same bytes. The hook is still armed.
                try await postdesk.start(environment: fault)
                let again = await Self.deliver(postdesk, poison)
                #expect(again.error == nil, "error: \(again.error ?? "")")
                #expect(again.dataReplies.map(\.code) == [250], "replies: \(again.dataReplies)")
                let id = try #require(Self.quarantineID(again), "reply: \(again.dataReplies)")
                let shown = try await postdesk.cli(["quarantine", "show", id], label: "show")
                #expect(shown.contains("stage classify"), "\(shown)")
                #expect(shown.contains("crashed while processing it (SIGABRT)"), "\(shown)")
                #expect(shown.contains("POISON-CRASH"), "the raw bytes are kept: \(shown)")
                #expect(postdesk.isRunning)

                let ordinary = await Self.deliver(postdesk, Self.message(marker: "ordinary", id: "after-crash"))
                #expect(ordinary.dataReplies.map(\.code) == [250], "replies: \(ordinary.dataReplies)")
                #expect(ordinary.dataReplies.first?.text.contains("created") == true, "\(ordinary.dataReplies)")
                #expect(try await postdesk.listTickets().count == 1)
            }
        }

        @Test(
            "A runtime trap in plan, a stack overflow in parse: the same, the quarantine entry names stage and signal",
            arguments: [("plan", "trap"), ("parse", "overflow")])
        func trapThenQuarantine(stage: String, fault kind: String) async throws {
            try await Self.withServer(label: "poison-\(kind)", extraConfig: "") { postdesk, _ in
                let fault = ["POSTDESK_TEST_STAGE_FAULT": "\(stage):\(kind):POISON-TRAP"]
                try await postdesk.start(environment: fault)
                let poison = Self.message(marker: "POISON-TRAP", id: "trap")
                let first = await Self.deliver(postdesk, poison)
                #expect(first.dataReplies.isEmpty, "replies: \(first.dataReplies)")
                let exit = try #require(await postdesk.waitForExit(seconds: 10), "the daemon did not die")
                #expect(exit.bySignal, "exit: \(exit)")

                try await postdesk.start(environment: fault)
                let again = await Self.deliver(postdesk, poison)
                #expect(again.dataReplies.map(\.code) == [250], "replies: \(again.dataReplies) \(again.error ?? "")")
                let id = try #require(Self.quarantineID(again), "reply: \(again.dataReplies)")
                let shown = try await postdesk.cli(["quarantine", "show", id], label: "show")
                #expect(shown.contains("stage \(stage)"), "\(shown)")
                #expect(shown.contains("crashed while processing it (SIG"), "\(shown)")
                if kind == "overflow" { #expect(shown.contains("SIGSEGV"), "\(shown)") }
            }
        }

        /// A kill (`kill -9`, the OOM killer, a power supply's reset of the VM's process) is no evidence against
        /// the messages it interrupted: they are processed again, and only a message in progress when a second
        /// run stops is set aside. The message hangs in parse (the hook) so that it is in progress when the kill
        /// lands; the first restart runs without the hook, like a daemon whose stage was only slow.
        @Test("kill -9 with a message in progress: processed again after the restart; interrupted twice, quarantined")
        func killedMessageGetsAnotherChance() async throws {
            let config = "limits:\n  processing_deadline: 120\n"
            try await Self.withServer(label: "poison-kill", extraConfig: config) { postdesk, _ in
                let slow = ["POSTDESK_TEST_STAGE_FAULT": "parse:hang:SLOW-PARSE"]
                let innocent = Self.message(marker: "SLOW-PARSE", id: "killed-once")

                try await postdesk.start(environment: slow)
                let pending = await Self.deliver(postdesk, innocent, timeout: 1)
                #expect(pending.dataReplies.isEmpty, "replies: \(pending.dataReplies)")
                await postdesk.killAbruptly()
                try await postdesk.start()
                #expect(postdesk.serverLog.contains("processed once more"), "\(postdesk.serverLog)")
                let retried = await Self.deliver(postdesk, innocent)
                #expect(retried.dataReplies.map(\.code) == [250], "\(retried.dataReplies) \(retried.error ?? "")")
                #expect(retried.dataReplies.first?.text.contains("created") == true, "\(retried.dataReplies)")
                #expect(try await postdesk.listTickets().count == 1)

                // Another message, in progress when two runs in a row are killed.
                let twice = Self.message(marker: "SLOW-PARSE", id: "killed-twice")
                for _ in 0..<2 {
                    await postdesk.killAbruptly()
                    try await postdesk.start(environment: slow)
                    let hanging = await Self.deliver(postdesk, twice, timeout: 1)
                    #expect(hanging.dataReplies.isEmpty, "replies: \(hanging.dataReplies)")
                }
                await postdesk.killAbruptly()
                try await postdesk.start()
                let held = await Self.deliver(postdesk, twice)
                #expect(held.dataReplies.map(\.code) == [250], "\(held.dataReplies) \(held.error ?? "")")
                let id = try #require(Self.quarantineID(held), "reply: \(held.dataReplies)")
                let shown = try await postdesk.cli(["quarantine", "show", id], label: "show")
                #expect(shown.contains("stage parse"), "\(shown)")
                #expect(shown.contains("stopped twice"), "\(shown)")
                #expect(try await postdesk.listTickets().count == 1)
            }
        }

        /// The question the ledger's key depends on: Postfix's LMTP client sends the very same bytes when it
        /// retries a queue file (it adds no trace header of its own), so the hash of the raw bytes finds it.
        @Test(
            "Through real Postfix: a crash defers the message; Postfix's retry is quarantined, the next mail a ticket")
        func postfixRedeliveryIsQuarantined() async throws {
            let fault = ["POSTDESK_TEST_STAGE_FAULT": "classify:crash:POISON-PF"]
            try await EndToEndRig.run(label: "poison-pf", postdeskEnvironment: fault) { rig in
                let postfix = try rig.requirePostfix()
                let poison = OutgoingMail(
                    to: [Self.recipient], subject: "Größe — Überweisung", messageID: "<POISON-PF@customer.test>",
                    body: "Grüße aus Köln\n")
                let queueIDs = try await rig.clients.inject([poison], port: postfix.smtpPort, label: "poison")
                let died = await waitUntil(seconds: 60) { !rig.postdesk.isRunning }
                try #require(died, "postdesk did not crash: \(postfix.maillog().suffix(2000))")
                #expect(postfix.queuedMessageCount() == 1, "Postfix keeps the message to retry it")

                try await rig.postdesk.start(environment: fault)
                try await postfix.waitForEmptyQueue(seconds: 120)
                let statuses = postfix.deliveryStatuses(queueID: queueIDs[0]).map(\.status)
                #expect(statuses.last == "sent", "statuses: \(statuses)")
                #expect(rig.postdesk.isRunning, "the retry must not crash it again")
                let quarantine = try await rig.postdesk.cli(["quarantine", "list"], label: "list")
                #expect(quarantine.contains("stage classify"), "\(quarantine)")
                #expect(try await rig.postdesk.listTickets().isEmpty)

                let ordinary = OutgoingMail(
                    to: [Self.recipient], subject: "Drucker läuft wieder?", messageID: "<ordinary-pf@customer.test>")
                _ = try await rig.clients.inject([ordinary], port: postfix.smtpPort, label: "ordinary")
                try await postfix.waitForEmptyQueue(seconds: 60)
                #expect(try await rig.postdesk.listTickets().map(\.subject) == ["Drucker läuft wieder?"])
            }
        }

        @Test("A hang in parse: 451 within the deadline, a critical line, the watchdog starves; quarantined after")
        func hangThenQuarantine() async throws {
            let config = "limits:\n  processing_deadline: 2\n  shutdown_grace: 1\n"
            try await Self.withServer(label: "poison-hang", extraConfig: config) { postdesk, _ in
                let notify = try FakeNotifySocket()
                defer { notify.stop() }
                let fault = ["POSTDESK_TEST_STAGE_FAULT": "parse:hang:POISON-HANG"]
                try await postdesk.start(
                    environment: fault.merging(["NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "2000000"]) { $1 })
                #expect(await waitUntil(seconds: 5) { notify.count(of: "READY=1") == 1 })
                #expect(await waitUntil(seconds: 5) { notify.count(of: "WATCHDOG=1") >= 2 }, "\(notify.notifications)")

                let poison = Self.message(marker: "POISON-HANG", id: "hang")
                let first = await Self.deliver(postdesk, poison)
                let seconds = try #require(first.secondsAfterDot)
                #expect(first.dataReplies.map(\.code) == [451], "replies: \(first.dataReplies) \(first.error ?? "")")
                #expect(first.dataReplies.first?.text.hasPrefix("4.3.0") == true)
                #expect(seconds >= 1.9 && seconds < 2.5, "the 451 came \(seconds) s after the dot")
                let stuckAt = Date()
                #expect(
                    await waitUntil(seconds: 3) {
                        postdesk.serverLog.contains("critical") && postdesk.serverLog.contains("stage=parse")
                    }, "\(postdesk.serverLog)")
                // The watchdog is fed every 500 ms while well: 2 s without a ping means it stopped.
                try await Task.sleep(for: .milliseconds(2600))
                #expect(notify.count(of: "WATCHDOG=1", after: stuckAt.addingTimeInterval(0.6)) == 0)
                #expect(postdesk.isRunning)

                // A stuck stage cannot be finished: SIGTERM still ends the daemon, with the status that says so.
                let exit = try #require(await postdesk.terminate(seconds: 15), "SIGTERM did not end the daemon")
                #expect(!exit.bySignal && exit.status == 75, "exit: \(exit)")
                #expect(notify.count(of: "STOPPING=1") == 1)
                #expect(postdesk.serverLog.contains("shutdown incomplete"), "\(postdesk.serverLog)")

                try await postdesk.start(environment: fault)
                let again = await Self.deliver(postdesk, poison)
                #expect(again.dataReplies.map(\.code) == [250], "replies: \(again.dataReplies) \(again.error ?? "")")
                let id = try #require(Self.quarantineID(again), "reply: \(again.dataReplies)")
                let shown = try await postdesk.cli(["quarantine", "show", id], label: "show")
                #expect(shown.contains("stage parse"), "\(shown)")
                #expect(shown.contains("deadline"), "\(shown)")
                let ordinary = await Self.deliver(postdesk, Self.message(marker: "ordinary", id: "after-hang"))
                #expect(ordinary.dataReplies.first?.text.contains("created") == true, "\(ordinary.dataReplies)")
                #expect(try await postdesk.listTickets().count == 1)
            }
        }

        @Test("SIGTERM with a delivery stuck in classify: 421 4.3.2 after the grace period, exit 75, nothing stored")
        func shutdownEndsWithStuckDelivery() async throws {
            let config = "limits:\n  shutdown_grace: 1\n"
            try await Self.withServer(label: "poison-stop", extraConfig: config) { postdesk, _ in
                try await postdesk.start(environment: ["POSTDESK_TEST_STAGE_FAULT": "classify:hang:POISON-STOP"])
                let socket = postdesk.socketPath
                async let exchange = LMTPLineClient.deliver(
                    socket: socket, from: "juergen@example.test", to: [Self.recipient],
                    message: Self.message(marker: "POISON-STOP", id: "stop"), timeout: 20)
                try await Task.sleep(for: .milliseconds(1000))
                let signalled = Date()
                postdesk.send(signal: SIGTERM)
                let stuck = await exchange
                #expect(stuck.dataReplies.map(\.code) == [421], "replies: \(stuck.dataReplies) \(stuck.error ?? "")")
                #expect(stuck.dataReplies.first?.text.hasPrefix("4.3.2") == true)
                let exit = try #require(await postdesk.waitForExit(seconds: 10), "SIGTERM did not end the daemon")
                let took = Date().timeIntervalSince(signalled)
                #expect(took < 8, "exit took \(took) s")
                #expect(!exit.bySignal && exit.status == 75, "exit: \(exit)")
                #expect(postdesk.serverLog.contains("delivery abandoned at shutdown"), "\(postdesk.serverLog)")
                #expect(try await postdesk.listTickets().isEmpty)
                let quarantine = try await postdesk.cli(["quarantine", "list"], label: "list")
                #expect(quarantine.contains("quarantine is empty"), "\(quarantine)")
            }
        }
    }
}
