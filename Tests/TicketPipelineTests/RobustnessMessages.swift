import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Messages for the whole-pipeline robustness tests: the parser corpus, seeded mutations of it, headers in
/// many scripts and encodings (with what each must decode to), and hostile structures. Everything is
/// deterministic for a seed.
enum RobustnessMessages {
    /// One message and a label saying where it came from (printed when it fails).
    struct Sample: Sendable, CustomTestStringConvertible {
        var label: String
        var raw: [UInt8]
        var testDescription: String { label }
    }

    // MARK: - Corpus

    /// The parser's corpus directory (Tests/MailParserTests/Corpus), found from this file's path so no copy is
    /// needed.
    static let corpusDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("MailParserTests/Corpus")

    /// Every `.eml` file of the corpus, sorted by name.
    static func corpus() throws -> [Sample] {
        let names = try FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path)
            .filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { name in
            Sample(label: name, raw: Array(try Data(contentsOf: corpusDirectory.appendingPathComponent(name))))
        }
    }

    // MARK: - Mutations

    enum Mutation: CaseIterable, Sendable {
        case flipBytes, truncate, duplicateHeaderLine, removeHeaderLine, swapBoundaries, insertNUL, cutLineBreaks
    }

    /// `count` mutations of the messages in `samples`, each of one kind applied 1–3 times, chosen by `seed`.
    static func mutations(of samples: [Sample], seed: UInt64, count: Int) -> [Sample] {
        guard !samples.isEmpty else { return [] }
        var random = SplitMix64(seed: seed)
        var result: [Sample] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            let base = samples[index % samples.count]
            let mutation = Mutation.allCases[random.below(Mutation.allCases.count)]
            var raw = base.raw
            for _ in 0...random.below(3) { raw = mutate(raw, mutation, &random) }
            result.append(Sample(label: "\(base.label) #\(index) \(mutation) (seed \(seed))", raw: raw))
        }
        return result
    }

    /// The byte ranges of the lines of `raw` (without their LF).
    static func lines(_ raw: [UInt8]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        for index in raw.indices where raw[index] == 0x0A {
            result.append(start..<index)
            start = index + 1
        }
        if start < raw.count { result.append(start..<raw.count) }
        return result
    }

    /// The header lines of the top-level header section (up to the first empty line).
    static func headerLines(_ raw: [UInt8]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for line in lines(raw) {
            let isEmpty = line.isEmpty || (line.count == 1 && raw[line.lowerBound] == 0x0D)
            if isEmpty { break }
            result.append(line)
        }
        return result
    }

    static func mutate(_ raw: [UInt8], _ mutation: Mutation, _ random: inout SplitMix64) -> [UInt8] {
        guard !raw.isEmpty else { return raw }
        var bytes = raw
        switch mutation {
        case .flipBytes:
            for _ in 0..<(1 + random.below(8)) {
                bytes[random.below(bytes.count)] ^= UInt8(truncatingIfNeeded: 1 << random.below(8))
            }
        case .truncate:
            bytes.removeSubrange(random.below(bytes.count)...)
        case .duplicateHeaderLine:
            let headers = headerLines(bytes)
            guard let line = headers.randomElement(using: &random) else { return bytes }
            let copy = Array(bytes[line]) + [0x0A]
            for _ in 0..<(1 + random.below(50)) { bytes.insert(contentsOf: copy, at: line.lowerBound) }
        case .removeHeaderLine:
            let headers = headerLines(bytes)
            guard let line = headers.randomElement(using: &random) else { return bytes }
            bytes.removeSubrange(line.lowerBound..<min(line.upperBound + 1, bytes.count))
        case .swapBoundaries:
            // Delimiter lines (`--...`) exchanged with each other, or one renamed: parts open where others close.
            let delimiters = lines(bytes).filter {
                $0.count > 2 && bytes[$0.lowerBound] == 0x2D && bytes[$0.lowerBound + 1] == 0x2D
            }
            guard delimiters.count >= 2 else { return bytes }
            let first = delimiters[random.below(delimiters.count)]
            let second = delimiters[random.below(delimiters.count)]
            if first == second || random.below(3) == 0 {
                bytes.replaceSubrange(first, with: Array("--renamed-\(random.below(1000))".utf8))
            } else {
                let (low, high) = first.lowerBound < second.lowerBound ? (first, second) : (second, first)
                let lowBytes = Array(bytes[low])
                let highBytes = Array(bytes[high])
                bytes.replaceSubrange(high, with: lowBytes)
                bytes.replaceSubrange(low, with: highBytes)
            }
        case .insertNUL:
            for _ in 0..<(1 + random.below(4)) { bytes.insert(0, at: random.below(bytes.count)) }
        case .cutLineBreaks:
            // Folded headers unfolded wrongly, bare CRs and LFs: line breaks removed at random.
            let breaks = bytes.indices.filter { bytes[$0] == 0x0A }
            for _ in 0..<min(breaks.count, 1 + random.below(6)) {
                let at = breaks[random.below(breaks.count)]
                if at < bytes.count { bytes[at] = 0x20 }
            }
        }
        return bytes
    }

    // MARK: - Scripts and encodings

    /// How a header text is written.
    enum HeaderForm: Sendable {
        /// The charset's bytes as they are (8-bit headers; for UTF-8, RFC 6532).
        case raw
        /// An RFC 2047 encoded word, `B` encoding.
        case base64
        /// An RFC 2047 encoded word, `Q` encoding.
        case quoted
    }

    /// A generated message and what its ticket must hold (nil where the input is undecodable on purpose).
    struct International: Sendable, CustomTestStringConvertible {
        var label: String
        var raw: [UInt8]
        var subject: String?
        var name: String?
        var text: String?
        var filename: String?
        /// ASCII text that must survive even where the rest is broken.
        var asciiMarker: String
        var testDescription: String { label }
    }

    /// A name, subject, body and file name in one script, to be written in `charset` with `form`.
    struct Script: Sendable {
        var label: String
        var charset: String
        var form: HeaderForm
        var name: String
        var subject: String
        var body: String
        var filename: String
    }

    static let scripts: [Script] = [
        Script(
            label: "German, raw UTF-8", charset: "UTF-8", form: .raw, name: "Jürgen Müller",
            subject: "Drucker kaputt – Grüße", body: "Der Drucker im 3. Stock druckt nur noch Striche.",
            filename: "Fehlerbericht_März.pdf"),
        Script(
            label: "Chinese, UTF-8 B", charset: "UTF-8", form: .base64, name: "张伟", subject: "打印机坏了",
            body: "三楼的打印机不能用了。", filename: "错误报告.pdf"),
        Script(
            label: "French, UTF-8 Q", charset: "UTF-8", form: .quoted, name: "Renée Dupont",
            subject: "Problème d'accès à l'intranet", body: "Je n'arrive plus à me connecter depuis lundi.",
            filename: "capture d'écran.png"),
        Script(
            label: "Japanese, ISO-2022-JP B", charset: "ISO-2022-JP", form: .base64, name: "山田太郎",
            subject: "プリンターが動きません", body: "三階のプリンターが動きません。", filename: "報告書.pdf"),
        Script(
            label: "Chinese, GB18030 B", charset: "GB18030", form: .base64, name: "李娜", subject: "账户被锁定",
            body: "我的账户被锁定了，请帮忙。", filename: "截图.png"),
        Script(
            label: "Russian, KOI8-R B", charset: "KOI8-R", form: .base64, name: "Иван Петров",
            subject: "Не работает принтер", body: "Принтер на третьем этаже не печатает.", filename: "отчёт.pdf"),
        Script(
            label: "Bulgarian, Windows-1251 Q", charset: "windows-1251", form: .quoted, name: "Мария Иванова",
            subject: "Проблем с входа", body: "Не мога да вляза в системата.", filename: "грешка.txt"),
        Script(
            label: "Spanish, ISO-8859-1 Q", charset: "ISO-8859-1", form: .quoted, name: "José Núñez",
            subject: "Contraseña olvidada", body: "Olvidé mi contraseña, ¿pueden ayudarme?", filename: "señal.pdf"),
        Script(
            label: "Polish, ISO-8859-2 Q", charset: "ISO-8859-2", form: .quoted, name: "Łukasz Żółć",
            subject: "Błąd logowania", body: "Nie mogę się zalogować.", filename: "błąd.png"),
        Script(
            label: "Greek, ISO-8859-7 B", charset: "ISO-8859-7", form: .base64, name: "Γιώργος Παπαδόπουλος",
            subject: "Πρόβλημα σύνδεσης", body: "Δεν μπορώ να συνδεθώ.", filename: "σφάλμα.txt"),
        Script(
            label: "Turkish, ISO-8859-9 Q", charset: "ISO-8859-9", form: .quoted, name: "Ayşe Yılmaz",
            subject: "Şifre sıfırlama", body: "Şifremi unuttum.", filename: "ekran görüntüsü.png"),
        Script(
            label: "Japanese, Shift_JIS B", charset: "Shift_JIS", form: .base64, name: "佐藤花子",
            subject: "請求書について", body: "請求書の金額が違います。", filename: "請求書.pdf"),
        Script(
            label: "Korean, EUC-KR B", charset: "EUC-KR", form: .base64, name: "김민수", subject: "로그인 문제",
            body: "로그인이 되지 않습니다.", filename: "오류.png"),
        Script(
            label: "Chinese, Big5 B", charset: "Big5", form: .base64, name: "陳大文", subject: "帳號問題",
            body: "我的帳號無法登入。", filename: "截圖.png"),
        Script(
            label: "Japanese, EUC-JP B", charset: "EUC-JP", form: .base64, name: "鈴木一郎",
            subject: "パスワードの再設定", body: "パスワードを忘れました。", filename: "画面.png"),
        Script(
            label: "Arabic, Windows-1256 B", charset: "windows-1256", form: .base64, name: "محمد علي",
            subject: "مشكلة في الطابعة", body: "الطابعة لا تعمل.", filename: "تقرير.pdf"),
        Script(
            label: "Hebrew, UTF-8 B", charset: "UTF-8", form: .base64, name: "דוד כהן", subject: "בעיה בהתחברות",
            body: "אני לא מצליח להתחבר.", filename: "שגיאה.txt"),
        Script(
            label: "Thai, TIS-620 B", charset: "TIS-620", form: .base64, name: "สมชาย ใจดี",
            subject: "ปัญหาการเข้าสู่ระบบ", body: "ไม่สามารถเข้าสู่ระบบได้", filename: "รายงาน.pdf"),
        Script(
            label: "Vietnamese, raw UTF-8", charset: "UTF-8", form: .raw, name: "Nguyễn Văn An",
            subject: "Lỗi đăng nhập", body: "Tôi không đăng nhập được.", filename: "lỗi.png"),
        Script(
            label: "Hindi, UTF-8 Q", charset: "UTF-8", form: .quoted, name: "राहुल शर्मा", subject: "लॉगिन समस्या",
            body: "मैं लॉगिन नहीं कर पा रहा हूँ।", filename: "त्रुटि.txt"),
        Script(
            label: "Emoji, UTF-8 B", charset: "UTF-8", form: .base64, name: "Zoë 🚀", subject: "Help 🔥 now 👩🏽‍💻",
            body: "It is on fire 🔥.", filename: "fire🔥.png"),
        Script(
            label: "French, ISO-8859-15 Q", charset: "ISO-8859-15", form: .quoted, name: "Jérôme Lefèvre",
            subject: "Facture de 100 €", body: "La facture indique 100 € de trop.", filename: "facture_€.pdf"),
        Script(
            label: "Irish, Windows-1252 Q", charset: "windows-1252", form: .quoted, name: "Zoë O’Brien",
            subject: "“Quoted” invoice – wrong", body: "The invoice says “paid” — it isn’t.", filename: "invoice’s.pdf"),
        Script(
            label: "Ukrainian, KOI8-U B", charset: "KOI8-U", form: .base64, name: "Олена Шевченко",
            subject: "Ґанок і принтер", body: "Принтер не друкує.", filename: "звіт.txt"),
        Script(
            label: "German, UTF-7 B", charset: "UTF-7", form: .base64, name: "Jürgen Müller",
            subject: "Grüße aus Köln", body: "Schöne Grüße.", filename: "Grüße.txt"),
        Script(
            label: "Armenian and Georgian, raw UTF-8", charset: "UTF-8", form: .raw, name: "Արամ Պետրոսյան",
            subject: "ქართული ენა", body: "Բարև ձեզ.", filename: "ფაილი.txt"),
        Script(
            label: "Serbian, ISO-8859-5 B", charset: "ISO-8859-5", form: .base64, name: "Милош Јовановић",
            subject: "Штампач не ради", body: "Штампач на трећем спрату не ради.", filename: "извештај.pdf"),
        Script(
            label: "Czech, Windows-1250 Q", charset: "windows-1250", form: .quoted, name: "Jiří Dvořák",
            subject: "Nefunguje tiskárna", body: "Tiskárna ve třetím patře netiskne.", filename: "hlášení.txt"),
        Script(
            label: "Lithuanian, Windows-1257 B", charset: "windows-1257", form: .base64, name: "Jonas Žukauskas",
            subject: "Neveikia spausdintuvas", body: "Spausdintuvas nespausdina.", filename: "ataskaita_ž.pdf"),
        Script(
            label: "Russian, raw KOI8-R (8-bit header)", charset: "KOI8-R", form: .raw, name: "Сергей Смирнов",
            subject: "Сломался ноутбук", body: "Ноутбук не включается.", filename: "фото.jpg"),
    ]

    /// `text` converted from UTF-8 to `charset` with glibc iconv (what the tests use to write other charsets).
    static func encode(_ text: String, charset: String) -> [UInt8]? {
        let descriptor = iconv_open(charset, "UTF-8")
        guard let descriptor, descriptor != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(descriptor) }
        var input = Array(text.utf8).map { CChar(bitPattern: $0) }
        var output = [CChar](repeating: 0, count: input.count * 8 + 64)
        var inputLeft = input.count
        var outputLeft = output.count
        let converted = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer -> Bool in
                var inputPointer = inputBuffer.baseAddress
                var outputPointer = outputBuffer.baseAddress
                guard iconv(descriptor, &inputPointer, &inputLeft, &outputPointer, &outputLeft) != -1 else {
                    return false
                }
                // Back to the initial shift state (ISO-2022-JP ends in ASCII).
                return iconv(descriptor, nil, nil, &outputPointer, &outputLeft) != -1
            }
        }
        guard converted else { return nil }
        return output.prefix(output.count - outputLeft).map { UInt8(bitPattern: $0) }
    }

    /// `bytes` as one RFC 2047 encoded word (B or Q) labelled `charset`, or as they are for `.raw`.
    static func headerText(_ bytes: [UInt8], charset: String, form: HeaderForm) -> [UInt8] {
        switch form {
        case .raw:
            return bytes
        case .base64:
            return Array("=?\(charset)?B?\(Data(bytes).base64EncodedString())?=".utf8)
        case .quoted:
            var word = Array("=?\(charset)?Q?".utf8)
            for byte in bytes {
                let isPlain =
                    (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
                if byte == 0x20 {
                    word.append(0x5F)
                } else if isPlain {
                    word.append(byte)
                } else {
                    word += Array(String(format: "=%02X", byte).utf8)
                }
            }
            return word + Array("?=".utf8)
        }
    }

    /// The message for `script`: the name in From, the subject, a text part in the charset (base64), and an
    /// attachment whose file name is written as the header form says (RFC 2231 for `.quoted`).
    static func international(_ script: Script, index: Int) -> International? {
        guard let name = encode(script.name, charset: script.charset),
            let subject = encode(script.subject, charset: script.charset),
            let body = encode(script.body, charset: script.charset),
            let filename = encode(script.filename, charset: script.charset)
        else { return nil }
        let marker = "intl-\(index)"
        var raw: [UInt8] = []
        func line(_ text: String) { raw += Array((text + "\r\n").utf8) }
        let address = Array(" <sender\(index)@intl.example>\r\n".utf8)
        if script.form == .raw {
            raw += Array("From: \"".utf8) + name + Array("\"".utf8) + address
        } else {
            raw += Array("From: ".utf8) + headerText(name, charset: script.charset, form: script.form) + address
        }
        line("To: support@localhost")
        raw += Array("Subject: ".utf8) + headerText(subject, charset: script.charset, form: script.form) + [0x0D, 0x0A]
        line("Message-ID: <\(marker)@intl.example>")
        line("Date: Mon, 23 Nov 2026 10:00:00 +0000")
        line("MIME-Version: 1.0")
        line("Content-Type: multipart/mixed; boundary=\"intl-boundary\"")
        line("")
        line("--intl-boundary")
        line("Content-Type: text/plain; charset=\(script.charset)")
        line("Content-Transfer-Encoding: base64")
        line("")
        line(Data(body + Array(" \(marker)".utf8)).base64EncodedString(options: .lineLength76Characters))
        line("--intl-boundary")
        line("Content-Type: application/octet-stream")
        switch script.form {
        case .quoted:
            let encoded = filename.map { String(format: "%%%02X", $0) }.joined()
            line("Content-Disposition: attachment; filename*=\(script.charset)''\(encoded)")
        default:
            raw += Array("Content-Disposition: attachment; filename=\"".utf8)
            raw += headerText(filename, charset: script.charset, form: script.form) + Array("\"\r\n".utf8)
        }
        line("Content-Transfer-Encoding: base64")
        line("")
        line(Data("attachment \(marker)".utf8).base64EncodedString())
        line("--intl-boundary--")
        return International(
            label: script.label, raw: raw, subject: script.subject, name: script.name,
            text: script.body + " \(marker)", filename: script.filename, asciiMarker: marker)
    }

    /// Broken encodings: each must still become a ticket whose ASCII marker survives.
    static func broken() -> [International] {
        func message(_ label: String, from: [UInt8], subject: [UInt8], body: [UInt8], index: Int) -> International {
            let marker = "broken-\(index)"
            var raw = Array("From: ".utf8) + from + Array(" <broken\(index)@intl.example>\r\n".utf8)
            raw += Array("To: support@localhost\r\nSubject: ".utf8) + subject + Array(" \(marker)\r\n".utf8)
            raw += Array("Message-ID: <\(marker)@intl.example>\r\nMIME-Version: 1.0\r\n".utf8)
            raw += Array("Content-Type: text/plain; charset=utf-8\r\n\r\n".utf8) + body
            raw += Array(" \(marker)\r\n".utf8)
            return International(
                label: label, raw: raw, subject: nil, name: nil, text: nil, filename: nil, asciiMarker: marker)
        }
        let ascii = { (text: String) in Array(text.utf8) }
        return [
            message(
                "truncated encoded word", from: ascii("=?UTF-8?B?SsO8cmdlbg"), subject: ascii("=?UTF-8?Q?Gr=C3=BC"),
                body: ascii("text"), index: 0),
            message(
                "invalid base64 in an encoded word", from: ascii("=?UTF-8?B?!!!***?="),
                subject: ascii("=?UTF-8?B?w6=?= =?UTF-8?B?====?="), body: ascii("text"), index: 1),
            message(
                "wrong charset label (UTF-8 bytes labelled ISO-8859-1)",
                from: ascii("=?ISO-8859-1?B?") + ascii(Data("Jürgen".utf8).base64EncodedString()) + ascii("?="),
                subject: ascii("=?ISO-8859-1?Q?M=C3=BCller?="), body: ascii("Gr") + [0xC3, 0xBC] + ascii("sse"),
                index: 2),
            message(
                "unknown charset label", from: ascii("=?x-klingon?Q?Kahless?="),
                subject: ascii("=?x-unknown?B?3q2+7w==?="),
                body: ascii("text"), index: 3),
            message(
                "lone surrogate in raw UTF-8 (CESU)", from: [0xED, 0xA0, 0x80, 0x41],
                subject: [0x53, 0xED, 0xB0, 0x80],
                body: [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80], index: 4),
            message(
                "lone surrogate in UTF-16",
                from: ascii("=?UTF-16BE?B?") + ascii(Data([0xD8, 0x00, 0x00, 0x41]).base64EncodedString())
                    + ascii("?="),
                subject: ascii("=?UTF-16LE?B?") + ascii(Data([0x00, 0xDC, 0x41, 0x00]).base64EncodedString())
                    + ascii("?="),
                body: ascii("text"), index: 5),
            message(
                "invalid and overlong UTF-8", from: [0xC3, 0x41, 0xC0, 0xAF, 0x41],
                subject: [0xF8, 0x88, 0x80, 0x80, 0x80, 0x42],
                body: [0xFF, 0xFE, 0x00, 0x41], index: 6),
            message(
                "ISO-2022-JP escape without return", from: ascii("=?ISO-2022-JP?B?GyRCJEIkJA==?="),
                subject: [0x1B, 0x24, 0x42, 0x24, 0x42], body: ascii("text"), index: 7),
            message(
                "encoded word split inside a multi-byte character",
                from: ascii("=?UTF-8?Q?J=C3?= =?UTF-8?Q?=BCrgen?="),
                subject: ascii("=?UTF-8?B?5pel?= =?UTF-8?B?5pys?="),
                body: ascii("text"), index: 8),
        ]
    }

    // MARK: - Hostile structures

    /// The header section of a generated hostile message (without its blank line), from a non-ASCII name.
    static func hostileHeaders(
        _ subject: String, _ extra: String = "", from: String = "\"Jürgen Müller\" <m@example.test>"
    ) -> String {
        "From: \(from)\r\nTo: support@localhost\r\nSubject: \(subject)\r\n"
            + "Message-ID: <\(UUID().uuidString)@example.test>\r\nMIME-Version: 1.0\r\n" + extra
    }

    /// Deep MIME nesting, thousands of header fields, a 1 MB header, many attachments, many recipients. (Nested
    /// HTML lists, a long X-Failed-Recipients, message/rfc822 chains and many subject tags have tests of their
    /// own, which check more than the bounds: `nestedHTMLLists()` and the functions after it.)
    static func hostile() -> [Sample] {
        func headers(_ subject: String, _ extra: String = "") -> String { hostileHeaders(subject, extra) }
        var samples: [Sample] = []

        var nested = headers("deep nesting")
        for level in 0..<400 {
            nested += "Content-Type: multipart/mixed; boundary=\"n\(level)\"\r\n\r\n--n\(level)\r\n"
        }
        nested += "Content-Type: text/plain\r\n\r\nbottom\r\n"
        for level in (0..<400).reversed() { nested += "--n\(level)--\r\n" }
        samples.append(Sample(label: "400 levels of multipart", raw: Array(nested.utf8)))

        var alternativeNesting = headers("deep alternative nesting")
        for level in 0..<200 {
            alternativeNesting += "Content-Type: multipart/alternative; boundary=\"a\(level)\"\r\n\r\n--a\(level)\r\n"
            alternativeNesting += "Content-Type: text/plain\r\n\r\nlevel \(level)\r\n--a\(level)\r\n"
        }
        alternativeNesting += "Content-Type: text/plain\r\n\r\nbottom\r\n"
        samples.append(Sample(label: "200 levels of multipart/alternative", raw: Array(alternativeNesting.utf8)))

        var manyFields = headers("many header fields")
        for index in 0..<20_000 { manyFields += "X-Filler-\(index): value \(index)\r\n" }
        manyFields += "\r\nbody\r\n"
        samples.append(Sample(label: "20,000 header fields", raw: Array(manyFields.utf8)))

        var repeatedSubjects = headers("first subject")
        for index in 0..<5_000 {
            repeatedSubjects += "Subject: =?UTF-8?B?w7w=?= \(index)\r\nReferences: <r\(index)@x>\r\n"
        }
        repeatedSubjects += "\r\nbody\r\n"
        samples.append(Sample(label: "5,000 repeated Subject and References fields", raw: Array(repeatedSubjects.utf8)))

        let longValue = (0..<16_000).map { "word\($0)" }.joined(separator: "\r\n ")
        let oneMegabyte = headers("1 MB folded header", "X-Long: \(longValue)\r\n") + "\r\nbody\r\n"
        samples.append(Sample(label: "a 1 MB folded header", raw: Array(oneMegabyte.utf8)))

        let encodedWords = String(repeating: "=?UTF-8?B?w7zDtsOk?= ", count: 40_000)
        samples.append(
            Sample(
                label: "a 1 MB subject of encoded words",
                raw: Array((headers(encodedWords) + "\r\nbody\r\n").utf8)))

        let recipients = (0..<20_000).map { "\"Name \($0), Ünïcödé\" <r\($0)@example.test>" }.joined(separator: ", ")
        samples.append(
            Sample(
                label: "20,000 To addresses",
                raw: Array((headers("many recipients", "Cc: \(recipients)\r\n") + "\r\nx\r\n").utf8)))

        var attachments = headers("many attachments", "Content-Type: multipart/mixed; boundary=\"att\"\r\n") + "\r\n"
        attachments += "--att\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        for index in 0..<900 {
            attachments += "--att\r\nContent-Type: application/octet-stream\r\n"
            attachments +=
                "Content-Disposition: attachment; filename*=UTF-8''f%C3%BCr-\(index).bin\r\n\r\nx\(index)\r\n"
        }
        attachments += "--att--\r\n"
        samples.append(Sample(label: "900 attachments", raw: Array(attachments.utf8)))

        var tooManyParts =
            headers("more parts than the limit", "Content-Type: multipart/mixed; boundary=\"p\"\r\n") + "\r\n"
        for index in 0..<3_000 { tooManyParts += "--p\r\nContent-Type: text/plain\r\n\r\npart \(index)\r\n" }
        tooManyParts += "--p--\r\n"
        samples.append(Sample(label: "3,000 parts", raw: Array(tooManyParts.utf8)))

        let longLine =
            headers("a 4 MB line without a break", "Content-Type: text/plain; charset=utf-8\r\n") + "\r\n"
            + String(repeating: "ü", count: 2_000_000)
        samples.append(Sample(label: "a 4 MB body line", raw: Array(longLine.utf8)))

        let bareCR =
            headers("bare CR line ends").replacingOccurrences(of: "\r\n", with: "\r") + "\r"
            + String(repeating: "line\r", count: 100_000)
        samples.append(Sample(label: "bare CR line ends", raw: Array(bareCR.utf8)))
        return samples
    }

    /// An HTML-only message of 6,000 nested `<ul>` then 6,000 `<li>x` (54 KB), and its HTML: list indentation
    /// once made this 72 MB of text.
    static func nestedHTMLLists() -> (sample: Sample, html: String) {
        let html = String(repeating: "<ul>", count: 6_000) + String(repeating: "<li>x", count: 6_000)
        let raw =
            hostileHeaders(
                "=?UTF-8?B?VmVyc2NoYWNodGVsdGUgTGlzdGVuIOODjeOCueODiA==?=",
                "Content-Type: text/html; charset=utf-8\r\n") + "\r\n" + html + "\r\n"
        return (Sample(label: "6,000 nested HTML lists", raw: Array(raw.utf8)), html)
    }

    /// A bounce-shaped message (null sender, MAILER-DAEMON, a delivery-failure subject) whose
    /// `X-Failed-Recipients` names 5,000 addresses, over a 1.4 MB body that mentions each of them: the header was
    /// once checked against the whole body once per address.
    static func failedRecipientsBounce() -> Sample {
        let addresses = (0..<5_000).map { "empf\u{E4}nger\($0)@kunde.example" }
        let failed = addresses.joined(separator: ",\r\n ")
        var body = "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        body += "Diese Nachricht konnte nicht zugestellt werden – 配達できませんでした.\r\n\r\n"
        let filler = String(repeating: "Ü", count: 100)
        for address in addresses {
            body += "<\(address)>: host mx.kunde.example said: 550 5.1.1 user unknown \(filler)\r\n"
        }
        while body.utf8.count < 1_400_000 { body += "Zeile \(filler)\r\n" }
        let raw =
            hostileHeaders(
                "Unzustellbar: Grüße an alle – 5,000 Empfänger", "X-Failed-Recipients: \(failed)\r\n",
                from: "=?UTF-8?Q?Mail_Delivery_System_=E2=80=93_Z=C3=BCrich?= <MAILER-DAEMON@mx.example.test>")
            + body
        return Sample(label: "X-Failed-Recipients with 5,000 addresses over a 1.4 MB body", raw: Array(raw.utf8))
    }

    /// `levels` messages each embedded in the next as `message/rfc822`, each with its own text and a
    /// `bytesPerLevel` base64 attachment: each level once kept its own decoded copy of everything inside it.
    static func embeddedMessageChain(levels: Int = 6, bytesPerLevel: Int = 3 << 20) -> Sample {
        let attachment = Data((0..<(bytesPerLevel / 4 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            .base64EncodedString(options: .lineLength76Characters)
        var inner: String?
        for level in (0..<levels).reversed() {
            let boundary = "ebene-\(level)"
            var message =
                hostileHeaders(
                    "Weitergeleitet, Ebene \(level) – 転送 \(level)",
                    "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n",
                    from: "=?ISO-8859-1?Q?Fran=E7oise_L=E9vy_\(level)?= <level\(level)@example.test>") + "\r\n"
            message += "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nEbene \(level), Grüße.\r\n"
            message += "--\(boundary)\r\nContent-Type: application/octet-stream\r\n"
            message += "Content-Disposition: attachment; filename*=UTF-8''Anh%C3%A4nge-\(level).bin\r\n"
            message += "Content-Transfer-Encoding: base64\r\n\r\n\(attachment)\r\n"
            if let inner {
                message += "--\(boundary)\r\nContent-Type: message/rfc822\r\n\r\n\(inner)\r\n"
            }
            message += "--\(boundary)--\r\n"
            inner = message
        }
        return Sample(
            label: "\(levels) nested message/rfc822 of \(bytesPerLevel >> 20) MB each", raw: Array((inner ?? "").utf8))
    }

    /// A subject naming 5,000 ticket tags `[Support #n]` (with a non-ASCII text around them): tags were once
    /// uncapped, de-duplicated in O(n²) and each checked against the store.
    static func subjectWithTicketTags(count: Int = 5_000, from: String) -> Sample {
        let tags = (1...count).map { "[Support #\($0)]" }.joined(separator: " ")
        let raw =
            hostileHeaders("Re: Grüße \(tags) – всем", "Content-Type: text/plain; charset=utf-8\r\n", from: from)
            + "\r\nAlle Tickets auf einmal.\r\n"
        return Sample(label: "a subject naming \(count) ticket tags", raw: Array(raw.utf8))
    }
}
