import MailParser
import Testing

@testable import MailClassification

@Suite("Attachment policy")
struct AttachmentPolicyTests {
    @Test(arguments: [
        ("logo.png", "logo.png", true),
        ("logo.png", "LOGO.PNG", true),
        ("logo.png", "mylogo.png", false),
        ("logo.png", "logo.png.exe", false),
        ("image00*.png", "image001.png", true),
        ("image00*.png", "image00.png", true),
        ("image00*.png", "image010.png", false),
        ("image00*.png", "image001.jpg", false),
        ("*.p7s", "smime.p7s", true),
        ("*.p7s", ".p7s", true),
        ("*.p7s", "smime.p7s.txt", false),
        ("*", "", true),
        ("?", "", false),
        ("file?.txt", "file1.txt", true),
        ("file?.txt", "file12.txt", false),
        ("img[0-9].gif", "img7.gif", true),
        ("img[0-9].gif", "imgx.gif", false),
        ("img[!0-9].gif", "imgx.gif", true),
        ("img[!0-9].gif", "img7.gif", false),
        ("a[bc", "a[bc", true),
        ("*a*b*c*", "xxaxxbxxcxx", true),
        ("*a*b*c*", "xxaxxcxxbxx", false),
        ("ä*.PDF", "Ärger.pdf", true),
        ("**logo**", "the-logo-file", true),
    ])
    func glob(_ pattern: String, _ name: String, _ matches: Bool) {
        #expect(FileNameGlob(pattern).matches(name) == matches)
    }

    @Test func pathologicalPatternStaysFast() {
        let glob = FileNameGlob(String(repeating: "*a", count: 30) + "b")
        let name = String(repeating: "a", count: 2_000)
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(!glob.matches(name)) }
        #expect(elapsed < .seconds(2))
    }

    static func attachment(_ name: String?, size: Int, type: String = "image/png") -> ParsedAttachment {
        let data = [UInt8](repeating: 0x41, count: size)
        return ParsedAttachment(
            filename: name, contentType: type, data: data, sha256: sha256Hex(data), contentID: nil,
            disposition: "attachment")
    }

    @Test func decisionsPerAttachment() {
        let policy = AttachmentPolicy(ignoredFileNames: ["logo.png", "image00*.png", "*.p7s"], maximumSize: 100)
        let decisions = policy.decisions(for: [
            Self.attachment("logo.png", size: 10), Self.attachment("image003.png", size: 500),
            Self.attachment("report.pdf", size: 100), Self.attachment("big.zip", size: 101),
            Self.attachment(nil, size: 5, type: "text/calendar"), Self.attachment(nil, size: 1_000),
        ])
        #expect(decisions.map(\.action) == [.ignore, .ignore, .keep, .strip, .keep, .strip])
        #expect(decisions.map(\.index) == [0, 1, 2, 3, 4, 5])
        #expect(
            decisions.map(\.rule) == [
                "ignored-file-name", "ignored-file-name", "none", "maximum-size", "none", "maximum-size",
            ])
        #expect(decisions[0].reason == "logo.png matches the ignore pattern logo.png")
        // An ignored name wins over the size limit: the reason names the pattern.
        #expect(decisions[1].reason == "image003.png matches the ignore pattern image00*.png")
        #expect(decisions[3].reason == "big.zip is 101 bytes, over the limit of 100 bytes: stripped")
        #expect(decisions[5].reason == "(unnamed image/png) is 1000 bytes, over the limit of 100 bytes: stripped")
        #expect(decisions[3].size == 101)
    }

    @Test func defaultKeepsEverything() {
        let decisions = AttachmentPolicy().decisions(for: [Self.attachment("logo.png", size: 10_000_000)])
        #expect(decisions.map(\.action) == [.keep])
        #expect(AttachmentPolicy().decisions(for: []).isEmpty)
    }
}
