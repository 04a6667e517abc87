import Foundation
import Testing

extension EndToEndTests {
    /// A sample of the pipeline robustness inputs over a real LMTP socket to the real `postdesk serve`: the
    /// message of issue 11 that used to hang the daemon, non-ASCII and broken headers, the parser corpus,
    /// truncations of it and hostile structures. Each DATA must be answered 250 within a bound, and the
    /// daemon must keep answering.
    @Suite("Robustness over LMTP")
    struct RobustnessOverLMTPTests {
        /// A ticket as `postdesk tickets show N --json` prints it, with the fields these tests read.
        struct StoredTicket: Decodable {
            struct Contact: Decodable {
                let name: String?
                let address: String
            }
            struct Attachment: Decodable {
                let filename: String?
            }
            struct Article: Decodable {
                let text: String
                let from: Contact?
                let attachments: [Attachment]
            }
            let number: Int
            let subject: String
            let requester: Contact?
            let articles: [Article]
        }

        static let corpusDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("MailParserTests/Corpus")

        static func lines(_ lines: [String]) -> [UInt8] {
            Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
        }

        /// The message of issue 11 ("One accented name hangs the daemon").
        static let jurgen = lines([
            "From: \"Jürgen Müller\" <m@example.test>", "To: support@support.test", "Subject: hello",
            "Message-ID: <1@example.test>", "", "body",
        ])

        static func storedTicket(_ rig: EndToEndRig, _ number: Int) async throws -> StoredTicket {
            let output = try await rig.postdesk.cli(
                ["tickets", "show", "\(number)", "--json"], label: "show-\(number)")
            return try JSONDecoder().decode(StoredTicket.self, from: Data(output.utf8))
        }

        @Test("The accented name of issue 11 is answered within a second with a ticket")
        func accentedNameAnsweredWithinASecond() async throws {
            try await EndToEndRig.run(label: "jurgen", withPostfix: false) { rig in
                let client = try RawLMTPClient(socketPath: rig.postdesk.socketPath)
                let session = try client.deliver(
                    from: "m@example.test", to: [PostdeskServer.supportAddress], message: Self.jurgen)
                #expect(session.rcpt.map(\.code) == [250])
                #expect(session.data.map(\.code) == [250], "\(session.data)")
                #expect(session.seconds < 1, "answered after \(session.seconds) s")
                print("robustness over LMTP: the issue 11 message answered in \(session.seconds) s")
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.map(\.subject) == ["hello"])
                let ticket = try await Self.storedTicket(rig, try #require(tickets.first).number)
                #expect(ticket.requester?.name == "Jürgen Müller")
                #expect(ticket.articles.first?.text.trimmingCharacters(in: .whitespacesAndNewlines) == "body")
            }
        }

