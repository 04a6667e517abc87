import Foundation
import TestSupport
import Testing

@testable import MailParser

/// A property-based fuzzer run in every test pass: the corpus messages are the kept seed corpus; each is
/// mutated (byte flips, truncation, splicing, duplication, MIME-significant tokens inserted) with a fixed
/// seed, and every result must parse without crashing and satisfy the parser's invariants. Set
/// `POSTDESK_FUZZ_ITERATIONS` for a longer run.
@Suite("Mutation fuzzing")
struct MutationFuzzTests {
    static let tokens: [[UInt8]] = [
        "\r\n", "\n", "\r\n\r\n", "--", "=?utf-8?B?", "=?iso-2022-jp?q?", "?=", "=\r\n", "=", "boundary=", "\"",
        "Content-Type: multipart/mixed; boundary=x\r\n", "Content-Transfer-Encoding: base64\r\n",
        "Content-Type: message/rfc822\r\n\r\n", "Content-Type: application/ms-tnef\r\n", "begin 644 a\r\n", "<",
        ">", "(", ")", ":", ";", ",", "\\", "&#x", "&amp", "<a href=\"", "<script>", "\u{0}", "\u{FF}",
        "charset*0*=utf-8''%", "filename*=''", "\t", " ",
    ].map { Array($0.utf8) }

    static func seeds() throws -> [[UInt8]] {
        let corpus = Bundle.module.url(forResource: "Corpus", withExtension: nil)!
        return try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".eml") }.sorted()
            .map { Array(try Data(contentsOf: corpus.appendingPathComponent($0))) }
    }

    static func mutate(_ input: [UInt8], with seeds: [[UInt8]], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + Int(generator.next() % 4)) {
            let position = bytes.isEmpty ? 0 : Int(generator.next() % UInt64(bytes.count))
            switch generator.next() % 6 {
            case 0 where !bytes.isEmpty:
                bytes[position] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
            case 1:
                bytes = Array(bytes.prefix(position))
            case 2:
                let token = tokens[Int(generator.next() % UInt64(tokens.count))]
                bytes.insert(contentsOf: token, at: position)
            case 3 where !bytes.isEmpty:
                let length = min(bytes.count - position, Int(generator.next() % 200))
                bytes.removeSubrange(position..<position + length)
            case 4:
                let other = seeds[Int(generator.next() % UInt64(seeds.count))]
                let start = other.isEmpty ? 0 : Int(generator.next() % UInt64(other.count))
                bytes.insert(contentsOf: other[start..<min(other.count, start + 400)], at: position)
            default:
                let length = min(bytes.count - position, Int(generator.next() % 100))
                bytes.insert(contentsOf: bytes[position..<position + length], at: position)
            }
        }
        return bytes
    }

    @Test func mutatedCorpusKeepsInvariants() throws {
        let seeds = try Self.seeds()
        #expect(!seeds.isEmpty)
        let iterations = Int(ProcessInfo.processInfo.environment["POSTDESK_FUZZ_ITERATIONS"] ?? "") ?? 1500
        var generator = SplitMix64(seed: 0xF022)
        for iteration in 0..<iterations {
            let seed = seeds[iteration % seeds.count]
            let input = Self.mutate(seed, with: seeds, using: &generator)
            let parsed = MessageParser.parse(input)
            for attachment in parsed.attachments {
                #expect(attachment.sha256 == sha256Hex(attachment.data))
                #expect(attachment.contentType.contains("/"))
            }
            #expect(parsed.strippedText.utf8.count <= parsed.text.utf8.count + 1)
            #expect((try? parsed.jsonData(prettyPrinted: false)) != nil)
        }
    }
}
