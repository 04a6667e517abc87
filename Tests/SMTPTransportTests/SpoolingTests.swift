import Foundation
import NIOCore
import NIOPosix
import SMTPTransport
import TestSupport
import Testing

/// Messages over the spool threshold go to a spool file while they arrive; the backend reads them mapped.
@Suite("Spooling large messages over real sockets", .serialized, .timeLimit(.minutes(2)))
struct SpoolingTests {
    /// An LMTP client sending one message of `lines` numbered lines (some needing dot-stuffing), then NOOP.
    static let client = """
        import smtplib, sys, json
        path, lines, size_limit_test = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1'
        s = smtplib.LMTP(path)
        s.ehlo('postfix.test')
        s.mail('sender@example.org')
        out = [s.rcpt('a@x.test')[0], s.rcpt('b@x.test')[0]]
        s.putcmd('data'); out.append(s.getreply()[0])
        body = b'Subject: big\\r\\n\\r\\n' + b''.join(
            (b'..dotted ' if i % 5 == 0 else b'line ') + str(i).encode() + b' ' + b'x' * 60 + b'\\r\\n' for i in range(lines))
        s.send(body + b'.\\r\\n')
        for _ in range(2):
            code, text = s.getreply(); out.append([code, text.decode()])
        out.append(s.noop()[0])
        out.append(s.quit()[0])
        print(json.dumps(out))
        """

    static func expectedMessage(lines: Int) -> [UInt8] {
        var text = "Subject: big\r\n\r\n"
        for index in 0..<lines {
            text += (index % 5 == 0 ? ".dotted " : "line ") + "\(index) " + String(repeating: "x", count: 60) + "\r\n"
        }
        return Array(text.utf8)
    }

    /// A server whose sessions spool past 64 KiB into `spool` (created unless `createSpool` is false), on an LMTP
    /// socket in a fresh directory.
    struct SpoolingServer {
        let directory: TemporaryDirectory
        let spool: String
        let socket: String
        let backend = RecordingBackend()
        let server: SMTPServer

        init(maxMessageSize: Int = 52_428_800, createSpool: Bool = true) async throws {
            directory = try TemporaryDirectory()
            spool = directory.path + (createSpool ? "/spool" : "/no-such-spool")
            if createSpool {
                try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: false)
            }
            server = makeServer(
                SMTPServerConfiguration(
                    hostname: "mx.test", maxMessageSize: maxMessageSize, spoolDirectory: spool,
                    spoolThreshold: 64 * 1024),
                backend: backend)
            socket = directory.path + "/lmtp.sock"
            try await server.listenUnix(path: socket)
        }

