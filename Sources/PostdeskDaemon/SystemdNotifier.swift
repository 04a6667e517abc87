import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sd_notify(3)` without libsystemd: one datagram per state change on the unix socket named by `NOTIFY_SOCKET`
/// (a path, or an abstract name written `@name`). Without `NOTIFY_SOCKET` there is no notifier at all.
final class SystemdNotifier: Sendable {
    /// `NOTIFY_SOCKET` as given.
    let socketName: String
    /// `WATCHDOG_USEC`, when set for this process (`WATCHDOG_PID` absent or ours): systemd kills the service if
    /// no `WATCHDOG=1` arrives within it.
    let watchdogInterval: Duration?
    private let descriptor: Int32
    /// `sun_path`'s bytes and the address length `sendto` is given.
    private let pathBytes: [UInt8]
    private let addressLength: socklen_t

    /// nil when `NOTIFY_SOCKET` is unset or empty (not run by systemd with `Type=notify`).
    /// - Throws: `SystemdNotifierError` when it is set but unusable.
    init?(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SystemdNotifierError) {
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else { return nil }
        socketName = name
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        let abstract = name.hasPrefix("@")
        var bytes = Array(name.utf8)
        // An abstract name starts with a NUL byte instead of '@' and is not NUL-terminated: its length counts.
        if abstract { bytes[0] = 0 }
        guard name.hasPrefix("/") || abstract, bytes.count < capacity else {
            throw SystemdNotifierError(
                socket: name, reason: "not an absolute path or @abstract name that fits sun_path")
        }
        pathBytes = bytes
        addressLength = socklen_t(
            MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        #if canImport(Glibc)
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            descriptor = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard descriptor >= 0 else {
            throw SystemdNotifierError(socket: name, reason: "socket() failed: \(String(cString: strerror(errno)))")
        }
        watchdogInterval = Self.watchdogInterval(environment)
    }

    deinit { close(descriptor) }

    private static func watchdogInterval(_ environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else {
            return nil
        }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, pid != String(getpid()) { return nil }
        return .microseconds(microseconds)
    }

    /// Sends `state` (e.g. `READY=1`, `WATCHDOG=1`, `STOPPING=1`); false if the datagram could not be sent.
    @discardableResult
    func send(_ state: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let sent = state.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
        return sent >= 0
    }
}

/// `NOTIFY_SOCKET` is set but cannot be used.
struct SystemdNotifierError: Error, Sendable, Hashable, CustomStringConvertible {
    var socket: String
    var reason: String

    var description: String { "NOTIFY_SOCKET=\(socket): \(reason)" }
}
