import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EndToEndTests {
    /// Issue 12 points 4, 7 and 9: the safe choice by default, terminal-safe output, read commands that change
    /// nothing — each through the real `postdesk` binary, a real socket and a real SQLite file.
    @Suite("Security defaults")
    struct SecurityDefaultsTests {
        /// A daemon whose configuration is exactly `yaml` plus its store (in `store/`) and LMTP socket; no key
        /// that the test does not name.
        static func daemon(_ scratch: ScratchDirectory, extra: String = "") throws -> PostdeskServer {
            let postdesk = try PostdeskServer(in: scratch)
            try FileManager.default.createDirectory(atPath: scratch.file("store"), withIntermediateDirectories: true)
            try """
            store:
              path: \(scratch.file("store/postdesk.db"))
            lmtp:
              socket: \(postdesk.socketPath)
            queues:
              names: [support]
              support:
                addresses: ["support@support.test"]
            \(extra)
            """.write(toFile: postdesk.configPath, atomically: true, encoding: .utf8)
            return postdesk
        }

        /// Runs `body` with the daemon started; stops it by its pid whatever happens, keeps the scratch directory
        /// (with every log) when the body fails. `extra` is more YAML, written once the directory exists.
        static func withDaemon(
            _ label: String, extra: (ScratchDirectory) async throws -> String = { _ in "" },
            _ body: (PostdeskServer, MailClients, ScratchDirectory) async throws -> Void
        ) async throws {
            let scratch = try ScratchDirectory(label: label)
            let postdesk = try daemon(scratch, extra: try await extra(scratch))
            do {
                let clients = try MailClients(scratch: scratch)
                try await postdesk.start()
                try await body(postdesk, clients, scratch)
            } catch {
                await postdesk.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await postdesk.stop()
            scratch.remove()
        }

        static func mode(_ path: String) -> mode_t? {
            var information = stat()
            guard lstat(path, &information) == 0 else { return nil }
            return information.st_mode & 0o7777
        }

        /// Every file under `directory` with its size and modification time in nanoseconds.
        static func snapshot(_ directory: String) throws -> [String: [Int]] {
            var result: [String: [Int]] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                var information = stat()
                guard lstat(directory + "/" + name, &information) == 0 else { continue }
                result[name] = [
                    Int(information.st_size), information.st_mtim.tv_sec * 1_000_000_000 + information.st_mtim.tv_nsec,
                    Int(information.st_mode),
                ]
            }
            return result
        }

        @Test("The LMTP socket is 0660 and the database, its WAL and SHM, and the key are 0600 by default")
        func privateFilesByDefault() async throws {
            let previous = umask(0o022)
            umask(previous)
            try #require(previous & 0o044 == 0, "the umask (\(String(previous, radix: 8))) would hide the defect")
            try await Self.withDaemon("modes") { postdesk, clients, scratch in
                let transcript = try await clients.lmtpSession(
                    socket: postdesk.socketPath, from: "customer@example.test", rcpts: ["support@support.test"],
                    message: MailClients.rawMessage(
                        to: "support@support.test", subject: "Modes", messageID: "<modes@customer.test>"),
                    label: "modes")
                #expect(transcript.data.map(\.code) == [250])
                #expect(Self.mode(postdesk.socketPath) == 0o660)
                for name in ["postdesk.db", "postdesk.db-wal", "postdesk.db-shm", "message-id.key"] {
                    let mode = try #require(Self.mode(scratch.file("store/" + name)), "\(name) is missing")
                    #expect(mode & 0o077 == 0, "\(name) is \(String(mode, radix: 8))")
                }
            }
        }

        @Test("Read commands create and change no file; a missing or unmigrated store is a clear error")
        func readCommandsChangeNothing() async throws {
            try await Self.withDaemon("readonly") { postdesk, clients, scratch in
                _ = try await clients.lmtpSession(
                    socket: postdesk.socketPath, from: "customer@example.test", rcpts: ["support@support.test"],
                    message: MailClients.rawMessage(
                        to: "support@support.test", subject: "Read me", messageID: "<read@customer.test>"),
                    label: "read")
                let commands = [
                    ["tickets", "list"], ["tickets", "show", "1"], ["messages", "list"], ["messages", "show", "1"],
                    ["messages", "counts"], ["bounces"], ["quarantine", "list"], ["tickets", "list", "--json"],
                ]
                // While the daemon runs: its -wal and -shm exist and are used; nothing new appears.
                let running = try Self.snapshot(scratch.file("store"))
                _ = try await postdesk.cli(["tickets", "list"], label: "running")
                #expect(Set(try Self.snapshot(scratch.file("store")).keys) == Set(running.keys))
                #expect(await postdesk.terminate() != nil)
                let before = try Self.snapshot(scratch.file("store"))
                #expect(before["postdesk.db-wal"] == nil, "the daemon's last close removes the WAL")
                for command in commands {
                    let output = try await postdesk.cli(command, label: command.joined(separator: "-"))
                    if command == ["tickets", "show", "1"] { #expect(output.contains("Read me")) }
                }
                #expect(
                    try Self.snapshot(scratch.file("store")) == before, "a read command changed the store directory")

                // No store at all: a clear message, a non-zero exit, and still no file.
                try "store:\n  path: \(scratch.file("absent/postdesk.db"))\nlmtp:\n  socket: /tmp/none.sock\n"
                    .appending("queues:\n  names: [a]\n  a:\n    addresses: [a@x.test]\n")
                    .write(toFile: scratch.file("absent.yaml"), atomically: true, encoding: .utf8)
                let missing = try await ChildProcess.run(
                    postdesk.executable, ["tickets", "list", "--config", scratch.file("absent.yaml")],
                    outputPrefix: scratch.file("absent"), acceptedStatuses: [66])
                #expect(missing.isEmpty)
                let message = try String(contentsOfFile: scratch.file("absent.err"), encoding: .utf8)
                #expect(message.contains("no ticket store at \(scratch.file("absent/postdesk.db"))"), "\(message)")
                #expect(message.contains("run `postdesk serve` once"))
                #expect(!FileManager.default.fileExists(atPath: scratch.file("absent")))

                // A database that was never migrated: never migrated by a read command either.
                try FileManager.default.createDirectory(
                    atPath: scratch.file("absent"), withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: scratch.file("absent/postdesk.db"), contents: Data())
                _ = try await ChildProcess.run(
                    postdesk.executable, ["messages", "list", "--config", scratch.file("absent.yaml")],
                    outputPrefix: scratch.file("unmigrated"), acceptedStatuses: [65])
                let older = try String(contentsOfFile: scratch.file("unmigrated.err"), encoding: .utf8)
                #expect(
                    older.contains("older schema") && older.contains("run `postdesk serve` once to migrate"), "\(older)"
                )
                #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("absent")) == ["postdesk.db"])
                #expect(
                    try FileManager.default.attributesOfItem(atPath: scratch.file("absent/postdesk.db"))[.size] as? Int
                        == 0)
            }
        }

        /// OSC 52 (write the operator's clipboard), SGR 8 (hidden text), a C1 CSI and BEL.
        static let hostile = "\u{1B}]52;c;cm0gLXJmIH4=\u{07} \u{1B}[8mhidden\u{1B}[0m \u{9B}31m"

        static func encodedWord(_ text: String) -> String {
            "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
        }

        /// Raw ESC, BEL, backspace, a CR that does not end a line, and C1 (UTF-8 C2 80–C2 9F) bytes.
        static func controlBytes(_ text: String) -> [UInt8] {
            let bytes = Array(text.utf8)
            var found: [UInt8] = []
            for (index, byte) in bytes.enumerated() {
                if byte == 0x1B || byte == 0x07 || byte == 0x08 { found.append(byte) }
                if byte == 0x0D, index + 1 == bytes.count || bytes[index + 1] != 0x0A { found.append(byte) }
                if byte == 0xC2, index + 1 < bytes.count, (0x80...0x9F).contains(bytes[index + 1]) {
                    found.append(bytes[index + 1])
                }
            }
            return found
        }

        @Test("Escape sequences from subjects, names, bodies and diagnostics reach no terminal and no log")
        func terminalEscapesAreShownEscaped() async throws {
            try await Self.withDaemon("escapes", extra: { _ in "pipeline:\n  max_attachments: 1\n" }) {
                postdesk, clients, scratch in
                let subject = "Jürgen " + Self.encodedWord("Drucker " + Self.hostile)
                let mail = MailClients.rawMessage(
                    from: "\(Self.encodedWord("Eve \u{1B}[2J"))\r\n <eve@example.test>", to: "support@support.test",
                    subject: subject, messageID: "<escape@customer.test>",
                    body: "Line one\r\n\u{1B}]52;c;Ym9keQ==\u{07}\tend \u{9B}2J\r\n")
                let dsn = """
                    From: MAILER-DAEMON@mx.customer.test (Mail Delivery System)
                    To: support@support.test
                    Subject: Undelivered Mail Returned to Sender
                    Message-ID: <bounce-esc@mx.customer.test>
                    MIME-Version: 1.0
                    Content-Type: multipart/report; report-type=delivery-status; boundary="b"

                    --b
                    Content-Type: text/plain

                    Could not deliver.

                    --b
                    Content-Type: message/delivery-status

                    Reporting-MTA: dns; mx.customer.test

                    Final-Recipient: rfc822; gone@customer.test
                    Action: failed
                    Status: 5.1.1
                    Diagnostic-Code: smtp; 550 \u{1B}]52;c;ZGlhZw==\u{07} user unknown

                    --b--
                    """.replacingOccurrences(of: "\n", with: "\r\n")
                var quarantined = "From: eve@example.test\r\nTo: support@support.test\r\nSubject: \(subject)\r\n"
                quarantined += "Message-ID: <many@customer.test>\r\nMIME-Version: 1.0\r\n"
                quarantined +=
                    "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n--p\r\nContent-Type: text/plain\r\n\r\nx\r\n"
                for index in 0..<3 {
                    quarantined += "--p\r\nContent-Type: application/octet-stream\r\n"
                    quarantined +=
                        "Content-Disposition: attachment; filename=\"f\(index).bin\"\r\n\r\n\u{1B}[8m\(index)\r\n"
                }
                quarantined += "--p--\r\n"
                for (label, message) in [("mail", mail), ("dsn", dsn), ("quarantined", quarantined)] {
                    let transcript = try await clients.lmtpSession(
                        socket: postdesk.socketPath, from: label == "dsn" ? "" : "eve@example.test",
                        rcpts: ["support@support.test"], message: message, label: label)
                    #expect(transcript.data.map(\.code) == [250], "\(label): \(transcript.data)")
                }
                try mail.write(toFile: scratch.file("hostile.eml"), atomically: true, encoding: .utf8)

                var outputs: [String: String] = [:]
                for command in [
                    ["tickets", "list"], ["tickets", "show", "1"], ["messages", "list"], ["messages", "show", "1"],
                    ["bounces"], ["quarantine", "list"], ["quarantine", "show", "1"],
                ] {
                    outputs[command.joined(separator: " ")] = try await postdesk.cli(
                        command, label: command.joined(separator: "-"))
                }
                outputs["parse"] = try await ChildProcess.run(
                    postdesk.executable, ["parse", scratch.file("hostile.eml")], outputPrefix: scratch.file("parse"))
                for (command, output) in outputs {
                    #expect(Self.controlBytes(output).isEmpty, "`postdesk \(command)` printed raw controls:\n\(output)")
                }
                // Escaped visibly, not dropped: the operator sees that something was there.
                #expect(outputs["tickets show 1"]?.contains("Drucker \\u{1B}]52;c;cm0gLXJmIH4=\\u{07}") == true)
                #expect(outputs["tickets show 1"]?.contains("\\u{9B}31m") == true)
                #expect(outputs["tickets show 1"]?.contains("Line one\n") == true, "line breaks in bodies stay")
                #expect(outputs["parse"]?.contains("\\u{1B}[8mhidden") == true)
                #expect(outputs["bounces"]?.contains("\\u{1B}]52;c;ZGlhZw==") == true, "\(outputs["bounces"] ?? "")")
                #expect(outputs["quarantine show 1"]?.contains("\\u{1B}[8m") == true)
                // JSON stays exact (its encoder escapes controls itself).
                let json = try await postdesk.cli(["tickets", "show", "1", "--json"], label: "json")
                #expect(json.contains("\\u001b]52;c;cm0gLXJmIH4=\\u0007"))
                _ = await postdesk.terminate()
                #expect(Self.controlBytes(postdesk.serverLog).isEmpty, "the log holds raw controls")
            }
        }

        @Test("SMTP: replies tell a stranger no ticket number and no \"already stored\"; STARTTLS needs TLS 1.2")
        func smtpListenerTellsStrangersNothing() async throws {
            let port = try LoopbackSockets.freePort()
            let makeCertificate: (ScratchDirectory) async throws -> String = { scratch in
                let certificate = scratch.file("cert.pem")
                let key = scratch.file("key.pem")
                try await ChildProcess.run(
                    "/usr/bin/openssl",
                    [
                        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days",
                        "1", "-subj", "/CN=localhost",
                    ], outputPrefix: scratch.file("openssl"))
                return "smtp:\n  listen: 127.0.0.1:\(port)\n  tls:\n    certificate: \(certificate)\n    key: \(key)\n"
            }
            try await Self.withDaemon("smtp-replies", extra: makeCertificate) { postdesk, _, scratch in
                #expect(await waitUntil(seconds: 10) { LoopbackSockets.acceptsConnections(port: port) })
                let script = #"""
                    import json, smtplib, ssl, sys, warnings
                    warnings.simplefilter("ignore")
                    port = int(sys.argv[1])
                    def context(maximum):
                        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                        c.check_hostname = False
                        c.verify_mode = ssl.CERT_NONE
                        c.set_ciphers("DEFAULT:@SECLEVEL=0")
                        c.minimum_version = ssl.TLSVersion.TLSv1
                        c.maximum_version = maximum
                        return c
                    result = {}
                    old = smtplib.SMTP("127.0.0.1", port, timeout=20)
                    old.ehlo("old.client.test")
                    try:
                        old.starttls(context=context(ssl.TLSVersion.TLSv1_1))
                        result["tls11"] = "accepted"
                    except ssl.SSLError as error:
                        result["tls11"] = "refused: " + str(error)
                    except Exception as error:
                        result["tls11"] = "refused: " + repr(error)
                    client = smtplib.SMTP("127.0.0.1", port, timeout=20)
                    client.ehlo("client.test")
                    client.starttls(context=context(ssl.TLSVersion.TLSv1_2))
                    result["tls12"] = client.sock.version()
                    client.ehlo("client.test")
                    message = (b"From: stranger@example.test\r\nTo: support@support.test\r\nSubject: Probe\r\n"
                               b"Message-ID: <probe@example.test>\r\n\r\nIs this stored?\r\n")
                    replies = []
                    for _ in range(2):
                        client.mail("stranger@example.test")
                        client.rcpt("support@support.test")
                        code, text = client.data(message)
                        replies.append(f"{code} {text.decode()}")
                    result["replies"] = replies
                    client.quit()
                    print(json.dumps(result))
                    """#
                try script.write(toFile: scratch.file("probe.py"), atomically: true, encoding: .utf8)
                let output = try await ChildProcess.run(
                    findExecutable("python3") ?? "/usr/bin/python3", [scratch.file("probe.py"), String(port)],
                    outputPrefix: scratch.file("probe"))
                let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
                let tls11 = try #require(result["tls11"] as? String)
                #expect(tls11.hasPrefix("refused") && tls11.uppercased().contains("PROTOCOL_VERSION"), "\(tls11)")
                #expect(result["tls12"] as? String == "TLSv1.2" || result["tls12"] as? String == "TLSv1.3")
                let replies = try #require(result["replies"] as? [String])
                #expect(replies == ["250 2.0.0 <support@support.test> Ok", "250 2.0.0 <support@support.test> Ok"])
                // The second was a duplicate all the same: one ticket.
                #expect(try await postdesk.listTickets().count == 1)
            }
        }
    }
}
