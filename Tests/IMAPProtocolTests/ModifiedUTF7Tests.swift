import IMAPProtocol
import TestSupport
import Testing

/// RFC 3501 5.1.3 mailbox names: the RFC's examples, real folder names, strict decoding, random round trips.
@Suite("Modified UTF-7")
struct ModifiedUTF7Tests {
    private func encoded(_ name: String) -> String {
        String(decoding: ModifiedUTF7.encode(name), as: UTF8.self)
    }

    private func decoded(_ text: String) throws -> String {
        try ModifiedUTF7.decode(Array(text.utf8))
    }

    @Test func rfcExamplesAndRealNames() throws {
        #expect(try decoded("~peter/mail/&U,BTFw-/&ZeVnLIqe-") == "~peter/mail/台北/日本語")
        #expect(encoded("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-")
        #expect(encoded("Erledigt/Überprüft") == "Erledigt/&ANw-berpr&APw-ft")
        #expect(encoded("処理済み") == "&UeZ0Bm4IMH8-")
        #expect(encoded("A&B") == "A&-B")
        #expect(encoded("😀") == "&2D3eAA-")
        #expect(try decoded("&2D3eAA-") == "😀")
        #expect(try decoded("Gesendete Objekte") == "Gesendete Objekte")
        #expect(try decoded("&-&-") == "&&")
        #expect(encoded("") == "")
    }

    @Test func strictDecoding() {
        for bad in ["&Jjo!", "&U,BTFw", "&AGE-", "&2D0-", "&3gA-", "caf\u{00E9}", "tab\there", "&A-", "&AN3-"] {
            #expect(throws: ModifiedUTF7.DecodingError.self, "\(bad)") { try decoded(bad) }
        }
        // A name that is not modified UTF-7 still has a readable name (raw UTF-8 from a UTF8=ACCEPT server).
        #expect(IMAPMailboxName(wireBytes: Array("Entwürfe".utf8)).name == "Entwürfe")
    }

    @Test func randomNamesRoundTrip() throws {
        var random = SplitMix64(seed: 0x7F7)
        let pools: [ClosedRange<UInt32>] = [
            0x20...0x7E, 0x20...0x7E, 0xA0...0x24F, 0x370...0x3FF, 0x400...0x4FF, 0x3040...0x30FF, 0x4E00...0x9FFF,
            0xAC00...0xD7A3, 0xE000...0xF8FF, 0x1_F300...0x1_F64F, 0x1_0000...0x1_0FFF, 0x2_0000...0x2_A6DF,
            0x10_FFF0...0x10_FFFF, 0x00...0x1F,
        ]
        for _ in 0..<3000 {
            var name = String.UnicodeScalarView()
            for _ in 0..<Int(random.next() % 24) {
                let pool = pools[Int(random.next() % UInt64(pools.count))]
                let value = pool.lowerBound + UInt32(random.next() % UInt64(pool.count))
                name.append(Unicode.Scalar(value)!)
            }
            let text = String(name)
            let wire = ModifiedUTF7.encode(text)
            #expect(wire.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
            #expect(try ModifiedUTF7.decode(wire) == text)
            #expect(IMAPMailboxName(wireBytes: wire).name == text || IMAPCapabilities(["INBOX"]).contains(text))
        }
    }
}
