import Foundation
import Logging
import Testing
import TicketStoreSQLite

/// The `postdesk` command line, run as a real process.
@Suite(.serialized) final class CLITests {
    let scratch: URL
    let executable: String

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pd-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        executable = try PostdeskServer.locateExecutable()
    }

    deinit {
        try? FileManager.default.removeItem(at: scratch)
    }

    func run(
        _ arguments: [String], accepting statuses: Set<Int32> = [0], label: String, input: String = "/dev/null"
    ) async throws -> (stdout: String, stderr: String) {
        let prefix = scratch.appendingPathComponent(label).path
        let output = try await ChildProcess.run(
            executable, arguments, outputPrefix: prefix, timeout: 60, acceptedStatuses: statuses,
            standardInputPath: input)
        let errors = (try? String(contentsOfFile: prefix + ".err", encoding: .utf8)) ?? ""
        return (output, errors)
    }

    /// A configuration file with the store at `storePath`: a file defines its own listener and queue (nothing comes
    /// from the built-in sample).
    func configFile(_ name: String, storePath: String, extra: String = "") throws -> URL {
        let file = scratch.appendingPathComponent(name)
        try """
        store:
          path: \(storePath)
        lmtp:
          socket: \(scratch.path)/lmtp.sock
        queues:
          names: [support]
          support:
            addresses: [support@localhost]
        \(extra)
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func parseJSONHasTheDocumentedShape() async throws {
        let message = """
            Message-ID: <abc.123@example.test>\r
            Date: Mon, 23 Nov 2026 10:00:00 +0100\r
            From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.test>\r
            To: Support <support@support.test>, other@example.test\r
            Reply-To: replies@example.test\r
            In-Reply-To: <prev.1@example.test>\r
            References: <root.0@example.test> <prev.1@example.test>\r
            Subject: Printer =?ISO-8859-1?Q?kaputt?=\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Hello, the printer is broken.\r
            --b1\r
            Content-Type: application/pdf; name="report.pdf"\r
            Content-Disposition: attachment; filename="report.pdf"\r
            Content-Transfer-Encoding: base64\r
            \r
            JVBERi0xLjQK\r
            --b1--\r

            """
        let file = scratch.appendingPathComponent("m.eml")
        try message.write(to: file, atomically: true, encoding: .utf8)
        let output = try await run(["parse", file.path, "--json"], label: "parse").stdout
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "message_id", "subject", "date", "from", "to", "cc", "reply_to", "in_reply_to", "references", "text",
                "html", "attachments",
            ])
        #expect(object["message_id"] as? String == "abc.123@example.test")
        #expect(object["subject"] as? String == "Printer kaputt")
        #expect(object["date"] as? String == "2026-11-23T09:00:00Z")
        let from = try #require(object["from"] as? [[String: Any]])
        #expect(from.first?["name"] as? String == "Jürgen Müller")
        #expect(from.first?["address"] as? String == "jm@example.test")
        #expect((object["to"] as? [[String: Any]])?.count == 2)
        #expect((object["cc"] as? [Any])?.isEmpty == true)
        #expect(object["in_reply_to"] as? [String] == ["prev.1@example.test"])
        #expect(object["references"] as? [String] == ["root.0@example.test", "prev.1@example.test"])
        #expect((object["text"] as? String)?.contains("the printer is broken") == true)
        #expect(object["html"] is NSNull)
        let attachment = try #require((object["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["filename"] as? String == "report.pdf")
        #expect(attachment["content_type"] as? String == "application/pdf")
        #expect(attachment["size"] as? Int == 9)
        #expect(attachment["disposition"] as? String == "attachment")
        #expect(attachment["content_id"] is NSNull)
        // sha256("%PDF-1.4\n")
        #expect(attachment["sha256"] as? String == "e5c62df5dab5c87b6a015ef3d43597074d1eec433b15f51aec63b8582d0e4ab4")
    }

    @Test func parseOfALargeFileReadsItMappedWithTheAttachmentMeasuredInChunks() async throws {
        var payload = [UInt8](repeating: 0, count: 3_000_000)
        for index in payload.indices { payload[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
        let encoded = Data(payload).base64EncodedString(
            options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let message =
            "From: a@example.test\r\nSubject: large\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
            + "--b\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n" + encoded + "\r\n--b--\r\n"
        let file = scratch.appendingPathComponent("large.eml")
        try Data(message.utf8).write(to: file)
        let result = try await run(["parse", file.path, "--json"], label: "parse-large")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["text"] as? String == "see file")
        let attachment = try #require((object["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["filename"] as? String == "data.bin")
        #expect(attachment["size"] as? Int == payload.count)
        let digest = try await run(["parse", "-", "--json"], label: "parse-large-stdin", input: file.path)
        #expect(digest.stdout == result.stdout, "standard input (read into memory) and the mapped file agree")
    }

    @Test func parseOfAMissingFileSaysSo() async throws {
        let result = try await run(["parse", "/nonexistent/x.eml", "--json"], accepting: [66], label: "parse-missing")
        #expect(result.stderr.contains("cannot read /nonexistent/x.eml"))
    }

    @Test func checkConfigListsEveryErrorWithItsKey() async throws {
        let file = scratch.appendingPathComponent("bad.yaml")
        try "limits:\n  max_recipients: lots\nqueues:\n  names: [support]\n  support:\n    addresses: [nope]\n".write(
            to: file, atomically: true, encoding: .utf8)
        let result = try await run(["check-config", "--config", file.path], accepting: [78], label: "check-bad")
        #expect(result.stderr.contains("limits.max_recipients: must be a positive integer, got 'lots'"))
        #expect(result.stderr.contains("queues.support.addresses: 'nope' is neither local@domain nor *@domain"))
        let good = try await run(
            ["check-config", "--config", PostdeskConfigurationFile.sample], label: "check-good")
        #expect(good.stdout.contains("configuration OK"))
    }

    /// Issue 12 point 8, as a new user would meet it: a typo in the file used to pass as "configuration OK".
    @Test func checkConfigRejectsATypoAndShowsWhereValuesCameFrom() async throws {
        let typo = scratch.appendingPathComponent("typo.yaml")
        try """
        lmtp:
          sockett: \(scratch.path)/typo.sock
        queues:
          names: [support]
          support:
            adresses: [support@localhost]
        """.write(to: typo, atomically: true, encoding: .utf8)
        let bad = try await run(["check-config", "--config", typo.path], accepting: [78], label: "check-typo")
        #expect(bad.stderr.contains("lmtp.sockett: unknown key; did you mean `lmtp.socket`?"), "\(bad.stderr)")
        #expect(bad.stderr.contains("queues.support.adresses: unknown key; did you mean `queues.support.addresses`?"))
        #expect(!bad.stdout.contains("configuration OK"))

        let file = try configFile("origins.yaml", storePath: "\(scratch.path)/origins.db")
        let good = try await run(["check-config", "--config", file.path], label: "check-origins")
        let lines = good.stdout.split(separator: "\n").map(String.init)
        func line(_ key: String) -> String? { lines.first { $0.hasPrefix("  \(key) ") } }
        #expect(line("store.path")?.hasSuffix("[file]") == true, "\(good.stdout)")
        #expect(line("lmtp.mode")?.contains("0660") == true && line("lmtp.mode")?.hasSuffix("[default]") == true)
        #expect(line("smtp.listen")?.contains("(unset)") == true, "a file without smtp: has no SMTP listener")
        #expect(good.stdout.contains("smtp.listen: (disabled)"))
    }

    @Test func deliverStoresAMessageFromStandardInputOnce() async throws {
        let file = try configFile(
            "deliver.yaml", storePath: "\(scratch.path)/deliver.db", extra: "limits:\n  max_message_size: 4096\n")
        let message = scratch.appendingPathComponent("in.eml")
        try "Message-ID: <piped.1@example.test>\r\nFrom: Ann <ann@example.test>\r\nSubject: Via pipe\r\n\r\nHello\r\n"
            .write(to: message, atomically: true, encoding: .utf8)
        let arguments = [
            "deliver", "--config", file.path, "--sender", "ann@example.test", "--recipient", "support@localhost",
        ]
        let first = try await run(arguments, label: "deliver-1", input: message.path)
        #expect(first.stdout == "support@localhost: created ticket #1\n")
        // Delivered again (the MTA retried): stored once.
        let again = try await run(arguments, label: "deliver-2", input: message.path)
        #expect(again.stdout == "support@localhost: already stored in ticket #1\n")
        let shown = try await run(["tickets", "show", "1", "--config", file.path], label: "deliver-show").stdout
        #expect(shown.contains("Via pipe"))
        #expect(shown.contains("Hello"))

        // sysexits(3) statuses, which Postfix's pipe(8) turns into bounce or retry.
        let unknown = try await run(
            ["deliver", "--config", file.path, "--recipient", "nobody@elsewhere.test"], accepting: [67],
            label: "deliver-unknown", input: message.path)
        #expect(unknown.stderr.contains("nobody@elsewhere.test: no queue receives this address"))
        let big = scratch.appendingPathComponent("big.eml")
        try ("Subject: big\r\n\r\n" + String(repeating: "x", count: 5000)).write(
            to: big, atomically: true, encoding: .utf8)
        let tooLarge = try await run(
            ["deliver", "--config", file.path, "--recipient", "support@localhost"], accepting: [65],
            label: "deliver-big", input: big.path)
        #expect(tooLarge.stderr.contains("larger than limits.max_message_size (4096 bytes)"))
        let unwritable = try configFile("unwritable.yaml", storePath: "/proc/postdesk/deliver.db")
        _ = try await run(
            ["deliver", "--config", unwritable.path, "--recipient", "support@localhost"], accepting: [75],
            label: "deliver-tempfail", input: message.path)
    }

    /// Issue 12 point 9: a message over `limits.spool_threshold` delivered before the daemon ever created the
    /// store: the spool directory (and the store's) are created, not a 75 that makes pipe(8) defer forever.
    @Test func deliverOfASpooledMessageIntoAStoreNotYetCreated() async throws {
        let file = scratch.appendingPathComponent("fresh.yaml")
        try
            ("store:\n  path: \(scratch.path)/fresh/var/postdesk.db\nlimits:\n  spool_threshold: 1024\n"
            + "lmtp:\n  socket: \(scratch.path)/fresh/lmtp.sock\n"
            + "queues:\n  names: [support]\n  support:\n    addresses: [support@localhost]\n").write(
                to: file, atomically: true, encoding: .utf8)
        let message = scratch.appendingPathComponent("large.eml")
        let body = String(repeating: "Größere Nachricht über der Schwelle.\r\n", count: 200)
        try
            ("Message-ID: <spooled@example.test>\r\nFrom: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.test>\r\n"
            + "Subject: Groß\r\n\r\n" + body).write(to: message, atomically: true, encoding: .utf8)
        let delivered = try await run(
            ["deliver", "--config", file.path, "--sender", "joerg@example.test", "--recipient", "support@localhost"],
            label: "deliver-spooled", input: message.path)
        #expect(delivered.stdout == "support@localhost: created ticket #1\n", "stderr: \(delivered.stderr)")
        let shown = try await run(["tickets", "show", "1", "--config", file.path], label: "spooled-show").stdout
        #expect(shown.contains("Größere Nachricht"))
    }

    /// Issue 12 point 9: the version and the commit, for bug reports. `make` records the commit in
    /// .build/postdesk-build-info.h (scripts/build-info.sh); a plain `swift build` says "unknown".
    @Test func versionNamesTheCommit() async throws {
        let output = try await run(["--version"], label: "version").stdout
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/postdesk-build-info.h")
        let expected =
            (try? String(contentsOf: header, encoding: .utf8))?.split(separator: "\"").dropFirst().first.map(
                String.init) ?? "unknown"
        #expect(output == "postdesk 0.1.0 (commit \(expected))\n")
    }

    @Test func ticketsListOnAnEmptyStore() async throws {
        let file = try configFile("empty.yaml", storePath: "\(scratch.path)/empty.db")
        // Read commands never create or migrate a store: the daemon (here, the store itself) does.
        try SQLiteTicketStore(path: "\(scratch.path)/empty.db", logger: Logger(label: "cli-tests")).close()
        let table = try await run(["tickets", "list", "--config", file.path], label: "list-empty").stdout
        #expect(table.contains("(no tickets)"))
        let json = try await run(["tickets", "list", "--json", "--config", file.path], label: "list-json").stdout
        let array = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any]
        #expect(array?.isEmpty == true)
        let missing = try await run(["tickets", "show", "42", "--config", file.path], accepting: [1], label: "show")
        #expect(missing.stderr.contains("no ticket #42"))
    }

    /// A store migrated by a newer postdesk is not read by this one (its tables may mean something else).
    @Test func aStoreOfANewerSchemaIsRefusedByReadCommands() async throws {
        let sqlite = try #require(findExecutable("sqlite3"), "sqlite3 (make test-deps) is needed")
        let database = "\(scratch.path)/newer.db"
        let file = try configFile("newer.yaml", storePath: database)
        try SQLiteTicketStore(path: database, logger: Logger(label: "cli-tests")).close()
        try await ChildProcess.run(
            sqlite, [database, "INSERT INTO grdb_migrations (identifier) VALUES ('v99 from the future')"],
            outputPrefix: scratch.appendingPathComponent("sqlite3").path)
        let result = try await run(["messages", "list", "--config", file.path], accepting: [65], label: "newer")
        #expect(result.stderr.contains("was written by a newer postdesk"), "\(result.stderr)")
    }
}

enum PostdeskConfigurationFile {
    /// `conf/postdesk.yaml` in this checkout.
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("conf/postdesk.yaml").path
}
