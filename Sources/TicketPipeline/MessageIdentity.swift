import Crypto
import Foundation
import MailParser

/// The deduplication key of a message: what every copy of ONE message keeps, and two different messages never
/// share. "Duplicate" is decided on all of it, never on less.
///
/// It covers the header fields the author's client wrote and no transport changes — From, To, Cc, Subject, Date,
/// Message-ID (absent counts as empty) — as the parser reads them (encoded words decoded, lines unfolded,
/// addresses lower-cased, the date as an instant), and the normalised body (`BodyFingerprint`). It leaves out the
/// envelope and every trace field (Received, Delivered-To, Return-Path, X-Original-To, a poller's additions):
/// they differ between the copy pushed over LMTP and the copy fetched from a mailbox, which must make one ticket.
/// Two messages without Message-ID and with the same body ("Sent from my iPhone") differ in From, Subject or
/// Date, and are two messages.
public enum MessageIdentity {
    /// Bumped when the fields or their form change; stored keys of another version never match a new one.
    static let version = "postdesk-message-identity-2"

    /// Lower-case hex SHA-256 over the identity fields of `parsed` and `bodySHA256` (the normalised body's hash).
    /// Each field is written with its length, so no choice of field values can make two different sets of
    /// fields hash alike. O(size of those header fields), one pass.
    public static func sha256(of parsed: ParsedMessage, bodySHA256: String) -> String {
        var hasher = SHA256()
        field("version", version, into: &hasher)
        addresses(parsed.from, header: "from", in: parsed, into: &hasher)
        addresses(parsed.to, header: "to", in: parsed, into: &hasher)
        addresses(parsed.cc, header: "cc", in: parsed, into: &hasher)
        field("subject", parsed.subject ?? "", into: &hasher)
        field("date", date(of: parsed), into: &hasher)
        field("message-id", parsed.messageID ?? "", into: &hasher)
        field("body", bodySHA256, into: &hasher)
        return HexEncoding.lowercase(hasher.finalize())
    }

    /// Hashes `name NUL length NUL value NUL` (the length in decimal): the bytes are fed to the hasher as they
    /// are, with no string built on the way (this runs for every message).
    private static func field(_ name: StaticString, _ value: String, into hasher: inout SHA256) {
        field(name, byteCount: value.utf8.count, into: &hasher) { hasher in
            var value = value
            value.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
    }

    private static func field(
        _ name: StaticString, byteCount: Int, into hasher: inout SHA256, value: (inout SHA256) -> Void
    ) {
        name.withUTF8Buffer { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        var length = "\u{0}\(byteCount)\u{0}"
        length.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        value(&hasher)
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
    }

    /// The addresses, lower-cased, comma-separated, in their order; when the parser found none, the raw field
    /// values, so that two messages with different unreadable From fields still differ.
    private static func addresses(
        _ list: [MailAddress], header: StaticString, in parsed: ParsedMessage, into hasher: inout SHA256
    ) {
        guard !list.isEmpty else {
            field(header, rawValues(of: header, in: parsed), into: &hasher)
            return
        }
        field(header, list.map { $0.address.lowercased() }.joined(separator: ","), into: &hasher)
    }

    /// The Date as whole seconds since 1970 (time zones and spellings of one instant agree); an unreadable Date
    /// by its raw value.
    private static func date(of parsed: ParsedMessage) -> String {
        if let date = parsed.date { return String(Int64(date.timeIntervalSince1970.rounded(.down))) }
        let raw = rawValues(of: "date", in: parsed)
        return raw.isEmpty ? "" : "raw:" + raw
    }

    /// The values of the fields named `header` (ASCII case-insensitive, no allocation per field), joined by LF.
    private static func rawValues(of header: StaticString, in parsed: ParsedMessage) -> String {
        var values: [String] = []
        for field in parsed.headers where ByteText.equalsIgnoringCase(field.name.utf8, header) {
            values.append(field.value)
        }
        return values.joined(separator: "\n")
    }
}
