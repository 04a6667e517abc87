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

/// Tokens at rest: one file per mailbox in `directory`, each an AES-256-GCM sealed JSON record whose
/// authenticated data names the mailbox (a file copied under another mailbox's name does not open). Files are
/// mode 0600 and replaced atomically and durably: temporary file in the same directory, fsync, rename, fsync
/// of the directory, so a crash leaves either the old record or the new one, whole.
///
/// File layout: the 8 bytes `PDOAUTH1`, then AES-GCM's combined form (12-byte nonce, ciphertext, 16-byte tag).
public struct OAuthTokenStore: Sendable {
    public let directory: String
    public let keyFile: String
    private let key: SymmetricKey

    private static let magic = Array("PDOAUTH1".utf8)
    /// Records are a few hundred bytes; a larger file is not ours.
    private static let maximumFileBytes = 1 << 20

    /// Opens the store, creating `directory` (mode 0700) and the key file when missing. The key file defaults
    /// to `oauth-tokens.key` in `directory`.
    public init(directory: String, keyFile: String? = nil) throws(OAuthError) {
        self.directory = directory
        self.keyFile = keyFile ?? URL(fileURLWithPath: directory).appendingPathComponent("oauth-tokens.key").path
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw OAuthError(kind: .store, mailbox: nil, endpoint: directory, detail: "cannot be created: \(error)")
        }
        self.key = try OAuthKeyFile.loadOrCreate(at: self.keyFile)
    }

    /// The file holding `mailbox`'s record: the name with every byte outside `A-Z a-z 0-9 . _ -` (and a
    /// leading dot) written as `%XX`, so names map to distinct, safe file names. O(n) in the name's bytes.
    public func path(for mailbox: String) -> String {
        var name = ""
        for (index, byte) in mailbox.utf8.enumerated() {
            let safe =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D || (byte == 0x2E && index > 0)
            name += safe ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded()
        }
        return "\(directory)/\(name).oauth-token"
    }

    /// The stored record, or nil when none was stored. A file that does not decrypt (tampered, truncated, or
    /// sealed with another key) is a `.store` error, never a crash.
    public func load(_ mailbox: String) throws(OAuthError) -> OAuthTokenRecord? {
        let path = path(for: mailbox)
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw failure(mailbox, path, "cannot be read", errno)
        }
        guard status.st_size <= Self.maximumFileBytes, let data = FileManager.default.contents(atPath: path) else {
            throw OAuthError(
                kind: .store, mailbox: mailbox, endpoint: path, detail: "token file is unreadable or too large")
        }
        let bytes = [UInt8](data)
        guard bytes.count > Self.magic.count + 28, Array(bytes.prefix(Self.magic.count)) == Self.magic else {
            throw OAuthError(kind: .store, mailbox: mailbox, endpoint: path, detail: "not a Postdesk token file")
        }
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: bytes.dropFirst(Self.magic.count))
            plaintext = try AES.GCM.open(box, using: key, authenticating: authenticatedData(mailbox))
        } catch {
            throw OAuthError(
                kind: .store, mailbox: mailbox, endpoint: path,
                detail: "token file cannot be decrypted (tampered with, or sealed with another key)")
        }
        do {
            return try Self.decoder.decode(OAuthTokenRecord.self, from: plaintext)
        } catch {
            throw OAuthError(
                kind: .store, mailbox: mailbox, endpoint: path, detail: "token file holds no valid record")
        }
    }

    /// Replaces `mailbox`'s record durably (see the type's comment); returns only once it is on disk.
    public func save(_ record: OAuthTokenRecord, for mailbox: String) throws(OAuthError) {
        let path = path(for: mailbox)
        let sealed: [UInt8]
        do {
            let json = try Self.encoder.encode(record)
            guard let combined = try AES.GCM.seal(json, using: key, authenticating: authenticatedData(mailbox)).combined
            else {
                throw OAuthError(kind: .store, mailbox: mailbox, endpoint: path, detail: "cannot be sealed")
            }
            sealed = Self.magic + [UInt8](combined)
        } catch {
            throw OAuthError(kind: .store, mailbox: mailbox, endpoint: path, detail: "cannot be sealed")
        }
        var generator = SystemRandomNumberGenerator()
        let temporary = "\(directory)/.\(URL(fileURLWithPath: path).lastPathComponent).\(getpid()).\(generator.next())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure(mailbox, path, "cannot be written", errno) }
        var offset = 0
        while offset < sealed.count {
            let count = sealed.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let code = errno
                close(descriptor)
                unlink(temporary)
                throw failure(mailbox, path, "cannot be written", code)
            }
            offset += count
        }
        let synced = fsync(descriptor) == 0
        let code = errno
        close(descriptor)
        guard synced else {
            unlink(temporary)
            throw failure(mailbox, path, "cannot be written", code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure(mailbox, path, "cannot be replaced", code)
        }
        // The rename is durable only once the directory entry is on disk.
        if let code = DirectorySync.sync(directory) { throw failure(mailbox, path, "cannot be made durable", code) }
    }

    /// Forgets `mailbox`'s tokens (a missing record is not an error).
    public func remove(_ mailbox: String) throws(OAuthError) {
        let path = path(for: mailbox)
        guard unlink(path) == 0 || errno == ENOENT else { throw failure(mailbox, path, "cannot be removed", errno) }
        _ = DirectorySync.sync(directory)
    }

    private func authenticatedData(_ mailbox: String) -> [UInt8] {
        Self.magic + Array(mailbox.utf8)
    }

    private func failure(_ mailbox: String, _ path: String, _ what: String, _ code: Int32) -> OAuthError {
        OAuthError(
            kind: .store, mailbox: mailbox, endpoint: path,
            detail: "token file \(what): \(String(cString: strerror(code)))")
    }

    // Dates as Foundation's own seconds since 2001 (a Double): exact round trips.
    private static var encoder: JSONEncoder { JSONEncoder() }

    private static var decoder: JSONDecoder { JSONDecoder() }
}

extension String {
    /// Two hex digits for a byte below 0x10 too.
    fileprivate func leftPadded() -> String { count < 2 ? "0" + self : self }
}
