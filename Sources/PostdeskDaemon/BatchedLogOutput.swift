import Foundation
import Logging
import MailParser
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A file descriptor (standard error) that log lines are appended to in batches.
///
/// swift-log's `StreamLogHandler` makes one `write(2)` per line, on the thread that logs: with a line per
/// delivered message that is a system call (and, logging to a file, an inode update) inside every reply's path,
/// about a tenth of the daemon's CPU at full load. Here a line is appended to a buffer; a background thread
/// writes whatever gathered every 20 ms, in one call. Lines at `error` and above are written at once (with
/// everything before them), so the last words before a crash are not held back; at most 20 ms of routine lines
/// can be lost to a SIGKILL. If the descriptor blocks (a stalled pipe), the buffer stops at 4 MiB and later lines
/// are counted, then reported as dropped, rather than growing without bound.
public final class BatchedLogOutput: Sendable {
    /// Standard error, shared by every handler of the process.
    public static let standardError = BatchedLogOutput(descriptor: STDERR_FILENO)

    private struct Pending {
        var bytes: [UInt8] = []
        var dropped = 0
    }

    private static let capacity = 4 << 20
    private let descriptor: Int32
    private let pending = Mutex(Pending())
    /// Serializes the writes themselves, so batches never interleave.
    private let writing = Mutex(())

    init(descriptor: Int32) {
        self.descriptor = descriptor
        let thread = Thread { [self] in
            while true {
                usleep(20_000)
                flush()
            }
        }
        thread.name = "postdesk-log"
        thread.start()
    }

    /// Appends one line (which must end in a newline); writes at once if `immediately`.
    func append(_ line: String, immediately: Bool) {
        pending.withLock { pending in
            guard pending.bytes.count + line.utf8.count <= Self.capacity else {
                pending.dropped += 1
                return
            }
            pending.bytes.append(contentsOf: line.utf8)
        }
        if immediately { flush() }
    }

    /// Writes everything appended so far; returns once it is written (or the descriptor failed).
    public func flush() {
        writing.withLock { _ in
            var (bytes, dropped) = pending.withLock { pending in
                defer { pending = Pending() }
                return (pending.bytes, pending.dropped)
            }
            if dropped > 0 {
                bytes.append(contentsOf: "postdesk: \(dropped) log lines dropped: standard error did not drain\n".utf8)
            }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// swift-log handler in `StreamLogHandler`'s line format, writing through a `BatchedLogOutput`.
public struct BatchedLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:] {
        didSet { prettyMetadata = Self.prettify(metadata) }
    }
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: BatchedLogOutput
    private var prettyMetadata: String?

    public init(label: String, output: BatchedLogOutput = .standardError) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let explicit = event.metadata
        let provided = metadataProvider?.get() ?? [:]
        let pretty: String?
        if provided.isEmpty && (explicit?.isEmpty ?? true) {
            pretty = prettyMetadata
        } else {
            pretty = Self.prettify(
                metadata.merging(provided) { $1 }.merging(explicit ?? [:]) { $1 })
        }
        // Metadata and messages carry text from mail (addresses, subjects, Message-IDs): escaped, a line from
        // mail can neither forge log lines nor send escape sequences to whoever reads the log on a terminal.
        let line =
            "\(Self.timestamp()) \(level) \(label):\(pretty.map { " \($0)" } ?? "") [\(event.source)] \(event.message)"
        let text = TerminalText.escaped(line) + "\n"
        output.append(text, immediately: level >= .error)
    }

    private static func prettify(_ metadata: Logger.Metadata) -> String? {
        metadata.isEmpty ? nil : metadata.lazy.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
    }

    private static func timestamp() -> String {
        var buffer = [Int8](repeating: 0, count: 32)
        var seconds = time(nil)
        var local = tm()
        localtime_r(&seconds, &local)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
