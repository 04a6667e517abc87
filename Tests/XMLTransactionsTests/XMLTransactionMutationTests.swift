import Foundation
import TestSupport
import Testing

@testable import XMLTransactions

/// Seeded mutations of the documented examples (bytes flipped, cut, duplicated, markup inserted) and random text
/// through the response: the parser either returns a transaction or a typed error, never crashes or hangs, and
/// every rendered response reads back as exactly the text it was given (controls replaced).
@Suite struct XMLTransactionMutationTests {
    static let fragments: [[UInt8]] =
        [
            "<!DOCTYPE x [<!ENTITY a \"b\">]>", "&a;", "&#0;", "&#xD800;", "<![CDATA[", "]]>",
            "<Field name=\"x\" kind=\"number\">",
            "</Text>", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", "\u{FEFF}", "<!--", "ticket=\"-1\"",
            "<Password>", "xmlns:xi=\"http://www.w3.org/2001/XInclude\"",
        ].map { Array($0.utf8) } + [[0x00], [0xFF, 0xFE], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98]]

    static func mutate(_ bytes: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 1:
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...40, using: &generator)))
            case 2: bytes.insert(contentsOf: fragments.randomElement(using: &generator)!, at: position)
            case 3:
                let end = min(bytes.count, position + Int.random(in: 1...200, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            default: bytes = Array(bytes[..<position])
            }
        }
        return bytes
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func mutatedExamplesParseOrFailWithATypedError(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let examples = try XMLAPIDocuments.exampleNames().filter { !$0.hasPrefix("response-") }.map {
            try XMLAPIDocuments.example($0)
        }
        let parser = XMLTransactionParser()
        let clock = ContinuousClock()
        let start = clock.now
        var accepted = 0
        var refused: [String: Int] = [:]
        for round in 0..<600 {
            let document = Self.mutate(examples[round % examples.count], using: &generator)
            let began = clock.now
            do {
                let transaction = try parser.parse(document)
                #expect(!transaction.operations.isEmpty && !transaction.password.isEmpty)
                accepted += 1
            } catch {
                refused[error.code, default: 0] += 1
                #expect(!error.description.isEmpty)
            }
            #expect(clock.now - began < .seconds(2), "seed \(seed) round \(round)")
        }
        #expect(clock.now - start < .seconds(60))
        #expect(refused.values.reduce(0, +) > 100, "mutations that should be refused were accepted: \(refused)")
        #expect(accepted + refused.values.reduce(0, +) == 600)
    }

    @Test func randomTextReadsBackFromTheResponse() throws {
        var generator = SplitMix64(seed: 42)
        let ranges: [ClosedRange<UInt32>] = [
            0...0x7F, 0x80...0x2FF, 0x590...0x6FF, 0x3040...0x30FF, 0x4E00...0x4FFF, 0xFFF0...0xFFFF, 0x1F300...0x1F64F,
        ]
        for _ in 0..<300 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...60, using: &generator) {
                let range = ranges.randomElement(using: &generator)!
                if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &generator)) { scalars.append(scalar) }
            }
            let text = String(scalars)
            let response = XMLTransactionResponse(
                externalReference: text, results: [.failed(.addArticle, ticket: 1, code: text, message: text)])
            let bytes = response.bytes
            let result: Result<XMLElementNode, XMLTransactionError> = bytes.withUnsafeBufferPointer { buffer in
                do throws(XMLTransactionError) {
                    return .success(try LibXMLTreeReader.read(buffer, limits: .init()))
                } catch {
                    return .failure(error)
                }
            }
            let root = try result.get()
            let expected = String(
                String.UnicodeScalarView(
                    text.unicodeScalars.map { scalar in
                        let value = scalar.value
                        let forbidden =
                            (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D)
                            || (0x7F...0x9F).contains(value) || value == 0xFFFE || value == 0xFFFF
                        return forbidden ? "\u{FFFD}" : scalar
                    }))
            #expect(root.children.first { $0.name == "ExternalReference" }?.text == expected)
            let error = root.children.first { $0.name == "Result" }?.children.first
            #expect(error?.text == expected)
            #expect(error?.attribute("code") == expected)
        }
    }
}
