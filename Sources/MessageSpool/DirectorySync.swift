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
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        return fsync(descriptor) == 0 ? nil : errno
    }
}
