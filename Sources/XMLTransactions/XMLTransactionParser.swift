/// Parses an XML API transaction (docs/xml-api/postdesk-transaction.xsd) from the raw bytes of a mail's body or
/// attachment, with libxml2 and no DTD, entity expansion or network access. Safe to use from any thread.
///
/// Cost: the byte limit is checked first (O(1): a 10 MB document is refused without being read); then the prolog
/// scan (O(prolog bytes)), libxml2's streaming read under the depth, element and text limits (O(n), one pass) and
/// the format check (O(elements + text bytes)).
public struct XMLTransactionParser: Sendable {
    public var limits: XMLTransactionLimits

    public init(limits: XMLTransactionLimits = .init()) {
        self.limits = limits
    }

    /// Whether `bytes` may be a transaction, for the pipeline to skip ordinary mail cheaply: after an optional
    /// byte-order mark and white space the first byte is `<`, and `<PostdeskTransaction` occurs within the first
    /// 4 KiB. O(min(n, 4096)); a text that does not start with `<` costs only its leading white space.
    public static func mayBeTransaction(_ bytes: some Collection<UInt8>) -> Bool {
        let root = Array("<PostdeskTransaction".utf8)
        var window: [UInt8] = []
        window.reserveCapacity(min(bytes.count, 4096))
        for byte in bytes.prefix(4096) {
            if window.isEmpty {
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { continue }
                if byte == 0xEF || byte == 0xBB || byte == 0xBF { continue }  // a UTF-8 byte-order mark
                guard byte == 0x3C else { return false }
            }
            window.append(byte)
        }
        guard window.count >= root.count else { return false }
        for start in 0...(window.count - root.count) where window[start] == 0x3C {
            if window[start..<start + root.count].elementsEqual(root) { return true }
        }
        return false
    }

    public func parse(_ bytes: [UInt8]) throws(XMLTransactionError) -> XMLTransaction {
        guard bytes.count <= limits.maxBytes else {
            throw XMLTransactionError(.tooLarge(bytes: bytes.count, limit: limits.maxBytes))
        }
        let result: Result<XMLTransaction, XMLTransactionError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(XMLTransactionError) {
                try XMLPrologScanner.check(buffer)
                let root = try LibXMLTreeReader.read(buffer, limits: limits)
                return .success(try XMLTransactionDecoder.decode(root))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
