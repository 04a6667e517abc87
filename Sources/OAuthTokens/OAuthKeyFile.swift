import Crypto
import Foundation
import MessageSpool

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The 256-bit AES key of the token store: base64 text in a file of mode 0600, created the way
/// `message-id.key` is (PostdeskConfiguration.loadOrCreateSecret): written to a private temporary file with
/// O_CREAT|O_EXCL, fsynced, hard-linked to its name (which fails if another process — the daemon and
/// `postdesk oauth login` starting together — created it first; that key is then read and used), and the
/// directory fsynced before the key is used. A lost key makes every stored token unreadable.
enum OAuthKeyFile {
    /// Reads the key at `path`, or creates it. Refuses a key file others can read (mode & 0o077).
    static func loadOrCreate(at path: String) throws(OAuthError) -> SymmetricKey {
        if let existing = try read(at: path) { return existing }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let key = SymmetricKey(size: .bits256)
        let text = Array((key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n").utf8)
        var generator = SystemRandomNumberGenerator()
        let name = URL(fileURLWithPath: path).lastPathComponent
        let temporary = "\(directory)/.\(name).\(getpid()).\(generator.next())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(path, "cannot be created", errno) }
        defer { unlink(temporary) }
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        let code = errno
        close(descriptor)
        guard written == text.count, synced else { throw failure(path, "cannot be written", code) }
        if link(temporary, path) != 0 {
            let code = errno
            guard code == EEXIST, let theirs = try read(at: path) else {
                throw failure(path, "cannot be created", code)
            }
            return theirs
        }
        if let code = DirectorySync.sync(directory) { throw failure(path, "cannot be made durable", code) }
        return key
    }

    private static func read(at path: String) throws(OAuthError) -> SymmetricKey? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw failure(path, "cannot be read", errno)
        }
        guard status.st_mode & 0o077 == 0 else {
            throw OAuthError(
                kind: .store, mailbox: nil, endpoint: path,
                detail: "key file mode is \(String(status.st_mode & 0o777, radix: 8)); others may read it (chmod 600)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure(path, "cannot be read", errno)
        }
        let text = String(decoding: data.prefix(1024), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
            throw OAuthError(
                kind: .store, mailbox: nil, endpoint: path, detail: "key file does not hold a base64 256-bit key")
        }
        return SymmetricKey(data: bytes)
    }

    private static func failure(_ path: String, _ what: String, _ code: Int32) -> OAuthError {
        OAuthError(
            kind: .store, mailbox: nil, endpoint: path, detail: "key file \(what): \(String(cString: strerror(code)))")
    }
}
