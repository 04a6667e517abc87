import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh private directory for one test's peers. It lives under /tmp (not $TMPDIR) so unix socket
/// paths stay well under the 108-byte limit, and is world-traversable because Postfix's lmtp client
/// runs as user `postfix` and must reach the socket inside it.
struct ScratchDirectory {
    let path: String

    init(label: String) throws {
        var template = Array("/tmp/pd-\(label).XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw RigError.launchFailed(command: "mkdtemp", reason: "errno \(errno)")
        }
        path = String(cString: created)
        chmod(path, 0o755)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Removes the directory unless POSTDESK_KEEP_RIG is set (for post-mortems).
    func remove() {
        if ProcessInfo.processInfo.environment["POSTDESK_KEEP_RIG"] != nil { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
