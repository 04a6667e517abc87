import Foundation
import NIOCore
import NIOPosix
import SMTPTransport
import TestSupport
import Testing

/// Clients that cost the server more than their share: they pipeline without reading their replies, trickle
/// their input to stay just inside the idle timeouts, fill every SMTP slot, or probe recipients without end.
@Suite("Slow and greedy clients over real sockets", .serialized, .timeLimit(.minutes(3)))
struct SlowClientTests {
    /// Sends `NOOP` lines without reading a single reply until the server stops taking them (no progress for
    /// `stall` seconds: long enough that a server merely starved of CPU on a busy machine is not mistaken for
    /// one that stopped reading) or `limit` octets went out; then reads every reply while it completes the last
    /// line and QUITs. With a CA file as fifth argument it first starts TLS. Prints JSON: whether sending
    /// stalled, the octets sent, the NOOP replies counted, the last reply line, and how the connection ended.
    static let pipeliningClient =
        pythonRawClient + """
            import select, ssl
            target = sys.argv[1] if sys.argv[1].startswith('/') else ('127.0.0.1', int(sys.argv[1]))
            limit = int(sys.argv[2]); hello = sys.argv[3].encode(); stall = float(sys.argv[4])
            cafile = sys.argv[5] if len(sys.argv) > 5 else None
            family = socket.AF_UNIX if isinstance(target, str) else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            # Small buffers on our side: what the server holds back must show, not what our kernel soaks up.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
            s.connect(target); s.settimeout(10); f = s.makefile('rb')
            reply(f); s.sendall(hello + b' c\\r\\n'); reply(f)
            if cafile:
                s.sendall(b'STARTTLS\\r\\n'); reply(f)
                s = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname='localhost')
                f = s.makefile('rb'); s.sendall(hello + b' c\\r\\n'); reply(f)
            chunk = b'NOOP\\r\\n' * 20000
            s.setblocking(False)
            sent = 0; ended = ''
            last = time.monotonic()
            while sent < limit:
                _, writable, _ = select.select([], [s], [], 0.2)
                if not writable:
                    if time.monotonic() - last > stall: break
                    continue
                offset = sent % len(chunk)
                try:
                    n = s.send(chunk[offset:offset + min(len(chunk) - offset, limit - sent, 16384)])
                except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    continue
                except OSError as e:
                    ended = 'send: ' + type(e).__name__; break
                sent += n; last = time.monotonic()
            stalled = sent < limit and not ended
            # Now read everything, and send the rest of the last line and QUIT as the server takes them (one
            # thread: an SSL socket must not be used from two at once).
            partial = sent % 6
            rest = (b'NOOP\\r\\n'[partial:] if partial else b'') + b'QUIT\\r\\n'
            data = bytearray()
            give_up = time.monotonic() + 60
            while time.monotonic() < give_up:
                readable, writable, _ = select.select([s], [s] if rest else [], [], 1)
                if readable or (cafile and s.pending()):
                    try:
                        block = s.recv(1 << 20)
                    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        block = None
                    except OSError as e:
                        ended = ended or 'recv: ' + type(e).__name__; break
                    if block == b'':
                        ended = ended or 'EOF'; break
                    if block:
                        data += block
                if writable and rest:
                    try:
                        rest = rest[s.send(rest):]
                    except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                        pass
                    except OSError:
                        rest = b''
            noops = data.count(b'250 2.0.0 Ok\\r\\n')
            lines = bytes(data).rstrip(b'\\r\\n').split(b'\\r\\n')
            print(json.dumps({'stalled': stalled, 'sent': sent, 'noops': noops, 'expected': (sent + 5) // 6,
                              'last': lines[-1].decode() if data else '', 'ended': ended}))
            """

    struct PipeliningOutcome: Decodable {
        var stalled: Bool
        var sent: Int
        var noops: Int
        var expected: Int
        var last: String
        var ended: String
    }

