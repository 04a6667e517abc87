/// The caps on what `POP3ResponseParser` buffers. A message body is never buffered (it streams out), so the largest
/// allocation is a listing: at most `listingBytes` of wire text plus its parsed entries.
public struct POP3ParserLimits: Sendable, Hashable {
    /// Longest status line, CR LF included. RFC 2449 says 512, but real servers send longer `-ERR` texts.
    public var statusLineBytes: Int
    /// Longest line in a CAPA, LIST or UIDL listing, CR LF included.
    public var listingLineBytes: Int
    /// Most entries in one listing.
    public var listingEntries: Int
    /// Most bytes of one listing on the wire (the entries kept in memory are about twice this at worst).
    public var listingBytes: Int
    /// Most bytes held while no response is expected (they are parsed once the driver declares one).
    public var unsolicitedBytes: Int

    /// The defaults: 8 KiB status lines, 1 KiB listing lines, 1,000,000 entries and 64 MiB per listing, 8 KiB
    /// unsolicited.
    public init(
        statusLineBytes: Int = 8192, listingLineBytes: Int = 1024, listingEntries: Int = 1_000_000,
        listingBytes: Int = 64 << 20, unsolicitedBytes: Int = 8192
    ) {
        self.statusLineBytes = statusLineBytes
        self.listingLineBytes = listingLineBytes
        self.listingEntries = listingEntries
        self.listingBytes = listingBytes
        self.unsolicitedBytes = unsolicitedBytes
    }
}
