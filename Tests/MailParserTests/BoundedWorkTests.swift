import Foundation
import PropertyBased
import Testing

@testable import MailParser

/// Outputs bounded by the input and work linear in it, for the shapes issue 11 found: nested lists in HTML,
/// many inline images, chains of embedded messages. Bounds are sizes where possible (they cannot be flaky);
/// time bounds are generous (debug builds on a shared 2-core machine) and far below the defect's cost.
@Suite("Bounded work per message")
struct BoundedWorkTests {
    func seconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        body()
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func textSize(ofHTML html: String) -> Int {
        HTMLText.text(fromHTML: html, limits: .default).utf8.count
    }

    @Test func nestedListsStaySmall() {
        // ~54 KB of HTML that became 72 MB of indentation.
        let html = String(repeating: "<ul>", count: 6000) + String(repeating: "<li>x", count: 6000)
        var text = ""
        let elapsed = seconds {
            text = MessageParser.parse(Array(("Content-Type: text/html\r\n\r\n" + html).utf8)).text
        }
        #expect(text.utf8.count <= 4 * html.utf8.count + 4096)
        #expect(text.hasPrefix("- x"))
        #expect(elapsed < 10)
    }

    @Test func listIndentIsCappedButKeptForShallowLists() {
        let text = HTMLText.text(fromHTML: "<ul><li>a<ul><li>b<ul><li>c</ul></ul></ul>", limits: .default)
        #expect(text == "- a\n  - b\n    - c")
        let deep = HTMLText.text(
            fromHTML: "<p>top</p>" + String(repeating: "<ul>", count: 50) + "<li>deep", limits: .default)
        #expect(deep.hasSuffix("\n" + String(repeating: " ", count: 2 * (HTMLText.maxListIndentLevels - 1)) + "- deep"))
    }

    /// Found while capping the indent: every `<ul>` also pushed an entry that was never dropped, so 16 MB of
    /// `<ul>` held 4 million of them (64 MB).
    @Test func openListsKeepASmallStack() {
        var converter = HTMLText.Converter(limits: .default)
        let html = Array((String(repeating: "<ul>", count: 100_000) + "<li>x" + "</ul></ul><li>y").utf8)
        html.withUnsafeBufferPointer { converter.run($0) }
        #expect(converter.lists.count <= HTMLText.maxListIndentLevels)
        #expect(converter.uncountedListDepth == 100_000 - HTMLText.maxListIndentLevels - 2)
        #expect(converter.finish().hasSuffix("- x\n" + String(repeating: " ", count: 14) + "- y"))
    }

    @Test func everyExpandingShapeStaysWithinTheBound() {
        let shapes = [
            "<ol>" + String(repeating: "<li>", count: 200_000),
            String(repeating: "<ol>", count: 100) + String(repeating: "<li>", count: 200_000),
            String(repeating: "<ul>", count: 100) + String(repeating: "<li>", count: 100_000),
            "<table><tr>" + String(repeating: "<td>x", count: 100_000),
            String(repeating: "<p>x", count: 100_000),
            String(repeating: "<br>", count: 100_000),
            String(repeating: "&#x10FFFF;", count: 50_000),
            String(repeating: "<a href=\"https://example.com/a/long/path\">x</a>", count: 20_000),
            String(repeating: "<img src=\"cid:a\">", count: 50_000),
        ]
        for html in shapes {
            let size = textSize(ofHTML: html)
            let within = size <= HTMLText.outputFactor * html.utf8.count + HTMLText.outputSlack
            #expect(within, "\(html.prefix(40))…: \(size) bytes of text from \(html.utf8.count)")
        }
        // A message whose text was cut says so (deep numbered items: 22 bytes of text for each 4-byte `<li>`).
        let parsed = MessageParser.parse(Array(("Content-Type: text/html\r\n\r\n" + shapes[1]).utf8))
        #expect(parsed.defects.contains { $0.hasPrefix("text from HTML cut") })
    }

