/// Reads Outlook's TNEF container (`winmail.dat`, `application/ms-tnef`): the attachments it wraps and its
/// plain-text or HTML body. Compressed RTF bodies are not decoded (Outlook also sends the text as a
/// separate MIME part in practice).
enum TNEFDecoder {
    struct Attachment {
        var filename: String?
        var contentType: String?
        var contentID: String?
        var data: [UInt8] = []
    }

    struct Content {
        var text: String?
        var html: String?
        var attachments: [Attachment] = []
    }

    static let signature: UInt32 = 0x223E_9F78
    static let maxAttributes = 100_000

    /// Little-endian cursor over the container; every read is bounds-checked.
    struct Reader {
        let bytes: [UInt8]
        var offset: Int
        var remaining: Int { bytes.count - offset }

        mutating func uint8() -> UInt8? {
            guard remaining >= 1 else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func uint16() -> UInt16? {
            guard remaining >= 2 else { return nil }
            defer { offset += 2 }
            return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
        }

        mutating func uint32() -> UInt32? {
            guard remaining >= 4 else { return nil }
            defer { offset += 4 }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
        }

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, remaining >= count else { return nil }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
    }

    /// Decodes a TNEF stream; nil when it is not TNEF or is truncated before anything useful.
    static func decode(_ bytes: [UInt8], limits: ParserLimits, defects: inout [String]) -> Content? {
        var reader = Reader(bytes: bytes, offset: 0)
        guard reader.uint32() == signature, reader.uint16() != nil else { return nil }
        var content = Content()
        var current: Attachment?
        var codepage = "CP1252"
        var attributes = 0
        while reader.remaining > 0, attributes < maxAttributes {
            attributes += 1
            guard let level = reader.uint8(), let identifier = reader.uint32(), let length = reader.uint32(),
                let data = reader.take(Int(length)), reader.uint16() != nil
            else {
                defects.append("TNEF stream truncated")
                break
            }
            switch (level, identifier) {
            case (_, 0x0006_9007):  // attOemCodepage
                var codepageReader = Reader(bytes: Array(data), offset: 0)
                if let value = codepageReader.uint32(), value > 0, value < 65_000 { codepage = "CP\(value)" }
            case (1, 0x0002_800C):  // attBody
                content.text = string8(data, codepage: codepage, limits: limits, defects: &defects)
            case (1, 0x0006_9003):  // attMAPIProps
                for property in mapiProperties(Array(data)) {
                    switch property.id {
                    case 0x1000:
                        if content.text == nil {
                            content.text = mapiString(property, codepage: codepage, limits: limits, defects: &defects)
                        }
                    case 0x1013:
                        content.html = mapiString(property, codepage: codepage, limits: limits, defects: &defects)
                    default: break
                    }
                }
            case (2, 0x0006_9002):  // attAttachRendData: a new attachment starts
                if let finished = current { content.attachments.append(finished) }
                current = Attachment()
            case (2, 0x0001_8010):  // attAttachTitle
                if current == nil { current = Attachment() }
                current?.filename = string8(data, codepage: codepage, limits: limits, defects: &defects)
            case (2, 0x0006_800F):  // attAttachData
                if current == nil { current = Attachment() }
                current?.data = Array(data)
            case (2, 0x0006_9005):  // attAttachment: MAPI properties of the attachment
                if current == nil { current = Attachment() }
                for property in mapiProperties(Array(data)) {
                    switch property.id {
                    case 0x3707, 0x3001:  // PR_ATTACH_LONG_FILENAME, PR_DISPLAY_NAME
                        if let name = mapiString(property, codepage: codepage, limits: limits, defects: &defects),
                            !name.isEmpty, property.id == 0x3707 || current?.filename == nil
                        {
                            current?.filename = name
                        }
                    case 0x370E:  // PR_ATTACH_MIME_TAG
                        current?.contentType = mapiString(
                            property, codepage: codepage, limits: limits, defects: &defects)?
                            .lowercased()
                    case 0x3712:  // PR_ATTACH_CONTENT_ID
                        current?.contentID = mapiString(property, codepage: codepage, limits: limits, defects: &defects)
                    case 0x3701:  // PR_ATTACH_DATA_BIN
                        if current?.data.isEmpty == true, property.type == 0x0102 { current?.data = property.value }
                    default: break
                    }
                }
            default:
                break
            }
        }
        if let finished = current { content.attachments.append(finished) }
        return content
    }

    private static func string8(
        _ data: ArraySlice<UInt8>, codepage: String, limits: ParserLimits, defects: inout [String]
    ) -> String {
        var bytes = data
        while bytes.last == 0 { bytes = bytes.dropLast() }
        return CharsetDecoding.decode(bytes, label: codepage, limits: limits, defects: &defects)
    }

    struct MAPIProperty {
        var type: UInt16
        var id: UInt16
        var value: [UInt8]
    }

    private static func mapiString(
        _ property: MAPIProperty, codepage: String, limits: ParserLimits, defects: inout [String]
    ) -> String? {
        var value = property.value[...]
        switch property.type {
        case 0x001F:
            while value.count >= 2, value[value.endIndex - 1] == 0, value[value.endIndex - 2] == 0 {
                value = value.dropLast(2)
            }
            return CharsetDecoding.decode(value, label: "utf-16le", limits: limits, defects: &defects)
        case 0x001E, 0x0102:
            return string8(value, codepage: codepage, limits: limits, defects: &defects)
        default:
            return nil
        }
    }

    /// The single-valued properties of a MAPI property block (multi-valued ones are skipped).
    static func mapiProperties(_ bytes: [UInt8]) -> [MAPIProperty] {
        var reader = Reader(bytes: bytes, offset: 0)
        guard let count = reader.uint32() else { return [] }
        var properties: [MAPIProperty] = []
        for _ in 0..<min(Int(count), 10_000) {
            guard let rawType = reader.uint16(), let id = reader.uint16() else { break }
            if id >= 0x8000 {
                // Named property: GUID, kind, then an id or a UTF-16 name.
                guard reader.take(16) != nil, let kind = reader.uint32() else { break }
                if kind == 0 {
                    guard reader.uint32() != nil else { break }
                } else {
                    guard let length = reader.uint32(), reader.take(Int(length) + padding(Int(length))) != nil else {
                        break
                    }
                }
            }
            let multiValued = rawType & 0x1000 != 0
            let type = rawType & 0x0FFF
            var valueCount = 1
            if multiValued || [0x001E, 0x001F, 0x0102, 0x000D].contains(type) {
                guard let declared = reader.uint32(), declared < 100_000 else { break }
                valueCount = Int(declared)
            }
            var value: [UInt8]?
            var failed = false
            for _ in 0..<valueCount {
                var item: ArraySlice<UInt8>?
                switch type {
                case 0x0002, 0x0003, 0x0004, 0x000A, 0x000B:
                    item = reader.take(4)
                case 0x0005, 0x0006, 0x0007, 0x0014, 0x0040:
                    item = reader.take(8)
                case 0x0048:
                    item = reader.take(16)
                case 0x001E, 0x001F, 0x0102, 0x000D:
                    if let length = reader.uint32() {
                        item = reader.take(Int(length))
                        if item != nil, reader.take(padding(Int(length))) == nil { item = nil }
                    }
                default:
                    item = nil
                }
                guard let item else {
                    failed = true
                    break
                }
                if value == nil { value = Array(item) }
            }
            if failed { break }
            if !multiValued, let value { properties.append(MAPIProperty(type: type, id: id, value: value)) }
        }
        return properties
    }

    private static func padding(_ length: Int) -> Int { (4 - length % 4) % 4 }
}
