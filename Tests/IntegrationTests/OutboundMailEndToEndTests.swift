import Foundation
import MailParser
import OutboundMail
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Postfix's `smtp-sink` speaking LMTP on a unix socket, dumping every delivery into a directory: the
/// requester's mailbox in these tests.
final class MailCapture {
    let socketPath: String
    let directory: String
    private let child: ChildProcess

    init(in scratch: ScratchDirectory, name: String) async throws {
        socketPath = scratch.file("\(name).sock")
        directory = scratch.file("\(name)-mail")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o777)
        child = try ChildProcess(
            executable: findExecutable("smtp-sink") ?? "/usr/sbin/smtp-sink",
            arguments: ["-u", "nobody", "-L", "-d", directory + "/", "unix:" + socketPath, "64"],
            outputPrefix: scratch.file("\(name)-sink"))
        let socketPath = socketPath
        guard await waitUntil(seconds: 10, { FileManager.default.fileExists(atPath: socketPath) }) else {
            throw RigError.timedOut(what: "smtp-sink's socket \(socketPath)", seconds: 10, detail: child.standardError)
        }
        // Postfix's lmtp client runs as user postfix.
        chmod(socketPath, 0o666)
    }

    /// The envelope recipients of a captured message: the addresses in smtp-sink's `X-Rcpt-Args` lines
    /// (`<a@b> ORCPT=rfc822;a@b`).
    static func envelopeRecipients(of message: ParsedMessage) -> [String] {
        message.headers.filter { $0.name == "X-Rcpt-Args" }.compactMap { field in
            guard let open = field.value.firstIndex(of: "<"), let close = field.value.firstIndex(of: ">"), open < close
            else { return nil }
            return String(field.value[field.value.index(after: open)..<close])
        }
    }

    /// The messages delivered so far, parsed, oldest first.
    func messages() -> [ParsedMessage] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return names.compactMap { FileManager.default.contents(atPath: directory + "/" + $0) }.map {
            MessageParser.parse(Array($0))
        }
    }

    func stop() async { await child.stop(graceSeconds: 0.5) }
}

/// The real `postdesk serve` acknowledging new tickets through a real private Postfix that delivers
/// `example.org` (the customers) to a capture and `support.test` back to postdesk.
final class OutboundRig {
    let scratch: ScratchDirectory
    let postdesk: PostdeskServer
    let capture: MailCapture
    let postfix: PostfixInstance

    /// - Parameters:
    ///   - transport: more domains Postfix relays, each with its transport(5) entry (e.g. `error:5.1.1 …` for a
    ///     domain whose mail bounces).
    ///   - postfixSettings: main.cf lines added to the relay's.
    static func run(
        label: String, extraConfig: (OutboundRig) -> String = { _ in "" }, transport: [String: String] = [:],
        postfixSettings: [String] = [], _ body: (OutboundRig) async throws -> Void
    ) async throws {
        try PostfixInstance.requireInstalled()
        let scratch = try ScratchDirectory(label: label)
        let postdesk = try PostdeskServer(in: scratch)
        let capture = try await MailCapture(in: scratch, name: "customers")
        let postfix = try PostfixInstance(
            in: scratch, lmtpSocket: postdesk.socketPath,
            relayDomains: ["support.test", "sales.test", "example.org"] + transport.keys.sorted(),
            transportTable: """
                support.test lmtp:unix:\(postdesk.socketPath)
                sales.test lmtp:unix:\(postdesk.socketPath)
                example.org lmtp:unix:\(capture.socketPath)

                """ + transport.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined(),
            settings: postfixSettings)
        let rig = OutboundRig(scratch: scratch, postdesk: postdesk, capture: capture, postfix: postfix)
        do {
            try postdesk.setExtraConfig(rig.outboundConfig(relayPort: Int(postfix.smtpPort)) + extraConfig(rig))
            try await postdesk.start()
            try await postfix.start()
            try await body(rig)
        } catch {
            await rig.shutDown(keepScratch: true)
            throw RigFailure(underlying: error, scratch: scratch.path)
        }
        await rig.shutDown(keepScratch: false)
    }

