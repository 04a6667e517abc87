import IMAPProtocol
import Testing

private func text(_ encoded: IMAPEncodedCommand) -> [String] {
    encoded.segments.map { String(decoding: $0, as: UTF8.self) }
}

/// The exact bytes of every command the poller sends.
@Suite("Command encoding")
struct CommandEncodingTests {
    private let literalPlus = IMAPCapabilities(["IMAP4rev1", "LITERAL+", "SASL-IR", "AUTH=PLAIN"])

    private func encode(
        _ command: IMAPCommand, capabilities: IMAPCapabilities? = nil
    ) throws -> [String] {
        var encoder = IMAPCommandEncoder(tags: IMAPTagGenerator(prefix: "A"), capabilities: capabilities)
        return text(try encoder.encode(command))
    }

    @Test func tagsCountUp() throws {
        var encoder = IMAPCommandEncoder()
        #expect(try encoder.encode(.capability).tag == "P1")
        let second = try encoder.encode(.noop)
        #expect(second.tag == "P2")
        #expect(second.bytes == Array("P2 NOOP\r\n".utf8))
    }

    @Test func simpleCommands() throws {
        #expect(try encode(.capability) == ["A1 CAPABILITY\r\n"])
        #expect(try encode(.startTLS) == ["A1 STARTTLS\r\n"])
        #expect(try encode(.noop) == ["A1 NOOP\r\n"])
        #expect(try encode(.idle) == ["A1 IDLE\r\n"])
        #expect(try encode(.logout) == ["A1 LOGOUT\r\n"])
        #expect(try encode(.enable(["CONDSTORE", "QRESYNC"])) == ["A1 ENABLE CONDSTORE QRESYNC\r\n"])
        #expect(IMAPCommandEncoder.idleDone == Array("DONE\r\n".utf8))
        #expect(IMAPCommandEncoder.saslCancel == Array("*\r\n".utf8))
    }

    @Test func loginAtomsQuotedAndLiterals() throws {
        #expect(try encode(.login(username: "bench", password: "benchpw")) == ["A1 LOGIN bench benchpw\r\n"])
        #expect(
            try encode(.login(username: "a b@example.org", password: #"p"a\ss"#))
                == [#"A1 LOGIN "a b@example.org" "p\"a\\ss"\#r\#n"#])
        #expect(try encode(.login(username: "", password: "x")) == ["A1 LOGIN \"\" x\r\n"])
        // 8-bit: a literal. LITERAL+ keeps one segment; otherwise the driver waits for "+" after each {n}.
        #expect(
            try encode(.login(username: "jürgen", password: "pässwort"), capabilities: literalPlus)
                == ["A1 LOGIN {7+}\r\njürgen {9+}\r\npässwort\r\n"])
        #expect(
            try encode(.login(username: "jürgen", password: "pässwort"))
                == ["A1 LOGIN {7}\r\n", "jürgen {9}\r\n", "pässwort\r\n"])
        #expect(
            try encode(.login(username: "u", password: "line\r\nbreak")) == [
                "A1 LOGIN u {11}\r\n", "line\r\nbreak\r\n",
            ])
        let long = String(repeating: "x", count: 1001) + " "
        #expect(try encode(.login(username: "u", password: long))[0] == "A1 LOGIN u {1002}\r\n")
        #expect(throws: IMAPCommandEncodingError.self) { try encode(.login(username: "u", password: "a\u{0}b")) }
    }

    @Test func literalMinusIsNonSynchronizingUpTo4096Bytes() throws {
        let minus = IMAPCapabilities(["IMAP4rev1", "LITERAL-"])
        #expect(try encode(.login(username: "u", password: "ä"), capabilities: minus) == ["A1 LOGIN u {2+}\r\nä\r\n"])
        let big = String(repeating: "ä", count: 2049)
        #expect(try encode(.login(username: "u", password: big), capabilities: minus).count == 2)
    }

