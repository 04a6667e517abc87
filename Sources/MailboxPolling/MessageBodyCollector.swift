import MessageSpool

/// Gathers a fetched message's bytes as they arrive: in memory up to `spoolThreshold`, then into an unnamed
/// spool file, so a 50 MB message never sits whole in memory. Refuses to grow past `limit` (the server lied
/// about the size, or is hostile).
struct MessageBodyCollector {
    private let spoolDirectory: String
    private let spoolThreshold: Int
    private let limit: Int
    private var memory: [UInt8] = []
    private var spool: SpoolFileWriter?
    private(set) var count = 0

    init(spoolDirectory: String, spoolThreshold: Int, limit: Int) {
        self.spoolDirectory = spoolDirectory
        self.spoolThreshold = spoolThreshold
        self.limit = limit
    }

    /// O(n) in the chunk's bytes: one copy, into memory or into the spool file.
    mutating func append(_ chunk: some Collection<UInt8>) throws(MailboxError) {
        count += chunk.count
        guard count <= limit else {
            throw MailboxError(.fetch, "the message is larger than the \(limit) bytes it may have")
        }
        do {
            if let spool {
                try spool.append(Array(chunk))
                return
            }
            memory.append(contentsOf: chunk)
            if memory.count > spoolThreshold {
                let writer = try SpoolFileWriter(directory: spoolDirectory)
                try writer.append(memory)
                memory = []
                spool = writer
            }
        } catch {
            throw MailboxError(.store, "cannot spool the message: \(error)")
        }
    }

    /// The message; the collector is empty afterwards.
    mutating func finish() throws(MailboxError) -> RawMessage {
        defer {
            memory = []
            spool = nil
            count = 0
        }
        guard let spool else { return RawMessage(memory) }
        do {
            return try spool.finish()
        } catch {
            throw MailboxError(.store, "cannot spool the message: \(error)")
        }
    }

    /// Drops what was gathered (the connection failed mid-message).
    mutating func discard() {
        spool?.discard()
        spool = nil
        memory = []
        count = 0
    }
}
