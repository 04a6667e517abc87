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
