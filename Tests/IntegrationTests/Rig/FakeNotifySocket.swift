import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Stands in for systemd's notification socket: a real AF_UNIX datagram socket bound to an abstract name
/// (`NOTIFY_SOCKET=@…`), whose datagrams (`READY=1`, `WATCHDOG=1`, …) a thread collects with their arrival time.
final class FakeNotifySocket: Sendable {
    struct Notification: Sendable {
        var text: String
        var at: Date
    }

    /// The value for `NOTIFY_SOCKET`.
    let name: String
    private let descriptor: Int32
    private let received = Mutex<[Notification]>([])
    private let closed = Atomic(false)

    init() throws {
        name = "@postdesk-test-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw RigError.launchFailed(command: "socket(AF_UNIX)", reason: "errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        bytes[0] = 0
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw RigError.launchFailed(command: "bind(\(name))", reason: "errno \(errno)")
        }
        var wait = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in receive() }
        thread.start()
    }

    /// Stops the receiving thread and closes the socket.
    func stop() {
        closed.store(true, ordering: .releasing)
    }

    var notifications: [Notification] { received.withLock { $0 } }

    func count(of text: String, after start: Date = .distantPast) -> Int {
        notifications.filter { $0.text == text && $0.at > start }.count
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !closed.load(ordering: .acquiring) {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let text = String(decoding: buffer[..<count], as: UTF8.self)
            received.withLock { $0.append(Notification(text: text, at: Date())) }
        }
        close(descriptor)
    }
}
