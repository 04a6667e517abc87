import Foundation

/// Postfix's `smtp-sink` on a free 127.0.0.1 port, dumping each transaction into a directory; stopped by its pid.
final class SMTPSinkProcess {
    let port: Int
    let dumpDirectory: String
    private let process: Process

    struct Missing: Error, CustomStringConvertible {
        var description: String { "smtp-sink is not installed: run `sudo scripts/install-test-peers.sh`" }
    }

    /// - Parameter options: extra flags, e.g. `["-f", "RCPT"]` to refuse every recipient with a 5xx.
    init(in scratch: ScratchDirectory, port: Int? = nil, options: [String] = []) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink") else { throw Missing() }
        self.port = try port ?? Self.freePort()
        dumpDirectory = scratch.file("sink-\(self.port)")
        try FileManager.default.createDirectory(atPath: dumpDirectory, withIntermediateDirectories: true)
        chmod(dumpDirectory, 0o777)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
        let user = getuid() == 0 ? ["-u", "nobody"] : []
        process.arguments =
            user + ["-d", dumpDirectory + "/", "-h", "sink.test"] + options + ["127.0.0.1:\(self.port)", "64"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await Self.waitForListener(port: self.port)
    }

    /// The dumped transactions (headers `X-Mail-Args:`, `X-Rcpt-Args:` … then the message), oldest first.
    func dumps() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dumpDirectory)) ?? []).sorted()
        return names.compactMap { name in
            FileManager.default.contents(atPath: dumpDirectory + "/" + name).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    func stop() {
        guard process.isRunning else { return }
        // smtp-sink ignores SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits (at most 30 s) until something accepts connections on the port; sleeps without blocking a thread.
    static func waitForListener(port: Int) async throws {
        for _ in 0..<600 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(descriptor)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        struct NotListening: Error {}
        throw NotListening()
    }
}
