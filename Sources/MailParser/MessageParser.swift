/// Parses RFC 5322 / MIME messages into `ParsedMessage` values.
public enum MessageParser {
    /// Parses one RFC 5322 message. Never throws, never crashes: malformed input yields what could be read
    /// plus entries in `defects`. Time is linear in the input size (nested parts are rescanned at most
    /// `limits.maxDepth` times).
    public static func parse(_ raw: [UInt8], limits: ParserLimits = .default) -> ParsedMessage {
        raw.withUnsafeBufferPointer {
            parse(buffer: $0, limits: limits, depth: 0, embeddedBudget: EmbeddedMessageBudget(limits))
        }
    }

    /// Parses a message that may be large and file-mapped: long scans report to `relief`, and attachments over
    /// `limits.maxInMemoryAttachmentBytes` are measured and hashed in chunks, not copied (their
    /// `ParsedAttachment.deferred` ranges refer to `buffer`).
    public static func parse(
        buffer: UnsafeBufferPointer<UInt8>, limits: ParserLimits = .default, relief: ScanRelief?
    ) -> ParsedMessage {
        parse(buffer: buffer, limits: limits, depth: 0, embeddedBudget: EmbeddedMessageBudget(limits), relief: relief)
    }

    static func parse(
        buffer: UnsafeBufferPointer<UInt8>, limits: ParserLimits, depth: Int, embeddedBudget: EmbeddedMessageBudget,
        relief: ScanRelief? = nil
    ) -> ParsedMessage {
        var builder = MIMETreeBuilder(buffer: buffer, limits: limits)
        builder.relief = relief
        let start = headerSectionStart(buffer)
        let root = builder.part(in: start..<buffer.count, defaultType: "text/plain", depth: depth)
        var defects = builder.defects
        if start > 0 { defects.insert("blank lines before the header section were skipped", at: 0) }
        let headers = root.headers
        let hint = firstTextCharset(root)

        var message = ParsedMessage()
        message.headers.reserveCapacity(headers.fields.count)
        for field in headers.fields {
            let name = String(decoding: headers.name(of: field), as: UTF8.self)
            let value = EncodedWords.decodeRaw(headers.value(of: field), hint: hint, limits: limits, defects: &defects)
            message.headers.append(HeaderField(name: name, value: value))
        }
        if let subject = headers.first("subject") {
            message.subject = unstructured(subject, hint: hint, limits: limits, defects: &defects)
        }
        if let value = headers.first("message-id") { message.messageID = MessageIDParser.messageID(value) }
        if let value = headers.first("in-reply-to") { message.inReplyTo = MessageIDParser.identifiers(value) }
        if let value = headers.first("references") { message.references = MessageIDParser.identifiers(value) }
        if let value = headers.first("date") {
            message.date = DateHeaderParser.parse(value)
            if message.date == nil { defects.append("unreadable Date header") }
        }
        func addresses(_ name: StaticString) -> [MailAddress] {
            var result: [MailAddress] = []
            for value in headers.all(name) {
                result += AddressListParser.parse(value, hint: hint, limits: limits, defects: &defects)
            }
            return result
        }
        message.from = addresses("from")
        message.to = addresses("to")
        message.cc = addresses("cc")
        message.replyTo = addresses("reply-to")

        var assembly = BodyAssembly(
            buffer: buffer, limits: limits, depth: depth, hint: hint, embeddedBudget: embeddedBudget)
        assembly.relief = relief
        assembly.visit(root)
        defects += assembly.defects
        var textFromHTML: String?
        if !assembly.plainTexts.isEmpty {
            message.text =
                assembly.plainTexts.count == 1 ? assembly.plainTexts[0] : assembly.plainTexts.joined(separator: "\n")
        } else if let html = assembly.html {
            message.text = HTMLText.text(fromHTML: html, limits: limits, defects: &defects)
            textFromHTML = html
        } else if !assembly.fallbackTexts.isEmpty {
            message.text = assembly.fallbackTexts.joined(separator: "\n")
        }
        message.html = assembly.html
        message.attachments = assembly.attachments
        message.attachedMessages = assembly.attachedMessages
        message.strippedText = QuoteStripping.strippedText(message.text, htmlForText: textFromHTML, limits: limits)
        if textFromHTML != nil {
            message.text = InlineImages.namingAttachments(in: message.text, message.attachments)
            message.strippedText = InlineImages.namingAttachments(in: message.strippedText, message.attachments)
        }
        message.defects = defects
        return message
    }

