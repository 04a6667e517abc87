import Foundation
import TestSupport
import Testing

/// The poller against a real Dovecot started by the test, through the real `postdesk serve`: IMAP, IMAPS, POP3,
/// after-commit actions, restarts, UIDVALIDITY, IDLE, size limits, and the same message by LMTP and IMAP.
@Suite("Mailbox poller against a real Dovecot", .serialized, .timeLimit(.minutes(10)))
struct MailboxPollingTests {
    /// Messages whose names, subjects and bodies are not ASCII, in the forms mail really takes.
    static func messages(_ tag: String) -> [(id: String, raw: [UInt8], subject: String)] {
        [
            (
                "\(tag)-1@example.test",
                Array(
                    ("From: \"Jürgen Müller\" <jm@example.test>\r\nTo: bench@dovecot.test\r\n"
                        + "Subject: Drucker fällt aus – dringend\r\nMessage-ID: <\(tag)-1@example.test>\r\n"
                        + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        + "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln, der Drucker streikt.\r\n").utf8),
                "Drucker fällt aus – dringend"
            ),
            (
                "\(tag)-2@example.test",
                Array(
                    ("From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.test>\r\nTo: bench@dovecot.test\r\n"
                        + "Subject: =?UTF-8?B?44OX44Oq44Oz44K/44O844GM5YuV44GN44G+44Gb44KT?=\r\n"
                        + "Message-ID: <\(tag)-2@example.test>\r\nMIME-Version: 1.0\r\n"
                        + "Content-Type: text/plain; charset=utf-8\r\n\r\nプリンターが動きません。\r\n").utf8),
                "プリンターが動きません"
            ),
            (
                "\(tag)-3@example.test",
                Array(
                    ("From: =?ISO-8859-1?Q?Fran=E7ois_Ch=E2telet?= <fc@example.test>\r\nTo: bench@dovecot.test\r\n"
                        + "Subject: =?ISO-8859-1?Q?Probl=E8me_d'acc=E8s?=\r\nMessage-ID: <\(tag)-3@example.test>\r\n"
                        + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                        + "Content-Transfer-Encoding: 8bit\r\n\r\n").utf8) + [
                        0x4A, 0x27, 0x61, 0x69, 0x20, 0xE9, 0x74, 0xE9, 0x0D, 0x0A,
                    ],
                "Problème d'accès"
            ),
        ]
    }

    /// User + system CPU time of a process, from /proc.
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A Dovecot with user `bench`, a Postdesk whose config polls it, and the password file.
    struct Rig {
        let scratch: ScratchDirectory
        let dovecot: DovecotInstance
        let postdesk: PostdeskServer
        let passwordFile: String

        static func make(_ name: String) async throws -> Rig {
            let scratch = try ScratchDirectory(label: name)
            let dovecot = try await DovecotInstance.start(in: scratch, users: ["bench": "bench-pässwörd"])
            let postdesk = try PostdeskServer(in: scratch)
            let passwordFile = scratch.file("bench.secret")
            try "bench-pässwörd\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            return Rig(scratch: scratch, dovecot: dovecot, postdesk: postdesk, passwordFile: passwordFile)
        }

        /// Configures one mailbox; `extra` are more of its keys (YAML, indented by 4).
        func poll(
            _ protocolName: String, tls: String, port: UInt16, pollInterval: Int = 1, extra: [String] = [],
            topLevel: String = ""
        ) throws {
            var lines = [
                "mailboxes:", "  - name: bench-\(protocolName)", "    protocol: \(protocolName)",
                "    host: \(tls == "none" ? "127.0.0.1" : "localhost")", "    port: \(port)", "    tls: \(tls)",
                "    ca_file: \(dovecot.certificatePath)", "    username: bench", "    auth:",
                "      password_file: \(passwordFile)", "    queue: support", "    poll_interval: \(pollInterval)",
            ]
            lines += extra.map { "    " + $0 }
            try postdesk.setExtraConfig(topLevel + lines.joined(separator: "\n") + "\n")
        }

        func stop() async {
            await postdesk.stop()
            await dovecot.stop()
            scratch.remove()
        }
    }