    static func residentKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    func pipeline(target: String, limit: Int, hello: String, stall: Double = 4, certificate: String? = nil)
        async throws -> PipeliningOutcome
    {
        let before = Self.residentKilobytes()
        let result = try await runPython(
            Self.pipeliningClient,
            arguments: [target, String(limit), hello, String(stall)] + (certificate.map { [$0] } ?? []),
            timeout: 120)
        #expect(result.status == 0, "\(result.error)")
        let outcome = try JSONDecoder().decode(PipeliningOutcome.self, from: Data(result.output.utf8))
        print(
            "pipelining without reading (\(hello)): \(outcome.sent) octets taken before the server stopped reading; "
                + "resident memory \(before / 1024) -> \(Self.residentKilobytes() / 1024) MiB")
        return outcome
    }

    @Test func lmtpClientThatNeverReadsIsThrottledThenServedInFull() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = makeServer(backend: RecordingBackend())
        let path = directory.path + "/lmtp.sock"
        try await server.listenUnix(path: path)
        // 32 MiB of NOOPs would be 77 MiB of replies held for a client that never reads them.
        let outcome = try await pipeline(target: path, limit: 32 << 20, hello: "LHLO")
        #expect(outcome.stalled, "the server kept reading from a client that reads nothing: \(outcome)")
        #expect(outcome.sent < 4 << 20, "\(outcome)")
        // Throttled, not broken: once the client reads, every command it sent is answered, in order.
        #expect(outcome.noops == outcome.expected, "\(outcome)")
        #expect(outcome.last.hasPrefix("221 "), "\(outcome)")
        #expect(outcome.ended == "EOF")
        await server.shutdownGracefully()
    }

    @Test func smtpClientThatNeverReadsIsThrottledThenServedInFull() async throws {
        let server = makeServer(backend: RecordingBackend())
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0)
        let outcome = try await pipeline(target: String(port), limit: 64 << 20, hello: "EHLO")
        #expect(outcome.stalled, "the server kept reading from a client that reads nothing: \(outcome)")
        #expect(outcome.sent < 24 << 20, "\(outcome)")
        #expect(outcome.noops == outcome.expected, "\(outcome)")
        #expect(outcome.last.hasPrefix("221 "), "\(outcome)")
        await server.shutdownGracefully()
    }

    @Test func smtpClientThatNeverReadsAfterSTARTTLSIsThrottledToo() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = SMTPServerConfiguration(hostname: "mx.test")
        configuration.tls = try makeTLSContext(in: directory)
        let server = makeServer(configuration, backend: RecordingBackend())
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0)
        let outcome = try await pipeline(
            target: String(port), limit: 64 << 20, hello: "EHLO", certificate: directory.path + "/cert.pem")
        #expect(outcome.stalled, "the server kept reading from a client that reads nothing: \(outcome)")
        #expect(outcome.sent < 24 << 20, "\(outcome)")
        #expect(outcome.noops == outcome.expected, "\(outcome)")
        #expect(outcome.last.hasPrefix("221 "), "\(outcome)")
        await server.shutdownGracefully()
    }

    @Test func repliesPilingUpBeyondTheBoundCloseTheSession() async throws {
        var configuration = SMTPServerConfiguration(hostname: "mx.test")
        configuration.maxPendingOutput = 4096
        let server = makeServer(configuration, backend: RecordingBackend())
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0)
        let started = ContinuousClock.now
        // The client must keep sending until the server's socket buffers are full: wait out a longer stall.
        let outcome = try await pipeline(target: String(port), limit: 64 << 20, hello: "EHLO", stall: 10)
        // Closed by the server long before any timeout: the client sees its connection end.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(outcome.sent < 24 << 20, "\(outcome)")
        #expect(!outcome.last.hasPrefix("221 "), "the session should have been closed before QUIT: \(outcome)")
        #expect(outcome.noops < outcome.expected, "\(outcome)")
        #expect(await waitUntil(seconds: 20, interval: .milliseconds(10)) { server.activeSessions == 0 })
        await server.shutdownGracefully()
    }

    @Test func commandLineTrickledOctetByOctetIsCutAtTheCommandDeadline() async throws {
        var configuration = SMTPServerConfiguration(hostname: "mx.test")
        configuration.commandTimeout = .seconds(2)
        configuration.commandDeadline = .milliseconds(800)
        let server = makeServer(configuration, backend: RecordingBackend())
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0)
        // One octet every 150 ms: never idle for long, never done.
        let script =
            pythonRawClient + """
                import select
                s, f = connect(('127.0.0.1', int(sys.argv[1]))); reply(f)
                s.sendall(b'EHLO c\\r\\n'); reply(f)
                start = time.monotonic(); answer = 'none'
                for octet in b'NOOP ' + b'x' * 60:
                    try:
                        s.sendall(bytes([octet]))
                    except OSError:
                        break
                    if select.select([s], [], [], 0.15)[0]:
                        answer = reply(f); break
                print(answer[:9], round(time.monotonic() - start, 1), reply(f))
                """
        let result = try await runPython(script, arguments: [String(port)])
        #expect(result.status == 0, "\(result.error)")
        let fields = result.output.split(separator: " ")
        #expect(fields.count == 4, "\(result.output)")
        #expect(fields.prefix(2) == ["421", "4.4.2"], "\(result.output)")
        let elapsed = Double(fields.count > 2 ? fields[2] : "") ?? -1
        // Each octet restarts the idle timeout (2 s): without the deadline, the line would go on for 10 s.
        #expect(elapsed >= 0.6 && elapsed < 5, "cut after \(elapsed) s: \(result.output)")
        #expect(fields.last == "EOF\n")
        await server.shutdownGracefully()
    }

    @Test func transactionTrickledLineByLineIsCutAtTheTransactionDeadline() async throws {
        let backend = RecordingBackend()
        var configuration = SMTPServerConfiguration(hostname: "mx.test")
        configuration.commandTimeout = .seconds(4)
        configuration.dataTimeout = .seconds(4)
        configuration.transactionDeadline = .milliseconds(2500)
        let server = makeServer(configuration, backend: backend)
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0, dialect: .lmtp)
        // Two transactions of about 1 s each pass (the deadline is per transaction, not per session); the third
        // trickles its DATA one line every 200 ms, never idle for long, and never ends.
        let script =
            pythonRawClient + """
                import select
                s, f = connect(('127.0.0.1', int(sys.argv[1]))); reply(f)
                s.sendall(b'LHLO c\\r\\n'); reply(f)
                def begin():
                    s.sendall(b'MAIL FROM:<s@x.test>\\r\\n'); time.sleep(0.3)
                    s.sendall(b'RCPT TO:<a@x.test>\\r\\nDATA\\r\\n')
                    return [reply(f)[:3] for _ in range(3)]
                out = []
                for n in range(2):
                    out += begin()
                    for line in range(3):
                        s.sendall(b'Subject: slow but steady\\r\\n'); time.sleep(0.2)
                    s.sendall(b'\\r\\nd\\xc3\\xa9j\\xc3\\xa0 vu\\r\\n.\\r\\n'); out.append(reply(f)[:3])
                out += begin()
                start = time.monotonic(); answer = 'none'
                for line in range(60):
                    try:
                        s.sendall(b'X-Trickle: \\xe2\\x80\\xa6\\r\\n')
                    except OSError:
                        break
                    if select.select([s], [], [], 0.2)[0]:
                        answer = reply(f); break
                print(' '.join(out), answer[:9], round(time.monotonic() - start, 1), reply(f))
                """
        let result = try await runPython(script, arguments: [String(port)], timeout: 30)
        #expect(result.status == 0, "\(result.error)")
        let fields = result.output.split(separator: " ")
        // Two whole transactions, the third's MAIL, RCPT and DATA, then 421, the seconds it took, and EOF.
        #expect(fields.count == 15, "\(result.output)")
        #expect(
            Array(fields.prefix(13))
                == ["250", "250", "354", "250", "250", "250", "354", "250", "250", "250", "354", "421", "4.4.2"],
            "\(result.output)")
        #expect(fields.last == "EOF\n", "\(result.output)")
        #expect(backend.deliveries.count == 2, "a message cut at its deadline is never delivered")
        #expect(
            backend.deliveries.first.map { String(decoding: $0.data, as: UTF8.self) }?.contains("déjà vu") == true)
        await server.shutdownGracefully()
    }

    @Test func lmtpStillConnectsWhileEverySMTPSlotIsTaken() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let backend = RecordingBackend()
        var configuration = SMTPServerConfiguration(hostname: "mx.test")
        configuration.maxConnections = 2
        configuration.maxLMTPConnections = 2
        let server = makeServer(configuration, backend: backend)
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0)
        let path = directory.path + "/lmtp.sock"
        try await server.listenUnix(path: path)
        let script =
            pythonRawClient + """
                # One after the other: each greeting is read before the next connection is made.
                def greeted(target):
                    s, f = connect(target)
                    return s, f, reply(f)[:9]
                smtp = [greeted(('127.0.0.1', int(sys.argv[1]))) for _ in range(3)]
                print(' '.join(g for s, f, g in smtp))
                lmtp = [greeted(sys.argv[2]) for _ in range(3)]
                print(' '.join(g for s, f, g in lmtp))
                s, f, _ = lmtp[0]
                s.sendall(b'LHLO c\\r\\nMAIL FROM:<s@x.test>\\r\\nRCPT TO:<a@x.test>\\r\\nDATA\\r\\n')
                for _ in range(4): reply(f)
                s.sendall('Subject: =?UTF-8?B?w4dhIG1hcmNoZQ==?=\\r\\n\\r\\nÇa marche.\\r\\n.\\r\\n'.encode())
                print(reply(f)[:9])
                """
        let result = try await runPython(script, arguments: [String(port), path])
        #expect(result.status == 0, "\(result.error)")
        #expect(
            result.output
                == "220 mx.te 220 mx.te 421 4.3.2\n220 mx.te 220 mx.te 421 4.3.2\n250 2.0.0\n")
        #expect(backend.deliveries.count == 1)
        #expect(backend.deliveries.first?.session.dialect == .lmtp)
        await server.shutdownGracefully()
    }

    @Test func refusedRecipientFloodOverSMTPEndsWith421() async throws {
        let backend = RecordingBackend()
        let server = makeServer(backend: backend)
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0)
        let script =
            pythonRawClient + """
                s, f = connect(('127.0.0.1', int(sys.argv[1]))); reply(f)
                s.sendall(b'EHLO c\\r\\nMAIL FROM:<s@x.test>\\r\\n'); reply(f); reply(f)
                s.sendall(b''.join(b'RCPT TO:<guess%d@x.test>\\r\\n' % n for n in range(30)))
                out = []
                while True:
                    r = reply(f)
                    out.append(r[:9])
                    if r == 'EOF': break
                print(' '.join(out))
                """
        let result = try await runPython(script, arguments: [String(port)])
        #expect(result.status == 0, "\(result.error)")
        // The default error limit is 20, as Postfix's smtpd_hard_error_limit.
        let expected = Array(repeating: "550 5.1.1", count: 20) + ["421 4.7.0", "EOF"]
        #expect(result.output == expected.joined(separator: " ") + "\n")
        #expect(backend.deliveries.isEmpty)
        await server.shutdownGracefully()
    }

    @Test func refusedRecipientsInLMTPStillLetTheGoodOnesThrough() async throws {
        let backend = RecordingBackend()
        let server = makeServer(backend: backend)
        let port = try await server.listenTCP(host: "127.0.0.1", port: 0, dialect: .lmtp)
        let script =
            pythonRawClient + """
                s, f = connect(('127.0.0.1', int(sys.argv[1]))); reply(f)
                s.sendall(b'LHLO c\\r\\nMAIL FROM:<s@x.test>\\r\\n'); reply(f); reply(f)
                s.sendall(b''.join(b'RCPT TO:<gone%d@x.test>\\r\\n' % n for n in range(30)))
                out = [reply(f)[:3] for _ in range(30)]
                s.sendall(b'RCPT TO:<b@x.test>\\r\\nDATA\\r\\n'); out += [reply(f)[:3], reply(f)[:3]]
                s.sendall(b'Subject: one good one\\r\\n\\r\\nhi\\r\\n.\\r\\n'); out.append(reply(f)[:3])
                print(' '.join(sorted(set(out[:30]))), ' '.join(out[30:]))
                """
        let result = try await runPython(script, arguments: [String(port)])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "550 250 354 250\n")
        #expect(backend.deliveries.map(\.recipients) == [["b@x.test"]])
        await server.shutdownGracefully()
    }
}