    /// Found while bounding the converter: each `</a>` trimmed the whole output since its `<a>`, so links around
    /// a `<pre>` of blanks rescanned them once per link (O(links × blanks)).
    @Test func linksAroundPreformattedBlanksStayLinear() {
        let html =
            String(repeating: "<a href=\"https://x.example/\">", count: 20_000) + "<pre>"
            + String(repeating: " ", count: 1 << 20) + "</pre>" + String(repeating: "</a>", count: 20_000)
        var text = ""
        let elapsed = seconds { text = HTMLText.text(fromHTML: html, limits: .default) }
        #expect(elapsed < 10)
        #expect(text.isEmpty)
        let linked = HTMLText.text(
            fromHTML:
                "<pre><a href=\"https://x.example/a\">  see   </a>\n<a href=\"https://x.example/b\">x.example/b</a></pre>",
            limits: .default)
        #expect(linked == "see    <https://x.example/a>\nx.example/b")
    }

    @Test func inlineImagesAreNamedInOnePass() {
        // 1,000 attachments (the parts limit) over 4 MB of text: one String.replacing pass per attachment
        // compared 4 GB.
        let count = 1000
        var text = String(repeating: "filler text. ", count: 320_000)
        for index in 0..<count { text += "[image: cid:img\(index)@example.test] " }
        text += "[image: cid:unknown@example.test] [image: cid:unterminated"
        let attachments = (0..<count).map { index in
            ParsedAttachment(
                filename: "bild-\(index)-ä.png", contentType: "image/png", data: [], sha256: "",
                contentID: "img\(index)@example.test", disposition: "inline")
        }
        var named = ""
        let elapsed = seconds { named = InlineImages.namingAttachments(in: text, attachments) }
        #expect(elapsed < 10)
        #expect(named.contains("[image: bild-0-ä.png] [image: bild-1-ä.png]"))
        #expect(named.contains("[image: bild-999-ä.png] [image: cid:unknown@example.test]"))
        #expect(named.hasSuffix("[image: cid:unterminated"))
        #expect(!named.contains("cid:img"))
    }

    @Test func inlineImageNamingMatchesTheReference() {
        let attachments = [
            ParsedAttachment(
                filename: "a.png", contentType: "image/png", data: [], sha256: "", contentID: "a", disposition: nil),
            ParsedAttachment(
                filename: "ß.gif", contentType: "image/gif", data: [], sha256: "", contentID: "b@x",
                disposition: nil),
            ParsedAttachment(
                filename: nil, contentType: "image/gif", data: [], sha256: "", contentID: "c", disposition: nil),
        ]
        let texts = [
            "[image: cid:a] [image: cid:b@x] [image: cid:c]", "é[image: cid:a]é", "[image: cid:[image: cid:a]]",
            "[image: cid:", "", "no images", "[image: cid:b@x][image: cid:b@x]",
        ]
        for text in texts {
            var reference = text
            if text.contains("[image: cid:") {
                for attachment in attachments {
                    guard let id = attachment.contentID, let name = attachment.filename else { continue }
                    reference = reference.replacing("[image: cid:\(id)]", with: "[image: \(name)]")
                }
            }
            #expect(InlineImages.namingAttachments(in: text, attachments) == reference, "\(text)")
        }
    }

    /// The bytes held by a parsed message's attachments, embedded messages included.
    func heldBytes(_ message: ParsedMessage) -> Int {
        message.attachments.reduce(0) { $0 + $1.data.count } + message.text.utf8.count
            + message.attachedMessages.reduce(0) { $0 + heldBytes($1) }
    }

    func embeddedChain(levels: Int, innermostBody: Int) -> [UInt8] {
        var raw = "Subject: innermost\r\n\r\n" + String(repeating: "0123456789abcdef\r\n", count: innermostBody / 18)
        for level in 0..<levels {
            raw = "Subject: level \(level)\r\nContent-Type: message/rfc822\r\n\r\n" + raw
        }
        return Array(raw.utf8)
    }

    @Test func embeddedMessagesShareOneByteBudget() {
        // Ten levels of a 3 MB message: each level kept its own copy (30 MB), and a chain of 16 MB ones
        // held about 500 MB.
        let raw = embeddedChain(levels: 10, innermostBody: 3 << 20)
        let parsed = MessageParser.parse(raw)
        let budget = ParserLimits.default.maxEmbeddedMessageTotalBytes
        #expect(heldBytes(parsed) <= budget + 2 * raw.count)
        // The level that ran out of budget says so; levels below it were never parsed.
        func allDefects(_ message: ParsedMessage) -> [String] {
            message.defects + message.attachedMessages.flatMap(allDefects)
        }
        #expect(allDefects(parsed).contains { $0.contains("embedded messages") })
        #expect(parsed.attachments.first?.filename == "level 8.eml")
    }

