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

        /// A write of WAL frames that fails (EIO) is the same: 451, then every later delivery refused.
        @Test("A failed write to the WAL gets 451 and refuses all later writes")
        func failedWriteIsNeverAcknowledged() async throws {
            try await EndToEndRig.run(label: "write-eio", withPostfix: false) { rig in
                let injector = try FaultInjector(in: rig.scratch)
                _ = await rig.postdesk.terminate()
                rig.postdesk.environment = injector.environment(.write)
                try await rig.postdesk.start()
                #expect(try await Self.deliver(rig, subject: "Før feilen", id: "first") == [250])
                injector.arm()
                #expect(try await Self.deliver(rig, subject: "Under feilen", id: "failing") == [451])
                injector.disarm()
                #expect(injector.injectedFaults >= 1)
                #expect(try await Self.deliver(rig, subject: "Etter feilen", id: "later") == [451])
                _ = await rig.postdesk.terminate()
                rig.postdesk.environment = nil
                try await rig.postdesk.start()
                let subjects = try await rig.postdesk.listTickets().compactMap(\.subject)
                #expect(subjects.contains("Før feilen"))
                #expect(!subjects.contains("Etter feilen"))
            }
        }

        /// A new Message-ID secret is durable only once its directory entry is: the directory is fsynced, and
        /// when that fails the daemon does not start (it would sign with a secret a power cut can take away).
        @Test("The directory of a new Message-ID secret is fsynced; a failure stops the start")
        func secretDirectoryIsSynced() async throws {
            try await EndToEndRig.run(label: "secret-dir", withPostfix: false) { rig in
                let injector = try FaultInjector(in: rig.scratch, suffix: "/schlüssel")
                let secret = rig.scratch.file("schlüssel/message-id.key")
                _ = await rig.postdesk.terminate()
                try rig.postdesk.setExtraConfig("identity:\n  secret_file: \"\(secret)\"\n")
                rig.postdesk.environment = injector.environment()
                injector.arm()
                await #expect(throws: (any Error).self) { try await rig.postdesk.start() }
                #expect(injector.injectedFaults == 1)
                #expect(rig.postdesk.serverLog.contains("cannot be made durable"), "\(rig.postdesk.serverLog)")
                try await rig.postdesk.start()
                #expect(FileManager.default.fileExists(atPath: secret))
            }
        }

        /// Opening the store fsyncs its directory (the database, `-wal` and `-shm` names it may just have
        /// created); when that fails, `postdesk deliver` defers (75) instead of storing into a store whose files
        /// a power cut may unlink.
        @Test("The store's directory is fsynced when it is opened; a failure defers the delivery")
        func storeDirectoryIsSynced() async throws {
            try await EndToEndRig.run(label: "store-dir", withPostfix: false) { rig in
                let injector = try FaultInjector(in: rig.scratch, suffix: "/lager")
                let config = rig.scratch.file("lager.yaml")
                try
                    ("store:\n  path: \(rig.scratch.file("lager/postdesk.db"))\n"
                    + "lmtp:\n  socket: \(rig.scratch.file("lager.sock"))\n"
                    + "queues:\n  names: [support]\n  support:\n    addresses: [support@localhost]\n").write(
                        toFile: config, atomically: true, encoding: .utf8)
                let message = rig.scratch.file("lager.eml")
                try MailClients.rawMessage(
                    from: "=?UTF-8?Q?S=C3=B8ren?= <soren@example.test>", to: "support@localhost", subject: "Lager",
                    messageID: "<lager@example.test>"
                ).write(toFile: message, atomically: true, encoding: .utf8)
                let arguments = [
                    "deliver", "--config", config, "--sender", "soren@example.test", "--recipient", "support@localhost",
                ]
                injector.arm()
                _ = try await ChildProcess.run(
                    rig.postdesk.executable, arguments, outputPrefix: rig.scratch.file("deliver-armed"),
                    acceptedStatuses: [75], environment: injector.environment(.fsyncAlways),
                    standardInputPath: message)
                #expect(injector.injectedFaults >= 1)
                injector.disarm()
                let stored = try await ChildProcess.run(
                    rig.postdesk.executable, arguments, outputPrefix: rig.scratch.file("deliver-after"),
                    environment: injector.environment(.fsyncAlways), standardInputPath: message)
                #expect(stored.contains("created ticket #1"), "\(stored)")
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