    private init(scratch: ScratchDirectory, postdesk: PostdeskServer, capture: MailCapture, postfix: PostfixInstance) {
        self.scratch = scratch
        self.postdesk = postdesk
        self.capture = capture
        self.postfix = postfix
    }

    func outboundConfig(relayPort: Int) -> String {
        """
        server:
          hostname: desk-a.test
        outbound:
          relay: "127.0.0.1:\(relayPort)"
          starttls: "off"
          retry_initial_seconds: 1
        queues.support.acknowledge: true

        """
    }

    private func shutDown(keepScratch: Bool) async {
        await postfix.stop()
        await postdesk.stop()
        await capture.stop()
        if !keepScratch { scratch.remove() }
    }

    /// Delivers `message` to postdesk's LMTP socket directly.
    func deliver(_ message: String, from sender: String, to recipient: String = PostdeskServer.supportAddress) throws
        -> Int
    {
        let client = try RawLMTPClient(socketPath: postdesk.socketPath)
        let replies = try client.deliver(from: sender, to: [recipient], message: Array(message.utf8))
        return replies.data.first?.code ?? 0
    }

    func waitForMessages(_ count: Int, seconds: Double = 60) async -> [ParsedMessage] {
        _ = await waitUntil(seconds: seconds) { capture.messages().count >= count }
        return capture.messages()
    }

    /// Waits until `count` captured messages satisfy `matching` (the order in which the outbound worker sends
    /// acknowledgements and answers is not fixed); returns those that do.
    func waitForMessages(
        matching: @escaping @Sendable (ParsedMessage) -> Bool, count: Int = 1, seconds: Double = 60
    ) async -> [ParsedMessage] {
        _ = await waitUntil(seconds: seconds) { capture.messages().filter(matching).count >= count }
        return capture.messages().filter(matching)
    }

    /// Who got what so far, for a failure message.
    var capturedSummary: String {
        capture.messages().map {
            "to \(MailCapture.envelopeRecipients(of: $0)) (To \($0.to.map(\.address))): \($0.subject ?? "")"
        }.joined(separator: "\n")
    }
}

