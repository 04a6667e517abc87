/// Collects one CAPA, LIST or UIDL listing, line by line, within `POP3ParserLimits`, rejecting malformed lines,
/// invalid or repeated unique-ids and repeated message numbers. Each line costs O(its length) plus O(1) expected
/// for the duplicate checks (hash sets).
struct POP3ListingAccumulator {
    let kind: POP3ResponseKind
    let limits: POP3ParserLimits
    private(set) var lineNumber = 0
    private var byteCount = 0
    private var capabilities: [POP3Capability] = []
    private var scanEntries: [POP3ScanEntry] = []
    private var uniqueIDEntries: [POP3UniqueIDEntry] = []
    private var seenNumbers: Set<Int> = []
    private var seenIDs: Set<String> = []

    init(kind: POP3ResponseKind, limits: POP3ParserLimits) {
        self.kind = kind
        self.limits = limits
    }

    /// What this listing is, for error context.
    var name: String {
        switch kind {
        case .capabilityListing: return "CAPA listing"
        case .scanListing: return "LIST listing"
        default: return "UIDL listing"
        }
    }

    /// Adds one line (CR LF removed, still dot-stuffed); `wireLength` counts it as sent.
    mutating func add(_ line: ArraySlice<UInt8>, wireLength: Int) -> POP3ProtocolError.Kind? {
        lineNumber += 1
        byteCount += wireLength
        guard byteCount <= limits.listingBytes else { return .listingTooLarge(limit: limits.listingBytes) }
        guard lineNumber <= limits.listingEntries else { return .listingTooLarge(limit: limits.listingEntries) }
        let entry = line.first == UInt8(ascii: ".") ? line.dropFirst() : line
        switch kind {
        case .capabilityListing:
            let words = entry.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
            guard let name = words.first else { return nil }  // a blank line names nothing: skip it
            capabilities.append(
                POP3Capability(
                    name: String(decoding: name, as: UTF8.self),
                    arguments: words.dropFirst().map { String(decoding: $0, as: UTF8.self) }))
        case .scanListing:
            guard let scan = POP3ScanEntry.parse(entry) else { return .malformedListingLine }
            guard seenNumbers.insert(scan.messageNumber).inserted else {
                return .duplicateMessageNumber(scan.messageNumber)
            }
            scanEntries.append(scan)
        default:
            let parsed = POP3UniqueIDEntry.parse(entry)
            guard let unique = parsed.entry else { return parsed.problem }
            guard seenNumbers.insert(unique.messageNumber).inserted else {
                return .duplicateMessageNumber(unique.messageNumber)
            }
            guard seenIDs.insert(unique.uniqueID).inserted else { return .duplicateUniqueID(unique.uniqueID) }
            uniqueIDEntries.append(unique)
        }
        return nil
    }

    /// The finished listing as an event.
    var event: POP3Event {
        switch kind {
        case .capabilityListing: return .capabilities(capabilities)
        case .scanListing: return .scanListing(scanEntries)
        default: return .uniqueIDListing(uniqueIDEntries)
        }
    }
}
