#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of one received message: held in memory when small, or a spool file mapped read-only when it was
/// too large to hold (see `SpoolFileWriter`).
///
/// A mapped message costs no anonymous memory, and its pages stay resident only while they are read: long
/// scans call `releaseResidentPages()` as they go, so reading a 100 MB message does not keep 100 MB resident.
public struct RawMessage: Sendable {
    private enum Storage: Sendable {
        case memory([UInt8])
        case mapped(MappedSpoolFile)
    }

    private let storage: Storage

    /// A message held in memory.
    public init(_ bytes: [UInt8]) {
        storage = .memory(bytes)
    }

    init(mapped file: MappedSpoolFile) {
        storage = .mapped(file)
    }

    /// A message file mapped read-only (not copied), e.g. an `.eml` given on the command line; it stays in place.
    public init(mappingFileAt path: String) throws(SpoolError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SpoolError(operation: "open", path: path, code: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw SpoolError(operation: "stat", path: path, code: errno) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw SpoolError(operation: "map", path: path, code: EINVAL)
        }
        storage = .mapped(try MappedSpoolFile(descriptor: descriptor, count: Int(status.st_size)))
    }

    /// Size in octets.
    public var count: Int {
        switch storage {
        case .memory(let bytes): bytes.count
        case .mapped(let file): file.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// True when the bytes live in a spool file rather than in memory.
    public var isSpooled: Bool {
        if case .mapped = storage { return true }
        return false
    }

    /// Calls `body` with all the bytes. For a spooled message they are the file's mapping: valid only inside
    /// `body`, and a scan over many megabytes should call `releaseResidentPages()` every few of them.
    public func withUnsafeBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        switch storage {
        case .memory(let bytes):
            return try bytes.withUnsafeBufferPointer(body)
        case .mapped(let file):
            return try withExtendedLifetime(file) { try body(file.bytes) }
        }
    }

    /// Drops the pages of a spooled message from this process's resident set (they stay in the page cache, and
    /// reading them again only costs a page fault). Does nothing for a message in memory.
    public func releaseResidentPages() {
        if case .mapped(let file) = storage { file.releaseResidentPages() }
    }

    /// A copy of the bytes in memory; for small messages and tests only.
    public var bytes: [UInt8] {
        switch storage {
        case .memory(let bytes): bytes
        case .mapped(let file): Array(file.bytes)
        }
    }

    /// Calls `body` with consecutive slices of at most `chunkSize` octets, releasing a spooled message's pages
    /// after each, so that copying a message elsewhere (a database blob) keeps memory bounded.
    public func forEachChunk(
        of chunkSize: Int = RawMessage.chunkSize, _ body: (_ offset: Int, UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        try withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let end = min(all.count, offset + chunkSize)
                try body(offset, UnsafeBufferPointer(rebasing: all[offset..<end]))
                offset = end
                releaseResidentPages()
            }
        }
    }

    /// The chunk size of streamed copies and scans: large enough for few system calls, small against the
    /// memory budget of one large message.
    public static let chunkSize = 1 << 20
}

extension RawMessage: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: UInt8...) {
        self.init(elements)
    }
}

/// A read-only mapping of a finished (already unlinked) spool file, whose disk space is freed with the mapping, or
/// of a message file given by path.
///
/// `@unchecked Sendable` (it holds a raw pointer): the mapping is created once, never written, and unmapped
/// only in `deinit`, when no reference is left; `madvise(MADV_DONTNEED)` on a read-only file mapping changes
/// residency, never content.
final class MappedSpoolFile: @unchecked Sendable {
    private let base: UnsafeRawPointer?
    let count: Int

    init(descriptor: Int32, count: Int) throws(SpoolError) {
        self.count = count
        guard count > 0 else {
            base = nil
            return
        }
        guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw SpoolError(operation: "map", path: nil, code: errno)
        }
        // Read in order, once: ask the kernel to read ahead and to drop pages behind first.
        _ = madvise(address, count, MADV_SEQUENTIAL)
        base = UnsafeRawPointer(address)
    }

    var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: count)
    }

    func releaseResidentPages() {
        guard let base else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_DONTNEED)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}
