import Crypto
import Foundation
import MailParser

/// Our own Message-IDs, `T<ticket>.A<article>.<signature>@<domain>`, signed with HMAC-SHA256 over the ticket
/// and article numbers and the domain. A reply naming such an ID threads to that ticket without any lookup,
/// and nobody without the secret can forge one for another ticket.
public struct MessageIDSigner: Sendable {
    /// Hex digits of the HMAC kept in the ID: 96 bits, far beyond guessing, short enough for headers.
    static let signatureLength = 24

    public let domain: String
    private let key: SymmetricKey

    /// - Parameter secret: at least 16 bytes; keep it stable, or replies to older mail stop threading by ID.
    public init(secret: [UInt8], domain: String) {
        self.key = SymmetricKey(data: secret)
        self.domain = domain.lowercased()
    }

    /// The Message-ID (without angle brackets) for article `article` of ticket `ticket`.
    public func messageID(ticket: Int, article: Int64) -> String {
        let local = "T\(ticket).A\(article)"
        return "\(local).\(signature(local: local, domain: domain))@\(domain)"
    }

    /// The ticket number of a Message-ID we signed; nil for any other ID (foreign, malformed or forged).
    public func ticket(fromMessageID messageID: String) -> Int? {
        guard messageID.hasPrefix("T"), let at = messageID.lastIndex(of: "@") else { return nil }
        let local = messageID[..<at]
        let domain = messageID[messageID.index(after: at)...].lowercased()
        let parts = local.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].hasPrefix("A"), let ticket = Int(parts[0].dropFirst()), ticket > 0,
            Int64(parts[1].dropFirst()) != nil, parts[2].utf8.count == Self.signatureLength
        else { return nil }
        let expected = Array(signature(local: "\(parts[0]).\(parts[1])", domain: domain).utf8)
        // Case-folded by ASCII only (hex digits): a Unicode lower-casing may change the byte count, and `zip`
        // would then compare only the shorter prefix. Lengths are checked before any byte is compared.
        let given = parts[2].utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        guard given.count == expected.count, expected.count == Self.signatureLength else { return nil }
        // Compare without an early exit, so the time taken says nothing about how much matched.
        var difference: UInt8 = 0
        for index in 0..<expected.count { difference |= expected[index] ^ given[index] }
        return difference == 0 ? ticket : nil
    }

    private func signature(local: String, domain: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(local)@\(domain)".utf8), using: key)
        return HexEncoding.lowercase(mac.prefix(Self.signatureLength / 2))
    }
}