func customerMessage(
    from: String = "=?UTF-8?B?SsO8cmdlbiBHcm/Dnw==?= <kunde@example.org>", subject: String = "Drucker brennt – Hilfe!",
    id: String = "\(UUID().uuidString)@example.org", headers: [String] = [], body: String = "Grüße aus Köln\n"
) -> String {
    (["From: \(from)", "To: support@support.test", "Subject: \(subject)", "Message-ID: <\(id)>"] + headers
        + ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit", ""])
        .joined(separator: "\r\n") + "\r\n" + body
}

extension EndToEndTests {
    @Suite("Outbound mail through a real Postfix relay")
    struct OutboundMailEndToEndTests {
        @Test("A new ticket is acknowledged; replying to the acknowledgement threads onto the same ticket")
        func acknowledgementAndReply() async throws {
            try await OutboundRig.run(label: "ack") { rig in
                #expect(try rig.deliver(customerMessage(id: "first@example.org"), from: "kunde@example.org") == 250)
                let received = await rig.waitForMessages(1)
                let ack = try #require(received.first, "no acknowledgement arrived; log:\n\(rig.postdesk.serverLog)")
                #expect(ack.subject == "[Support #1] Drucker brennt – Hilfe!")
                #expect(ack.to.first?.address == "kunde@example.org")
                #expect(ack.to.first?.name == "Jürgen Groß")
                #expect(ack.inReplyTo == ["first@example.org"])
                let ackID = try #require(ack.messageID)
                #expect(ackID.hasPrefix("T1.A") && ackID.hasSuffix("@desk-a.test"))
                #expect(ack.headers.contains { $0.name == "Auto-Submitted" && $0.value == "auto-replied" })
                #expect(ack.headers.contains { $0.name == "X-Auto-Response-Suppress" && $0.value == "All" })
                #expect(ack.text.contains("Hello Jürgen Groß,"))

                // The requester answers the acknowledgement, using its headers.
                let reply = customerMessage(
                    subject: "Re: " + (ack.subject ?? ""),
                    headers: ["In-Reply-To: <\(ackID)>", "References: <first@example.org> <\(ackID)>"],
                    body: "Er brennt immer noch. Grüße\n")
                #expect(try rig.deliver(reply, from: "kunde@example.org") == 250)
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count == 1)
                #expect(tickets.first?.articleCount == 2)
                // The reply itself is not acknowledged.
                try await Task.sleep(for: .seconds(3))
                #expect(rig.capture.messages().count == 1)
            }
        }

        @Test("A queue's agents are told of a new ticket, with its text, through the relay")
        func agentsNotified() async throws {
            try await OutboundRig.run(
                label: "notify", extraConfig: { _ in "queues.support.agents: [agent@example.org]\n" }
            ) {
                rig in
                #expect(
                    try rig.deliver(customerMessage(subject: "Bildschirm schwarz"), from: "kunde@example.org") == 250)
                let received = await rig.waitForMessages(2)
                let notification = try #require(received.first { $0.to.first?.address == "agent@example.org" })
                #expect(notification.subject == "[Support #1] Bildschirm schwarz")
                #expect(notification.text.contains("New ticket [Support #1] in queue support from Jürgen Groß"))
                #expect(notification.text.contains("Grüße aus Köln"))
                #expect(notification.headers.contains { $0.name == "Auto-Submitted" && $0.value == "auto-replied" })
                #expect(received.contains { $0.to.first?.address == "kunde@example.org" })
            }
        }

        @Test("Auto-replies and bounces get no acknowledgement; the rate limit holds")
        func noAcknowledgementForAutomatedMailAndRateLimit() async throws {
            try await OutboundRig.run(label: "ackno") { rig in
                _ = try rig.deliver(
                    customerMessage(from: "ooo@example.org", headers: ["Auto-Submitted: auto-replied"]),
                    from: "ooo@example.org")
                _ = try rig.deliver(
                    customerMessage(from: "MAILER-DAEMON@example.org", subject: "Undelivered Mail Returned to Sender"),
                    from: "")
                for index in 0..<5 {
                    _ = try rig.deliver(customerMessage(subject: "Frage \(index)"), from: "kunde@example.org")
                }
                let received = await rig.waitForMessages(3)
                try await Task.sleep(for: .seconds(4))
                let all = rig.capture.messages()
                #expect(received.count >= 3)
                #expect(all.count == 3, "got \(all.map { $0.subject ?? "" })")
                #expect(all.allSatisfy { $0.to.first?.address == "kunde@example.org" })
            }
        }

        @Test("The relay down: retried, delivered once it is back; SIGKILL before sending: sent after restart")
        func relayDownThenBackAndCrash() async throws {
            try await OutboundRig.run(label: "ackdown") { rig in
                await rig.postfix.stop()
                #expect(try rig.deliver(customerMessage(subject: "Relay down"), from: "kunde@example.org") == 250)
                try await Task.sleep(for: .seconds(2))
                // Killed with the acknowledgement committed but not sent.
                await rig.postdesk.killAbruptly()
                #expect(rig.capture.messages().isEmpty)
                try await rig.postfix.start()
                try await rig.postdesk.start()
                let received = await rig.waitForMessages(1, seconds: 90)
                #expect(received.count == 1, "log:\n\(rig.postdesk.serverLog)")
                #expect(received.first?.subject == "[Support #1] Relay down")
                try await Task.sleep(for: .seconds(3))
                #expect(rig.capture.messages().count == 1)
            }
        }

        @Test("Two Postdesk instances acknowledging each other stop after one exchange")
        func twoInstancesDoNotLoop() async throws {
            // Instance A is the rig's; instance B receives example.org's helpdesk@ through its own socket.
            try await OutboundRig.run(label: "ackloop") { rig in
                let scratchB = try ScratchDirectory(label: "acklb")
                defer { scratchB.remove() }
                let instanceB = try PostdeskServer(in: scratchB)
                // B's own queue and address (the rig's shared config would give it A's addresses).
                try """
                log:
                  level: info
                server:
                  hostname: desk-b.test
                store:
                  path: \(instanceB.databasePath)
                lmtp:
                  socket: \(instanceB.socketPath)
                  mode: "0666"
                smtp:
                  listen: ""
                queues:
                  names: [helpdesk]
                  helpdesk:
                    tag: Helpdesk
                    addresses: ["helpdesk@example.net"]
                    acknowledge: true
                outbound:
                  relay: "127.0.0.1:\(rig.postfix.smtpPort)"
                  starttls: "off"
                  retry_initial_seconds: 1

                """.write(toFile: instanceB.configPath, atomically: true, encoding: .utf8)
                try await instanceB.start()
                do {
                    await rig.postfix.stop()
                    try await rig.postfix.setMainParameters([
                        "relay_domains": "support.test, sales.test, example.org, example.net",
                        "transport_maps":
                            "inline:{ support.test=lmtp:unix:\(rig.postdesk.socketPath), "
                            + "example.org=lmtp:unix:\(rig.capture.socketPath), "
                            + "example.net=lmtp:unix:\(instanceB.socketPath) }",
                    ])
                    try await rig.postfix.start()
                    // B's address writes to A (a forward, a misconfigured auto-forward): A opens a ticket and
                    // acknowledges to B; B sees an auto-reply and neither opens a ticket nor answers.
                    let first = customerMessage(
                        from: "Helpdesk B <helpdesk@example.net>", subject: "Weitergeleitet: Ärger")
                    #expect(try rig.deliver(first, from: "helpdesk@example.net") == 250)
                    try await rig.postfix.waitForEmptyQueue(seconds: 60)
                    try await Task.sleep(for: .seconds(4))
                    try await rig.postfix.waitForEmptyQueue(seconds: 60)
                    #expect(try await rig.postdesk.listTickets().count == 1)
                    #expect(try await instanceB.listTickets().isEmpty)
                    #expect(rig.postfix.countDeliveries(status: "sent") == 1, "maillog:\n\(rig.postfix.maillog())")
                } catch {
                    await instanceB.stop()
                    throw error
                }
                await instanceB.stop()
            }
        }
    }
}

