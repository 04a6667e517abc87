import Foundation
import MailParser
import Testing

@testable import OutboundMail

@Suite("The SMTP submission client against Postfix's smtp-sink: the protocol, dot-stuffing, per-recipient replies")
struct SMTPSubmissionClientTests {
    static func client(port: Int, starttls: SMTPRelaySettings.StartTLSMode = .auto) -> SMTPSubmissionClient {
        SMTPSubmissionClient(
            settings: SMTPRelaySettings(
                host: "127.0.0.1", port: port, starttls: starttls, heloName: "desk.test", stepTimeout: .seconds(30),
                dataTimeout: .seconds(60)))
    }

    static let message = MIMEComposer.compose(
        OutgoingMail(
            from: MailAddress(name: "Support", address: "support@desk.test"),
            to: [MailAddress(name: "Zoë Ångström", address: "zoe@example.org")],
            subject: "[Support #4] Grüße", text: "Zeile eins\n.Punkt am Anfang\n..zwei\nEnde",
            messageID: "T4.A1.x@desk.test",
            date: Date(), autoSubmitted: true))

    @Test func submitsWithDotStuffingAndSize() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sink = try await SMTPSinkProcess(in: scratch)
        defer { sink.stop() }
        let result = try await Self.client(port: sink.port).submit(
            Self.message, from: "support@desk.test", to: ["zoe@example.org", "second@example.org"])
        #expect(result.delivered)
        #expect(result.recipients.map(\.address) == ["zoe@example.org", "second@example.org"])
        #expect(result.data?.code == 250)
        let dump = try #require(sink.dumps().first)
        // smtp-sink offers neither SIZE nor SMTPUTF8, and the message is 7-bit: no MAIL parameter.
        #expect(dump.contains("X-Mail-Args: <support@desk.test>\n"))
        #expect(dump.contains("X-Rcpt-Args: <zoe@example.org>"))
        #expect(dump.contains("X-Rcpt-Args: <second@example.org>"))
        // The sink removes the stuffing again: the message arrives as composed (QP already escapes a leading dot).
        let body = String(decoding: Self.message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(dump.replacingOccurrences(of: "\r\n", with: "\n").contains(body))
    }

    @Test func authPlainIsUsedWhenCredentialsAreSet() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sink = try await SMTPSinkProcess(in: scratch)
        defer { sink.stop() }
        let passwordFile = scratch.file("password")
        try "s3cret\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        var settings = Self.client(port: sink.port).settings
        settings.credentials = .init(username: "desk", password: "")
        let result = try await SMTPSubmissionClient(settings: settings, passwordFile: passwordFile).submit(
            Self.message, from: "support@desk.test", to: ["zoe@example.org"])
        #expect(result.delivered)
        // An unreadable password file fails before connecting.
        let missing = SMTPSubmissionClient(settings: settings, passwordFile: scratch.file("nope"))
        await #expect(throws: SubmissionError.self) {
            _ = try await missing.submit(Self.message, from: "support@desk.test", to: ["zoe@example.org"])
        }
    }

    @Test func dotStuffingDoublesLeadingDots() {
        #expect(
            DotStuffing.stuffed(Array(".a\r\nb\n..c\r\n.".utf8)) == Array("..a\r\nb\r\n...c\r\n..\r\n".utf8))
    }

    @Test func aRefusedRecipientIsReportedPerRecipient() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sink = try await SMTPSinkProcess(in: scratch, options: ["-f", "RCPT"])
        defer { sink.stop() }
        let result = try await Self.client(port: sink.port).submit(
            Self.message, from: "support@desk.test", to: ["zoe@example.org"])
        #expect(!result.delivered)
        #expect(result.recipients.first?.reply.isPermanent == true)
        #expect(result.data == nil)
        #expect(sink.dumps().isEmpty)
    }

    @Test func aTemporaryRefusalOfTheDataIsTransient() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sink = try await SMTPSinkProcess(in: scratch, options: ["-r", "."])
        defer { sink.stop() }
        let result = try await Self.client(port: sink.port).submit(
            Self.message, from: "support@desk.test", to: ["zoe@example.org"])
        #expect(result.data?.isTransient == true)
    }

    @Test func starttlsRequiredButNotOfferedFails() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sink = try await SMTPSinkProcess(in: scratch)
        defer { sink.stop() }
        await #expect(throws: SubmissionError.self) {
            _ = try await Self.client(port: sink.port, starttls: .required).submit(
                Self.message, from: "support@desk.test", to: ["zoe@example.org"])
        }
    }

    @Test func nothingListeningIsATemporaryConnectError() async throws {
        let port = try SMTPSinkProcess.freePort()
        do {
            _ = try await Self.client(port: port).submit(Self.message, from: "a@desk.test", to: ["b@example.org"])
            Issue.record("expected a connect error")
        } catch {
            #expect(error.step == .connect)
            #expect(!error.isPermanent)
            #expect(
                error.description.components(separatedBy: "cannot connect to 127.0.0.1:\(port)").count == 2,
                "the address once: \(error)")
        }
    }

    @Test func aNonASCIIAddressNeedsSMTPUTF8() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let sink = try await SMTPSinkProcess(in: scratch)
        defer { sink.stop() }
        do {
            _ = try await Self.client(port: sink.port).submit(
                Self.message, from: "support@desk.test", to: ["jürgen@example.org"])
            Issue.record("smtp-sink does not offer SMTPUTF8: the submission must stop before MAIL")
        } catch {
            #expect(error.step == .smtputf8)
            #expect(error.isPermanent)
        }
        #expect(sink.dumps().isEmpty)
    }

    @Test func aSilentServerTimesOutAtTheGreeting() async throws {
        // Listening, never answering: the connection is accepted by the kernel, the greeting never comes.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        listen(descriptor, 4)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let client = SMTPSubmissionClient(
            settings: SMTPRelaySettings(host: "127.0.0.1", port: port, stepTimeout: .seconds(1)))
        let started = ContinuousClock.now
        do {
            _ = try await client.submit(Self.message, from: "a@desk.test", to: ["b@example.org"])
            Issue.record("no greeting, yet submitted")
        } catch {
            #expect(error.step == .timeout, "\(error)")
            #expect(!error.isPermanent)
        }
        // Bounded by the step timeout (generously, for a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func repliesAreAssembledAcrossReadsAndMultiline() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("250-sink.test\r\n250-SIZE 1000\r".utf8)).isEmpty)
        let replies = try parser.feed(Array("\n250 8BITMIME\r\n354 go\r\n".utf8))
        #expect(
            replies == [
                SMTPReply(code: 250, lines: ["sink.test", "SIZE 1000", "8BITMIME"]),
                SMTPReply(code: 354, lines: ["go"]),
            ])
        let extensions = SMTPExtensions(ehloReply: replies[0])
        #expect(extensions.parameters("SIZE") == ["1000"])
        #expect(extensions.offers("8BITMIME"))
        #expect(throws: SMTPReplyParser.Failure.self) { _ = try parser.feed(Array("hello\r\n".utf8)) }
    }
}