    /// Where the header section starts: after any lines of only blanks (some gateways and scripts write an
    /// empty or space-only first line), which would otherwise end an empty header section at once. A line ends
    /// at LF or at a bare CR, as in the header section (`HeaderSection.parse`). O(leading blank bytes), one pass.
    public static func headerSectionStart(_ buffer: UnsafeBufferPointer<UInt8>) -> Int {
        var start = 0
        var index = 0
        while index < buffer.count {
            let byte = buffer[index]
            if byte == ASCIIByte.lf
                || (byte == ASCIIByte.cr && index + 1 < buffer.count && buffer[index + 1] != ASCIIByte.lf)
            {
                start = index + 1
            } else if !byte.isBlank, byte != ASCIIByte.cr {
                break
            }
            index += 1
        }
        return index == buffer.count ? buffer.count : start
    }

    /// An unstructured header value: encoded words decoded, line-break and tab characters as spaces.
    static func unstructured(
        _ value: ArraySlice<UInt8>, hint: String?, limits: ParserLimits, defects: inout [String]
    ) -> String {
        let decoded = EncodedWords.decode(value, hint: hint, limits: limits, defects: &defects)
        guard decoded.utf8.contains(where: { $0 == ASCIIByte.tab || $0 == ASCIIByte.cr || $0 == ASCIIByte.lf })
        else { return decoded }
        return String(
            decoding: decoded.utf8.map { $0 == ASCIIByte.tab || $0 == ASCIIByte.cr || $0 == ASCIIByte.lf ? 0x20 : $0 },
            as: UTF8.self)
    }

    /// The first charset label of a text part: a good guess for raw 8-bit header bytes.
    static func firstTextCharset(_ part: MIMEPart) -> String? {
        switch part.kind {
        case .leaf:
            guard part.mainType == "text", let raw = part.contentType.rawParameter("charset") else { return nil }
            return ByteText.lowercasedString(raw)
        case .multipart(_, let children):
            for child in children.prefix(8) {
                if let found = firstTextCharset(child) { return found }
            }
            return nil
        }
    }
}

/// The bytes of embedded messages one message may still parse recursively (`ParserLimits.maxEmbeddedMessageTotalBytes`),
/// shared by every level and sibling of that message's parse. A reference so that nested parses draw on it;
/// never shared between parses or threads.
final class EmbeddedMessageBudget {
    private(set) var remaining: Int

    init(_ limits: ParserLimits) { remaining = limits.maxEmbeddedMessageTotalBytes }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func take(_ bytes: Int) -> Bool {
        guard bytes <= remaining else { return false }
        remaining -= bytes
        return true
    }
}

/// Walks the MIME tree and chooses the body: text/plain preferred, HTML kept, everything else an
/// attachment.
struct BodyAssembly {
    let buffer: UnsafeBufferPointer<UInt8>
    let limits: ParserLimits
    let depth: Int
    let hint: String?
    let embeddedBudget: EmbeddedMessageBudget
    /// Told of the bytes read to measure deferred attachments.
    var relief: ScanRelief?
    var plainTexts: [String] = []
    /// Text found outside MIME text parts (a TNEF body), used when there is no other text.
    var fallbackTexts: [String] = []
    var html: String?
    var attachments: [ParsedAttachment] = []
    var attachedMessages: [ParsedMessage] = []
    var defects: [String] = []

    init(
        buffer: UnsafeBufferPointer<UInt8>, limits: ParserLimits, depth: Int, hint: String?,
        embeddedBudget: EmbeddedMessageBudget
    ) {
        self.buffer = buffer
        self.limits = limits
        self.depth = depth
        self.hint = hint
        self.embeddedBudget = embeddedBudget
    }

    private func sibling() -> BodyAssembly {
        var sibling = BodyAssembly(
            buffer: buffer, limits: limits, depth: depth, hint: hint, embeddedBudget: embeddedBudget)
        sibling.relief = relief
        return sibling
    }

    private mutating func absorbParts(of other: BodyAssembly) {
        fallbackTexts += other.fallbackTexts
        attachments += other.attachments
        attachedMessages += other.attachedMessages
        defects += other.defects
    }

