import MailParser
import Testing

@Suite struct TerminalTextTests {
    @Test func controlsBecomeVisibleEscapes() {
        #expect(TerminalText.escaped("a\u{1B}]52;c;eA==\u{07}b") == "a\\u{1B}]52;c;eA==\\u{07}b")
        #expect(TerminalText.escaped("x\u{9B}31m\u{7F}\u{0}") == "x\\u{9B}31m\\u{7F}\\u{00}")
        #expect(TerminalText.escaped("one\ntwo\tthree") == "one\\u{0A}two\\u{09}three")
        #expect(TerminalText.escaped("over\rwrite") == "over\\u{0D}write")
    }

    @Test func bodiesKeepLineBreaksAndTabsButNotABareCarriageReturn() {
        let body = "Hello\r\nworld\n\tindented\rhidden\u{1B}[2J"
        #expect(
            TerminalText.escaped(body, layout: .multiLine) == "Hello\r\nworld\n\tindented\\u{0D}hidden\\u{1B}[2J")
    }

    @Test func ordinaryTextIsUnchanged() {
        for text in ["", "Jürgen Müller <jm@example.test>", "日本語の件名 🎫", "Grüße\n"] {
            #expect(TerminalText.escaped(text, layout: .multiLine) == text)
        }
        #expect(TerminalText.escaped("Grüße — ½ € \u{A0}") == "Grüße — ½ € \u{A0}")
    }
}