        func stop() async {
            await server.shutdownGracefully()
            directory.remove()
        }
    }

    @Test func aMessageOverTheThresholdIsSpooledAndDeliveredWhole() async throws {
        let rig = try await SpoolingServer()
        let (backend, spool, path) = (rig.backend, rig.spool, rig.socket)
        let result = try await runPython(Self.client, arguments: [path, "40000", "0"], timeout: 60)
        #expect(result.status == 0, "\(result.error)")
        let replies = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [Any])
        #expect(replies.prefix(3).compactMap { $0 as? Int } == [250, 250, 354])
        #expect(replies[3..<5].compactMap { ($0 as? [Any])?.first as? Int } == [250, 250])
        #expect(replies.suffix(2).compactMap { $0 as? Int } == [250, 221])

        let expected = Self.expectedMessage(lines: 40000)
        #expect(backend.spooledSizes == [expected.count], "the backend got a spooled message")
        #expect(backend.deliveries.first?.data == expected)
        // Spool files never have a name on disk.
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty)
        await rig.stop()
    }

    @Test func aSpoolThatCannotBeWrittenGets451AndTheSessionGoesOn() async throws {
        let rig = try await SpoolingServer(createSpool: false)
        let (backend, path) = (rig.backend, rig.socket)
        let result = try await runPython(Self.client, arguments: [path, "20000", "0"], timeout: 60)
        #expect(result.status == 0, "\(result.error)")
        let replies = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [Any])
        let afterData = replies[3..<5].compactMap { $0 as? [Any] }
        #expect(afterData.compactMap { $0.first as? Int } == [451, 451])
        #expect(afterData.allSatisfy { ($0.last as? String)?.hasPrefix("4.3.0 Cannot spool the message") == true })
        #expect(afterData.allSatisfy { ($0.last as? String)?.contains("no-such-spool") == true })
        #expect(replies.suffix(2).compactMap { $0 as? Int } == [250, 221], "the session carries on")
        #expect(backend.deliveryCount == 0, "nothing half-received reaches the backend")

        // A small message on the same server still goes through, held in memory.
        let small = try await runPython(Self.client, arguments: [path, "10", "0"], timeout: 60)
        let smallReplies = try #require(try JSONSerialization.jsonObject(with: Data(small.output.utf8)) as? [Any])
        #expect(smallReplies[3..<5].compactMap { ($0 as? [Any])?.first as? Int } == [250, 250])
        #expect(backend.spooledSizes.isEmpty)
        await rig.stop()
    }

    @Test func aSpooledMessageOverTheSizeLimitIsRefusedAndItsSpoolDropped() async throws {
        let rig = try await SpoolingServer(maxMessageSize: 1_000_000)
        let (backend, spool, path) = (rig.backend, rig.spool, rig.socket)
        let result = try await runPython(Self.client, arguments: [path, "40000", "0"], timeout: 60)
        #expect(result.status == 0, "\(result.error)")
        let replies = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [Any])
        #expect(replies[3..<5].compactMap { ($0 as? [Any])?.first as? Int } == [552, 552])
        #expect(replies.suffix(2).compactMap { $0 as? Int } == [250, 221])
        #expect(backend.deliveryCount == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty)
        await rig.stop()
    }

    /// Sends half of a large message, signals, waits for the go-ahead, sends the rest and reads what follows.
    static let pausingClient = """
        import json, os, socket, sys, time
        path, half_marker, go_marker = sys.argv[1], sys.argv[2], sys.argv[3]
        s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(path); f = s.makefile('rb')
        def reply():
            lines = []
            while True:
                line = f.readline().decode()
                lines.append(line.strip())
                if len(line) < 4 or line[3] != '-': return lines
        out = [reply()]
        for command in [b'LHLO c', b'MAIL FROM:<s@x.test>', b'RCPT TO:<a@x.test>', b'DATA']:
            s.sendall(command + b'\\r\\n'); out.append(reply())
        body = b'Subject: shutdown\\r\\n\\r\\n' + b''.join(b'line %d %s\\r\\n' % (i, b'y' * 70) for i in range(20000))
        half = len(body) // 2
        s.sendall(body[:half])
        open(half_marker, 'w').close()
        while not os.path.exists(go_marker): time.sleep(0.02)
        s.sendall(body[half:] + b'.\\r\\n')
        out.append(reply())
        out.append(reply())
        print(json.dumps(out))
        """

    @Test func aShutdownDuringASpooledMessageLetsItFinishWhole() async throws {
        let rig = try await SpoolingServer()
        defer { rig.directory.remove() }
        let (backend, server, path) = (rig.backend, rig.server, rig.socket)
        let half = rig.directory.path + "/half", go = rig.directory.path + "/go"
        let client = Task { try await runPython(Self.pausingClient, arguments: [path, half, go], timeout: 60) }
        _ = await waitUntil(seconds: 30, interval: .milliseconds(20)) { FileManager.default.fileExists(atPath: half) }
        // SIGTERM's path: stop accepting, let the transaction in flight finish within the grace period.
        let shutdown = Task { await server.shutdownGracefully(grace: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(FileManager.default.createFile(atPath: go, contents: nil))
        let result = try await client.value
        await shutdown.value
        #expect(result.status == 0, "\(result.error)")
        let replies = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String]])
        #expect(replies.count == 7)
        #expect(replies[5].first?.hasPrefix("250 2.0.0") == true, "the message in flight is stored: \(replies)")
        #expect(replies[6].first?.hasPrefix("421") == true, "then the session closes: \(replies)")
        var expected = Array("Subject: shutdown\r\n\r\n".utf8)
        for index in 0..<20000 { expected += Array("line \(index) \(String(repeating: "y", count: 70))\r\n".utf8) }
        #expect(backend.spooledSizes == [expected.count])
        #expect(backend.deliveries.first?.data == expected, "no DATA octet lost while spooling during shutdown")
    }

    @Test func aClientGoneInTheMiddleOfASpooledMessageLeavesNothingBehind() async throws {
        let rig = try await SpoolingServer()
        let (backend, path) = (rig.backend, rig.socket)
        let abandon = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1]); f = s.makefile('rb')
            f.readline()
            s.sendall(b'LHLO c\\r\\nMAIL FROM:<s@x.test>\\r\\nRCPT TO:<a@x.test>\\r\\nDATA\\r\\n')
            while not f.readline().startswith(b'354'): pass
            for i in range(3000): s.sendall(b'abandoned line %d %s\\r\\n' % (i, b'z' * 100))
            s.close()
            """
        for _ in 0..<5 {
            let gone = try await runPython(abandon, arguments: [path], timeout: 60)
            #expect(gone.status == 0, "\(gone.error)")
        }
        // The server carries on: the next client's message is spooled and delivered whole.
        let result = try await runPython(Self.client, arguments: [path, "3000", "0"], timeout: 60)
        let replies = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [Any])
        #expect(replies[3..<5].compactMap { ($0 as? [Any])?.first as? Int } == [250, 250])
        #expect(backend.deliveryCount == 1, "nothing of the abandoned messages was delivered")
        #expect(backend.deliveries.first?.data == Self.expectedMessage(lines: 3000))
        // Every spool file was released: no descriptor of this process still points into the spool directory.
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        let intoSpool = descriptors.filter {
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) ?? "")
                .hasPrefix(rig.spool)
        }
        #expect(intoSpool.isEmpty, "open spool files: \(intoSpool.count)")
        await rig.stop()
    }
}
