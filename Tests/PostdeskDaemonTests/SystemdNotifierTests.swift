import Foundation
import Testing

@testable import PostdeskDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// A real AF_UNIX datagram socket in the test's hands, standing in for systemd's.
private final class NotifyReceiver {
    let name: String
    let descriptor: Int32

    init(abstract: Bool) throws {
        let unique = "pd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        name = abstract ? "@" + unique : FileManager.default.temporaryDirectory.appendingPathComponent(unique).path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 } else { bytes.append(0) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        try #require(bound == 0, "bind \(name): errno \(errno)")
        var wait = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        if !name.hasPrefix("@") { unlink(name) }
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }
}

@Suite struct SystemdNotifierTests {
    @Test("Without NOTIFY_SOCKET there is no notifier", arguments: [[:], ["NOTIFY_SOCKET": ""]])
    func absentWithoutSocket(environment: [String: String]) throws {
        #expect(try SystemdNotifier(environment: environment) == nil)
    }

    @Test("READY=1, WATCHDOG=1 and STOPPING=1 arrive on a path and on an abstract socket", arguments: [false, true])
    func sendsDatagrams(abstract: Bool) throws {
        let receiver = try NotifyReceiver(abstract: abstract)
        let notifier = try #require(
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "2500000"]))
        #expect(notifier.watchdogInterval == .microseconds(2_500_000))
        for state in ["READY=1", "WATCHDOG=1", "STOPPING=1"] {
            #expect(notifier.send(state))
            #expect(receiver.receive() == state)
        }
    }

    @Test("WATCHDOG_USEC meant for another process is ignored")
    func watchdogForAnotherPID() throws {
        let receiver = try NotifyReceiver(abstract: true)
        let notifier = try #require(
            try SystemdNotifier(
                environment: ["NOTIFY_SOCKET": receiver.name, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"]))
        #expect(notifier.watchdogInterval == nil)
    }

    @Test("A relative NOTIFY_SOCKET is refused with the reason")
    func relativePathRefused() {
        #expect(throws: SystemdNotifierError.self) { try SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative"]) }
    }
}
