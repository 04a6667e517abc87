import Foundation
import Testing

@testable import MailParser

/// Compares MessageParser with Python's `email` package (policy.default), the reference parser, on the
/// corpus and on CPython's own email test messages: subject, addresses, plain-text body (whitespace
/// normalised) and attachment names and sizes. Disagreements where Python is the one that is wrong are
/// listed in `knownPythonErrors`, each with the reason; any other disagreement fails the test.
@Suite("Agreement with Python's email package")
struct PythonComparisonTests {
    /// Debian package `libpython3.11-testsuite` installs these.
    static let cpythonDataDirectory = "/usr/lib/python3.11/test/test_email/data"
    static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// "file:field" (or "*:field" for every file) → why Python's answer is wrong and ours is right.
    static let knownPythonErrors: [String: String] = [
        "*:comment-name":
            "the display name is only given as an RFC 5322 comment (`addr (Name)`); Python's header registry "
            + "drops comments, we use the comment as the name, as mail clients display it",
        "msg_43.txt:from":
            "`MAILER DAEMON <>` has no address at all; Python reports the addr-spec \"<>\", we drop a mailbox "
            + "without an address",
        "mislabelled-charsets.eml:text":
            "the parts are mislabelled (UTF-8 labelled us-ascii, windows-1252 labelled UTF-8); Python decodes by "
            + "label and yields U+FFFD, we detect the real charsets",
        "outlook-tnef-winmail.eml:attachments":
            "Python keeps winmail.dat opaque; we unpack the TNEF container into the file it wraps",
        "uuencode-old-client.eml:text":
            "Python leaves the uuencoded block in the body text; we move it into an attachment",
    ]