extension EndToEndTests {
    @Suite("The SMTP submission client against a real Postfix with STARTTLS")
    struct SubmissionClientPostfixTests {
        @Test("STARTTLS with a private CA: verified and delivered; without the CA: refused before any mail")
        func starttlsWithPrivateCA() async throws {
            try PostfixInstance.requireInstalled()
            let scratch = try ScratchDirectory(label: "subtls")
            let capture = try await MailCapture(in: scratch, name: "tlscap")
            let certificate = scratch.file("relay.pem")
            let key = scratch.file("relay.key")
            var postfix: PostfixInstance?
            do {
                try await ChildProcess.run(
                    findExecutable("openssl") ?? "/usr/bin/openssl",
                    [
                        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", certificate,
                    ], outputPrefix: scratch.file("openssl"), timeout: 60)
                let instance = try PostfixInstance(
                    in: scratch, lmtpSocket: capture.socketPath, relayDomains: ["example.org"],
                    // smtpd's TLS needs the tlsmgr service, which the rig's master.cf leaves out.
                    lmtpService: "lmtp unix - - n - - lmtp\ntlsmgr unix - - n 1000? 1 tlsmgr",
                    settings: [
                        "smtpd_tls_cert_file = \(certificate)", "smtpd_tls_key_file = \(key)",
                        "smtpd_tls_security_level = may", "smtpd_tls_received_header = yes",
                    ])
                postfix = instance
                try await instance.start()
                let message = MIMEComposerForTests.message(subject: "Über TLS")
                func client(caFile: String?) -> SMTPSubmissionClient {
                    SMTPSubmissionClient(
                        settings: SMTPRelaySettings(
                            host: "localhost", port: Int(instance.smtpPort), starttls: .required, caFile: caFile,
                            heloName: "desk.test", stepTimeout: .seconds(20)))
                }
                // The system's roots do not know the private CA: the handshake fails, nothing is sent.
                do {
                    _ = try await client(caFile: nil).submit(message, from: "support@desk.test", to: ["a@example.org"])
                    Issue.record("the relay's certificate was accepted without its CA")
                } catch {
                    #expect(error.step == .tls || error.step == .connection, "\(error)")
                }
                let result = try await client(caFile: certificate).submit(
                    message, from: "support@desk.test", to: ["kunde@example.org"])
                #expect(result.delivered)
                _ = await waitUntil(seconds: 60) { !capture.messages().isEmpty }
                let delivered = capture.messages()
                #expect(delivered.count == 1)
                #expect(delivered.first?.subject == "Über TLS")
                #expect(
                    delivered.first?.headers.contains { $0.name == "Received" && $0.value.contains("TLS") } == true)
            } catch {
                await postfix?.stop()
                await capture.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await postfix?.stop()
            await capture.stop()
            scratch.remove()
        }
    }
}

