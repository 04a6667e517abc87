import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EndToEndTests {
    /// Proves the Dovecot rig on its own, with clients written here byte by byte (and openssl for TLS): if
    /// these fail, the poller's tests against it cannot be trusted either.
    @Suite("Dovecot rig")
    struct DovecotInstanceTests {
        static let password = "bench-pw"
        /// Raw UTF-8 in the header and body, and an RFC 2047 B-encoded word ("Überweisung").
        static let subject = "=?UTF-8?B?w5xiZXJ3ZWlzdW5n?= und Größe"
        static let message = Array(
            """
            From: Zoë Ångström <zoe@example.test>\r
            To: bench@dovecot.test\r
            Subject: \(subject)\r
            Message-ID: <rig-1@example.test>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r
            Grüße aus Köln — 東京\r
            .a line starting with a dot\r

            """.utf8)

        @Test("Dovecot takes mail over LMTP and serves it over IMAP, IMAPS, POP3 and POP3S; doveadm sees it")
        func deliversAndServes() async throws {
            try DovecotInstance.requireInstalled()
            let scratch = try ScratchDirectory(label: "dovecot")
            let dovecot = try DovecotInstance(in: scratch, users: ["bench": Self.password, "other": "other-pw"])
            do {
                try await dovecot.start()
                try dovecot.deliver(Self.message, to: "bench")
                #expect(try await dovecot.messageCount(user: "bench") == 1)
                #expect(try await dovecot.messageCount(user: "other") == 0)
                #expect(try await dovecot.uids(user: "bench") == [1])
                #expect(try await dovecot.headerValues("Subject", user: "bench") == [Self.subject])
                let bodies = try await dovecot.messageBodies(user: "bench")
                #expect(bodies.count == 1 && bodies[0].hasPrefix("Grüße aus Köln — 東京\n.a line"))

                // IMAP: the exact bytes come back, and BODY.PEEK leaves the message unread.
                let imap = try LoopbackTextConnection(port: dovecot.imapPort)
                try Self.imapLogin(imap)
                let literal = try Self.imapFetch(imap, uid: 1)
                // Dovecot adds Return-Path, Delivered-To and Received above the delivered bytes.
                #expect(
                    literal.count > Self.message.count && literal.suffix(Self.message.count).elementsEqual(Self.message)
                )
                #expect(try await dovecot.flags(user: "bench", uid: 1)?.contains("\\Seen") == false)
                #expect(try await dovecot.flags(user: "bench", uid: 7) == nil)

                // POP3: RETR dot-stuffs; the UIDL is %08Xu%08Xv.
                let pop3 = try LoopbackTextConnection(port: dovecot.pop3Port)
                #expect(try pop3.readLine().hasPrefix("+OK"))
                for command in ["USER bench", "PASS \(Self.password)"] {
                    try pop3.send(command)
                    #expect(try pop3.readLine().hasPrefix("+OK"), "\(command)")
                }
                try pop3.send("UIDL 1")
                let validity = try await dovecot.uidValidity(user: "bench")
                // Dovecot 2.3 spells %X in lowercase.
                let validityHex = String(validity, radix: 16)
                let uidl = try pop3.readLine()
                #expect(uidl == "+OK 1 00000001" + String(repeating: "0", count: 8 - validityHex.count) + validityHex)
                try pop3.send("RETR 1")
                let retrieved = try pop3.readLines { $0 == "." }
                #expect(retrieved.first?.hasPrefix("+OK") == true)
                #expect(retrieved.contains("Subject: \(Self.subject)"))
                #expect(retrieved.contains("Grüße aus Köln — 東京"))
                #expect(retrieved.contains("..a line starting with a dot"))
                try pop3.send("QUIT")

                // TLS: the generated certificate verifies for "localhost", and only for it.
                let imaps = try await Self.overTLS(
                    port: dovecot.imapsPort, caFile: dovecot.certificatePath, scratch: scratch, label: "imaps",
                    lines: [
                        "a LOGIN bench \(Self.password)", "b SELECT INBOX", "c UID FETCH 1 BODY.PEEK[]", "d LOGOUT",
                    ])
                #expect(imaps.handshake.contains("Verification: OK"), "\(imaps.handshake)")
                #expect(imaps.output.contains("Grüße aus Köln — 東京"))
                #expect(imaps.output.contains("c OK"))
                let pop3s = try await Self.overTLS(
                    port: dovecot.pop3sPort, caFile: dovecot.certificatePath, scratch: scratch, label: "pop3s",
                    lines: ["USER bench", "PASS \(Self.password)", "RETR 1", "QUIT"])
                #expect(pop3s.handshake.contains("Verification: OK"), "\(pop3s.handshake)")
                #expect(pop3s.output.contains("Grüße aus Köln — 東京"))
                await #expect(throws: RigError.self) {
                    try await Self.overTLS(
                        port: dovecot.imapsPort, caFile: dovecot.certificatePath, scratch: scratch,
                        label: "wrong-name", lines: ["a LOGOUT"], hostname: "mail.example.test")
                }

                // A non-ASCII folder: doveadm takes UTF-8, IMAP lists modified UTF-7.
                try await dovecot.createFolder("Bestätigt", user: "bench")
                try await dovecot.save(Self.message, user: "bench", folder: "Bestätigt")
                #expect(try await dovecot.messageCount(user: "bench", folder: "Bestätigt") == 1)
                try await dovecot.expungeAll(user: "bench", folder: "Bestätigt")
                #expect(try await dovecot.messageCount(user: "bench", folder: "Bestätigt") == 0)
                #expect(try await dovecot.messageCount(user: "bench") == 1)
                try imap.send("l LIST \"\" \"*\"")
                let listing = try imap.readLines { $0.hasPrefix("l ") }
                #expect(listing.contains { $0.hasSuffix(" Best&AOQ-tigt") }, "\(listing)")

                // A UIDVALIDITY change is what the next SELECT reports.
                try await dovecot.setUIDValidity(user: "bench", value: validity &+ 1000)
                #expect(try await dovecot.uidValidity(user: "bench") == validity &+ 1000)
                try imap.send("s SELECT INBOX")
                let selected = try imap.readLines { $0.hasPrefix("s ") }
                #expect(selected.contains("* OK [UIDVALIDITY \(validity &+ 1000)] UIDs valid"), "\(selected)")

                // An IDLE session hears of a delivery within a couple of seconds.
                try imap.send("i IDLE")
                #expect(try imap.readLine().hasPrefix("+ "))
                let delivered = Date()
                try dovecot.deliver(Self.message, to: "bench")
                let untagged = try imap.readLines { $0.hasSuffix(" EXISTS") }
                #expect(untagged.last == "* 2 EXISTS", "\(untagged)")
                #expect(Date().timeIntervalSince(delivered) < 3)
                try imap.send("DONE")
                #expect(try imap.readLines { $0.hasPrefix("i ") }.last?.hasPrefix("i OK") == true)

                // kick drops the open session.
                try await dovecot.kick(user: "bench")
                #expect(imap.waitForClose(seconds: 10))

                // stop leaves nothing running, even with a client in IDLE (its imap process outlives the master).
                let idling = try LoopbackTextConnection(port: dovecot.imapPort)
                try Self.imapLogin(idling)
                try idling.send("i IDLE")
                #expect(try idling.readLine().hasPrefix("+ "))
                let pids = dovecot.processIDs()
                #expect(pids.count > 3)
                let stopping = Date()
                await dovecot.stop()
                #expect(Date().timeIntervalSince(stopping) < 5)
                #expect(!pids.contains(where: processIsAlive))
                #expect(idling.waitForClose(seconds: 5))
                #expect(dovecot.processIDs().isEmpty)
                #expect(!LoopbackSockets.acceptsConnections(port: dovecot.imapPort))
            } catch {
                await dovecot.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            scratch.remove()
        }

        @Test("A wrong password is refused within a second, the right one taken right after; no mail for unknown users")
        func refusesQuickly() async throws {
            try DovecotInstance.requireInstalled()
            let scratch = try ScratchDirectory(label: "dovecot-auth")
            let dovecot = try DovecotInstance(in: scratch, users: ["bench": Self.password])
            do {
                try await dovecot.start()
                let imap = try LoopbackTextConnection(port: dovecot.imapPort)
                _ = try imap.readLine()
                let began = Date()
                try imap.send("a LOGIN bench wrong")
                let reply = try imap.readLines { $0.hasPrefix("a ") }.last ?? ""
                #expect(reply.hasPrefix("a NO [AUTHENTICATIONFAILED]"), "\(reply)")
                // No penalty for the next attempt either.
                try imap.send("b LOGIN bench \(Self.password)")
                #expect(try imap.readLines { $0.hasPrefix("b ") }.last?.hasPrefix("b OK") == true)
                #expect(Date().timeIntervalSince(began) < 1.5)
                #expect(throws: RigError.self) { try dovecot.deliver(Self.message, to: "nobody-here") }
            } catch {
                await dovecot.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await dovecot.stop()
            scratch.remove()
        }

        /// A stand-in for the OAuth token server's introspection endpoint (RFC 7662, form `token=`): only
        /// `good-token` is active, for user bench.
        static let introspectionServer = """
            import json, sys, urllib.parse
            from http.server import BaseHTTPRequestHandler, HTTPServer
            class Introspect(BaseHTTPRequestHandler):
                def do_POST(self):
                    form = urllib.parse.parse_qs(self.rfile.read(int(self.headers['Content-Length'])).decode())
                    good = self.path == '/introspect' and form.get('token') == ['good-token']
                    body = json.dumps({'active': True, 'username': 'bench'} if good else {'active': False}).encode()
                    self.send_response(200)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
            HTTPServer(('127.0.0.1', int(sys.argv[1])), Introspect).serve_forever()
            """

        @Test("With an introspection URL, XOAUTH2 (IMAP) and OAUTHBEARER (POP3) log in with an active token only")
        func oauthLogins() async throws {
            try DovecotInstance.requireInstalled()
            let python = try #require(findExecutable("python3"), "python3 runs the introspection stand-in")
            let scratch = try ScratchDirectory(label: "dovecot-oauth")
            let port = try LoopbackSockets.freePort()
            try Self.introspectionServer.write(toFile: scratch.file("introspect.py"), atomically: true, encoding: .utf8)
            let server = try ChildProcess(
                executable: python, arguments: [scratch.file("introspect.py"), String(port)],
                outputPrefix: scratch.file("introspect"))
            let dovecot = try DovecotInstance(
                in: scratch, users: ["bench": Self.password],
                oauthIntrospectionURL: "http://127.0.0.1:\(port)/introspect")
            do {
                try #require(await waitUntil(seconds: 10) { LoopbackSockets.acceptsConnections(port: port) })
                try await dovecot.start()
                func xoauth2(_ token: String) -> String {
                    Data("user=bench\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8).base64EncodedString()
                }
                let imap = try LoopbackTextConnection(port: dovecot.imapPort)
                #expect(try imap.readLine().contains("AUTH=XOAUTH2 AUTH=OAUTHBEARER"))
                try imap.send("a AUTHENTICATE XOAUTH2 \(xoauth2("revoked-token"))")
                // A refused bearer token gets a JSON error challenge first; the empty answer ends the exchange.
                var reply = try imap.readLine()
                if reply.hasPrefix("+ ") {
                    try imap.send("")
                    reply = try imap.readLine()
                }
                #expect(reply.hasPrefix("a NO [AUTHENTICATIONFAILED]"), "\(reply)")
                // The password is not a bearer token.
                try imap.send("p AUTHENTICATE XOAUTH2 \(xoauth2(Self.password))")
                reply = try imap.readLine()
                if reply.hasPrefix("+ ") {
                    try imap.send("")
                    reply = try imap.readLine()
                }
                #expect(reply.hasPrefix("p NO [AUTHENTICATIONFAILED]"), "\(reply)")
                try imap.send("b AUTHENTICATE XOAUTH2 \(xoauth2("good-token"))")
                let accepted = try imap.readLines { $0.hasPrefix("b ") }
                #expect(accepted.last?.hasPrefix("b OK") == true, "\(accepted)")

                let pop3 = try LoopbackTextConnection(port: dovecot.pop3Port)
                _ = try pop3.readLine()
                let bearer =
                    "n,a=bench,\u{1}host=localhost\u{1}port=\(dovecot.pop3Port)\u{1}auth=Bearer good-token\u{1}\u{1}"
                try pop3.send("AUTH OAUTHBEARER \(Data(bearer.utf8).base64EncodedString())")
                #expect(try pop3.readLine().hasPrefix("+OK"))
                // The password still logs in with PLAIN/LOGIN.
                let plain = try LoopbackTextConnection(port: dovecot.imapPort)
                _ = try plain.readLine()
                try plain.send("a LOGIN bench \(Self.password)")
                #expect(try plain.readLines { $0.hasPrefix("a ") }.last?.hasPrefix("a OK") == true)
            } catch {
                await dovecot.stop()
                await server.stop()
                throw RigFailure(underlying: error, scratch: scratch.path)
            }
            await dovecot.stop()
            await server.stop()
            scratch.remove()
        }

        /// Reads the greeting and logs in as bench; selects INBOX.
        static func imapLogin(_ imap: LoopbackTextConnection) throws {
            #expect(try imap.readLine().hasPrefix("* OK"))
            try imap.send("a LOGIN bench \(password)")
            let login = try imap.readLines { $0.hasPrefix("a ") }
            try #require(login.last?.hasPrefix("a OK") == true, "\(login)")
            try imap.send("b SELECT INBOX")
            let selected = try imap.readLines { $0.hasPrefix("b ") }
            try #require(selected.last?.hasPrefix("b OK") == true, "\(selected)")
        }

        /// `UID FETCH uid BODY.PEEK[]`: the literal's bytes.
        static func imapFetch(_ imap: LoopbackTextConnection, uid: UInt32) throws -> [UInt8] {
            try imap.send("f UID FETCH \(uid) BODY.PEEK[]")
            let header = try imap.readLine()
            guard header.hasPrefix("* "), header.hasSuffix("}"), let open = header.lastIndex(of: "{"),
                let size = Int(header[header.index(after: open)..<header.index(before: header.endIndex)])
            else {
                throw RigError.unexpectedOutput(command: "UID FETCH", reason: "no literal", output: header)
            }
            let literal = try imap.readBytes(count: size)
            let rest = try imap.readLines { $0.hasPrefix("f ") }
            try #require(rest.last?.hasPrefix("f OK") == true, "\(rest)")
            return literal
        }

        /// One TLS session with `openssl s_client`, verifying the server's certificate against `caFile` and
        /// `hostname`; throws when verification fails. Returns the handshake summary and what the server sent.
        static func overTLS(
            port: UInt16, caFile: String, scratch: ScratchDirectory, label: String, lines: [String],
            hostname: String = "localhost"
        ) async throws -> (handshake: String, output: String) {
            let input = scratch.file("\(label).in")
            try lines.map { $0 + "\r\n" }.joined().write(toFile: input, atomically: true, encoding: .utf8)
            // -ign_eof: the session ends when the server closes it (after LOGOUT or QUIT), not at the input's end.
            let child = try ChildProcess(
                executable: findExecutable("openssl") ?? "/usr/bin/openssl",
                arguments: [
                    "s_client", "-brief", "-connect", "127.0.0.1:\(port)", "-servername", hostname, "-CAfile",
                    caFile, "-verify_hostname", hostname, "-verify_return_error", "-ign_eof",
                ], outputPrefix: scratch.file(label), standardInputPath: input)
            guard await child.waitForExit(seconds: 20) else {
                await child.stop()
                throw RigError.timedOut(what: "openssl s_client", seconds: 20, detail: child.standardError)
            }
            guard child.terminationStatus == 0, child.standardError.contains("Verification: OK") else {
                throw RigError.commandFailed(
                    command: child.commandLine, status: child.terminationStatus,
                    output: child.standardError + child.standardOutput)
            }
            return (child.standardError, child.standardOutput)
        }
    }
}
