import MailCommands
import MailParser
import Testing

/// What case-insensitive means for alert rules (`CaseFolding`): subjects arrive RFC 2047-encoded in any charset
/// and are matched after MailParser decodes them, as the pipeline will hand them over.
@Suite("Alert rules: case-insensitivity over non-ASCII subjects")
struct AlertRuleCaseFoldingTests {
    static let rules = AlertRuleSet(
        detection: [
            AlertDetectionRule(name: "Sauvegarde", senders: [], subjectPhrases: ["échec de sauvegarde"]),
            AlertDetectionRule(name: "Türkçe", senders: [], subjectPhrases: ["disk dolu"]),
            AlertDetectionRule(name: "Deutsch", senders: [], subjectPhrases: ["Speicher voll"]),
            AlertDetectionRule(name: "日本語", senders: [], subjectPhrases: ["【警報】"]),
            AlertDetectionRule(name: "Emoji", senders: [], subjectPhrases: ["🔥 alert"]),
        ],
        accounts: [
            AlertAccount(name: "Société Générale"), AlertAccount(name: "Straßenbau AG"),
            AlertAccount(name: "İstanbul Lojistik"), AlertAccount(name: "山田商事"),
        ],
        accountDetection: [.after("client:"), .before(":"), .after("müşteri:"), .after("顧客:")])

    /// The decoded Subject and From of a raw message.
    static func evaluate(subjectField: String, from: String = "monitor@rmm.example.test") -> AlertVerdict? {
        let raw = "From: \(from)\r\nSubject: \(subjectField)\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        let message = MessageParser.parse(Array(raw.utf8))
        return rules.evaluate(
            sender: message.from.first?.address ?? "", subject: message.subject ?? "")
    }

    static func account(_ verdict: AlertVerdict?) -> String? {
        if case .alert(_, let account, _) = verdict { return account }
        return nil
    }

    @Test func accentsInUTF8AndLatin1() {
        // "ÉCHEC DE SAUVEGARDE - Client: SOCIÉTÉ GÉNÉRALE", base64 UTF-8.
        let b = Self.evaluate(
            subjectField: "=?UTF-8?B?w4lDSEVDIERFIFNBVVZFR0FSREUgLSBDbGllbnQ6IFNPQ0nDiVTDiSBHw4lOw4lSQUxF?=")
        #expect(Self.account(b) == "Société Générale")
        // "Échec de sauvegarde" in quoted-printable ISO-8859-1, account in raw UTF-8.
        let q = Self.evaluate(subjectField: "=?ISO-8859-1?Q?=C9chec_de_sauvegarde?= client: société générale")
        #expect(Self.account(q) == "Société Générale")
        // Accents stay significant.
        #expect(Self.evaluate(subjectField: "Echec de sauvegarde") == nil)
    }

    @Test func turkishDottedAndDotlessI() {
        // "DİSK DOLU" in ISO-8859-9 (0xDD is İ); "müşteri: İSTANBUL LOJİSTİK" in UTF-8 Q.
        let verdict = Self.evaluate(
            subjectField:
                "=?ISO-8859-9?Q?D=DDSK_DOLU?= =?UTF-8?Q?M=C3=9C=C5=9ETER=C4=B0:_=C4=B0STANBUL_LOJ=C4=B0ST=C4=B0K?=")
        #expect(Self.account(verdict) == "İstanbul Lojistik")
        #expect(Self.evaluate(subjectField: "dısk dolu")?.isAlert == true)
        #expect(Self.evaluate(subjectField: "DISK DOLU")?.isAlert == true)
        #expect(CaseFolding.folded("İSTANBUL") == "istanbul")
    }

    @Test func germanSharpS() {
        let upper = Self.evaluate(subjectField: "=?UTF-8?Q?STRASSENBAU_AG:_SPEICHER_VOLL?=")
        #expect(Self.account(upper) == "Straßenbau AG")
        // "STRAẞENBAU AG: Speicher voll", with the capital sharp s.
        let capitalSharpS = Self.evaluate(subjectField: "=?UTF-8?B?U1RSQeG6nkVOQkFVIEFHOiBTcGVpY2hlciB2b2xs?=")
        #expect(Self.account(capitalSharpS) == "Straßenbau AG")
        #expect(CaseFolding.folded("Straße") == CaseFolding.folded("STRASSE"))
    }

