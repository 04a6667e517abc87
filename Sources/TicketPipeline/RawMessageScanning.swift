import MailParser
import MessageSpool

extension RawMessage {
    /// For a spooled message, a relief that drops its pages from memory every few MiB of a scan; nil for a
    /// message in memory.
    public var scanRelief: ScanRelief? {
        guard isSpooled else { return nil }
        let message = self
        return ScanRelief { message.releaseResidentPages() }
    }

    /// The message parsed by `MessageParser`; a spooled message is read with its pages released as it goes.
    public func parsed(limits: ParserLimits = .default) -> ParsedMessage {
        let relief = scanRelief
        return withUnsafeBytes { MessageParser.parse(buffer: $0, limits: limits, relief: relief) }
    }

    /// Lower-case hex SHA-256 of the bytes.
    public var sha256: String {
        let relief = scanRelief
        return withUnsafeBytes { sha256Hex($0, relief: relief) }
    }
}