    @Test func authenticateWithAndWithoutSASLIR() throws {
        let plain = Array("\u{0}bench\u{0}benchpw".utf8)
        #expect(
            try encode(.authenticate(mechanism: "PLAIN", initialResponse: plain), capabilities: literalPlus)
                == ["A1 AUTHENTICATE PLAIN AGJlbmNoAGJlbmNocHc=\r\n"])
        #expect(
            try encode(.authenticate(mechanism: "PLAIN", initialResponse: []), capabilities: literalPlus)
                == ["A1 AUTHENTICATE PLAIN =\r\n"])
        #expect(
            try encode(.authenticate(mechanism: "PLAIN", initialResponse: plain))
                == ["A1 AUTHENTICATE PLAIN\r\n", "AGJlbmNoAGJlbmNocHc=\r\n"])
        #expect(
            try encode(.authenticate(mechanism: "XOAUTH2", initialResponse: nil)) == ["A1 AUTHENTICATE XOAUTH2\r\n"])
        #expect(IMAPCommandEncoder.saslResponse(Array("hi".utf8)) == Array("aGk=\r\n".utf8))
        #expect(IMAPCommandEncoder.saslResponse([]) == Array("\r\n".utf8))
        #expect(throws: IMAPCommandEncodingError.self) {
            try encode(.authenticate(mechanism: "PL AIN", initialResponse: nil))
        }
    }

    @Test func mailboxesInModifiedUTF7() throws {
        #expect(try encode(.select(.inbox)) == ["A1 SELECT INBOX\r\n"])
        #expect(try encode(.select(IMAPMailboxName("inbox"))) == ["A1 SELECT INBOX\r\n"])
        #expect(
            try encode(.select(IMAPMailboxName("Erledigt/Überprüft")))
                == ["A1 SELECT Erledigt/&ANw-berpr&APw-ft\r\n"])
        #expect(try encode(.examine(IMAPMailboxName("処理済み"))) == ["A1 EXAMINE &UeZ0Bm4IMH8-\r\n"])
        #expect(try encode(.create(IMAPMailboxName("Zu groß"))) == ["A1 CREATE \"Zu gro&AN8-\"\r\n"])
        #expect(try encode(.select(IMAPMailboxName("Sent Items"))) == ["A1 SELECT \"Sent Items\"\r\n"])
        #expect(try encode(.select(IMAPMailboxName("A & B"))) == ["A1 SELECT \"A &- B\"\r\n"])
        #expect(try encode(.list(reference: "", pattern: "*")) == ["A1 LIST \"\" *\r\n"])
        #expect(try encode(.list(reference: "", pattern: "Archiv/Ä%")) == ["A1 LIST \"\" Archiv/&AMQ-%\r\n"])
        #expect(
            try encode(.status(.inbox, [.messages, .uidNext, .uidValidity, .unseen]))
                == ["A1 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)\r\n"])
    }

    @Test func uidCommands() throws {
        #expect(try encode(.uidSearch(.uid(.from(42)))) == ["A1 UID SEARCH UID 42:*\r\n"])
        #expect(try encode(.uidSearch(.all)) == ["A1 UID SEARCH ALL\r\n"])
        #expect(
            try encode(.uidSearch(.and([.unseen, .not(.deleted), .or(.larger(10), .smaller(5))])))
                == ["A1 UID SEARCH UNSEEN NOT DELETED OR LARGER 10 SMALLER 5\r\n"])
        #expect(try encode(.uidFetch(.all, [.uid, .rfc822Size])) == ["A1 UID FETCH 1:* (UID RFC822.SIZE)\r\n"])
        #expect(
            try encode(.uidFetch(IMAPUIDSet([7]), [.uid, .rfc822Size, .bodyPeek()]))
                == ["A1 UID FETCH 7 (UID RFC822.SIZE BODY.PEEK[])\r\n"])
        #expect(
            try encode(
                .uidFetch(
                    IMAPUIDSet([1, 2, 3, 5, 8, 9]),
                    [.flags, .internalDate, .bodyPeek(section: "HEADER", partial: 0...99)]))
                == ["A1 UID FETCH 1:3,5,8:9 (FLAGS INTERNALDATE BODY.PEEK[HEADER]<0.100>)\r\n"])
        #expect(
            try encode(.uidStore(IMAPUIDSet([4]), .add, [.seen], silent: true))
                == ["A1 UID STORE 4 +FLAGS.SILENT (\\Seen)\r\n"])
        #expect(
            try encode(.uidStore(IMAPUIDSet([4, 5]), .add, [.deleted], silent: true))
                == ["A1 UID STORE 4:5 +FLAGS.SILENT (\\Deleted)\r\n"])
        #expect(
            try encode(.uidStore(IMAPUIDSet([4]), .remove, [.seen, IMAPFlag("$Ticketed")], silent: false))
                == ["A1 UID STORE 4 -FLAGS (\\Seen $Ticketed)\r\n"])
        #expect(
            try encode(.uidCopy(IMAPUIDSet([3]), IMAPMailboxName("Erledigt/Überprüft")))
                == ["A1 UID COPY 3 Erledigt/&ANw-berpr&APw-ft\r\n"])
        #expect(
            try encode(.uidMove(IMAPUIDSet([3, 4]), IMAPMailboxName("Processed"))) == ["A1 UID MOVE 3:4 Processed\r\n"])
        #expect(try encode(.uidExpunge(IMAPUIDSet([3, 9]))) == ["A1 UID EXPUNGE 3,9\r\n"])
        #expect(throws: IMAPCommandEncodingError.self) { try encode(.uidExpunge(IMAPUIDSet([UInt32]()))) }
        #expect(throws: IMAPCommandEncodingError.self) { try encode(.uidExpunge(IMAPUIDSet([0]))) }
        #expect(throws: IMAPCommandEncodingError.self) {
            try encode(.uidStore(IMAPUIDSet([1]), .add, [IMAPFlag("bad flag")], silent: true))
        }
    }

    @Test func uidSetsAreSortedMergedAndCompact() {
        #expect(IMAPUIDSet([5, 1, 2, 3, 3, 9, 10, 11, 20]).wireText == "1:3,5,9:11,20")
        #expect(IMAPUIDSet([UInt32.max, UInt32.max - 1]).wireText == "4294967294:4294967295")
        #expect(IMAPUIDSet([.max, .max, .max - 1, 1, 1]).wireText == "1,4294967294:4294967295")
        #expect(IMAPUIDSet.from(17).wireText == "17:*")
        #expect(IMAPUIDSet.all.count == nil)
        #expect(IMAPUIDSet([1, 2, 3, 7]).count == 4)
        #expect(IMAPUIDSet([1, 2, 3, 7]).uids() == [1, 2, 3, 7])
        #expect(IMAPUIDSet.from(5).contains(4_000_000_000))
        #expect(!IMAPUIDSet([1, 3]).contains(2))
    }
}
