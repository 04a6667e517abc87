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
        func field(_ name: String, _ value: String) {
            let bytes = Array("\(name)\u{0}\(value.utf8.count)\u{0}\(value)\u{0}".utf8)
            hasher.update(data: bytes)
        }
        field("version", version)
        field("from", addresses(parsed.from, header: "from", in: parsed))
        field("to", addresses(parsed.to, header: "to", in: parsed))
        field("cc", addresses(parsed.cc, header: "cc", in: parsed))
        field("subject", parsed.subject ?? "")
        field("date", date(of: parsed))
        field("message-id", parsed.messageID ?? "")
        field("body", bodySHA256)
        return HexEncoding.lowercase(hasher.finalize())
    }

    /// The addresses, lower-cased, in their order; when the parser found none, the raw field values, so that
    /// two messages with different unreadable From fields still differ.
    private static func addresses(_ list: [MailAddress], header: String, in parsed: ParsedMessage) -> String {
        if !list.isEmpty { return list.map { $0.address.lowercased() }.joined(separator: ",") }
        return rawValues(of: header, in: parsed)
    }

    /// The Date as whole seconds since 1970 (time zones and spellings of one instant agree); an unreadable Date
    /// by its raw value.
    private static func date(of parsed: ParsedMessage) -> String {
        if let date = parsed.date { return String(Int64(date.timeIntervalSince1970.rounded(.down))) }
        let raw = rawValues(of: "date", in: parsed)
        return raw.isEmpty ? "" : "raw:" + raw
    }

    private static func rawValues(of header: String, in parsed: ParsedMessage) -> String {
        parsed.headers.filter { $0.name.lowercased() == header }.map(\.value).joined(separator: "\n")
    }
}
