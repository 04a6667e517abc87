import MailParser

/// Writes one JSON object in the order its members are added: the `data` of an outbox event, built on the
/// store's writer, so it is appended straight into one string instead of going through `JSONEncoder`. Text is
/// kept as UTF-8 (non-ASCII is not escaped); only `"`, `\` and control characters are escaped (RFC 8259).
public struct EventPayload: Sendable {
    private var text = "{"
    private var empty = true

    public init() {}

    /// The finished object.
    public var json: String { text + "}" }

    public mutating func add(_ key: String, _ value: String?) {
        member(key)
        guard let value else {
            text += "null"
            return
        }
        Self.appendQuoted(value, to: &text)
    }

    public mutating func add(_ key: String, _ value: Int?) {
        member(key)
        text += value.map(String.init) ?? "null"
    }

    public mutating func add(_ key: String, _ value: Int64?) {
        member(key)
        text += value.map(String.init) ?? "null"
    }

    public mutating func add(_ key: String, _ values: [String]) {
        member(key)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            Self.appendQuoted(value, to: &text)
        }
        text += "]"
    }

    /// `{"name": …, "address": …}`, or null.
    public mutating func add(_ key: String, _ address: MailAddress?) {
        guard let address else {
            add(key, nil as String?)
            return
        }
        var object = EventPayload()
        object.add("name", address.name)
        object.add("address", address.address)
        add(key, object: object)
    }

    public mutating func add(_ key: String, objects: [EventPayload]) {
        member(key)
        text += "["
        for (index, object) in objects.enumerated() {
            if index > 0 { text += "," }
            text += object.json
        }
        text += "]"
    }

    /// Appends every member of `other`, as they are: members built before the writer runs join those it adds.
    public mutating func add(membersOf other: EventPayload) {
        guard !other.empty else { return }
        if !empty { text += "," }
        empty = false
        text += other.text.dropFirst()
    }

    public mutating func add(_ key: String, object: EventPayload) {
        member(key)
        text += object.json
    }

    private mutating func member(_ key: String) {
        if !empty { text += "," }
        empty = false
        Self.appendQuoted(key, to: &text)
        text += ":"
    }

    /// Appends `value` as a JSON string. O(n) in its UTF-8 bytes: one scan, and a second pass only when
    /// something needs escaping.
    static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else {
            text += value
            text += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                text += "\\u00" + HexEncoding.lowercase([UInt8(scalar.value)])
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