extension EndToEndTests {
    @Suite("The sendmail transport with Postfix's own sendmail command")
    struct SendmailTransportTests {
        @Test("sendmail -i -f … -- rcpt hands the mail to Postfix, which delivers it; a missing command is an error")
        func sendmailDelivers() async throws {
            try PostfixInstance.requireInstalled()
            let scratch = try ScratchDirectory(label: "sendmail")
            let capture = try await MailCapture(in: scratch, name: "smcap")
            var postfix: PostfixInstance?
            do {
                let instance = try PostfixInstance(
                    in: scratch, lmtpSocket: capture.socketPath, relayDomains: ["example.org"])
                postfix = instance
                try await instance.start()
                let transport = SendmailTransport(
                    path: findExecutable("sendmail") ?? "/usr/sbin/sendmail",
                    options: ["-C", instance.configDirectory],
                    timeout: .seconds(30))
                let result = try await transport.submit(
                    MIMEComposerForTests.message(subject: "Per sendmail: Grüße"), from: "support@desk.test",
                    to: ["kunde@example.org"])
                #expect(result.delivered)
                _ = await waitUntil(seconds: 60) { !capture.messages().isEmpty }
                #expect(capture.messages().first?.subject == "Per sendmail: Grüße")
                do {
                    _ = try await SendmailTransport(path: scratch.file("no-such-sendmail")).submit(
                        [], from: "a@desk.test", to: ["b@example.org"])
                    Issue.record("a missing sendmail command succeeded")
                } catch {
                    #expect(error.step == .sendmail)
                }
            } catch {
                await postfix?.stop()
                await capture.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await postfix?.stop()
            await capture.stop()
            scratch.remove()
        }
    }
}

enum MIMEComposerForTests {
    static func message(subject: String) -> [UInt8] {
        MIMEComposer.compose(
            OutboundMail.OutgoingMail(
                from: MailAddress(name: "Support", address: "support@desk.test"),
                to: [MailAddress(name: "Zoë", address: "kunde@example.org")], subject: subject, text: "Grüße",
                messageID: "T1.A1.tls@desk.test", date: Date(), autoSubmitted: true))
    }
}