        @Test("A sample of corpus, mutated, non-ASCII, broken and hostile messages over one daemon")
        func sampleOverOneDaemon() async throws {
            var samples: [(label: String, raw: [UInt8])] = []
            samples.append(("issue 11", Self.jurgen))
            samples.append(
                (
                    "ISO-2022-JP B name and subject",
                    Self.lines([
                        "From: =?ISO-2022-JP?B?GyRCOzNFREJATzobKEI=?= <yamada@example.test>",
                        "To: support@support.test",
                        "Subject: =?ISO-2022-JP?B?GyRCJVclaiVzJT8hPCQsRjAkLSReJDskcxsoQg==?=",
                        "Message-ID: <jp-1@example.test>", "", "body",
                    ])
                ))
            var koi8 = Array("From: \"".utf8) + [0xE9, 0xD7, 0xC1, 0xCE] + Array("\" <ivan@example.test>\r\n".utf8)
            koi8 += Array("To: support@support.test\r\nSubject: =?koi8-r?Q?=F0=D2=C9=CE=D4=C5=D2?=\r\n".utf8)
            koi8 += Array("Message-ID: <koi8-1@example.test>\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n".utf8)
            koi8 += [0xF4, 0xC5, 0xD3, 0xD4, 0x0D, 0x0A]
            samples.append(("KOI8-R raw name, Q subject", koi8))
            samples.append(
                (
                    "broken encoded words and invalid UTF-8",
                    Array("From: =?UTF-8?B?SsO8cmdlbg <b@example.test>\r\nTo: support@support.test\r\n".utf8)
                        + Array("Subject: =?UTF-8?B?!!!?= ".utf8) + [0xC3, 0x28, 0xED, 0xA0, 0x80]
                        + Array("\r\nMessage-ID: <broken-1@example.test>\r\n\r\nbody \0 with NUL\r\n".utf8)
                ))
            samples.append(
                (
                    "blank first line",
                    Array("\r\n".utf8)
                        + Self.lines([
                            "From: Ana <ana@example.test>", "To: support@support.test", "Subject: blank first",
                            "Message-ID: <blank-1@example.test>", "", "body",
                        ])
                ))
            let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpusDirectory.path)
                .filter { $0.hasSuffix(".eml") }.sorted()
            #expect(names.count >= 15)
            for name in names {
                let raw = Array(try Data(contentsOf: Self.corpusDirectory.appendingPathComponent(name)))
                samples.append((name, raw))
                samples.append(("\(name) truncated at 3/5", Array(raw.prefix(raw.count * 3 / 5))))
            }
            var fields = "From: \"Jürgen Müller\" <m@example.test>\r\nTo: support@support.test\r\nSubject: fields\r\n"
            for index in 0..<20_000 { fields += "X-Filler-\(index): \(index)\r\n" }
            samples.append(("20,000 header fields", Array((fields + "\r\nbody\r\n").utf8)))
            var nested = "From: x@example.test\r\nTo: support@support.test\r\nSubject: nested\r\n"
            for level in 0..<300 {
                nested += "Content-Type: multipart/mixed; boundary=\"n\(level)\"\r\n\r\n--n\(level)\r\n"
            }
            samples.append(("300 levels of multipart", Array((nested + "\r\nbottom\r\n").utf8)))

            try await EndToEndRig.run(label: "robust-lmtp", withPostfix: false) { rig in
                var accepted = 0
                for sample in samples {
                    let client = try RawLMTPClient(socketPath: rig.postdesk.socketPath)
                    let session = try client.deliver(
                        from: "robust@example.test", to: [PostdeskServer.supportAddress], message: sample.raw)
                    #expect(session.data.map(\.code) == [250], "\(sample.label): \(session.data)")
                    #expect(session.seconds < 10, "\(sample.label): answered after \(session.seconds) s")
                    if session.data.map(\.code) == [250] { accepted += 1 }
                }
                #expect(accepted == samples.count)
                let tickets = try await rig.postdesk.listTickets()
                #expect(tickets.count >= samples.count / 2, "\(tickets.count) tickets for \(samples.count) messages")
                let bySubject = Dictionary(tickets.map { ($0.subject ?? "", $0.number) }, uniquingKeysWith: min)
                let jurgen = try await Self.storedTicket(rig, try #require(bySubject["hello"]))
                #expect(jurgen.requester?.name == "Jürgen Müller")
                let japanese = try await Self.storedTicket(rig, try #require(bySubject["プリンターが動きません"]))
                #expect(japanese.requester?.name == "山田太郎")
                let russian = try await Self.storedTicket(rig, try #require(bySubject["Принтер"]))
                #expect(russian.requester?.name == "Иван")
                #expect(russian.articles.first?.text.trimmingCharacters(in: .whitespacesAndNewlines) == "Тест")
                #expect(bySubject["blank first"] != nil)
                // Still answering ordinary mail after all of it.
                let client = try RawLMTPClient(socketPath: rig.postdesk.socketPath)
                let last = try client.deliver(
                    from: "m@example.test", to: [PostdeskServer.supportAddress],
                    message: Self.lines([
                        "From: m@example.test", "To: support@support.test", "Subject: last", "Message-ID: <last@x>", "",
                        "x",
                    ]))
                #expect(last.data.map(\.code) == [250])
                #expect(last.seconds < 1)
            }
        }
    }
}
