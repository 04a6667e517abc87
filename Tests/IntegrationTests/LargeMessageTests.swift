import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension EndToEndTests {
    /// A 100 MB message with a 95 MB attachment, over LMTP to the real `postdesk serve`: it is spooled while it
    /// arrives, parsed over the mapped spool file and copied into SQLite in chunks, so the daemon's resident
    /// memory rises by less than 32 MB, and the stored attachment is bit for bit the one sent.
    @Suite("Large messages")
    struct LargeMessageTests {
        /// Streams the message from a seeded generator (never held whole, in the client either) and prints the
        /// attachment's SHA-256, the sizes and the replies as JSON.
        static let client = #"""
            import base64, hashlib, json, random, socket, sys
            path, attachment_size = sys.argv[1], int(sys.argv[2])
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(300)
            sock.connect(path)
            reader = sock.makefile('rb')
            def reply():
                lines = []
                while True:
                    line = reader.readline().decode()
                    lines.append(line.strip())
                    if len(line) < 4 or line[3] != '-':
                        return lines
            def command(text):
                sock.sendall(text.encode() + b'\r\n')
                return reply()
            out = {'greeting': reply()}
            out['lhlo'] = command('LHLO client.test')
            out['mail'] = command('MAIL FROM:<scanner@customer.test> SIZE=%d' % (attachment_size * 4 // 3 + 100000))
            out['rcpt'] = command('RCPT TO:<support@support.test>')
            out['data'] = command('DATA')
            header = ('From: Scanner <scanner@customer.test>\r\nTo: support@support.test\r\n'
                      'Subject: Scanned archive\r\nMessage-ID: <big-scan@customer.test>\r\nMIME-Version: 1.0\r\n'
                      'Content-Type: multipart/mixed; boundary="scan-boundary"\r\n\r\n--scan-boundary\r\n'
                      'Content-Type: text/plain; charset=utf-8\r\n\r\nThe archive of last year is attached.\r\n'
                      '--scan-boundary\r\nContent-Type: application/zip; name="archive.zip"\r\n'
                      'Content-Disposition: attachment; filename="archive.zip"\r\n'
                      'Content-Transfer-Encoding: base64\r\n\r\n').encode()
            sent = len(header)
            sock.sendall(header)
            generator = random.Random(2026)
            digest = hashlib.sha256()
            remaining = attachment_size
            while remaining > 0:
                chunk = generator.randbytes(min(remaining, 57 * 4096))
                remaining -= len(chunk)
                digest.update(chunk)
                encoded = base64.encodebytes(chunk).replace(b'\n', b'\r\n')
                sent += len(encoded)
                sock.sendall(encoded)
            trailer = b'--scan-boundary--\r\n'
            sent += len(trailer)
            sock.sendall(trailer + b'.\r\n')
            out['delivered'] = reply()
            out['quit'] = command('QUIT')
            out['sha256'] = digest.hexdigest()
            out['message_size'] = sent
            print(json.dumps(out))
            """#

        /// A field of /proc/PID/status in KiB.
        static func statusKiB(_ pid: Int32, _ field: String) throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
            return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        }

        @Test("A 100 MB message with a 95 MB attachment raises resident memory by less than 32 MB")
        func hundredMegabyteMessage() async throws {
            try await EndToEndRig.run(label: "large", withPostfix: false) { rig in
                await rig.postdesk.stop()
                try rig.postdesk.setExtraConfig("limits:\n  max_message_size: 157286400\n")
                try await rig.postdesk.start()
                let pid = try #require(rig.postdesk.pid)
                // One ordinary message first: the daemon under test is one that has served mail (its threads
                // and buffers exist), not one that has just started.
                let warmUp = try await rig.clients.lmtpSession(
                    socket: rig.postdesk.socketPath, from: "customer@example.test", rcpts: ["support@support.test"],
                    message: MailClients.rawMessage(
                        to: "support@support.test", subject: "Before the big one", messageID: "<warm@customer.test>"),
                    label: "warm-up")
                #expect(warmUp.data.map(\.code) == [250])
                let before = try Self.statusKiB(pid, "VmRSS")

                let script = rig.scratch.file("large_client.py")
                try Self.client.write(toFile: script, atomically: true, encoding: .utf8)
                let attachmentSize = 95 * 1_048_576
                let output = try await ChildProcess.run(
                    findExecutable("python3") ?? "/usr/bin/python3",
                    [script, rig.postdesk.socketPath, String(attachmentSize)],
                    outputPrefix: rig.scratch.file("large-client"), timeout: 600)
                let peak = try Self.statusKiB(pid, "VmHWM")
                print("large message: resident \(before) KiB before, peak \(peak) KiB (+\(peak - before) KiB)")
                let transcript = try #require(
                    try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
                let delivered = try #require(transcript["delivered"] as? [String])
                #expect(delivered.first?.hasPrefix("250 2.0.0") == true, "reply: \(delivered)")
                let messageSize = try #require(transcript["message_size"] as? Int)
                #expect(messageSize > 100_000_000)
                #expect(
                    peak - before < 32 * 1024,
                    "resident memory went from \(before) KiB to a peak of \(peak) KiB for a \(messageSize)-byte message"
                )

                let shown = try await rig.postdesk.cli(["tickets", "show", "2", "--json"], label: "show-large")
                let ticket = try #require(try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])
                let article = try #require((ticket["articles"] as? [[String: Any]])?.first)
                #expect(article["raw_size"] as? Int == messageSize)
                #expect((article["text"] as? String)?.contains("The archive of last year is attached.") == true)
                let attachment = try #require((article["attachments"] as? [[String: Any]])?.first)
                #expect(attachment["filename"] as? String == "archive.zip")
                #expect(attachment["size"] as? Int == attachmentSize)
                #expect(attachment["sha256"] as? String == transcript["sha256"] as? String)
                let spool = (rig.postdesk.databasePath as NSString).deletingLastPathComponent + "/spool"
                #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty)
            }
        }
    }
}
