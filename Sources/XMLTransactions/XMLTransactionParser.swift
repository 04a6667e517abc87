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
        if let answer = bytes.withContiguousStorageIfAvailable({ startsTransaction($0) }) { return answer }
        return Array(bytes.prefix(candidateWindow)).withUnsafeBufferPointer { startsTransaction($0) }
    }

    /// How far `mayBeTransaction` looks for the root element.
    static let candidateWindow = 4096

    /// One forward pass over at most `candidateWindow` bytes.
    private static func startsTransaction(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let end = min(bytes.count, candidateWindow)
        var index = 0
        while index < end, skippedBeforeRoot(bytes[index]) { index += 1 }
        guard index < end, bytes[index] == 0x3C else { return false }
        let root: StaticString = "<PostdeskTransaction"
        let length = root.utf8CodeUnitCount
        while index + length <= end {
            if bytes[index] == 0x3C,
                (1..<length).allSatisfy({ bytes[index + $0] == root.utf8Start[$0] })
            {
                return true
            }
            index += 1
        }
        return false
    }

    /// White space, and the bytes of a UTF-8 byte-order mark.
    private static func skippedBeforeRoot(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF: true
        default: false
        }
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