    static let script = #"""
        import email, email.policy, json, sys
        out = []
        for path in sys.argv[1:]:
            rec = {"path": path}
            try:
                msg = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
                try:
                    rec["subject"] = None if msg.get("subject") is None else str(msg.get("subject"))
                except Exception as e:
                    rec["subject_error"] = repr(e)
                for key in ("from", "to", "cc"):
                    try:
                        rec[key] = [{"name": a.display_name, "address": a.addr_spec}
                                    for h in (msg.get_all(key) or []) for a in h.addresses]
                    except Exception as e:
                        rec[key + "_error"] = repr(e)
                try:
                    body = msg.get_body(preferencelist=("plain",))
                    rec["text"] = body.get_content() if body is not None else None
                except Exception as e:
                    rec["text_error"] = repr(e)
                attachments = []
                try:
                    for part in msg.iter_attachments():
                        payload = part.get_payload(decode=True)
                        attachments.append({"filename": part.get_filename(),
                                            "size": len(payload) if isinstance(payload, bytes) else None})
                    rec["attachments"] = attachments
                except Exception as e:
                    rec["attachments_error"] = repr(e)
            except Exception as e:
                rec["error"] = repr(e)
            out.append(rec)
        print(json.dumps(out))
        """#

    struct PythonAddress: Decodable {
        var name: String
        var address: String
    }

    struct PythonAttachment: Decodable {
        var filename: String?
        var size: Int?
    }

    struct PythonResult: Decodable {
        var path: String
        var subject: String?
        var from: [PythonAddress]?
        var to: [PythonAddress]?
        var cc: [PythonAddress]?
        var text: String?
        var attachments: [PythonAttachment]?
        var error: String?
    }

    /// Runs the reference script; the process is killed after `timeout` seconds.
    static func runPython(on paths: [String], timeout: Double = 120) throws -> [PythonResult] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python))
        process.arguments = ["-c", script] + paths
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        #expect(process.terminationStatus == 0)
        return try JSONDecoder().decode([PythonResult].self, from: data)
    }

    static func normalized(_ text: String) -> String {
        ByteText.collapsingWhitespace(text)
    }

    static func withoutWhitespace(_ text: String) -> String {
        String(text.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init))
    }

    /// The disagreements between Python's reading of one file and ours, as "field: detail".
    static func disagreements(_ reference: PythonResult) throws -> [(field: String, detail: String)] {
        let parsed = MessageParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: reference.path))))
        var found: [(String, String)] = []
        if let subject = reference.subject, normalized(subject) != normalized(parsed.subject ?? "") {
            found.append(
                ("subject", "python \(subject.debugDescription), ours \((parsed.subject ?? "nil").debugDescription)"))
        }
        for (field, python, ours) in [
            ("from", reference.from, parsed.from), ("to", reference.to, parsed.to), ("cc", reference.cc, parsed.cc),
        ] {
            guard let python else { continue }
            let theirs = python.filter { !$0.address.isEmpty }
            if theirs.map(\.address) != ours.map(\.address) {
                found.append((field, "python \(theirs.map(\.address)), ours \(ours.map(\.address))"))
                continue
            }
            for (their, mine) in zip(theirs, ours) where normalized(their.name) != normalized(mine.name ?? "") {
                found.append(
                    (
                        their.name.isEmpty ? "comment-name" : field,
                        "\(field) python \(their.name.debugDescription), ours \((mine.name ?? "nil").debugDescription)"
                    ))
            }
        }
        if let text = reference.text {
            let theirs = normalized(text)
            let mine = normalized(parsed.text)
            // We also join inline text parts that follow the first one (Apple Mail splits the body around
            // attachments); Python's get_body returns the first only, so ours may continue after it.
            if theirs != mine, !mine.hasPrefix(theirs), withoutWhitespace(theirs) != withoutWhitespace(mine) {
                found.append(
                    ("text", "python \(theirs.prefix(300).debugDescription), ours \(mine.prefix(300).debugDescription)")
                )
            }
        }
        if let attachments = reference.attachments {
            let mine = Set(parsed.attachments.map { "\($0.filename ?? "")|\($0.size)" })
            for attachment in attachments {
                guard let name = attachment.filename, let size = attachment.size else { continue }
                if !mine.contains("\(name)|\(size)") {
                    found.append(("attachments", "python has \(name) (\(size) bytes), ours \(mine.sorted())"))
                }
            }
        }
        return found
    }

    static func check(_ paths: [String]) throws {
        let results = try runPython(on: paths)
        #expect(results.count == paths.count)
        var compared = 0
        for reference in results {
            if let error = reference.error {
                print("python could not parse \(reference.path): \(error); not compared")
                continue
            }
            compared += 1
            let name = URL(fileURLWithPath: reference.path).lastPathComponent
            for (field, detail) in try disagreements(reference) {
                if let reason = knownPythonErrors["\(name):\(field)"] ?? knownPythonErrors["*:\(field)"] {
                    print("known Python error in \(name) \(field): \(reason)")
                } else {
                    Issue.record("\(name) \(field) disagrees with Python: \(detail)")
                }
            }
        }
        #expect(compared > 0)
    }

    @Test(.enabled(if: python != nil, "python3 is not installed"))
    func corpusAgreesWithPython() throws {
        let corpus = Bundle.module.url(forResource: "Corpus", withExtension: nil)!
        let paths = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".eml") }
            .sorted().map { corpus.appendingPathComponent($0).path }
        try Self.check(paths)
    }

    @Test(
        .enabled(if: python != nil, "python3 is not installed"),
        .enabled(
            if: FileManager.default.fileExists(atPath: cpythonDataDirectory),
            "CPython's email test messages are missing: install the Debian package libpython3.11-testsuite"))
    func cpythonTestMessagesAgreeWithPython() throws {
        let paths = try FileManager.default.contentsOfDirectory(atPath: Self.cpythonDataDirectory)
            .filter { $0.hasPrefix("msg_") && $0.hasSuffix(".txt") }.sorted()
            .map { Self.cpythonDataDirectory + "/" + $0 }
        try Self.check(paths)
    }
}