    /// Every embedded message left unparsed says why, also when it is large enough to stay in the raw message.
    @Test func unparsedEmbeddedMessagesSayWhy() {
        let inner = "Subject: inner\r\n\r\n" + String(repeating: "y", count: 5_000)
        let raw = Array(("Subject: outer\r\nContent-Type: message/rfc822\r\n\r\n" + inner).utf8)
        let cases: [(ParserLimits, String)] = [
            (ParserLimits(maxDepth: 1, maxInMemoryAttachmentBytes: 100), "nested deeper than 1"),
            (ParserLimits(maxDepth: 1), "nested deeper than 1"),
            (ParserLimits(maxInMemoryAttachmentBytes: 100, maxEmbeddedMessageBytes: 1_000), "over 1000"),
            (ParserLimits(maxInMemoryAttachmentBytes: 100, maxEmbeddedMessageTotalBytes: 1_000), "in total"),
        ]
        for (limits, reason) in cases {
            let parsed = MessageParser.parse(raw, limits: limits)
            #expect(parsed.attachedMessages.isEmpty)
            #expect(parsed.attachments.count == 1)
            #expect(parsed.defects.contains { $0.contains(reason) }, "\(parsed.defects)")
        }
    }

    @Test func embeddedBudgetCountsSiblingsToo() {
        let inner = "Subject: inner\r\n\r\n" + String(repeating: "x", count: 40_000)
        var raw = "Subject: outer\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        for _ in 0..<10 { raw += "--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n" }
        raw += "--b--\r\n"
        let limits = ParserLimits(maxEmbeddedMessageTotalBytes: 100_000)
        let parsed = MessageParser.parse(Array(raw.utf8), limits: limits)
        #expect(parsed.attachedMessages.count == 2)
        #expect(parsed.attachments.count == 10)
        #expect(parsed.defects.filter { $0.contains("embedded messages") }.count == 8)
    }

    // MARK: - Properties over generated input

    static let htmlFragments: [String] = [
        "<ul>", "<ol>", "<li>", "</ul>", "</ol>", "<a href=\"https://x.example/p\">", "</a>", "<pre>", "</pre>",
        " ", "\n", "x", "ü", "日本", "e\u{301}", "&#x10FFFF;", "&amp;", "&", "<td>", "<tr>", "<p>", "<br>",
        "<img src=\"cid:a\">", "<!--", "-->", "<script>", "</script>", "<", ">", "<h1>", "\"", "<a href=x>",
    ]

    /// Any mix of markup: the text stays within the bound, and the conversion returns.
    @Test func generatedHTMLStaysWithinTheBound() async {
        let fragments = Gen<String?>.element(of: Self.htmlFragments).map { $0! }.array(of: 0...400)
        await propertyCheck(count: 200, input: fragments) { parts in
            let html = parts.joined()
            let size = textSize(ofHTML: html)
            #expect(size <= HTMLText.outputFactor * html.utf8.count + HTMLText.outputSlack)
        }
    }

    /// One-pass naming equals one `String.replacing` pass per attachment for Content-IDs without brackets.
    @Test func generatedInlineImageNamingMatchesTheReference() async {
        let pieces = Gen<String?>.element(of: [
            "[image: cid:a]", "[image: cid:b@x]", "[image: cid:c]", "[image: cid:", "]", "[", "é", "text ",
            "[image: cid:zz]", "\r\n",
        ]).map { $0! }.array(of: 0...30)
        let attachments = [
            ParsedAttachment(
                filename: "a.png", contentType: "image/png", data: [], sha256: "", contentID: "a", disposition: nil),
            ParsedAttachment(
                filename: "second-a.png", contentType: "image/png", data: [], sha256: "", contentID: "a",
                disposition: nil),
            ParsedAttachment(
                filename: "ß.gif", contentType: "image/gif", data: [], sha256: "", contentID: "b@x", disposition: nil),
            ParsedAttachment(
                filename: nil, contentType: "image/gif", data: [], sha256: "", contentID: "c", disposition: nil),
        ]
        await propertyCheck(count: 300, input: pieces) { parts in
            let text = parts.joined()
            var reference = text
            for attachment in attachments {
                guard let id = attachment.contentID, let name = attachment.filename else { continue }
                reference = reference.replacing("[image: cid:\(id)]", with: "[image: \(name)]")
            }
            #expect(InlineImages.namingAttachments(in: text, attachments) == reference)
        }
    }
}