    @Test func cjkAndEmojiMatchExactly() {
        // "【警報】顧客:山田商事様 ディスク容量不足" in ISO-2022-JP would need iconv; UTF-8 B here.
        let cjk = Self.evaluate(
            subjectField: "=?UTF-8?B?44CQ6K2m5aCx44CR6aGn5a6iOuWxseeUsOWVhuS6i+anmCDjg4fjgqPjgrnjgq/lrrnph4/kuI3otrM=?="
        )
        #expect(Self.account(cjk) == "山田商事")  // no word boundary needed before 様
        let emoji = Self.evaluate(
            subjectField: "=?UTF-8?Q?=F0=9F=94=A5_ALERT_=F0=9F=94=A5_client:_Soci=C3=A9t=C3=A9_G=C3=A9n=C3=A9rale?=")
        #expect(Self.account(emoji) == "Société Générale")
        #expect(Self.evaluate(subjectField: "🔥alert") == nil)
    }

    @Test func foldingDefinition() {
        #expect(CaseFolding.folded("ÉCOLE") == "école")
        #expect(CaseFolding.folded("ΌΡΟΣ") == CaseFolding.folded("όρος"))  // final sigma
        #expect(CaseFolding.folded("ﬁle") == "file")
        #expect(CaseFolding.folded("\u{212A}elvin") == "kelvin")  // Kelvin sign
        #expect(CaseFolding.folded("ẞ") == "ss")
        #expect(CaseFolding.folded("ASCII Only") == "ascii only")
        #expect(CaseFolding.folded("山田🔥") == "山田🔥")
        // No canonical normalization: decomposed é is not precomposed é (Swift's `==` would call them equal).
        #expect(Array(CaseFolding.folded("E\u{301}").utf8) == [0x65, 0xCC, 0x81])
        #expect(Self.rules.evaluate(sender: "a@b.test", subject: "E\u{301}CHEC DE SAUVEGARDE") == nil)
    }

    @Test func brokenEncodingsDoNotCrash() {
        #expect(Self.evaluate(subjectField: "=?UTF-8?B?w4lD?= =?UTF-8?Q?=FF=FE?= \u{1}") == nil)
    }
}

extension AlertVerdict {
    fileprivate var isAlert: Bool {
        if case .alert = self { return true }
        return false
    }
}

/// The folding definition over every cased scalar of Unicode: a scalar, its upper case and its lower case fold to
/// the same text, and folding twice changes nothing (so a folded phrase and a folded subject compare alike).
@Suite("CaseFolding over all of Unicode")
struct CaseFoldingCoverageTests {
    static let casedScalars: [Unicode.Scalar] = (0...0x10FFFF).compactMap { value in
        guard let scalar = Unicode.Scalar(value), scalar.properties.changesWhenCaseMapped else { return nil }
        return scalar
    }

    @Test func everyCaseOfAScalarFoldsAlike() {
        #expect(Self.casedScalars.count > 2_000)
        var mismatches: [String] = []
        for scalar in Self.casedScalars {
            let text = String(scalar)
            let folded = CaseFolding.folded(text)
            let upper = CaseFolding.folded(scalar.properties.uppercaseMapping)
            let lower = CaseFolding.folded(scalar.properties.lowercaseMapping)
            let titled = CaseFolding.folded(scalar.properties.titlecaseMapping)
            if !(folded.utf8.elementsEqual(upper.utf8) && folded.utf8.elementsEqual(lower.utf8)
                && folded.utf8.elementsEqual(titled.utf8) && CaseFolding.folded(folded).utf8.elementsEqual(folded.utf8))
            {
                mismatches.append("U+" + String(scalar.value, radix: 16, uppercase: true))
            }
        }
        // İ lower-cases to i + U+0307 (a combining dot), which stays: `İ` folds to `i` on purpose.
        #expect(mismatches == ["U+130"])
    }
}
