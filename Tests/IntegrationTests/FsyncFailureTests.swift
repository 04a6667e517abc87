import Foundation
import Testing

extension EndToEndTests {
    /// Issue 12 point 2: a real `postdesk serve` over a WAL whose fsync fails (LD_PRELOAD fault injector, see
    /// `FaultInjector`): the delivery whose fsync failed gets 451, never 250; every later delivery is refused
    /// until a restart; after the restart nothing that got 250 is missing.
    @Suite("Fsync failure on the WAL")
    struct FsyncFailureTests {
        private static func deliver(
            _ rig: EndToEndRig, subject: String, id: String, body: String = "Hallo,\r\nbitte helfen.\r\n"
        ) async throws -> [Int] {
            let transcript = try await rig.clients.lmtpSession(
                socket: rig.postdesk.socketPath, from: "kunde@example.test", rcpts: ["support@support.test"],
                message: MailClients.rawMessage(
                    from: "=?UTF-8?Q?J=C3=BCrgen?= <kunde@example.test>", to: "support@support.test", subject: subject,
                    messageID: "<\(id)@example.test>", body: body),
                label: id)
            #expect(transcript.error == nil, "\(id): \(transcript.error ?? "")")
            return transcript.data.map(\.code)
        }

        /// A failure reported once (as Linux reports a writeback error once, to whichever descriptor fsyncs
        /// first) on a commit large enough to start SQLite's automatic checkpoint inside COMMIT: the
        /// checkpoint's fsync used to swallow the error and the daemon answered 250.
        @Test("A failed fsync of the WAL gets 451, refuses all later writes, and loses nothing 250 promised")
        func failedFsyncIsNeverAcknowledged() async throws {
            try await EndToEndRig.run(label: "fsync-eio", withPostfix: false) { rig in
                let injector = try FaultInjector(in: rig.scratch)
                try rig.postdesk.setExtraConfig("limits:\n  max_message_size: 104857600\n")
                _ = await rig.postdesk.terminate()
                rig.postdesk.environment = injector.environment()
                try await rig.postdesk.start()

                var stored: [String] = []
                for index in 1...3 {
                    let subject = "Vorher \(index): Drucker brennt"
                    #expect(try await Self.deliver(rig, subject: subject, id: "before-\(index)") == [250])
                    stored.append(subject)
                }
                // 42 MB: more than the 10,000 pages after which SQLite checkpoints inside COMMIT.
                injector.arm()
                let line = String(repeating: "Groß und größer: ein sehr langer Anhang. ", count: 2) + "\r\n"
                let large = String(repeating: line, count: 42 * 1024 * 1024 / line.utf8.count)
                let refused = try await Self.deliver(rig, subject: "Die große Datei", id: "large", body: large)
                #expect(injector.injectedFaults == 1)
                #expect(refused == [451], "log:\n\(rig.postdesk.serverLog)")
                // The error was reported once; the disk "works" again, but nothing written since the failure can
                // be promised: every later delivery is refused until a restart.
                for index in 1...2 {
                    let later = try await Self.deliver(rig, subject: "Danach \(index)", id: "after-\(index)")
                    #expect(later == [451])
                }
                #expect(rig.postdesk.serverLog.contains("refusing further writes until restart"))

                _ = await rig.postdesk.terminate()
                rig.postdesk.environment = nil
                try await rig.postdesk.start()
                let tickets = try await rig.postdesk.listTickets()
                #expect(Set(stored).isSubset(of: Set(tickets.compactMap(\.subject))), "tickets: \(tickets)")
                // The refused messages are accepted now (Postfix would retry them).
                #expect(try await Self.deliver(rig, subject: "Danach 1", id: "after-1") == [250])
                let afterRestart = try await rig.postdesk.listTickets()
                #expect(afterRestart.contains { $0.subject == "Danach 1" })
            }
        }

        /// The plain case: a small delivery whose commit fsync fails.
        @Test("A small delivery whose WAL fsync fails gets 451")
        func smallDeliveryWithFailedFsync() async throws {
            try await EndToEndRig.run(label: "fsync-small", withPostfix: false) { rig in
                let injector = try FaultInjector(in: rig.scratch)
                _ = await rig.postdesk.terminate()
                rig.postdesk.environment = injector.environment()
                try await rig.postdesk.start()
                #expect(try await Self.deliver(rig, subject: "Ça marche", id: "ok") == [250])
                injector.arm()
                #expect(try await Self.deliver(rig, subject: "Ça casse", id: "broken") == [451])
                #expect(injector.injectedFaults == 1)
                #expect(try await Self.deliver(rig, subject: "Ça reste cassé", id: "still") == [451])
                _ = await rig.postdesk.terminate()
                rig.postdesk.environment = nil
                try await rig.postdesk.start()
                let subjects = try await rig.postdesk.listTickets().compactMap(\.subject)
                #expect(subjects.contains("Ça marche"))
            }
        }
    }
}
