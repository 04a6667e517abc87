import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small secret file (the Message-ID signing key, the OAuth token store's key) created once, atomically and
/// durably: written to a private temporary file (`O_CREAT|O_EXCL`, mode 0600), fsynced, hard-linked to its name —
/// which fails if another process (the daemon and a CLI command starting together) created it first, and then
/// that one's content is used — and its directory fsynced before the secret is used: a secret lost to a power cut
/// would make what it protected unreadable.
public enum SecretFile {
    /// The file's content, after creating it with `make()` when it does not exist (its directory too).
    public static func readOrCreate(at path: String, make: () -> [UInt8]) throws(SecretFileError) -> [UInt8] {
        if let existing = try read(at: path) { return existing }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SecretFileError(path: path, operation: "be created (its directory)", reason: "\(error)")
        }
        var generator = SystemRandomNumberGenerator()
        let temporary = directory.appendingPathComponent(
            ".\(URL(fileURLWithPath: path).lastPathComponent).\(getpid()).\(generator.next())"
        ).path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw SecretFileError(path: path, operation: "be created", code: errno) }
        defer { unlink(temporary) }
        let content = make()
        let written = content.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        let code = errno
        close(descriptor)
        guard written == content.count, synced else {
            throw SecretFileError(path: path, operation: "be written", code: code)
        }
        if link(temporary, path) != 0 {
            let code = errno
            guard code == EEXIST, let theirs = try read(at: path) else {
                throw SecretFileError(path: path, operation: "be created", code: code)
            }
            return theirs
        }
        if let code = DirectorySync.sync(directory.path) {
            throw SecretFileError(path: path, operation: "be made durable", code: code)
        }
        return content
    }

    /// The file's content (at most 64 KiB), or nil when it does not exist.
    public static func read(at path: String) throws(SecretFileError) -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretFileError(path: path, operation: "be read", code: errno)
        }
        return Array(data.prefix(64 * 1024))
    }
}

/// A secret file that could not be read or created, with the step (`be created`, `be written`, `be made durable`,
/// `be read`) and the system's reason.
public struct SecretFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var reason: String

    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    init(path: String, operation: String, code: Int32) {
        self.init(path: path, operation: operation, reason: String(cString: strerror(code)))
    }

    public var description: String { "\(path) cannot \(operation): \(reason)" }
}
