#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// fsync of a directory: a file just created, linked or renamed survives a power cut only once the directory
/// entry naming it is on disk too (the file's own fsync does not write its parent's entry).
public enum DirectorySync {
    /// fsyncs the directory at `path`; returns the errno of the failing `open` or `fsync`, nil on success.
    public static func sync(_ path: String) -> Int32? {
        let descriptor = openForSync(path)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        return sync(descriptor: descriptor)
    }

    /// A descriptor of the directory at `path` to fsync later, or -1 (see `errno`). Opened BEFORE files are
    /// created in it, it is told of every writeback error from then on, even one another descriptor's fsync
    /// (e.g. SQLite's, which ignores the result) saw first: Linux reports such an error once per open file.
    public static func openForSync(_ path: String) -> Int32 {
        open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    /// fsyncs an open directory; returns the errno on failure, nil on success.
    public static func sync(descriptor: Int32) -> Int32? {
        fsync(descriptor) == 0 ? nil : errno
    }
}