    mutating func visit(_ part: MIMEPart, inline: Bool = false) {
        switch part.kind {
        case .multipart(let subtype, let children):
            switch subtype {
            case "alternative":
                // Each alternative is read on its own; the first with plain text and the last (richest) with
                // HTML win. Non-text alternatives (calendar invites) stay attachments.
                var chosenPlain: [String]?
                var chosenHTML: String?
                for child in children {
                    var branch = sibling()
                    branch.visit(child)
                    if chosenPlain == nil, !branch.plainTexts.isEmpty { chosenPlain = branch.plainTexts }
                    if let branchHTML = branch.html { chosenHTML = branchHTML }
                    absorbParts(of: branch)
                }
                plainTexts += chosenPlain ?? []
                if html == nil { html = chosenHTML }
            case "related":
                var rootIndex = 0
                if let start = part.contentType.rawParameter("start") {
                    let wanted = MessageIDParser.messageID(start[...])
                    rootIndex =
                        children.firstIndex {
                            $0.headers.first("content-id").flatMap(MessageIDParser.messageID) == wanted
                        } ?? 0
                }
                for (index, child) in children.enumerated() {
                    visit(child, inline: index != rootIndex)
                }
            default:
                for child in children { visit(child) }
            }
        case .leaf:
            visitLeaf(part, inline: inline)
        }
    }

    private mutating func visitLeaf(_ part: MIMEPart, inline: Bool) {
        let dispositionHeader = part.headers.first("content-disposition").map(MIMEHeaderValue.init)
        var disposition = dispositionHeader?.token
        if disposition?.isEmpty == true { disposition = nil }
        let filename =
            dispositionHeader?.parameter("filename", hint: hint, limits: limits, defects: &defects)
            ?? part.contentType.parameter("name", hint: hint, limits: limits, defects: &defects)
        // A text part is body text unless it is an attachment; a named text part not marked as an
        // attachment (some clients name the body) is body text only while there is no other.
        let isText = part.mediaType == "text/plain" || part.mediaType == "text/html"
        let isBodyText =
            isText && disposition != "attachment" && !inline
            && (filename == nil
                || (part.mediaType == "text/plain" ? plainTexts.isEmpty : html == nil && plainTexts.isEmpty))
        let isMessage = part.mediaType == "message/rfc822" || part.mediaType == "message/global"
        // Decided once, before anything is decoded: a message that will not be parsed need not be copied.
        let parseEmbedded =
            isMessage && depth + 1 < limits.maxDepth && part.body.count <= limits.maxEmbeddedMessageBytes
            && embeddedBudget.take(part.body.count)
        if isMessage, !parseEmbedded {
            if depth + 1 >= limits.maxDepth {
                defects.append("message/rfc822 nested deeper than \(limits.maxDepth); kept unparsed")
            } else if part.body.count > limits.maxEmbeddedMessageBytes {
                defects.append(
                    "message/rfc822 of \(part.body.count) octets kept unparsed (over \(limits.maxEmbeddedMessageBytes))"
                )
            } else {
                defects.append(
                    "message/rfc822 of \(part.body.count) octets kept unparsed: embedded messages over "
                        + "\(limits.maxEmbeddedMessageTotalBytes) octets in total")
            }
        }
        if !isBodyText, part.body.count > limits.maxInMemoryAttachmentBytes, !parseEmbedded,
            appendDeferred(
                part, filename: filename, disposition: disposition ?? (inline ? "inline" : nil))
        {
            return
        }
        let content = decodedContent(part)
        let isBinary = isBodyText && Self.looksBinary(content.bytes, charset: part.contentType.rawParameter("charset"))
        if isBinary { defects.append("\(part.mediaType) part holds binary data; kept as an attachment") }
        if isBodyText, !isBinary {
            var bytes = content.bytes
            if part.mediaType == "text/plain", content.encoding != "x-uuencode" { extractUuencodedFiles(&bytes) }
            var text = decodeText(part, content: bytes)
            if part.mediaType == "text/plain" {
                if let format = part.contentType.rawParameter("format"), ByteText.equalsIgnoringCase(format, "flowed") {
                    let deleteSpace = part.contentType.rawParameter("delsp").map {
                        ByteText.equalsIgnoringCase($0, "yes")
                    }
                    text = FlowedText.unflow(text, deleteSpace: deleteSpace ?? false)
                }
                plainTexts.append(text)
            } else if html == nil {
                html = text
            } else {
                html! += "\n" + text
            }
            return
        }
        if part.mediaType == "application/ms-tnef" || part.mediaType == "application/vnd.ms-tnef"
            || filename?.lowercased() == "winmail.dat"
        {
            if appendTNEFContent(content.bytes) { return }
            defects.append("winmail.dat is not readable TNEF; kept as an attachment")
        }
        var name = filename.map(sanitizedFilename)
        if isMessage {
            if parseEmbedded {
                let embedded = content.bytes.withUnsafeBufferPointer {
                    MessageParser.parse(buffer: $0, limits: limits, depth: depth + 1, embeddedBudget: embeddedBudget)
                }
                if name == nil {
                    let subject = sanitizedFilename(embedded.subject ?? "")
                    name = (subject.isEmpty ? "message" : String(subject.prefix(100))) + ".eml"
                }
                attachedMessages.append(embedded)
            } else if depth + 1 < limits.maxDepth, name == nil {
                name = "message.eml"
            }
        }
        let contentID = part.headers.first("content-id").flatMap(MessageIDParser.messageID)
        attachments.append(
            ParsedAttachment(
                filename: name, contentType: isBinary ? "application/octet-stream" : part.mediaType,
                data: content.bytes, sha256: sha256Hex(content.bytes), contentID: contentID,
                disposition: disposition ?? (inline ? "inline" : nil)))
    }