    @Test func imapsDeleteAfterCommitMakesOneTicketPerMessageWithItsNonASCIIText() async throws {
        let rig = try await Rig.make("poll-imaps")
        do {
            let messages = Self.messages("imaps")
            for message in messages { try rig.dovecot.deliver(message.raw, to: "bench") }
            try rig.poll("imap", tls: "implicit", port: rig.dovecot.imapsPort, extra: ["after_commit: delete"])
            try await rig.postdesk.start()
            let drained = try await waitUntil(seconds: 30) {
                try await rig.dovecot.messageCount(user: "bench") == 0
            }
            #expect(drained, "the mailbox was not emptied: \(rig.postdesk.serverLog)")
            let tickets = try await rig.postdesk.listTickets()
            #expect(tickets.count == 3)
            let subjects = Set(tickets.compactMap(\.subject))
            for message in messages {
                #expect(subjects.contains(where: { $0.contains(message.subject) }), "\(message.subject) in \(subjects)")
            }
            let status = try await rig.postdesk.cli(["mailboxes", "--json"], label: "mailboxes")
            #expect(status.contains("\"healthy\""), "\(status)")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func pop3KeepOnServerNeverFetchesAMessageTwiceAcrossRestarts() async throws {
        let rig = try await Rig.make("poll-pop3")
        do {
            let messages = Self.messages("pop3")
            for message in messages.prefix(2) { try rig.dovecot.deliver(message.raw, to: "bench") }
            try rig.poll("pop3", tls: "none", port: rig.dovecot.pop3Port, extra: ["after_commit: keep"])
            try await rig.postdesk.start()
            #expect(try await waitUntil(seconds: 30) { try await rig.postdesk.listTickets().count == 2 })
            _ = await rig.postdesk.terminate()
            try rig.dovecot.deliver(messages[2].raw, to: "bench")
            try await rig.postdesk.start()
            #expect(try await waitUntil(seconds: 30) { try await rig.postdesk.listTickets().count == 3 })
            // Several more polls: nothing is fetched again.
            try await Task.sleep(for: .seconds(3))
            #expect(try await rig.postdesk.listTickets().count == 3, "\(rig.postdesk.serverLog)")
            #expect(try await rig.dovecot.messageCount(user: "bench") == 3, "keep leaves the messages on the server")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func pop3DeleteAfterALostCommitNoteIsARecognisedDuplicate() async throws {
        let rig = try await Rig.make("poll-pop3-dup")
        do {
            let messages = Self.messages("dup")
            for message in messages { try rig.dovecot.deliver(message.raw, to: "bench") }
            try rig.poll("pop3", tls: "starttls", port: rig.dovecot.pop3Port, extra: ["after_commit: keep"])
            try await rig.postdesk.start()
            #expect(try await waitUntil(seconds: 30) { try await rig.postdesk.listTickets().count == 3 })
            _ = await rig.postdesk.terminate()
            // As if the daemon died between the commit and its note of the UIDL: the store forgets what it did.
            try await ChildProcess.run(
                "/usr/bin/sqlite3", [rig.postdesk.databasePath, "DELETE FROM mailbox_items"],
                outputPrefix: rig.scratch.file("sqlite"), timeout: 30)
            try rig.poll("pop3", tls: "starttls", port: rig.dovecot.pop3Port, extra: ["after_commit: delete"])
            try await rig.postdesk.start()
            #expect(try await waitUntil(seconds: 30) { try await rig.dovecot.messageCount(user: "bench") == 0 })
            #expect(try await rig.postdesk.listTickets().count == 3, "fetched again, but no second ticket")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func imapMoveToANonASCIIFolderAndSeenModeAndAUIDValidityChange() async throws {
        let rig = try await Rig.make("poll-imap-move")
        do {
            try await rig.dovecot.createFolder("Erledigt-Überprüft", user: "bench")
            let messages = Self.messages("move")
            try rig.dovecot.deliver(messages[0].raw, to: "bench")
            try rig.poll(
                "imap", tls: "starttls", port: rig.dovecot.imapPort,
                extra: ["after_commit: move", "move_to: Erledigt-Überprüft", "idle: false"])
            try await rig.postdesk.start()
            #expect(
                try await waitUntil(seconds: 30) {
                    try await rig.dovecot.messageCount(user: "bench", folder: "Erledigt-Überprüft") == 1
                }, "\(rig.postdesk.serverLog)")
            #expect(try await rig.dovecot.messageCount(user: "bench") == 0)
            _ = await rig.postdesk.terminate()

            // Seen mode: flagged, left in place, never fetched twice, even when UIDVALIDITY changes.
            try rig.dovecot.deliver(messages[1].raw, to: "bench")
            try rig.dovecot.deliver(messages[2].raw, to: "bench")
            try rig.poll(
                "imap", tls: "starttls", port: rig.dovecot.imapPort, extra: ["after_commit: seen", "idle: false"])
            try await rig.postdesk.start()
            #expect(try await waitUntil(seconds: 30) { try await rig.postdesk.listTickets().count == 3 })
            let uids = try await rig.dovecot.uids(user: "bench")
            #expect(uids.count == 2)
            #expect(
                try await waitUntil(seconds: 10) {
                    var all = true
                    for uid in uids
                    where try await rig.dovecot.flags(user: "bench", uid: uid)?.contains("\\Seen") != true {
                        all = false
                    }
                    return all
                })
            _ = await rig.postdesk.terminate()
            try await rig.dovecot.setUIDValidity(user: "bench", value: 424_242)
            try await rig.postdesk.start()
            try await Task.sleep(for: .seconds(4))
            #expect(try await rig.postdesk.listTickets().count == 3, "a re-sync after UIDVALIDITY made no new ticket")
            #expect(try await rig.dovecot.messageCount(user: "bench") == 2)
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func idlePicksUpNewMailAtOnce() async throws {
        let rig = try await Rig.make("poll-idle")
        do {
            // A long poll interval: only IDLE can bring the message in quickly.
            try rig.poll(
                "imap", tls: "implicit", port: rig.dovecot.imapsPort, pollInterval: 600,
                extra: ["idle: true", "after_commit: delete"])
            try await rig.postdesk.start()
            #expect(
                try await waitUntil(seconds: 20) {
                    let status = try await rig.postdesk.cli(["mailboxes", "--json"], label: "mailboxes")
                    return status.contains("\"healthy\"")
                })
            try await Task.sleep(for: .milliseconds(500))
            let started = ContinuousClock.now
            try rig.dovecot.deliver(Self.messages("idle")[1].raw, to: "bench")
            #expect(try await waitUntil(seconds: 15) { try await rig.postdesk.listTickets().count == 1 })
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < .seconds(10), "IDLE pickup took \(elapsed)")
            // Waiting in IDLE costs nothing: no busy re-synchronization while the mailbox is quiet.
            let pid = try #require(rig.postdesk.pid)
            try await Task.sleep(for: .seconds(1))
            let before = try Self.cpuSeconds(pid)
            try await Task.sleep(for: .seconds(3))
            let spent = try Self.cpuSeconds(pid) - before
            #expect(spent < 0.3, "\(spent) s of CPU in 3 s of a quiet IDLE")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func sameMessageByLMTPAndByIMAPIsOneTicket() async throws {
        let rig = try await Rig.make("poll-hybrid")
        do {
            let message = Self.messages("hybrid")[0]
            try rig.poll("imap", tls: "implicit", port: rig.dovecot.imapsPort, extra: ["after_commit: delete"])
            try await rig.postdesk.start()
            // Push: Postfix would add its own trace fields; the identity ignores them.
            let pushed =
                Array("Received: from mx.example.test by postdesk; Sat, 5 Dec 2026 09:00:00 +0000\r\n".utf8)
                + message.raw
            let client = try RawLMTPClient(socketPath: rig.postdesk.socketPath)
            let result = try client.deliver(from: "jm@example.test", to: ["support@support.test"], message: pushed)
            #expect(result.data.map(\.code) == [250])
            try rig.dovecot.deliver(message.raw, to: "bench")
            #expect(try await waitUntil(seconds: 30) { try await rig.dovecot.messageCount(user: "bench") == 0 })
            #expect(try await rig.postdesk.listTickets().count == 1, "\(rig.postdesk.serverLog)")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func tooLargeMessagesAreRecordedAndMovedNeverDownloaded() async throws {
        let rig = try await Rig.make("poll-large")
        do {
            // The folder does not exist: the server answers TRYCREATE, and the poller creates it.
            let big =
                Array(
                    "From: a@example.test\r\nSubject: Große Datei\r\nMessage-ID: <big@example.test>\r\n\r\n".utf8)
                + Array(repeating: UInt8(ascii: "x"), count: 8000) + Array("\r\n".utf8)
            try rig.dovecot.deliver(big, to: "bench")
            try rig.dovecot.deliver(Self.messages("small")[0].raw, to: "bench")
            try rig.poll(
                "imap", tls: "implicit", port: rig.dovecot.imapsPort,
                extra: ["max_message_size: 4096", "oversize_folder: Zu-groß", "after_commit: delete"])
            try await rig.postdesk.start()
            #expect(
                await waitUntil(seconds: 30) {
                    // Until the poller creates it, the folder does not exist.
                    (try? await rig.dovecot.messageCount(user: "bench", folder: "Zu-groß")) == 1
                }, "\(rig.postdesk.serverLog)")
            #expect(try await waitUntil(seconds: 30) { try await rig.dovecot.messageCount(user: "bench") == 0 })
            #expect(try await rig.postdesk.listTickets().count == 1)
            let records = try await rig.postdesk.cli(["messages", "list"], label: "records")
            #expect(records.contains("too-large"), "\(records)")
            #expect(records.contains("Große Datei"), "the record shows what is known: \(records)")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func aTooLargePOP3MessageIsRecordedWithItsDecodedSubjectAndLeftOnTheServer() async throws {
        let rig = try await Rig.make("poll-large-pop3")
        do {
            let big =
                Array("From: =?UTF-8?B?0JDQvdC90LA=?= <anna@example.test>\r\n".utf8)
                + Array("Subject: =?UTF-8?B?0J7Rh9C10L3RjCDQsdC+0LvRjNGI0L7QuSDRhNCw0LnQuw==?=\r\n\r\n".utf8)
                + Array(repeating: UInt8(ascii: "y"), count: 9000) + Array("\r\n".utf8)
            try rig.dovecot.deliver(big, to: "bench")
            try rig.poll(
                "pop3", tls: "implicit", port: rig.dovecot.pop3sPort, extra: ["max_message_size: 4096"])
            try await rig.postdesk.start()
            var records = ""
            #expect(
                try await waitUntil(seconds: 30) {
                    records = try await rig.postdesk.cli(["messages", "list"], label: "records")
                    return records.contains("too-large")
                }, "\(rig.postdesk.serverLog)")
            #expect(records.contains("Очень большой файл"), "\(records)")
            try await Task.sleep(for: .seconds(2))
            #expect(try await rig.dovecot.messageCount(user: "bench") == 1, "never downloaded, never deleted")
            #expect(try await rig.postdesk.listTickets().isEmpty)
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func aWrongPasswordMakesThatMailboxUnhealthyWhileAnotherKeepsWorking() async throws {
        let rig = try await Rig.make("poll-isolation")
        do {
            try rig.dovecot.deliver(Self.messages("iso")[0].raw, to: "bench")
            let wrong = rig.scratch.file("wrong.secret")
            try "not-the-password\n".write(toFile: wrong, atomically: true, encoding: .utf8)
            try rig.postdesk.setExtraConfig(
                """
                mailboxes:
                  - name: broken
                    protocol: imap
                    host: localhost
                    port: \(rig.dovecot.imapsPort)
                    ca_file: \(rig.dovecot.certificatePath)
                    username: bench
                    auth:
                      password_file: \(wrong)
                    queue: support
                    after_commit: seen
                  - name: working
                    protocol: pop3
                    host: localhost
                    port: \(rig.dovecot.pop3sPort)
                    ca_file: \(rig.dovecot.certificatePath)
                    username: bench
                    auth:
                      password_file: \(rig.passwordFile)
                    queue: support
                    after_commit: delete
                    poll_interval: 1

                """)
            try await rig.postdesk.start()
            #expect(try await waitUntil(seconds: 30) { try await rig.dovecot.messageCount(user: "bench") == 0 })
            #expect(try await rig.postdesk.listTickets().count == 1)
            var status = ""
            #expect(
                try await waitUntil(seconds: 20) {
                    status = try await rig.postdesk.cli(["mailboxes"], label: "mailboxes")
                    return status.contains("needs-attention")
                }, "\(status)")
            #expect(status.contains("AUTHENTICATIONFAILED") || status.contains("Authentication failed"), "\(status)")
            #expect(!status.contains("not-the-password"), "a password never appears")
            #expect(!rig.postdesk.serverLog.contains("not-the-password"))
            #expect(!rig.postdesk.serverLog.contains("bench-pässwörd"))
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func mailboxesTestWalksEveryStepAndNamesTheOneThatFails() async throws {
        let rig = try await Rig.make("poll-check")
        do {
            try await rig.dovecot.createFolder("Überprüft", user: "bench")
            try rig.dovecot.deliver(Self.messages("check")[0].raw, to: "bench")
            try rig.poll(
                "imap", tls: "implicit", port: rig.dovecot.imapsPort,
                extra: ["after_commit: move", "move_to: Überprüft"])
            let report = try await rig.postdesk.cli(["mailboxes", "test", "bench-imap"], label: "check")
            for expected in [
                "ok   connect: localhost is", "ok   tls: TLS verified", "common_name=localhost", "ok   greeting:",
                "ok   capabilities:", "IDLE", "ok   authentication: logged in as bench",
                "ok   folder: INBOX: 1 messages",
                "ok   folder: Überprüft (move_to): 0 messages",
            ] {
                #expect(report.contains(expected), "\(expected) in:\n\(report)")
            }
            // Nothing was fetched or changed by the check.
            #expect(try await rig.dovecot.flags(user: "bench", uid: 1)?.contains("\\Seen") == false)

            try "wrong\n".write(toFile: rig.passwordFile, atomically: true, encoding: .utf8)
            do {
                _ = try await rig.postdesk.cli(["mailboxes", "test", "bench-imap"], label: "check-fail")
                Issue.record("a refused login must make the check fail")
            } catch RigError.commandFailed(_, let status, let output) {
                #expect(status == 1)
                #expect(output.contains("FAIL authentication:"), "\(output)")
                #expect(
                    output.contains("AUTHENTICATIONFAILED") || output.contains("Authentication failed"), "\(output)")
                #expect(!output.contains("wrong"), "the password never appears")
            }
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func killedBetweenFetchAndCommitLosesNothing() async throws {
        let rig = try await Rig.make("poll-kill")
        do {
            let marker = "HANG-IN-COMMIT-7"
            let message =
                Array("From: \"Åsa Öberg\" <asa@example.test>\r\nSubject: Nätverket ligger nere\r\n".utf8)
                + Array("Message-ID: <kill@example.test>\r\n\r\n\(marker)\r\n".utf8)
            try rig.dovecot.deliver(message, to: "bench")
            try rig.poll("imap", tls: "implicit", port: rig.dovecot.imapsPort, extra: ["after_commit: delete"])
            try await rig.postdesk.start(environment: ["POSTDESK_TEST_STAGE_FAULT": "commit:hang:\(marker)"])
            // Fetched, stuck before its commit: still on the server.
            #expect(
                try await waitUntil(seconds: 20) {
                    try await rig.dovecot.flags(user: "bench", uid: 1) != nil
                        && rig.postdesk.serverLog.contains("mailbox") == true
                })
            try await Task.sleep(for: .seconds(2))
            #expect(try await rig.dovecot.messageCount(user: "bench") == 1, "nothing is deleted before its commit")
            await rig.postdesk.killAbruptly()
            #expect(try await rig.dovecot.messageCount(user: "bench") == 1)
            #expect(try await rig.dovecot.flags(user: "bench", uid: 1)?.contains("\\Seen") == false)
            // Restarted without the fault: a kill is no verdict on the message it interrupted, which is fetched
            // again and becomes its ticket, once; then the mailbox is emptied.
            try await rig.postdesk.start()
            #expect(try await waitUntil(seconds: 30) { try await rig.dovecot.messageCount(user: "bench") == 0 })
            #expect(try await rig.postdesk.listTickets().map(\.subject) == ["Nätverket ligger nere"])
            let quarantine = try await rig.postdesk.cli(["quarantine", "list"], label: "quarantine")
            #expect(quarantine.contains("quarantine is empty"), "\(quarantine)")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func aFiftyMegabyteMessageIsStreamedWithBoundedMemory() async throws {
        let rig = try await Rig.make("poll-50mb")
        do {
            // What a 50 MB mail is: a short text and a large attachment (base64, 76-character lines).
            let header: String =
                "From: \"Zoë Ångström\" <zoe@example.test>\r\nSubject: Große Protokolldatei\r\n"
                + "Message-ID: <fifty@example.test>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
            let parts: String =
                "Content-Type: text/plain; charset=utf-8\r\n\r\nDas Protokoll hängt an.\r\n--b\r\n"
                + "Content-Type: application/octet-stream; name=\"protokoll.bin\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\n"
            var message = Array(header.utf8) + Array(parts.utf8)
            let line = Array((String(repeating: "QUJDRA==", count: 9) + "QUJD\r\n").utf8)
            while message.count < 50 * 1_048_576 { message += line }
            message += Array("--b--\r\n".utf8)
            try rig.dovecot.deliver(message, to: "bench")
            try rig.poll(
                "imap", tls: "implicit", port: rig.dovecot.imapsPort,
                extra: ["after_commit: delete", "max_message_size: 62914560"],
                topLevel: "limits:\n  max_message_size: 62914560\n")
            try await rig.postdesk.start()
            let pid = try #require(rig.postdesk.pid)
            let before = try EndToEndTests.LargeMessageTests.statusKiB(pid, "VmRSS")
            #expect(
                try await waitUntil(seconds: 180) { try await rig.dovecot.messageCount(user: "bench") == 0 },
                "\(rig.postdesk.serverLog)")
            let peak = try EndToEndTests.LargeMessageTests.statusKiB(pid, "VmHWM")
            print("polled 50 MB message: resident \(before) KiB before, peak \(peak) KiB (+\(peak - before) KiB)")
            #expect(peak - before < 40 * 1024, "resident memory rose from \(before) KiB to \(peak) KiB")
            let tickets = try await rig.postdesk.listTickets()
            #expect(tickets.count == 1)
            #expect(tickets.first?.subject == "Große Protokolldatei")
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }

    @Test func aServerDroppingTheConnectionMidLiteralCostsARetryNotAMessage() async throws {
        let scratch = try ScratchDirectory(label: "poll-hostile")
        let postdesk = try PostdeskServer(in: scratch)
        let script = scratch.file("dropping_imap.py")
        try HostileIMAPServer.script.write(toFile: script, atomically: true, encoding: .utf8)
        let portFile = scratch.file("port")
        let server = try ChildProcess(
            executable: findExecutable("python3") ?? "/usr/bin/python3", arguments: [script, portFile],
            outputPrefix: scratch.file("hostile"))
        do {
            #expect(try await waitUntil(seconds: 20) { FileManager.default.fileExists(atPath: portFile) })
            let port = try String(contentsOfFile: portFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let secret = scratch.file("secret")
            try "pw\n".write(toFile: secret, atomically: true, encoding: .utf8)
            try postdesk.setExtraConfig(
                """
                mailboxes:
                  - name: hostile
                    protocol: imap
                    host: 127.0.0.1
                    port: \(port)
                    tls: none
                    username: bench
                    auth:
                      password_file: \(secret)
                    queue: support
                    idle: false
                    poll_interval: 1

                """)
            try await postdesk.start()
            // First session: the literal stops after 100 of its 400 bytes and the socket closes. The next session
            // (after the backoff) gets the whole message and deletes it.
            #expect(
                try await waitUntil(seconds: 40) { try await postdesk.listTickets().count == 1 },
                "\(postdesk.serverLog)\n\(server.standardError)")
            try await Task.sleep(for: .seconds(2))
            #expect(try await postdesk.listTickets().count == 1)
            #expect(postdesk.serverLog.contains("mailbox poll failed"), "the dropped session is logged")
            #expect(server.standardError.contains("expunged 1"), "\(server.standardError)")
            #expect(postdesk.isRunning)
        } catch {
            Issue.record(error)
        }
        await postdesk.stop()
        await server.stop()
        scratch.remove()
    }

    @Test func sighupAddsAndRemovesAMailboxWhileLMTPKeepsWorking() async throws {
        let rig = try await Rig.make("poll-reload")
        do {
            try await rig.postdesk.start()
            try rig.dovecot.deliver(Self.messages("reload")[0].raw, to: "bench")
            try rig.poll("pop3", tls: "implicit", port: rig.dovecot.pop3sPort, extra: ["after_commit: delete"])
            rig.postdesk.send(signal: SIGHUP)
            #expect(try await waitUntil(seconds: 30) { try await rig.dovecot.messageCount(user: "bench") == 0 })
            let client = try RawLMTPClient(socketPath: rig.postdesk.socketPath)
            let pushed = try client.deliver(
                from: "a@example.test", to: ["support@support.test"],
                message: Self.messages("reload-lmtp")[1].raw)
            #expect(pushed.data.map(\.code) == [250])
            #expect(try await rig.postdesk.listTickets().count == 2)
            // Removed again: mail stays on the server.
            try rig.postdesk.setExtraConfig("")
            rig.postdesk.send(signal: SIGHUP)
            try await Task.sleep(for: .seconds(2))
            try rig.dovecot.deliver(Self.messages("reload")[2].raw, to: "bench")
            try await Task.sleep(for: .seconds(3))
            #expect(try await rig.dovecot.messageCount(user: "bench") == 1)
            #expect(rig.postdesk.serverLog.contains("configuration reloaded"), "\(rig.postdesk.serverLog)")
            #expect(rig.postdesk.isRunning)
        } catch {
            Issue.record(error)
        }
        await rig.stop()
    }
}

/// A hostile IMAP server (Python, loopback): its first session cuts a FETCH literal short and closes; later
/// sessions serve the message whole and log what was expunged. Not a fake of a third party: a test of our
/// client's reaction to a broken server.
enum HostileIMAPServer {
    static let script = #"""
        import socket, sys, threading
        BODY = ("From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.test>\r\nSubject: Abgebrochen\r\n"
                "Message-ID: <hostile@example.test>\r\n\r\n" + "x" * 300 + "\r\n").encode()
        sessions = 0
        deleted = False
        def serve(conn):
            global sessions, deleted
            sessions += 1
            first = sessions == 1
            f = conn.makefile('rb')
            conn.sendall(b'* OK [CAPABILITY IMAP4rev1 UIDPLUS] hostile ready\r\n')
            while True:
                line = f.readline()
                if not line:
                    return
                parts = line.decode().split()
                tag, cmd = parts[0], parts[1].upper()
                rest = ' '.join(parts[2:]).upper()
                if cmd == 'CAPABILITY':
                    conn.sendall(b'* CAPABILITY IMAP4rev1 UIDPLUS\r\n' + tag.encode() + b' OK done\r\n')
                elif cmd == 'LOGIN':
                    conn.sendall(tag.encode() + b' OK logged in\r\n')
                elif cmd == 'SELECT':
                    n = 0 if deleted else 1
                    conn.sendall(b'* %d EXISTS\r\n* OK [UIDVALIDITY 77] v\r\n' % n + tag.encode() + b' OK [READ-WRITE] selected\r\n')
                elif cmd == 'UID' and parts[2].upper() == 'FETCH':
                    if deleted:
                        conn.sendall(tag.encode() + b' OK nothing\r\n')
                    elif 'BODY.PEEK' in rest:
                        head = b'* 1 FETCH (UID 5 RFC822.SIZE %d BODY[] {%d}\r\n' % (len(BODY), len(BODY))
                        if first:
                            conn.sendall(head + BODY[:100])
                            sys.stderr.write('dropped mid-literal\n'); sys.stderr.flush()
                            conn.close()
                            return
                        conn.sendall(head + BODY + b')\r\n' + tag.encode() + b' OK fetched\r\n')
                    else:
                        conn.sendall(b'* 1 FETCH (UID 5 RFC822.SIZE %d)\r\n' % len(BODY) + tag.encode() + b' OK listed\r\n')
                elif cmd == 'UID' and parts[2].upper() == 'EXPUNGE':
                    deleted = True
                    sys.stderr.write('expunged 1\n'); sys.stderr.flush()
                    conn.sendall(b'* 1 EXPUNGE\r\n' + tag.encode() + b' OK expunged\r\n')
                elif cmd == 'LOGOUT':
                    conn.sendall(b'* BYE bye\r\n' + tag.encode() + b' OK\r\n')
                    return
                else:
                    conn.sendall(tag.encode() + b' OK\r\n')
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        s.listen(8)
        open(sys.argv[1] + '.tmp', 'w').write(str(s.getsockname()[1]))
        import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
        """#
}
