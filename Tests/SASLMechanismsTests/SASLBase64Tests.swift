import SASLMechanisms
import Testing

@Suite("SASL base64 wire form")
struct SASLBase64Tests {
    @Test func encodesRFC4648TestVectors() throws {
        let vectors = [
            "": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
            "foobar": "Zm9vYmFy",
        ]
        for (plain, encoded) in vectors {
            #expect(SASLBase64.encodedString(Array(plain.utf8)) == encoded)
            #expect(try SASLBase64.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
    }

    @Test func roundTripsEveryByteValueAndLength() throws {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let raw = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(try SASLBase64.decode(SASLBase64.encode(raw)) == raw)
        }
        let all = (0...255).map { UInt8($0) }
        #expect(try SASLBase64.decode(SASLBase64.encode(all)) == all)
    }

    @Test func toleratesWhitespaceAndMissingPadding() throws {
        #expect(try SASLBase64.decode(Array(" Zm9v\r\nYmE = \t".utf8)) == Array("fooba".utf8))
        #expect(try SASLBase64.decode(Array("Zm9vYg".utf8)) == Array("foob".utf8))
        #expect(try SASLBase64.decode(Array("   ".utf8)) == [])
    }

    @Test func rejectsGarbageWithItsOffset() {
        let cases: [(String, Int)] = [
            ("Zm9v!mFy", 4), ("Zm9vY", 5), ("Zg==Zg==", 4), ("=Zg", 0), ("Zg===", 4), ("Zm9v\u{0}", 4), ("Zé==", 1),
        ]
        for (text, offset) in cases {
            do {
                _ = try SASLBase64.decode(Array(text.utf8))
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                guard case .invalidBase64(let at, _) = error else {
                    Issue.record("wrong error \(error)")
                    continue
                }
                #expect(at == offset, "\(text.debugDescription): \(error)")
            }
        }
    }
}
