import Foundation
import Testing

@testable import MailParser

/// Attachments too large to copy stay in the raw message: their size and hash are read in chunks, and their
/// content is decoded in chunks by whoever stores it, with the same bytes as decoding in one piece.
@Suite("Large attachments: deferred content decoded in chunks")
struct LargeAttachmentTests {
    /// Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced.
    static func noise(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    static func message(attachment encoded: String, encoding: String, type: String = "application/pdf") -> [UInt8] {
        let text = [
            "From: a@example.com", "Subject: big", "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"outer\"", "", "--outer",
            "Content-Type: text/plain; charset=utf-8", "", "See the attached file.", "--outer",
            "Content-Type: \(type); name=\"report.pdf\"", "Content-Disposition: attachment; filename=\"report.pdf\"",
            "Content-Transfer-Encoding: \(encoding)", "", encoded, "--outer--", "",
        ].joined(separator: "\r\n")
        return Array(text.utf8)
    }

    static func decodedInChunks(_ content: DeferredContent, of raw: [UInt8], chunkSize: Int) -> [UInt8] {
        var out: [UInt8] = []
        raw.withUnsafeBufferPointer { buffer in
            content.decode(from: buffer, chunkSize: chunkSize) { out += $0 }
        }
        return out
    }

    @Test func aLargeBase64AttachmentIsMeasuredNotCopiedAndDecodesToTheSameBytes() throws {
        let payload = Self.noise(count: 1_500_000, seed: 42)
        let encoded = Data(payload).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        let raw = Self.message(attachment: encoded, encoding: "base64")
        let parsed = MessageParser.parse(raw)
        #expect(parsed.text == "See the attached file.")
        let attachment = try #require(parsed.attachments.first)
        let deferred = try #require(attachment.deferred, "over 1 MiB encoded: left in the message")
        #expect(attachment.data.isEmpty)
        #expect(attachment.size == payload.count)
        #expect(attachment.sha256 == sha256Hex(payload))
        #expect(attachment.filename == "report.pdf")
        #expect(attachment.disposition == "attachment")
        #expect(deferred.encoding == .base64)
        for chunkSize in [16, 77, 4096, 1 << 20] {
            #expect(Self.decodedInChunks(deferred, of: raw, chunkSize: chunkSize) == payload, "chunks of \(chunkSize)")
        }
        // The same message with the limit raised is decoded in memory, to the same hash.
        let inMemory = MessageParser.parse(raw, limits: ParserLimits(maxInMemoryAttachmentBytes: .max))
        #expect(inMemory.attachments.first?.deferred == nil)
        #expect(inMemory.attachments.first?.data == payload)
        #expect(inMemory.attachments.first?.sha256 == attachment.sha256)
    }

    @Test func chunkedBase64MatchesOneAtATimeOnBrokenInput() {
        // Garbage, bare line feeds, `=` in the middle (concatenated encodings), a partial last quantum.
        let pieces = ["SGVs", "\r\n", "bG8g", "!!", "d29y", "\n", "bGQ=", "SGk=", " \t", "QUJD", "RA", "=", "RUY"]
        var rng = SystemRandomNumberGenerator()
        var input: [UInt8] = []
        for _ in 0..<4000 { input += Array(pieces.randomElement(using: &rng)!.utf8) }
        let whole = input.withUnsafeBufferPointer { TransferDecoding.base64($0).bytes }
        let content = DeferredContent(range: 0..<input.count, encoding: .base64)
        for chunkSize in [16, 17, 18, 19, 100, 1001] {
            #expect(Self.decodedInChunks(content, of: input, chunkSize: chunkSize) == whole, "chunks of \(chunkSize)")
        }
    }

    @Test func chunkedQuotedPrintableMatchesOneAtATime() {
        let pieces = ["caf=C3=A9 ", "=\r\n", "suite", "=  \r\n", "fin = 100% =zz  ", "\r\n", "end=3d", "\t", "x", "="]
        var rng = SystemRandomNumberGenerator()
        var input: [UInt8] = []
        for _ in 0..<4000 { input += Array(pieces.randomElement(using: &rng)!.utf8) }
        input += Array("\r\nlast line\r\n".utf8)
        let whole = input.withUnsafeBufferPointer { TransferDecoding.quotedPrintable($0) }
        let content = DeferredContent(range: 0..<input.count, encoding: .quotedPrintable)
        for chunkSize in [200, 333, 4096] {
            #expect(Self.decodedInChunks(content, of: input, chunkSize: chunkSize) == whole, "chunks of \(chunkSize)")
        }
    }

    @Test func quotedPrintableAndUnencodedLargeAttachmentsAreDeferredToo() throws {
        let line = String(repeating: "0123456789=3D", count: 5) + "=\r\n"
        let qp = String(repeating: line, count: 20_000)
        let raw = Self.message(attachment: qp, encoding: "quoted-printable", type: "text/csv")
        let attachment = try #require(MessageParser.parse(raw).attachments.first)
        let deferred = try #require(attachment.deferred)
        let expected = Array(String(repeating: String(repeating: "0123456789=", count: 5), count: 20_000).utf8)
        #expect(attachment.size == expected.count)
        #expect(attachment.sha256 == sha256Hex(expected))
        #expect(Self.decodedInChunks(deferred, of: raw, chunkSize: 65_536) == expected)

        let plain = String(repeating: "binary-ish line of a log file\r\n", count: 40_000)
        let identity = try #require(
            MessageParser.parse(Self.message(attachment: plain, encoding: "8bit", type: "text/x-log")).attachments.first
        )
        #expect(identity.deferred?.encoding == .identity)
        #expect(identity.size == plain.utf8.count)
    }

    @Test func theBoundaryScanAndTheMeasurementReportTheirProgress() throws {
        let payload = Self.noise(count: 3_000_000, seed: 7)
        let encoded = Data(payload).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        let raw = Self.message(attachment: encoded, encoding: "base64")
        var releases = 0
        let relief = ScanRelief(every: 256 * 1024) { releases += 1 }
        let parsed = raw.withUnsafeBufferPointer { MessageParser.parse(buffer: $0, relief: relief) }
        #expect(parsed.attachments.first?.sha256 == sha256Hex(payload))
        // About 4 MB scanned for boundaries and 4 MB read to measure: at least 16 releases of 256 KiB each.
        #expect(releases >= 16, "\(releases) releases")
        #expect(parsed.text == "See the attached file.")
    }

    @Test func textBodiesAndWinmailDatAreStillReadWhole() throws {
        let body = String(repeating: "A long plain text body line.\r\n", count: 50_000)
        let raw = Array(("Subject: long\r\nContent-Type: text/plain\r\n\r\n" + body).utf8)
        let parsed = MessageParser.parse(raw)
        #expect(parsed.attachments.isEmpty)
        #expect(parsed.text.count > 1_000_000)
        let tnef = Self.message(
            attachment: String(
                repeating: "eJ8+IgAAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5N\r\n", count: 20_000
            ),
            encoding: "base64", type: "application/ms-tnef")
        let attachment = try #require(MessageParser.parse(tnef).attachments.first)
        #expect(attachment.deferred == nil, "TNEF must be decoded to find the files inside")
    }
}
