import Foundation

/// One message to inject; the test chooses every header that matters for threading.
struct OutgoingMail: Encodable {
    var from = "customer@example.test"
    var to: [String]
    var subject: String
    var messageID: String
    var inReplyTo: String? = nil
    var body = "Hello,\nplease help.\n"
    /// When set, these bytes are sent as they are (no header is added) instead of a message built from the
    /// fields above; `from`, `to` and `messageID` still give the envelope and the printed id.
    var raw: String? = nil

    enum CodingKeys: String, CodingKey {
        case from, to, subject, body, raw
        case messageID = "message_id"
        case inReplyTo = "in_reply_to"
    }
}

/// What a scripted LMTP session saw: one reply per RCPT, and one reply per accepted recipient after DATA.
struct LMTPTranscript: Decodable {
    struct Reply: Decodable {
        let code: Int
        let text: String
    }
    let greeting: Int
    let lhlo: Int
    let mail: Reply
    let rcpt: [Reply]
    let dataStart: Int?
    let data: [Reply]
    let error: String?

    enum CodingKeys: String, CodingKey {
        case greeting, lhlo, mail, rcpt, data, error
        case dataStart = "data_start"
    }
}

/// Drives mail into the peers with CPython's smtplib: an independent client implementation, so the
/// tests do not check the daemon's protocol code against itself.
struct MailClients {
    let scratch: ScratchDirectory
    private var python: String { findExecutable("python3") ?? "/usr/bin/python3" }

    init(scratch: ScratchDirectory) throws {
        self.scratch = scratch
        guard findExecutable("python3") != nil else {
            throw RigError.missingPeer("python3 not found; the end-to-end tests drive mail with smtplib")
        }
        try Self.smtpInjector.write(toFile: scratch.file("inject_smtp.py"), atomically: true, encoding: .utf8)
        try Self.lmtpSession.write(toFile: scratch.file("lmtp_session.py"), atomically: true, encoding: .utf8)
    }

    private func writeSpec(_ value: some Encodable, name: String) throws -> String {
        let path = scratch.file(name)
        try JSONEncoder().encode(value).write(to: URL(fileURLWithPath: path))
        return path
    }

    private struct InjectionSpec: Encodable {
        let port: UInt16
        let delay: Double
        let messages: [OutgoingMail]
    }

    /// Starts injecting `mails` into smtpd on `port` over one SMTP connection, `delay` seconds apart.
    /// Each accepted message prints "QUEUEID MESSAGE-ID" on the child's standard output.
    func startInjecting(_ mails: [OutgoingMail], port: UInt16, delay: Double = 0, label: String) throws
        -> ChildProcess
    {
        let spec = try writeSpec(InjectionSpec(port: port, delay: delay, messages: mails), name: "\(label).json")
        return try ChildProcess(
            executable: python, arguments: [scratch.file("inject_smtp.py"), spec], outputPrefix: scratch.file(label))
    }

    /// Injects `mails` and returns Postfix's queue id for each, in order.
    func inject(_ mails: [OutgoingMail], port: UInt16, label: String) async throws -> [String] {
        let injector = try startInjecting(mails, port: port, label: label)
        guard await injector.waitForExit(seconds: 120) else {
            await injector.stop()
            throw RigError.timedOut(what: "SMTP injection", seconds: 120, detail: injector.standardError)
        }
        guard injector.terminationStatus == 0 else {
            throw RigError.commandFailed(
                command: injector.commandLine, status: injector.terminationStatus,
                output: injector.standardOutput + injector.standardError)
        }
        let queueIDs = injector.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").first }
        guard queueIDs.count == mails.count else {
            throw RigError.unexpectedOutput(
                command: injector.commandLine, reason: "expected \(mails.count) queue ids",
                output: injector.standardOutput)
        }
        return queueIDs.map(String.init)
    }

    private struct SessionSpec: Encodable {
        let socket: String
        let from: String
        let rcpts: [String]
        let message: String
        let pauseAfterBytes: Int?
        let pausedMarker: String?
        let resumeMarker: String?

        enum CodingKeys: String, CodingKey {
            case socket, from, rcpts, message
            case pauseAfterBytes = "pause_after_bytes"
            case pausedMarker = "paused_marker"
            case resumeMarker = "resume_marker"
        }
    }

    /// A session that stops halfway through DATA until the test creates `resumeMarker`; it creates
    /// `pausedMarker` once it has stopped. Read its transcript with `transcript(of:)`.
    func startPausedLMTPSession(
        socket: String, from: String, rcpts: [String], message: String, pausedMarker: String, resumeMarker: String,
        label: String
    ) throws -> ChildProcess {
        let spec = SessionSpec(
            socket: socket, from: from, rcpts: rcpts, message: message, pauseAfterBytes: message.utf8.count / 2,
            pausedMarker: pausedMarker, resumeMarker: resumeMarker)
        return try ChildProcess(
            executable: python,
            arguments: [scratch.file("lmtp_session.py"), try writeSpec(spec, name: "\(label).json")],
            outputPrefix: scratch.file(label))
    }

