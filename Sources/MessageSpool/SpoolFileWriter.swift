#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A spool-file operation that failed, with the file and the system error.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String?
    public var code: Int32

    public init(operation: String, path: String?, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        let reason = String(cString: strerror(code))
        return "spool \(operation) failed\(path.map { " for \($0)" } ?? ""): \(reason) (errno \(code))"
    }
}

/// Collects a message too large to hold in memory in a file of the spool directory, then hands it over as a
/// mapped `RawMessage`. The file's name is removed as soon as it is created, so a crash leaves nothing behind
/// (the message was not acknowledged, so the MTA still holds it).
///
/// `@unchecked Sendable`: its state (descriptor, count) is not locked. That is safe because one writer belongs
/// to one transaction, whose owner hands it to one thread-pool job at a time and waits for that job to complete
/// (a happens-before edge through the job's future) before the next use.
public final class SpoolFileWriter: @unchecked Sendable {
    public let path: String
    private var descriptor: Int32
    public private(set) var count = 0

    /// Creates a new, private (0600) file in `directory`, which must exist.
    public init(directory: String) throws(SpoolError) {
        var created: (String, Int32)?
        for _ in 0..<8 {
            let candidate = "\(directory)/msg-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).spool"
            let descriptor = open(candidate, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                created = (candidate, descriptor)
                break
            }
            if errno != EEXIST { throw SpoolError(operation: "create", path: candidate, code: errno) }
        }
        guard let created else { throw SpoolError(operation: "create", path: directory, code: EEXIST) }
        (path, descriptor) = created
        unlink(path)
    }

    /// Appends `bytes` to the file.
    public func append(_ bytes: UnsafeBufferPointer<UInt8>) throws(SpoolError) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(descriptor, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw SpoolError(operation: "write", path: path, code: errno)
            }
            pointer += written
            remaining -= written
            count += written
        }
    }

    public func append(_ bytes: [UInt8]) throws(SpoolError) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(SpoolError) in try append(buffer) }
    }

    /// Maps the complete file: the returned message holds the only reference.
    public func finish() throws(SpoolError) -> RawMessage {
        defer { discard() }
        let file = try MappedSpoolFile(descriptor: descriptor, count: count)
        return RawMessage(mapped: file)
    }

    /// Releases the file without using it (the transaction was refused or the session ended).
    public func discard() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit {
        discard()
    }
}

/// The directory where messages larger than the in-memory threshold are spooled while they arrive.
public enum SpoolDirectory {
    /// Creates `path` (mode 0700) if it does not exist, and its missing parents (default mode), as the ticket
    /// store does for its own directory: `postdesk deliver` may run before the daemon ever created the store.
    public static func prepare(_ path: String) throws(SpoolError) {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { throw SpoolError(operation: "create directory", path: path, code: errno) }
        // Each ancestor in turn, from the root down: one mkdir per path component.
        var prefix = path.hasPrefix("/") ? "/" : ""
        let components = path.split(separator: "/")
        for component in components.dropLast() {
            prefix += component
            if mkdir(prefix, 0o777) != 0, errno != EEXIST {
                throw SpoolError(operation: "create directory", path: prefix, code: errno)
            }
            prefix += "/"
        }
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw SpoolError(operation: "create directory", path: path, code: errno)
        }
    }
}