    /// Whether a text part's decoded bytes are binary data (a file sent without a Content-Type, a mislabelled
    /// archive) rather than text, judged on the first 4 KiB: NUL bytes (two or more, and more than one in 64), or
    /// C0 controls (NUL included; not tab, line breaks, form feed, and escape, which ISO-2022 uses) more than one
    /// in 8. A stray NUL
    /// (a C string terminator some mailers leave) keeps text text. UTF-16 and UTF-32 text is full of NUL bytes,
    /// so parts labelled so, or starting with a UTF-16 byte order mark, are text. O(min(n, 4096)), one pass.
    static func looksBinary(_ bytes: [UInt8], charset: [UInt8]?) -> Bool {
        if let charset {
            let label = ByteText.lowercasedString(charset)
            if label.hasPrefix("utf-16") || label.hasPrefix("utf-32") || label.hasPrefix("ucs-")
                || label.hasPrefix("unicode")
            {
                return false
            }
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) { return false }
        let sample = bytes.prefix(4096)
        var nuls = 0
        var controls = 0
        for byte in sample where byte < 0x20 {
            if byte == 0 { nuls += 1 }
            if byte != ASCIIByte.tab, byte != ASCIIByte.cr, byte != ASCIIByte.lf, byte != 0x0C, byte != 0x1B {
                controls += 1
            }
        }
        return (nuls >= 2 && nuls * 64 > sample.count) || controls * 8 > sample.count
    }

    /// Adds a large attachment without copying it: its decoded size and hash are computed in chunks, its content
    /// stays in the message. False for the parts that must be read whole: TNEF containers, embedded messages
    /// small enough to parse, and encodings read only in one piece (uuencode).
    private mutating func appendDeferred(_ part: MIMEPart, filename: String?, disposition: String?) -> Bool {
        if part.mediaType == "application/ms-tnef" || part.mediaType == "application/vnd.ms-tnef"
            || filename?.lowercased() == "winmail.dat"
        {
            return false
        }
        let isMessage = part.mediaType == "message/rfc822" || part.mediaType == "message/global"
        var label = ""
        if let value = part.headers.first("content-transfer-encoding") {
            label = ByteText.lowercasedString(ByteText.trimmed(value).filter { $0 != ASCIIByte.quote })
        }
        let encoding: ChunkedTransferEncoding
        switch label {
        case "base64": encoding = .base64
        case "quoted-printable": encoding = .quotedPrintable
        case "", "7bit", "8bit", "binary": encoding = .identity
        default: return false
        }
        let content = DeferredContent(range: part.body, encoding: encoding)
        let (size, sha256) = content.measure(in: buffer, relief: relief)
        var name = filename.map(sanitizedFilename)
        if isMessage, name == nil { name = "message.eml" }
        attachments.append(
            ParsedAttachment(
                filename: name, contentType: part.mediaType, deferred: content, size: size, sha256: sha256,
                contentID: part.headers.first("content-id").flatMap(MessageIDParser.messageID),
                disposition: disposition))
        return true
    }