    /// One complete LMTP transaction over the unix socket.
    func lmtpSession(socket: String, from: String, rcpts: [String], message: String, label: String) async throws
        -> LMTPTranscript
    {
        let spec = SessionSpec(
            socket: socket, from: from, rcpts: rcpts, message: message, pauseAfterBytes: nil, pausedMarker: nil,
            resumeMarker: nil)
        let session = try ChildProcess(
            executable: python,
            arguments: [scratch.file("lmtp_session.py"), try writeSpec(spec, name: "\(label).json")],
            outputPrefix: scratch.file(label))
        guard await session.waitForExit(seconds: 60) else {
            await session.stop()
            throw RigError.timedOut(what: "LMTP session", seconds: 60, detail: session.standardError)
        }
        return try transcript(of: session)
    }

    func transcript(of session: ChildProcess) throws -> LMTPTranscript {
        let output = session.standardOutput
        do {
            return try JSONDecoder().decode(LMTPTranscript.self, from: Data(output.utf8))
        } catch {
            throw RigError.unexpectedOutput(
                command: session.commandLine, reason: "no transcript (\(error))",
                output: output + session.standardError)
        }
    }

    /// An RFC 5322 message with CRLF line ends.
    static func rawMessage(
        from: String = "customer@example.test", to: String, subject: String, messageID: String,
        body: String = "Hello,\r\nplease help.\r\n"
    ) -> String {
        "From: \(from)\r\nTo: \(to)\r\nSubject: \(subject)\r\nMessage-ID: \(messageID)\r\n"
            + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    }

    private static let smtpInjector = #"""
        import json, smtplib, sys, time
        from email.message import EmailMessage
        from email.utils import formatdate

        spec = json.load(open(sys.argv[1]))
        client = smtplib.SMTP("127.0.0.1", spec["port"], timeout=60)
        client.ehlo("injector.rig.test")
        for m in spec["messages"]:
            if m.get("raw"):
                data = m["raw"].encode()
            else:
                data = None
            msg = EmailMessage()
            msg["From"] = m["from"]
            msg["To"] = ", ".join(m["to"])
            msg["Subject"] = m["subject"]
            msg["Date"] = formatdate()
            msg["Message-ID"] = m["message_id"]
            if m.get("in_reply_to"):
                msg["In-Reply-To"] = m["in_reply_to"]
                msg["References"] = m["in_reply_to"]
            msg.set_content(m["body"])
            code, reply = client.mail(m["from"])
            if code != 250:
                sys.exit(f"MAIL FROM refused: {code} {reply!r}")
            for rcpt in m["to"]:
                code, reply = client.rcpt(rcpt)
                if code != 250:
                    sys.exit(f"RCPT TO:<{rcpt}> refused: {code} {reply!r}")
            code, reply = client.data(data if data is not None else msg.as_bytes())
            if code != 250:
                sys.exit(f"DATA refused: {code} {reply!r}")
            print(reply.decode().rsplit(" ", 1)[-1], m["message_id"], flush=True)
            if spec["delay"]:
                time.sleep(spec["delay"])
        client.quit()
        """#

    private static let lmtpSession = #"""
        import json, os, smtplib, sys, time

        spec = json.load(open(sys.argv[1]))
        out = {"rcpt": [], "data": [], "data_start": None, "error": None}

        def reply(pair):
            return {"code": pair[0], "text": pair[1].decode(errors="replace")}

        try:
            client = smtplib.LMTP(spec["socket"], timeout=60)  # a leading "/" means a unix socket
            out["greeting"] = 220  # connect() raised otherwise
            out["lhlo"] = client.ehlo("rig.test")[0]
            out["mail"] = reply(client.mail(spec["from"]))
            for rcpt in spec["rcpts"]:
                out["rcpt"].append(reply(client.rcpt(rcpt)))
            accepted = sum(1 for r in out["rcpt"] if r["code"] // 100 == 2)
            if accepted:
                out["data_start"] = client.docmd("DATA")[0]
                lines = spec["message"].encode().replace(b"\r\n", b"\n").split(b"\n")
                if lines and lines[-1] == b"":
                    lines.pop()
                payload = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"
                cut = spec.get("pause_after_bytes")
                if cut:
                    client.send(payload[:cut])
                    open(spec["paused_marker"], "w").close()
                    deadline = time.time() + 60
                    while not os.path.exists(spec["resume_marker"]) and time.time() < deadline:
                        time.sleep(0.02)
                    client.send(payload[cut:])
                else:
                    client.send(payload)
                for _ in range(accepted):
                    out["data"].append(reply(client.getreply()))
            try:
                client.quit()
            except Exception:
                pass
        except Exception as e:
            out["error"] = repr(e)
        out.setdefault("greeting", 0)
        out.setdefault("lhlo", 0)
        out.setdefault("mail", {"code": 0, "text": ""})
        print(json.dumps(out))
        """#
}
