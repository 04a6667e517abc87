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

/// The 256-bit AES key of the token store: base64 text in a file of mode 0600, created once like
/// `message-id.key` (`SecretFile`: private temporary file, fsync, hard link, directory fsync; the daemon and
/// `postdesk oauth login` starting together end with one key). A lost key makes every stored token unreadable.
enum OAuthKeyFile {
    /// Reads the key at `path`, or creates it. Refuses a key file others can read (mode & 0o077).
    static func loadOrCreate(at path: String) throws(OAuthError) -> SymmetricKey {
        try checkMode(path)
        let content: [UInt8]
        do {
            content = try SecretFile.readOrCreate(at: path) {
                Array((SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString() + "\n").utf8)
            }
        } catch {
            throw OAuthError(kind: .store, mailbox: nil, endpoint: path, detail: "key file \(error)")
        }
        let text = String(decoding: content.prefix(1024), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
            throw OAuthError(
                kind: .store, mailbox: nil, endpoint: path, detail: "key file does not hold a base64 256-bit key")
        }
        return SymmetricKey(data: bytes)
    }

    private static func checkMode(_ path: String) throws(OAuthError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw OAuthError(
                kind: .store, mailbox: nil, endpoint: path,
                detail: "key file cannot be read: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw OAuthError(
                kind: .store, mailbox: nil, endpoint: path,
                detail: "key file mode is \(String(status.st_mode & 0o777, radix: 8)); others may read it (chmod 600)")
        }
    }
}