    /// Adds the attachments and body of a TNEF container; false when it is not readable TNEF.
    private mutating func appendTNEFContent(_ bytes: [UInt8]) -> Bool {
        guard let tnef = TNEFDecoder.decode(bytes, limits: limits, defects: &defects),
            !tnef.attachments.isEmpty || tnef.text != nil || tnef.html != nil
        else { return false }
        for attachment in tnef.attachments {
            let name = attachment.filename.map(sanitizedFilename)
            attachments.append(
                ParsedAttachment(
                    filename: name, contentType: attachment.contentType ?? MediaTypes.guess(filename: name),
                    data: attachment.data, sha256: sha256Hex(attachment.data), contentID: attachment.contentID,
                    disposition: "attachment"))
        }
        if let text = tnef.text, !text.isEmpty {
            fallbackTexts.append(String(decoding: ByteText.normalizingNewlines(Array(text.utf8)), as: UTF8.self))
        }
        if html == nil, let tnefHTML = tnef.html { html = tnefHTML }
        return true
    }

    /// Moves uuencoded files out of a plain-text body into attachments.
    private mutating func extractUuencodedFiles(_ bytes: inout [UInt8]) {
        guard Uuencode.mayContainBlock(bytes) else { return }
        let files = bytes.withUnsafeBufferPointer { Uuencode.files(in: $0) }
        guard !files.isEmpty else { return }
        for file in files.reversed() {
            bytes.removeSubrange(file.range)
        }
        for file in files {
            let name = sanitizedFilename(file.name)
            attachments.append(
                ParsedAttachment(
                    filename: name, contentType: MediaTypes.guess(filename: name), data: file.data,
                    sha256: sha256Hex(file.data), contentID: nil, disposition: "attachment"))
        }
    }

    /// The part's bytes with its Content-Transfer-Encoding undone.
    func decodedContent(_ part: MIMEPart) -> (bytes: [UInt8], encoding: String) {
        let body = UnsafeBufferPointer(rebasing: buffer[part.body])
        var encoding = ""
        if let value = part.headers.first("content-transfer-encoding") {
            encoding = ByteText.lowercasedString(ByteText.trimmed(value).filter { $0 != ASCIIByte.quote })
        }
        switch encoding {
        case "base64":
            return (TransferDecoding.base64(body).bytes, encoding)
        case "quoted-printable":
            return (TransferDecoding.quotedPrintable(body), encoding)
        case "x-uuencode", "uuencode", "x-uue":
            if let file = Uuencode.firstFile(in: body) { return (file.data, encoding) }
            return (Array(body), encoding)
        default:
            return (Array(body), encoding)
        }
    }

    mutating func decodeText(_ part: MIMEPart, content: [UInt8]) -> String {
        var label = part.contentType.rawParameter("charset").map { ByteText.lowercasedString($0) }
        if label == nil, part.mediaType == "text/html" { label = HTMLText.declaredCharset(content) }
        // Line breaks are normalised on the bytes when the charset keeps ASCII bytes as ASCII (all but
        // UTF-16/32 and UTF-7), which avoids a second pass over the decoded string.
        if case .iconv(let name, _) = CharsetDecoding.classify(label), name.hasPrefix("UTF-") || name.hasPrefix("UCS-")
        {
            let text = CharsetDecoding.decode(content, label: label, hint: hint, limits: limits, defects: &defects)
            return String(decoding: ByteText.normalizingNewlines(Array(text.utf8)), as: UTF8.self)
        }
        return CharsetDecoding.decode(
            ByteText.normalizingNewlines(content), label: label, hint: hint, limits: limits, defects: &defects)
    }

    /// Drops directory components (`C:\path\file.pdf`) and control characters from a filename.
    func sanitizedFilename(_ name: String) -> String {
        if !name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == ASCIIByte.slash || $0 == ASCIIByte.backslash }
        ),
            name.utf8.first.map({ !$0.isWhitespace }) ?? true, name.utf8.last.map({ !$0.isWhitespace }) ?? true
        {
            return name
        }
        var base = Substring(name)
        if let separator = base.lastIndex(where: { $0 == "/" || $0 == "\\" }) {
            base = base[base.index(after: separator)...]
        }
        let cleaned = String(
            String.UnicodeScalarView(base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        return cleaned.trimmingSpaces
    }
}

extension String {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
